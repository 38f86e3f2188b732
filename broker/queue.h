// The queue abstraction: what channels, the vhost and management see of a queue. Its
// QueueType (broker/queue_type.h) holds what is fixed per x-queue-type.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <burrow/clock.h>
#include <burrow/field_table.h>
#include <burrow/status.h>

#include "broker/consumer.h"
#include "broker/queue_arguments.h"
#include "broker/queue_entry.h"
#include "broker/queue_type.h"

namespace burrow::broker {

class ConfirmGate;
struct WriteCollector;
class Executor;
class Persistence;
class Queue;
class TimerService;

// What a queue is, fixed at declaration.
struct QueueSettings {
  std::string name;
  std::string vhost;
  bool durable = false;
  bool auto_delete = false;
  // The connection that declared an exclusive queue; 0 for a non-exclusive queue.
  uint64_t exclusive_owner = 0;
  FieldTable arguments;

  bool exclusive() const { return exclusive_owner != 0; }
};

struct QueueCounts {
  uint32_t ready = 0;    // waiting for a consumer
  uint32_t unacked = 0;  // delivered, not yet acked
  uint32_t consumers = 0;
};

// Message counters since the queue was created (management's message_stats, Prometheus).
struct QueueCounters {
  uint64_t publish = 0;         // messages the queue took
  uint64_t deliver = 0;         // delivered to consumers needing an ack
  uint64_t deliver_no_ack = 0;  // delivered to no-ack consumers
  uint64_t get = 0;             // basic.get needing an ack
  uint64_t get_no_ack = 0;
  uint64_t get_empty = 0;
  uint64_t redeliver = 0;  // deliveries and gets of messages with redelivered set
  uint64_t ack = 0;
  uint64_t dead_lettered = 0;  // left for a dead-letter exchange
};

enum class EnqueueOutcome : uint8_t {
  kAccepted,  // the queue took the message (it may still expire or be dropped at once)
  kRejected,  // refused (overflow reject-publish): the publisher gets a nack
  kDeleted,   // the queue was deleted meanwhile: as if it had not been routed to
};

// Why a message left its queue for the dead-letter exchange (x-death "reason").
enum class DeathReason : uint8_t { kRejected, kExpired, kMaxlen, kDeliveryLimit };
std::string_view death_reason_name(DeathReason reason);

struct DeadLetter {
  StoredMessagePtr message;
  DeathReason reason;
};

// What a queue needs from the broker around it. Hooks are called outside the queue's lock.
struct QueueContext {
  Executor* executor = nullptr;
  TimerService* timers = nullptr;
  Clock* clock = nullptr;
  // An auto-delete queue lost its last consumer, or an x-expires queue expired: delete it.
  std::function<void(const std::shared_ptr<Queue>&)> delete_me;
  // Messages leaving the queue for its dead-letter exchange (only called when the queue has
  // x-dead-letter-exchange). With `collect` (non-null), the store writes of the copies join
  // it, to be written in one batch with the source's deletes.
  std::function<void(const Queue&, std::vector<DeadLetter>, WriteCollector* collect)> dead_letter;
  // Where a durable queue keeps its persistent messages; null for a transient queue or a
  // broker without durability (--in-memory).
  Persistence* persistence = nullptr;
  uint64_t queue_id = 0;  // the queue's key range in the store
};

// Per-publish facts the channel already worked out.
struct EnqueueOptions {
  // The message's own TTL (the expiration property), if it has one.
  std::optional<int64_t> message_ttl;
  // Learns when the message is durable in every durable queue it reached (publisher
  // confirms); null when nobody waits.
  std::shared_ptr<ConfirmGate> gate;
  // Non-null: the store writes of this publish join this batch (the outbox relay).
  WriteCollector* collect = nullptr;
};

// Thread-safe: every method may be called from any thread. Implementations guard their
// state with their own lock and never call out (to channels, hooks) while holding it.
class Queue : public std::enable_shared_from_this<Queue> {
 public:
  Queue(QueueSettings settings, QueueArguments arguments, const QueueType& type)
      : settings_(std::move(settings)), arguments_(std::move(arguments)), type_(type) {}
  virtual ~Queue() = default;
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  const QueueSettings& settings() const { return settings_; }
  const QueueArguments& arguments() const { return arguments_; }
  const std::string& name() const { return settings_.name; }
  const QueueType& type() const { return type_; }
  // RabbitMQ's rendering of the queue in error texts: "queue 'q' in vhost '/'".
  std::string resource() const {
    return "queue '" + settings_.name + "' in vhost '" + settings_.vhost + "'";
  }

