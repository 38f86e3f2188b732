// A channel: the unit through which a client declares, publishes, consumes and acknowledges.
// All of AMQP's channel semantics live here (delivery tags, acks, prefetch, confirms,
// transactions, requeue on close), so the AMQP server and the in-process API share them.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "base/thread_annotations.h"
#include "broker/access_control.h"
#include "broker/confirm_tracker.h"
#include "broker/connection.h"
#include "broker/consumer.h"
#include "broker/queue.h"
#include "broker/stored_message.h"
#include "broker/vhost.h"

namespace burrow::broker {

class PublishLog;

// Direct reply-to: consuming from this pseudo-queue (no-ack) makes requests published with
// reply_to set to it get a private reply address, "amq.rabbitmq.reply-to.<key>".
inline constexpr std::string_view kReplyToQueue = "amq.rabbitmq.reply-to";
inline constexpr std::string_view kReplyToPrefix = "amq.rabbitmq.reply-to.";

// What a channel tells its adapter. Calls for deliveries and cancels come from worker
// threads with the channel's delivery lock held, in delivery-tag order; implementations must
// be quick and must not call back into the channel.
class ChannelSink {
 public:
  virtual ~ChannelSink() = default;
  // A message for consumer `consumer_tag` (basic.deliver).
  virtual void on_deliver(const std::string& consumer_tag, uint64_t delivery_tag,
                          const QueueEntry& entry) = 0;
  // An unroutable mandatory message comes back (basic.return). Called from publish().
  virtual void on_return(uint16_t reply_code, std::string_view reply_text,
                         const StoredMessage& message) = 0;
  // Publisher confirm for `seq` (and all earlier unconfirmed ones when `multiple`).
  // Called from flush().
  virtual void on_confirm(uint64_t seq, bool multiple, bool ack) = 0;
  // The broker cancelled a consumer because its queue went away (basic.cancel from server).
  virtual void on_cancel(const std::string& consumer_tag) = 0;
  // The broker closes the channel on its own (a consumer acknowledgement timeout). Called
  // from a timer thread; the adapter closes the channel with this error.
  virtual void on_error(const Status& error) = 0;
};

struct QueueDeclareRequest {
  std::string name;  // empty: the server names it amq.gen-...
  bool passive = false;
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  FieldTable arguments;
};

struct QueueDeclareResult {
  std::string name;
  uint32_t message_count = 0;
  uint32_t consumer_count = 0;
};

struct ConsumeRequest {
  std::string queue;      // empty: the last queue declared on this channel
  std::string tag;        // empty: the server generates amq.ctag-...
  bool no_local = false;  // accepted and ignored, as in RabbitMQ
  bool no_ack = false;
  bool exclusive = false;
  FieldTable arguments;
};

struct GetResult {
  uint64_t delivery_tag = 0;
  uint32_t message_count = 0;  // ready messages left in the queue
  QueueEntry entry;
};

// Owner-thread API: a channel's methods must not be called concurrently with each other (one
// AMQP connection, or one application thread at a time); deliveries arrive concurrently from
// worker threads and are synchronized internally. Errors are Status values with RabbitMQ's
// reply codes and texts; whether an error closes the channel or the connection is the
// adapter's decision (base/reply.h).
class Channel : public std::enable_shared_from_this<Channel> {
 public:
  Channel(ConnectionPtr connection, uint16_t number, ChannelSink* sink);
  ~Channel();

  uint16_t number() const { return number_; }
  const ConnectionPtr& connection() const { return connection_; }

  // ---- topology ----
  Status declare_exchange(const ExchangeSettings& settings, bool passive);
  Status delete_exchange(std::string_view name, bool if_unused);
  Status bind_exchange(std::string_view destination, std::string_view source,
                       std::string_view routing_key, const FieldTable& arguments);
  Status unbind_exchange(std::string_view destination, std::string_view source,
                         std::string_view routing_key, const FieldTable& arguments);
  Result<QueueDeclareResult> declare_queue(QueueDeclareRequest request);
  Status bind_queue(std::string_view queue, std::string_view exchange, std::string_view routing_key,
                    const FieldTable& arguments);
  Status unbind_queue(std::string_view queue, std::string_view exchange,
                      std::string_view routing_key, const FieldTable& arguments);
  Result<uint32_t> purge_queue(std::string_view queue);
  // `on_ok(message_count)` runs before consumers of the queue are told it is gone.
  Result<uint32_t> delete_queue(std::string_view queue, bool if_unused, bool if_empty,
                                const std::function<void(uint32_t)>& on_ok = nullptr);

