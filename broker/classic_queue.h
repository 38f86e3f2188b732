// The classic queue: RabbitMQ's default queue type, FIFO with requeue-in-place.
#pragma once

#include <deque>
#include <mutex>

#include "base/thread_annotations.h"
#include "broker/queue.h"

namespace burrow::broker {

// Concurrency: one mutex guards the queue's state. Publishers enqueue under it; deliveries
// are made by a drain task on the executor that takes a batch of entries under the lock and
// hands them to channels outside it. At most one drain runs per queue (drain_scheduled_), so
// each consumer sees messages in queue order.
class ClassicQueue final : public Queue {
 public:
  ClassicQueue(QueueSettings settings, Executor& executor, AutoDeleteHook on_unused);

  EnqueueOutcome enqueue(StoredMessagePtr message) override;
  Result<std::optional<QueueEntry>> get(bool no_ack, uint32_t& remaining) override;
  Status add_consumer(ConsumerPtr consumer) override;
  void remove_consumer(const Consumer& consumer) override;
  void settle(std::span<const QueueEntry> entries) override;
  void requeue(std::vector<QueueEntry> entries, bool redelivered) override;
  void return_undelivered(std::vector<QueueEntry> entries, bool counted_unacked) override;
  void notify_credit() override;
  uint32_t purge() override;
  Deleted mark_deleted() override;
  bool deleted() const override;
  QueueCounts counts() const override;

 private:
  // Upper bound of entries one drain pass takes under the lock.
  static constexpr size_t kDrainBatch = 256;
  // Passes before a drain yields the thread to other work (and reposts itself).
  static constexpr int kDrainPasses = 16;

  void schedule_drain_locked() REQUIRES(mu_);
  void drain();
  // The next consumer with credit, round robin; nullptr if none.
  const ConsumerPtr* pick_consumer_locked() REQUIRES(mu_);
  void insert_ready_locked(QueueEntry entry) REQUIRES(mu_);
  // Puts entries back in sequence order and wakes the drain.
  void reinsert_locked(std::vector<QueueEntry> entries, bool mark_redelivered) REQUIRES(mu_);

  Executor& executor_;
  const AutoDeleteHook on_unused_;

  mutable std::mutex mu_;
  std::deque<QueueEntry> ready_ GUARDED_BY(mu_);
  uint64_t ready_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t next_seq_ GUARDED_BY(mu_) = 1;
  uint32_t unacked_ GUARDED_BY(mu_) = 0;
  // Sorted by priority (x-priority), highest first; equal priorities take turns.
  std::vector<ConsumerPtr> consumers_ GUARDED_BY(mu_);
  size_t next_consumer_ GUARDED_BY(mu_) = 0;  // round-robin cursor within a priority
  bool had_consumers_ GUARDED_BY(mu_) = false;
  bool has_exclusive_consumer_ GUARDED_BY(mu_) = false;
  bool drain_scheduled_ GUARDED_BY(mu_) = false;
  bool deleted_ GUARDED_BY(mu_) = false;
};

}  // namespace burrow::broker
