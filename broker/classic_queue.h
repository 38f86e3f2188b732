// The classic queue: RabbitMQ's default queue type. FIFO (per priority with x-max-priority),
// requeue in place, TTL at the head, length limits with overflow modes, dead-lettering, single
// active consumer, consumer priorities, x-expires, and Burrow's x-delivery-limit.
//
// The same engine serves quorum queues: where they differ (every message stored, requeue at
// the back and returns at the front, x-delivery-count, the soft length limit) it follows its
// type's QueueType::Semantics.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/thread_annotations.h"
#include "broker/pack_log.h"
#include "broker/queue.h"
#include "broker/seq_set.h"
#include "broker/timer_service.h"

namespace burrow::broker {

// Concurrency: one mutex guards the queue's state. Publishers enqueue under it; deliveries
// are made by a drain task on the executor that takes a batch of entries under the lock and
// hands them to channels outside it. At most one drain runs per queue (drain_scheduled_), so
// each consumer sees messages in queue order. While a drain hands a batch over, detach()
// (a channel closing) waits for it, so once Channel::close() returns every message the
// channel held or was about to receive is back in the queue. Timers (TTL, x-expires) run on the
// timer service and take the same lock. Dead letters are collected under the lock and published
// after it is released.
class ClassicQueue final : public Queue {
 public:
  ClassicQueue(QueueSettings settings, QueueArguments arguments, const QueueType& type,
               QueueContext context);
  ~ClassicQueue() override;

  EnqueueOutcome enqueue(StoredMessagePtr message, const EnqueueOptions& options) override;
  void enqueue_batch(std::span<const StoredMessagePtr> messages, const EnqueueOptions& options,
                     std::span<EnqueueOutcome> outcomes) override;
  Result<std::optional<QueueEntry>> get(bool no_ack, uint32_t& remaining) override;
  Status add_consumer(ConsumerPtr consumer) override;
  void remove_consumer(const Consumer& consumer) override;
  void settle(std::span<const QueueEntry> entries) override;
  void discard(std::vector<QueueEntry> entries) override;
  void requeue(std::vector<QueueEntry> entries, bool redelivered,
               const std::function<void()>& release_credit) override;
  void return_undelivered(std::vector<QueueEntry> entries, bool counted_unacked) override;
  void detach(std::span<const Consumer* const> consumers, std::vector<QueueEntry> unacked) override;
  void notify_credit() override;
  void touch() override;
  uint32_t purge() override;
  Deleted mark_deleted() override;
  bool deleted() const override;
  QueueCounts counts() const override;
  QueueCounters counters() const override;

  void start() override;
  uint64_t queue_id() const override { return context_.queue_id; }
  // Recovery: the persistent messages the store held, in sequence order, in one or more
  // batches (entries may come paged out: without their message); then finish_recovery with
  // the sequence after the last. Once every queue of the vhost has its messages back,
  // start_after_recovery: messages that expired meanwhile (or are over a length limit) go by
  // the usual rules (dead-lettered/dropped). Not sooner: a dead letter enqueued into a queue
  // whose messages were not recovered yet would take a sequence number already in the store.
  void recover(std::vector<QueueEntry> entries);
  void finish_recovery(uint64_t next_seq);
  void start_after_recovery();
  // Ready messages whose contents are in memory (not paged out). For tests and metrics.
  size_t resident_count() const;
  // Ready messages kept packed, and the bytes their PackLogs hold. For tests and metrics.
  size_t packed_count() const;
  size_t packed_bytes() const;

 private:
  // Entries a priority level keeps as full messages; those behind them are packed (about
  // 40 B instead of 700 B for a small message) and unpacked as they reach the head. Deep
  // enough that a consumer keeping up never meets a packed entry.
  static constexpr size_t kPackAfter = 1024;
  // Larger bodies are not packed: packing copies the body, which a message routed to several
  // queues shares, and saves little beside a large body.
  static constexpr size_t kPackMaxBody = 1024;
  // Upper bound of entries one drain pass takes under the lock.
  static constexpr size_t kDrainBatch = 256;
  // Passes before a drain yields the thread to other work (and reposts itself).
  static constexpr int kDrainPasses = 16;

  struct Pick {
    ConsumerPtr consumer;
    QueueEntry entry;
  };
  // What an operation must do once the lock is released: dead letters to publish, and store
  // writes for persistent messages (deleted, delivered, the saved head moved).
  struct Effects {
    std::vector<DeadLetter> dead;
    std::vector<uint64_t> deleted;
    std::vector<std::pair<uint64_t, uint32_t>> delivered;  // (seq, delivery count)
    uint64_t new_head = 0;
  };
  // The saved head moves in steps of this many messages (one range tombstone each).
  static constexpr uint64_t kHeadStep = 1024;
  // Paged-out messages read back from the store at a time.
  static constexpr size_t kLoadBatch = 512;

