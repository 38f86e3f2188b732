// GroupCommitter: the one writer of the RocksDB store (DESIGN.md section 4). Writes from every
// thread queue up; the writer merges the queue into one group, commits it with one WAL write
// and (fsync durability) one fsync, then runs the group's callbacks in queue order.
//
// This is leveldb's DBImpl::Write with the waiting done by callbacks instead of blocked
// threads: leveldb's front writer becomes a dedicated writer thread, so a broker thread never
// sleeps on an fsync. While one group syncs, the next one gathers, so group size grows with
// load and fsync latency by itself: one writer pays one fsync per write, many share one.
//
//   submit() -> queue [w1 w2 w3 ...] -> writer: merge up to max_group_bytes
//            -> Sink::write_group (one WAL write) -> Sink::sync (one fsync)
//            -> callbacks w1, w2, w3 (in order) -> next group
//
// A failed write or sync fails its whole group and every later write (sticky error, as
// leveldb's bg_error_): what reached the disk after a failed fsync is unknown, so nothing after
// it may be confirmed. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "base/thread_annotations.h"
#include "storage/store.h"
#include "storage/txn_sequencer.h"

namespace burrow::storage {

class GroupCommitter {
 public:
  // Where groups are written. Both methods run on the writer thread only, one at a time.
  class Sink {
   public:
    virtual ~Sink() = default;
    // Writes every operation of `batches` as one atomic write: one WAL record. Errors:
    // kIoError (disk full, I/O), kInvalidArgument.
    virtual Status write_group(const std::vector<const WriteBatch*>& batches) = 0;
    // Makes everything written so far survive power loss (fsync of the WAL). Errors: kIoError.
    virtual Status sync() = 0;
  };

  struct Options {
    // Sync after each group (Durability::kFsync). Default: true.
    bool sync = true;
    // A group stops growing past this many key and value bytes (a larger write goes alone),
    // bounding how long a small write waits behind big ones. Default: 4 MiB.
    size_t max_group_bytes = size_t{4} << 20;
  };

  // Starts the writer thread. `sink` and `sequencer` (checks transactional writes) must
  // outlive the committer.
  GroupCommitter(Sink& sink, TxnSequencer& sequencer, Options options);
  // Completes every queued write (callbacks run), then stops the writer thread.
  ~GroupCommitter();

  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues `batch`; `done` (may be null) runs on the writer thread once the batch's group is
  // committed, or with the error. Never blocks on I/O.
  void submit(WriteBatch batch, WriteCallback done);
  // submit() of a transaction's batch: validated and given its outbox row ids on the writer
  // thread (TxnSequencer::prepare); a conflict completes it alone with kBusy.
  void submit_checked(WriteBatch batch, std::shared_ptr<CommitCheck> check, WriteCallback done);
  // Store::reserve() and Store::fill(): the writer stops at an unfilled reservation.
  uint64_t reserve();
  void fill(uint64_t reservation, WriteBatch batch, WriteCallback done);

  // Waits until every write submitted before the call has completed. Not on the writer thread.
  void wait_for_pending();

  // OK while healthy; after a failure, the kIoError every later write gets.
  Status error() const;

  // Fills the group-commit fields of `stats` (writes ... fsync_micros, failed, error).
  void add_stats(StoreStats& stats) const;

  // Whether the caller runs on the writer thread (inside a WriteCallback).
  bool on_writer_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Pending {
    WriteBatch batch;
    WriteCallback done;
    std::shared_ptr<CommitCheck> check;  // a transaction's commit, validated first
    uint64_t reservation = 0;            // non-zero: from reserve()
    bool ready = true;                   // false until a reservation is filled
    Status refused;                      // a transaction that failed validation
  };

  void run();
  // Validates the group's transactions, then writes and syncs the group; the status every
  // member that was not refused gets.
  Status commit(std::vector<Pending>& group);
  void complete(std::vector<Pending>& group, const Status& status);
  void fail(const Status& cause);

  Sink& sink_;
  TxnSequencer& sequencer_;
  const Options options_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for writes (or stop)
  std::condition_variable idle_cv_;  // wait_for_pending() waits for completions
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  uint64_t submitted_ GUARDED_BY(mu_) = 0;
  uint64_t completed_ GUARDED_BY(mu_) = 0;
  uint64_t next_reservation_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;

  mutable std::mutex stats_mu_;
  StoreStats stats_ GUARDED_BY(stats_mu_);  // only the group-commit fields
  Status error_ GUARDED_BY(stats_mu_);

  std::thread thread_;  // last: starts after everything above is initialized
};

}  // namespace burrow::storage
