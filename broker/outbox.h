// The outbox relay (DESIGN.md section 6, docs/outbox.md): committed outbox rows wait here, per
// destination, in buckets chosen by partition key, until a relay delivers them.
//
//  - Rows arrive from transaction commits (on_committed, called on the store's writer thread
//    with the ids the writer gave them, so commit order = id order) and, at open, from one scan
//    of the outbox column starting at the saved head.
//  - The local destination ("") is relayed here, on the worker pool: rows are routed through
//    an internal channel whose store writes are collected into one batch together with the
//    rows' deletes, submitted through a Store::reserve() taken before routing. Enqueued and
//    "row gone" are therefore one atomic write: each committed row is enqueued exactly once,
//    even across crashes.
//  - Other destinations (upstream brokers) are relayed by an external relay (client/
//    UpstreamRelay) through claim() / sent() / failed() / park().
//  - Within a bucket rows are handed out in id order; a row backing off holds back the rows
//    behind it in its bucket. Parked rows leave their bucket (later rows go on) and are moved
//    to their own key range until retried or discarded.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <burrow/outbox.h>
#include <burrow/status.h>

#include "base/thread_annotations.h"
#include "storage/store.h"

namespace burrow::storage {
class OutboxRow;
}

namespace burrow::broker {

class BrokerCore;
class Channel;
class Connection;
class RelaySink;

// A row handed to an external relay: what to publish, with the relay headers added.
struct RelayRow {
  uint64_t id = 0;
  std::string exchange;
  std::string routing_key;
  // With message_id set and headers x-outbox-seq (row id) and x-outbox-created-at (ms).
  BasicProperties properties;
  std::string body;
  bool mandatory = true;
  uint32_t attempts = 0;  // failed attempts so far
};

// How a relay retries (UpstreamOptions).
struct RetryPolicy {
  uint32_t max_attempts = 10;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{30000};

  // The wait after the `attempts`-th failure (1, 2, ...): min(cap, base * 2^(attempts-1)),
  // times a random factor in [0.5, 1] (jitter).
  std::chrono::milliseconds backoff(uint32_t attempts) const;
};

class Outbox {
 public:
  // Default bucket count per destination (Options::outbox_buckets).
  static constexpr uint32_t kDefaultBuckets = 64;

  Outbox(BrokerCore& core, uint32_t buckets);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Loads the stored rows (from the saved head) and starts relaying local ones. Errors: the
  // store's, kCorruption for an unreadable row.
  Status open();
  // Stops the local relay (waits for a running batch). Idempotent.
  void close();

  // ---- staging (burrow::Transaction) ----
  // The stored form of a staged message (its body is moved out), and in `value` its
  // serialization. Sets properties.message_id when empty (a generated 32-hex-digit id),
  // returned in `message_id`, and delivery_mode to 2 (persistent) when unset.
  static std::shared_ptr<const storage::OutboxRow> make_row(OutboxMessage& message,
                                                            uint64_t created_at_ms,
                                                            std::string& message_id,
                                                            std::string& value);
  // A transaction with rows is about to be submitted. Errors: kClosed once close() began.
  Status begin_commit();
  // Its outcome (on the store's writer thread; never blocks): with OK, rows [first_id,
  // first_id + rows.size()) are queued and the relays woken.
  void end_commit(const Status& status, uint64_t first_id,
                  std::vector<std::shared_ptr<const storage::OutboxRow>> rows);

  // ---- external relays (one per destination) ----
  // Registers the relay of `destination`: its rows become claimable.
  void attach(const std::string& destination, RetryPolicy policy);
  // Unregisters it; its claimed rows become claimable again (by the next relay attached).
  void detach(const std::string& destination);
  // Up to `max` ready rows of `destination`, in id order within each bucket; waits up to
  // `wait` for one. Each stays claimed until sent(), failed() or park().
  std::vector<RelayRow> claim(const std::string& destination, size_t max,
                              std::chrono::milliseconds wait);
  // Rows delivered (upstream confirmed them): deleted from the store.
  void sent(const std::string& destination, const std::vector<uint64_t>& ids);
  // Rows whose attempt failed: each backs off (attempts+1, next attempt after the policy's
  // back-off) or, past max_attempts, is parked with `error`.
  void failed(const std::string& destination, const std::vector<uint64_t>& ids,
              const std::string& error);
  // A row the destination cannot take (e.g. returned as unroutable): parked with `error`.
  void park(const std::string& destination, uint64_t id, const std::string& error);
  // Claimed rows handed back untried (e.g. in flight when a connection was lost through no
  // fault of theirs): claimable again at once, no attempt counted.
  void release(const std::string& destination, const std::vector<uint64_t>& ids);
  // Wakes relays waiting in claim() (stop).
  void wake();

  // ---- operators and tests ----
  std::vector<ParkedRow> parked() const;
  // A parked row back to its bucket (attempts reset). Errors: kNotFound.
  Status retry_parked(uint64_t id);
  // Deletes a parked row. Errors: kNotFound.
  Status discard_parked(uint64_t id);
  OutboxStats stats() const;
  // Waits until no committed row is pending (parked rows do not count). Errors: kTimedOut.
  Status wait_until_drained(std::chrono::milliseconds timeout);