  // Ready storage: one FIFO per priority level (a single one without x-max-priority).
  bool ready_empty_locked() const REQUIRES(mu_) { return ready_count_ == 0; }
  std::deque<QueueEntry>* head_bucket_locked() REQUIRES(mu_);
  // Removes the head entry (of the highest priority with messages). `need_message` false:
  // the caller drops it without its contents (a packed entry is not unpacked; the entry
  // comes without a message).
  QueueEntry pop_head_locked(bool need_message = true) REQUIRES(mu_);
  // Removes the front entry of buckets_[priority], unpacked unless !need_message.
  QueueEntry take_front_locked(size_t priority, bool need_message = true) REQUIRES(mu_);
  // Whether the entry's contents are only in the store (and must be loaded before it leaves).
  static bool paged_out(const QueueEntry& e) { return !e.message && !e.packed; }
  void push_ready_locked(QueueEntry entry) REQUIRES(mu_);
  void insert_ready_locked(QueueEntry entry) REQUIRES(mu_);
  void reinsert_locked(std::vector<QueueEntry> entries, bool mark_redelivered) REQUIRES(mu_);
  // How entries come back: requeued by the client (nack, reject, recover), or returned
  // because their consumer's channel went away. Only quorum queues tell them apart.
  enum class Return : uint8_t { kRequeue, kConsumerGone };
  // requeue() and detach() under the lock: delivery limits, reinsertion, drop-head.
  void requeue_locked(std::vector<QueueEntry> entries, bool redelivered, Return how, Effects& fx)
      REQUIRES(mu_);
  // Quorum queues' requeue: the entry takes the next sequence number (its store record is
  // written again under it and the old one deleted).
  void move_to_back_locked(QueueEntry& entry, Effects& fx) REQUIRES(mu_);
  // Buckets kept in sequence order (all but a quorum queue's returns bucket).
  size_t sorted_buckets() const REQUIRES(mu_) {
    return type_.semantics().requeue_at_back ? buckets_.size() - 1 : buckets_.size();
  }
  // Quorum queues' reject-publish: whether a publish is refused now (updates the state).
  bool over_soft_limit_locked() REQUIRES(mu_);
  // Updates that state after the ready messages grew (a publish, a requeue).
  void note_length_locked() REQUIRES(mu_);
  // Takes ready heads for consumers with credit, for the drain to hand over.
  void assign_ready_locked(Effects& fx) REQUIRES(mu_);
  // Removes a consumer; returns whether the queue became unused and is auto-delete.
  bool remove_consumer_locked(const Consumer& consumer) REQUIRES(mu_);

  // Memory budget (Persistence): a ready entry's resident contents are charged while it is
  // ready; entries stored while over budget are paged out once their write completed.
  // Bytes a resident persisted entry is charged against the memory budget: its body plus an
  // estimate of the rest (much less when packed).
  static uint64_t resident_bytes(const QueueEntry& e);
  void charge_locked(const QueueEntry& entry) REQUIRES(mu_);
  void release_locked(const QueueEntry& entry) REQUIRES(mu_);
  void page_out_locked() REQUIRES(mu_);
  // If the head entry is paged out, the sequences to read back (from the head) in `seqs`.
  bool head_paged_locked(std::vector<uint64_t>& seqs) REQUIRES(mu_);
  // Reads `seqs` back from the store with the lock released, then reattaches them.
  Status load_paged(std::unique_lock<std::mutex>& lock, const std::vector<uint64_t>& seqs);
  // A paged-out entry leaving for a dead-letter exchange: read back at once, under the lock.
  void load_one_locked(QueueEntry& entry) REQUIRES(mu_);

  // Expires the messages at the heads; collects dead letters.
  void expire_heads_locked(TimeMs now, Effects& fx) REQUIRES(mu_);
  // drop-head overflow: drops heads while over x-max-length / x-max-length-bytes.
  void drop_head_locked(Effects& fx) REQUIRES(mu_);
  bool would_overflow_locked(size_t body_size) const REQUIRES(mu_);
  void arm_ttl_timer_locked() REQUIRES(mu_);
  void arm_expiry_timer_locked(TimeMs due) REQUIRES(mu_);
  void on_ttl_timer();
  void on_expiry_timer();
  // Carries out `fx` (outside the lock): store writes, then dead letters.
  void apply(Effects fx);
  // The entry leaves the queue for good and goes to the dead-letter exchange if there is one.
  void collect_dead(Effects& fx, QueueEntry& entry, DeathReason reason) REQUIRES(mu_);
  // The entry leaves the queue for good: its stored copy is deleted.
  void forget_locked(Effects& fx, const QueueEntry& entry) REQUIRES(mu_);
  // A persistent entry was handed to a consumer: marked delivered (or, no-ack, deleted).
  void note_delivered_locked(Effects& fx, const QueueEntry& entry, bool no_ack) REQUIRES(mu_);