  // ---- publishing ----
  // Routes and enqueues a message. Unroutable mandatory messages come back via on_return;
  // in confirm mode the confirm is queued for flush(). Errors: 404 missing exchange, 403
  // internal exchange, 540 immediate, 406 message too large.
  Status publish(std::string_view exchange, std::string_view routing_key, bool mandatory,
                 bool immediate, StoredMessagePtr message);
  // Publishes messages that differ only in their bodies (same exchange, routing key and
  // properties), in order, as publish() would one by one: authorized and routed once, and
  // each queue takes the batch under one lock. `published` receives how many were published:
  // all of them, or on an error the ones before it (the checks are the same for every
  // message, so only an exchange deleted meanwhile can stop a batch halfway).
  Status publish_batch(std::string_view exchange, std::string_view routing_key, bool mandatory,
                       std::span<const StoredMessagePtr> messages, size_t& published);
  // publish()'s exchange checks alone, in its order: write permission (403), existence (404),
  // internal (403). For an adapter that reports them before a message's other faults, as
  // RabbitMQ does before it decodes the content-header properties.
  Status check_publish_target(std::string_view exchange);
  // 406 "message size N is larger than configured max size M" when `size` is over
  // Options::max_message_size (RabbitMQ's check_msg_size).
  Status check_message_size(uint64_t size) const;
  // confirm.select. Errors: 406 if the channel is transactional.
  Status confirm_select();
  bool confirm_mode() const { return confirm_mode_; }
  // While set, the store writes of this channel's publishes join `collect` instead of being
  // submitted (the outbox relay's channel; see WriteCollector). Null to stop.
  void set_write_collector(WriteCollector* collect) { collect_ = collect; }
  // What the last publish() on this channel did (for the outbox relay).
  struct PublishOutcome {
    bool delivered = false;  // at least one queue took it
    bool rejected = false;   // at least one queue refused it (overflow reject-publish)
    bool delayed = false;    // a delayed-message exchange holds it
  };
  const PublishOutcome& last_publish() const { return last_publish_; }
  // Sends the confirms that are ready (on_confirm). Adapters call it after a batch of
  // publishes; it is cheap when nothing is pending.
  void flush();

  // ---- consuming ----
  // basic.consume. `on_ok(tag)` runs under the delivery lock before the first delivery can
  // reach the sink, so the adapter can send consume-ok in order.
  // Errors: 404/405 queue, 403 exclusive use, 530 tag reuse or
  // Options::consumer_max_per_channel reached, 406 bad arguments.
  Result<std::string> consume(ConsumeRequest request,
                              const std::function<void(const std::string&)>& on_ok);
  Result<std::string> consume_replies(ConsumeRequest request,
                                      const std::function<void(const std::string&)>& on_ok);
  Status check_consumer_limit(const std::string& tag) const;
  // basic.cancel. An unknown tag is not an error. `on_ok` runs under the delivery lock after
  // the consumer's last delivery.
  Status cancel(const std::string& tag, const std::function<void()>& on_ok);
  // basic.get. `on_result` runs under the delivery lock with the delivery (or nullopt when
  // the queue is empty), so the adapter can answer in delivery-tag order.
  Status get(std::string_view queue, bool no_ack,
             const std::function<void(const std::optional<GetResult>&)>& on_result);
  // basic.qos. Errors: 540 prefetch_size != 0.
  Status qos(uint32_t prefetch_size, uint16_t prefetch_count, bool global);