 private:
  struct Row {
    uint64_t id = 0;
    std::shared_ptr<const storage::OutboxRow> record;
    uint32_t attempts = 0;
    int64_t ready_at = 0;       // broker clock ms; 0 = now
    uint64_t committed_us = 0;  // steady clock, for latency; 0 = loaded at open
    bool claimed = false;
  };
  // A row handed out by claim_locked (a copy: buckets may move rows meanwhile).
  struct Claimed {
    uint64_t id = 0;
    std::shared_ptr<const storage::OutboxRow> record;
    uint32_t attempts = 0;
  };
  struct Destination {
    std::vector<std::deque<Row>> buckets;  // each in id order
    std::unordered_map<uint64_t, uint32_t> bucket_of_row;
    size_t pending = 0;
    bool attached = false;  // a relay takes its rows ("" always)
    RetryPolicy policy;
    size_t cursor = 0;  // round-robin start bucket of the next claim
  };

  Destination& destination_locked(const std::string& name) REQUIRES(mu_);
  uint32_t bucket_of(const storage::OutboxRow& row, uint64_t id) const;
  void add_locked(uint64_t id, std::shared_ptr<const storage::OutboxRow> record, uint32_t attempts,
                  int64_t ready_at, uint64_t committed_us) REQUIRES(mu_);
  // Claims up to `max` ready rows of `d` in bucket order (marks them claimed).
  std::vector<Claimed> claim_locked(Destination& d, size_t max, int64_t now) REQUIRES(mu_);
  // Finds a row of `d` by id (null when gone), with its bucket and position.
  Row* find_locked(Destination& d, uint64_t id, size_t* bucket_index, size_t* position)
      REQUIRES(mu_);
  // Removes a row from its bucket; updates counters; `relayed` counts it as sent.
  void remove_locked(Destination& d, uint64_t id, bool relayed) REQUIRES(mu_);
  // Adds the writes that park a row to `batch`.
  static void park_into(storage::WriteBatch& batch, uint64_t id, const storage::OutboxRow& record,
                        uint32_t attempts, const std::string& error);
  void note_parked_locked(uint64_t id, const storage::OutboxRow& record, uint32_t attempts,
                          const std::string& error) REQUIRES(mu_);
  // Adds the saved head (lowest live row id) to `batch` every kHeadEvery removed rows.
  void maybe_save_head_locked(storage::WriteBatch& batch) REQUIRES(mu_);
  // A write that moves rows `ids` (delete, park): from begin_move_locked until the write is
  // durable they count in the saved head. submit_move() runs without mu_ (the memory store
  // completes writes inline).
  struct Move {
    storage::WriteBatch batch;
    std::vector<uint64_t> ids;
    const char* what = "";
  };
  Move begin_move_locked(storage::WriteBatch batch, std::vector<uint64_t> ids, const char* what)
      REQUIRES(mu_);
  void submit_move(Move move);
  // Backs rows off (or parks them); returns the write to submit after releasing mu_.
  std::optional<Move> failed_locked(Destination& d, const std::string& destination,
                                    const std::vector<uint64_t>& ids, const std::string& error)
      REQUIRES(mu_);

  // Claims a parked row for retry or discard (a concurrent call for the same id gets
  // kNotFound); `moving`: it counts in the saved head until put back or re-added.
  Result<ParkedRow> take_parked(uint64_t id, bool moving);
  // Undoes take_parked after `why` failed; returns `why`.
  Status put_back_parked(uint64_t id, ParkedRow row, bool moving, Status why);

  void schedule_local_locked() REQUIRES(mu_);
  void run_local();
  // Routes `rows` and deletes (or parks) them in one write.
  void relay_local(const std::vector<Claimed>& rows);

  BrokerCore& core_;
  storage::Store& store_;
  const uint32_t bucket_count_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // claim() waits for rows; drained waits for pending==0
  std::map<std::string, Destination, std::less<>> destinations_ GUARDED_BY(mu_);
  std::map<uint64_t, ParkedRow> parked_ GUARDED_BY(mu_);
  OutboxStats stats_ GUARDED_BY(mu_);
  size_t removed_since_head_ GUARDED_BY(mu_) = 0;
  uint64_t saved_head_ GUARDED_BY(mu_) = 1;
  std::multiset<uint64_t> moving_ GUARDED_BY(mu_);  // rows whose move is not durable yet
  uint64_t next_id_seen_ GUARDED_BY(mu_) = 1;       // one past the highest row id seen
  bool local_scheduled_ GUARDED_BY(mu_) = false;
  bool woken_ GUARDED_BY(mu_) = false;
  int inflight_ GUARDED_BY(mu_) = 0;  // commits and relay batches whose write is pending
  bool closed_ GUARDED_BY(mu_) = false;

  // The local relay's channel (used by one relay task at a time).
  std::shared_ptr<Connection> connection_;
  std::unique_ptr<RelaySink> sink_;
  std::shared_ptr<Channel> channel_;
};

}  // namespace burrow::broker