  // add_consumer() but the effects (store writes of what the new consumer took at once) are
  // left in `fx` for the caller to apply once the lock is released.
  Status register_consumer(ConsumerPtr consumer, Effects& fx);
  // return_undelivered() under the lock; `counted_unacked` of the entries were counted as
  // unacked by the drain.
  void return_undelivered_locked(std::vector<QueueEntry> entries, uint32_t counted_unacked)
      REQUIRES(mu_);
  void schedule_drain_locked() REQUIRES(mu_);
  void drain();
  void end_handover_locked() REQUIRES(mu_);
  // The consumer to give the next message to (priorities, round robin, single active
  // consumer), with its credit taken; nullptr if none can take one.
  const ConsumerPtr* pick_consumer_locked() REQUIRES(mu_);
  // One message of enqueue()/enqueue_batch(), the queue's heads already expired at `now`.
  EnqueueOutcome enqueue_locked(StoredMessagePtr message, const EnqueueOptions& options, TimeMs now,
                                Effects& fx) REQUIRES(mu_);
  void take_for_delivery_locked(QueueEntry& entry, const Consumer& consumer, Effects& fx)
      REQUIRES(mu_);
  // Lets the next single active consumer take over once the cancelled one has settled.
  void check_sac_handover_locked() REQUIRES(mu_);

  const QueueContext context_;
  const bool has_dlx_;

  mutable std::mutex mu_;
  std::vector<std::deque<QueueEntry>> buckets_ GUARDED_BY(mu_);  // index = priority
  // The packed contents of each bucket's packed entries, in the same order.
  std::vector<PackLog> packs_ GUARDED_BY(mu_);
  std::string pack_scratch_ GUARDED_BY(mu_);  // reused buffer for packing
  size_t ready_count_ GUARDED_BY(mu_) = 0;
  uint64_t ready_bytes_ GUARDED_BY(mu_) = 0;
  // Quorum queues' reject-publish: refusing since the queue went over a limit.
  bool refusing_publishes_ GUARDED_BY(mu_) = false;
  // Quorum queues: the next QueueEntry::return_order.
  uint32_t next_return_order_ GUARDED_BY(mu_) = 0;
  // Messages a consumer took at enqueue (RabbitMQ delivers to a waiting consumer without
  // queueing); the next drain hands them over.
  std::vector<Pick> assigned_ GUARDED_BY(mu_);
  uint64_t next_seq_ GUARDED_BY(mu_) = 1;
  uint32_t unacked_ GUARDED_BY(mu_) = 0;
  QueueCounters counters_ GUARDED_BY(mu_);
  // Sorted by priority (x-priority), highest first; registration order with single active
  // consumer, where only the first receives.
  std::vector<ConsumerPtr> consumers_ GUARDED_BY(mu_);
  size_t next_consumer_ GUARDED_BY(mu_) = 0;  // round-robin cursor within a priority
  bool had_consumers_ GUARDED_BY(mu_) = false;
  // Single active consumer: an active consumer cancelled with messages still unacked keeps
  // the next one waiting until those are settled or requeued, so they go first.
  ConsumerPtr sac_waiting_for_ GUARDED_BY(mu_);
  bool has_exclusive_consumer_ GUARDED_BY(mu_) = false;
  bool drain_scheduled_ GUARDED_BY(mu_) = false;
  // A drain is handing a batch over outside the lock (on handover_thread_); detach() waits on
  // handover_done_ until it has.
  bool handing_over_ GUARDED_BY(mu_) = false;
  std::thread::id handover_thread_ GUARDED_BY(mu_);
  std::condition_variable handover_done_;
  bool deleted_ GUARDED_BY(mu_) = false;
  TimerId ttl_timer_ GUARDED_BY(mu_) = 0;
  TimeMs ttl_timer_due_ GUARDED_BY(mu_) = 0;
  TimerId expiry_timer_ GUARDED_BY(mu_) = 0;
  TimeMs last_used_ GUARDED_BY(mu_) = 0;
  // Persistent messages of a durable queue that are still in the store, and the saved head.
  SeqSet persisted_live_ GUARDED_BY(mu_);
  uint64_t saved_head_ GUARDED_BY(mu_) = 0;
  // Lazy bodies: the highest sequence whose store write completed (raised by the writer
  // thread), and the entries (sequence, priority) stored while over budget, waiting for
  // their write before their contents are dropped from memory.
  std::shared_ptr<std::atomic<uint64_t>> written_;
  std::deque<std::pair<uint64_t, uint8_t>> to_page_ GUARDED_BY(mu_);
};

}  // namespace burrow::broker