  // ---- acknowledgements ----
  // Errors: 406 "unknown delivery tag N".
  Status ack(uint64_t delivery_tag, bool multiple);
  Status nack(uint64_t delivery_tag, bool multiple, bool requeue);
  Status reject(uint64_t delivery_tag, bool requeue);
  // basic.recover: requeue every unacked delivery. Errors: 540 for requeue=false.
  Status recover(bool requeue);

  // ---- transactions ----
  // Errors: 406 "cannot switch from confirm to tx mode", "channel is not transactional".
  Status tx_select();
  // Returns whether a published message reached a queue (taken or refused by one): RabbitMQ
  // then waits for the queues before commit-ok, a window the AMQP adapter reproduces.
  Result<bool> tx_commit();
  Status tx_rollback();

  // Closes the channel: cancels its consumers and requeues its unacked messages.
  // Idempotent. After close, deliveries racing in are returned to their queues.
  void close();

  // Called by a queue's drain: delivers `entries` to `consumer` (or hands them back to the
  // queue when the consumer or channel is gone).
  void deliver(const ConsumerPtr& consumer, std::vector<QueueEntry> entries);
  // Called when the broker cancels a consumer (its queue was deleted).
  void consumer_cancelled_by_broker(const ConsumerPtr& consumer);
  // A reply published to this channel's direct reply-to address.
  void deliver_reply(const StoredMessagePtr& message);

  // kClosed once the channel was closed (by its owner or by the broker); OK otherwise.
  Status check_open() const;

  // Counts for tests and management.
  size_t unacked_count() const;
  size_t consumer_count() const;
  // The channel's consumers (management), in no particular order.
  std::vector<ConsumerPtr> consumers() const;
  // Owner-thread settings, readable from other threads (management).
  bool transactional() const { return tx_flag_.load(std::memory_order_relaxed); }
  uint16_t prefetch_count() const { return prefetch_flag_.load(std::memory_order_relaxed); }

 private:
  struct Unacked {
    uint64_t tag;
    QueuePtr queue;
    ConsumerPtr consumer;  // null for basic.get
    QueueEntry entry;
    TimeMs delivered_at = 0;  // for the consumer acknowledgement timeout
  };
  enum class Settle : uint8_t { kAck, kRequeue, kDiscard };

  // Checks the connection's user holds `permission` on the resource (403 with RabbitMQ's
  // text); granted checks are cached until the users or permissions change.
  Status authorize(Permission permission, std::string_view kind, std::string_view name);
  Status authorize_binding(std::string_view kind, std::string_view destination,
                           std::string_view source);
  Result<QueuePtr> resolve_queue(std::string_view name);
  std::string queue_name_or_last(std::string_view name) const;
  Status route(std::string_view exchange, std::string_view routing_key,
               const StoredMessage& message, const RouteResult*& result);
  // The checks RabbitMQ makes on a routable publish's properties (user_id).
  // Returns what the queues need to know (the message's TTL).
  Result<EnqueueOptions> check_properties(const StoredMessage& message) const;
  // Takes the unacked entries `tag` names (all up to it with `multiple`; every one for tag 0
  // with multiple). Errors: 406 unknown delivery tag.
  Result<std::vector<Unacked>> take_unacked(uint64_t tag, bool multiple);
  void settle(std::vector<Unacked> entries, Settle how);
  // Whether every entry's queue takes it back (nack, reject, recover: `how`). If one refuses
  // (a stream), its entries are settled as acked, the others as `how`, `entries` is left
  // empty and the refusal returned.
  Status check_returnable(std::vector<Unacked>& entries, Settle how);
  Status settle_tags(uint64_t tag, bool multiple, Settle how);
  // Enqueues a routed message; returns it if mandatory and unroutable; resolves its confirm.
  // A publish to a delayed-message exchange (result.delay_ms > 0) is handed to the vhost to
  // hold, with `exchange` and the routing keys.
  void enqueue_routed(const RouteResult& result, std::string_view exchange,
                      std::string_view routing_key, bool mandatory, const StoredMessagePtr& message,
                      const EnqueueOptions& options, uint64_t confirm_seq);
  // Adds a routed publish to the published-message log (burrowd --record).
  void record_publish(PublishLog& log, bool delayed, std::string_view exchange,
                      std::string_view routing_key, const StoredMessagePtr& message,
                      std::vector<std::string> queues);
  // Consumer acknowledgement timeout (RabbitMQ's consumer_timeout).
  void arm_ack_timer_locked(TimeMs due) REQUIRES(mu_);
  void on_ack_timer();
  static StoredMessagePtr without_bcc(StoredMessagePtr message);
  // Direct reply-to: a request's reply_to "amq.rabbitmq.reply-to" becomes this channel's reply
  // address. Error: 406 "fast reply consumer does not exist".
  Result<StoredMessagePtr> with_reply_address(StoredMessagePtr message);
  void notify_queues_of_credit();