  // Takes a published message. Deliveries to consumers happen later, on the executor.
  virtual EnqueueOutcome enqueue(StoredMessagePtr message, const EnqueueOptions& options) = 0;
  // Takes several messages in order, as enqueue() would one by one; outcomes[i] is the
  // outcome of messages[i] (outcomes.size() == messages.size()). A queue takes its lock
  // once for the batch.
  virtual void enqueue_batch(std::span<const StoredMessagePtr> messages,
                             const EnqueueOptions& options, std::span<EnqueueOutcome> outcomes) {
    for (size_t i = 0; i < messages.size(); ++i) outcomes[i] = enqueue(messages[i], options);
  }

  // basic.get: the head message, or nullopt when none is ready. `remaining` receives the
  // number of ready messages left. With no_ack the message is settled at once; otherwise the
  // caller holds the entry until it settles or requeues it. Errors: kNotFound if deleted.
  virtual Result<std::optional<QueueEntry>> get(bool no_ack, uint32_t& remaining) = 0;

  // Registers a consumer. Errors: kAccessRefused "queue 'q' in vhost '/' in exclusive use"
  // when an exclusive consumer is involved; kNotFound when the queue was deleted.
  virtual Status add_consumer(ConsumerPtr consumer) = 0;
  // Unregisters a consumer (basic.cancel, channel close). May delete an auto-delete queue
  // through the context's delete_me hook.
  virtual void remove_consumer(const Consumer& consumer) = 0;

  // Entries delivered from this queue were acked: they leave the queue for good.
  virtual void settle(std::span<const QueueEntry> entries) = 0;
  // Entries delivered from this queue were rejected or nacked without requeue: they leave
  // the queue, dead-lettered with reason "rejected" if the queue has a dead-letter exchange.
  virtual void discard(std::vector<QueueEntry> entries) = 0;
  // Entries delivered from this queue come back: ready again at their original position,
  // with redelivered set when `redelivered` (false for entries that never reached a client).
  // `release_credit` (run exactly once, under the queue's lock once the entries are back)
  // frees the prefetch credit they held, so no delivery can use that credit for a later
  // message first (RabbitMQ's queue requeues and unblocks the limiter in one step).
  virtual void requeue(std::vector<QueueEntry> entries, bool redelivered,
                       const std::function<void()>& release_credit) = 0;
  // Entries a drain took for a consumer that was gone before they reached its channel: they
  // go back unchanged. `counted_unacked` says whether the drain counted them as unacked (it
  // does not for no-ack consumers).
  virtual void return_undelivered(std::vector<QueueEntry> entries, bool counted_unacked) = 0;

  // A channel goes away: removes its consumers of this queue and requeues its unacked
  // entries (redelivered) in one step, so the next consumer sees them first (RabbitMQ's
  // handle_ch_down). May delete an auto-delete queue.
  virtual void detach(std::span<const Consumer* const> consumers,
                      std::vector<QueueEntry> unacked) = 0;

  // A consumer of this queue has more credit: deliver if messages are waiting.
  virtual void notify_credit() = 0;
  // The queue was used (declared, passively or not): restarts its x-expires countdown.
  virtual void touch() = 0;
  // Called once the queue is registered in its vhost (starts its x-expires countdown).
  virtual void start() {}
  // The queue's key range in the store (0 when it keeps nothing there).
  virtual uint64_t queue_id() const { return 0; }

  // Removes the ready messages; returns how many. Unacked messages stay.
  virtual uint32_t purge() = 0;

  // Marks the queue deleted and drops its ready messages; returns (ready message count,
  // consumers that were attached). Later calls fail or drop, as documented above.
  struct Deleted {
    uint32_t message_count = 0;
    std::vector<ConsumerPtr> consumers;
  };
  virtual Deleted mark_deleted() = 0;
  virtual bool deleted() const = 0;

  virtual QueueCounts counts() const = 0;
  virtual QueueCounters counters() const = 0;

 protected:
  const QueueSettings settings_;
  const QueueArguments arguments_;
  const QueueType& type_;
};

using QueuePtr = std::shared_ptr<Queue>;

// Creates a queue of the type its arguments name (x-queue-type; classic by default),
// validating its properties and arguments (QueueType::validate). Errors: 406 with RabbitMQ's
// texts.
Result<QueuePtr> make_queue(QueueSettings settings, QueueContext context);

}  // namespace burrow::broker
