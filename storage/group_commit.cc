// The group-commit writer loop (see group_commit.h), with the write path's kill points.
#include "storage/group_commit.h"

#include <chrono>

#include <pthread.h>

#include "storage/kill_point.h"

namespace burrow::storage {

GroupCommitter::GroupCommitter(Sink& sink, TxnSequencer& sequencer, Options options)
    : sink_(sink), sequencer_(sequencer), options_(options), thread_([this] { run(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  thread_.join();
}

void GroupCommitter::submit(WriteBatch batch, WriteCallback done) {
  {
    std::lock_guard lock(mu_);
    if (!stop_) {
      queue_.push_back(Pending{std::move(batch), std::move(done)});
      ++submitted_;
      // Notify under the lock: the writer may otherwise miss it between its check and wait.
      work_cv_.notify_one();
      return;
    }
  }
  if (done) done(Status(StatusCode::kClosed, "store is closing"));
}

void GroupCommitter::submit_checked(WriteBatch batch, std::shared_ptr<CommitCheck> check,
                                    WriteCallback done) {
  {
    std::lock_guard lock(mu_);
    if (!stop_) {
      queue_.push_back(Pending{std::move(batch), std::move(done), std::move(check)});
      ++submitted_;
      work_cv_.notify_one();
      return;
    }
  }
  if (done) done(Status(StatusCode::kClosed, "store is closing"));
}

uint64_t GroupCommitter::reserve() {
  std::lock_guard lock(mu_);
  Pending placeholder;
  placeholder.reservation = ++next_reservation_;
  placeholder.ready = false;
  queue_.push_back(std::move(placeholder));
  ++submitted_;
  return next_reservation_;
}

void GroupCommitter::fill(uint64_t reservation, WriteBatch batch, WriteCallback done) {
  std::lock_guard lock(mu_);
  // Reservations are filled soon after they are made, so they sit near the front.
  for (Pending& p : queue_) {
    if (p.reservation == reservation && !p.ready) {
      p.batch = std::move(batch);
      p.done = std::move(done);
      p.ready = true;
      work_cv_.notify_one();
      return;
    }
  }
}

void GroupCommitter::wait_for_pending() {
  std::unique_lock lock(mu_);
  const uint64_t ticket = submitted_;
  idle_cv_.wait(lock, [&] { return completed_ >= ticket; });
}

Status GroupCommitter::error() const {
  std::lock_guard lock(stats_mu_);
  return error_;
}

void GroupCommitter::add_stats(StoreStats& stats) const {
  std::lock_guard lock(stats_mu_);
  stats.writes = stats_.writes;
  stats.failed_writes = stats_.failed_writes;
  stats.write_batches = stats_.write_batches;
  stats.writes_per_batch = stats_.writes_per_batch;
  stats.bytes_written = stats_.bytes_written;
  stats.fsyncs = stats_.fsyncs;
  stats.fsync_micros = stats_.fsync_micros;
  stats.failed = !error_.ok();
  stats.error = error_.message();
}

void GroupCommitter::run() {
  pthread_setname_np(pthread_self(), "burrow-writer");
  std::vector<Pending> group;
  std::unique_lock lock(mu_);
  for (;;) {
    // An unfilled reservation holds back everything behind it (its batch comes first).
    work_cv_.wait(lock, [&] {
      return (stop_ && queue_.empty()) || (!queue_.empty() && queue_.front().ready);
    });
    if (queue_.empty()) break;  // stopping, and every write is completed

    // The front of the queue leads the group; followers join while they fit.
    group.clear();
    size_t bytes = 0;
    while (!queue_.empty() && queue_.front().ready) {
      const size_t next = queue_.front().batch.byte_size();
      if (!group.empty() && bytes + next > options_.max_group_bytes) break;
      bytes += next;
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }

    lock.unlock();
    const size_t writes = group.size();
    const Status status = commit(group);
    {
      std::lock_guard stats_lock(stats_mu_);
      stats_.writes += writes;
      if (!status.ok()) stats_.failed_writes += writes;
    }
    complete(group, status);  // empties `group`
    lock.lock();
    completed_ += writes;
    idle_cv_.notify_all();
  }
}

Status GroupCommitter::commit(std::vector<Pending>& group) {
  if (Status e = error(); !e.ok()) return e;

  // Transactions are validated in queue order; a refused one is left out of the write.
  uint64_t version = 0;
  for (Pending& pending : group) {
    if (!pending.check) continue;
    if (version == 0) version = sequencer_.begin_group();
    pending.refused = sequencer_.prepare(pending.batch, *pending.check, version);
  }

  std::vector<const WriteBatch*> batches;
  batches.reserve(group.size());
  size_t bytes = 0;
  size_t ops = 0;
  for (const auto& pending : group) {
    if (!pending.refused.ok()) continue;
    batches.push_back(&pending.batch);
    bytes += pending.batch.byte_size();
    ops += pending.batch.size();
  }
  if (ops == 0) {
    if (version != 0) sequencer_.publish(version);
    return Status();  // nothing to write: everything before it is committed
  }

  BURROW_KILL_POINT("writer.before_wal_write");
  if (Status s = sink_.write_group(batches); !s.ok()) {
    fail(s);
    return s;
  }
  if (version != 0) sequencer_.publish(version);  // readable now (durable after the sync)
  BURROW_KILL_POINT("writer.after_wal_write");

  uint64_t sync_micros = 0;
  if (options_.sync) {
    const auto start = std::chrono::steady_clock::now();
    Status s = sink_.sync();
    sync_micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::steady_clock::now() - start)
                                            .count());
    if (!s.ok()) {
      fail(s);
      return s;
    }
    BURROW_KILL_POINT("writer.after_fsync");
  }

  std::lock_guard lock(stats_mu_);
  stats_.write_batches++;
  stats_.writes_per_batch.add(group.size());
  stats_.bytes_written += bytes;
  if (options_.sync) {
    stats_.fsyncs++;
    stats_.fsync_micros.add(sync_micros);
  }
  return Status();
}

void GroupCommitter::fail(const Status& cause) {
  std::lock_guard lock(stats_mu_);
  if (!error_.ok()) return;
  error_ = Status(StatusCode::kIoError,
                  "store refuses writes after an earlier write failed (reopen it to recover): " +
                      cause.message());
}

void GroupCommitter::complete(std::vector<Pending>& group, const Status& status) {
  for (size_t i = 0; i < group.size(); ++i) {
    if (group[i].done) group[i].done(group[i].refused.ok() ? status : group[i].refused);
    if (i + 1 < group.size()) BURROW_KILL_POINT("writer.mid_completions");
  }
  group.clear();  // release callbacks (and what they captured) before waiting again
}

}  // namespace burrow::storage