  const ConnectionPtr connection_;
  const uint16_t number_;
  ChannelSink* const sink_;
  VHost& vhost_;
  const int64_t ack_timeout_;  // Options::consumer_timeout_ms; 0 = off
  ChannelCredit credit_;
  // The credit of consumers the global prefetch does not apply to (streams): never limited.
  ChannelCredit no_global_limit_;

  // Owner-thread state.
  std::string last_queue_;
  uint16_t consumer_prefetch_ = 0;
  std::atomic<bool> confirm_mode_{false};
  bool tx_mode_ = false;
  std::atomic<bool> tx_flag_{false};        // tx_mode_, for management
  std::atomic<uint16_t> prefetch_flag_{0};  // the last basic.qos prefetch_count
  WriteCollector* collect_ = nullptr;
  PublishOutcome last_publish_;
  uint32_t unreported_publishes_ = 0;  // not yet added to BrokerStats::messages_published
  void report_publishes();
  ConfirmTracker confirms_;
  struct RouteKey {
    std::string exchange;
    std::string routing_key;
    bool operator==(const RouteKey&) const = default;
  };
  struct RouteKeyHash {
    size_t operator()(const RouteKey& k) const {
      return std::hash<std::string>()(k.exchange) * 31 + std::hash<std::string>()(k.routing_key);
    }
  };
  std::unordered_map<RouteKey, RouteResult, RouteKeyHash> route_cache_;
  uint64_t route_cache_epoch_ = 0;
  std::unordered_set<std::string> granted_;  // permission + kind + name, for authorize()
  uint64_t granted_epoch_ = 0;
  std::string last_published_to_;  // "=" + the exchange last granted write on; empty: none
  std::string scratch_grant_;
  RouteResult scratch_route_;
  RouteKey scratch_key_;
  // Transaction buffers (tx_select): publishes and settlements applied at commit.
  struct TxPublish {
    std::string exchange;
    std::string routing_key;
    bool mandatory;
    StoredMessagePtr message;
    EnqueueOptions options;
  };
  // Acks, nacks and rejects in a transaction take their entries from unacked_ at once (so
  // unknown tags fail immediately, as in RabbitMQ) and settle them at commit; rollback puts
  // them back.
  struct TxSettle {
    std::vector<Unacked> entries;
    Settle how;
  };
  std::vector<TxPublish> tx_publishes_;
  std::vector<TxSettle> tx_settles_;

  // Delivery state, shared with worker threads.
  mutable std::mutex mu_;
  bool closed_ GUARDED_BY(mu_) = false;
  std::atomic<bool> closed_flag_{false};  // closed_, readable without the lock
  uint64_t next_delivery_tag_ GUARDED_BY(mu_) = 1;
  std::deque<Unacked> unacked_ GUARDED_BY(mu_);  // ascending delivery tag
  std::unordered_map<std::string, ConsumerPtr> consumers_ GUARDED_BY(mu_);
  uint64_t ack_timer_ GUARDED_BY(mu_) = 0;
  // Direct reply-to consumer: its tag and the key of this channel's reply address.
  std::string reply_tag_ GUARDED_BY(mu_);
  std::string reply_key_ GUARDED_BY(mu_);
};

using ChannelPtr = std::shared_ptr<Channel>;

}  // namespace burrow::broker
