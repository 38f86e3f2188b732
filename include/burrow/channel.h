// burrow::Channel: the in-process client API, mirroring an AMQP 0-9-1 channel. Errors carry
// RabbitMQ's reply codes and texts (status.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <burrow/field_table.h>
#include <burrow/message.h>
#include <burrow/properties.h>
#include <burrow/status.h>

namespace burrow {

namespace client {
class ChannelImpl;
}

struct ExchangeOptions {
  bool passive = false;      // only check that it exists (404 otherwise)
  bool durable = false;      // survives a restart
  bool auto_delete = false;  // deleted when its last binding goes
  bool internal = false;     // cannot be published to directly, only via exchange bindings
  FieldTable arguments;      // e.g. "alternate-exchange"
};

struct QueueOptions {
  bool passive = false;      // only check that it exists (404 otherwise)
  bool durable = false;      // survives a restart (with persistent messages)
  bool exclusive = false;    // owned by this broker handle's connection; deleted with it
  bool auto_delete = false;  // deleted when its last consumer is cancelled
  FieldTable arguments;      // x-message-ttl, x-max-length, x-dead-letter-exchange, ...
};

struct QueueInfo {
  std::string name;  // the server-generated name when declared with ""
  uint32_t message_count = 0;
  uint32_t consumer_count = 0;
};

struct PublishOptions {
  // Unroutable messages come back to the return callback instead of being dropped.
  bool mandatory = false;
};

struct ConsumeOptions {
  std::string tag;         // empty: the broker generates "amq.ctag-..."
  bool no_ack = false;     // deliveries count as acked when sent
  bool exclusive = false;  // no other consumer may use the queue meanwhile
  FieldTable arguments;    // e.g. x-priority
};

// A mandatory message that no queue took.
struct ReturnedMessage {
  uint16_t reply_code = 0;  // 312
  std::string reply_text;   // "NO_ROUTE"
  std::shared_ptr<const Message> message;
};

// Runs on a broker worker thread. Callbacks of one channel run one at a time, in delivery
// order; they may call any method of the channel (ack, publish, ...).
using ConsumerCallback = std::function<void(const Delivery&)>;
using ReturnCallback = std::function<void(const ReturnedMessage&)>;

// A channel of an embedded broker. Not thread-safe: use it from one thread at a time (its
// callbacks run on broker threads and may use it too, as long as calls do not overlap).
// Errors are Status values; a failed call leaves the channel usable.
class Channel {
 public:
  ~Channel();  // closes the channel
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  Status declare_exchange(std::string_view name, std::string_view type,
                          const ExchangeOptions& options = {});
  Status delete_exchange(std::string_view name, bool if_unused = false);
  Status bind_exchange(std::string_view destination, std::string_view source,
                       std::string_view routing_key, const FieldTable& arguments = {});
  Status unbind_exchange(std::string_view destination, std::string_view source,
                         std::string_view routing_key, const FieldTable& arguments = {});

  Result<QueueInfo> declare_queue(std::string_view name, const QueueOptions& options = {});
  Status bind_queue(std::string_view queue, std::string_view exchange, std::string_view routing_key,
                    const FieldTable& arguments = {});
  Status unbind_queue(std::string_view queue, std::string_view exchange,
                      std::string_view routing_key, const FieldTable& arguments = {});
  // Returns the number of ready messages removed.
  Result<uint32_t> purge_queue(std::string_view queue);
  // Returns the number of ready messages deleted with the queue.
  Result<uint32_t> delete_queue(std::string_view queue, bool if_unused = false,
                                bool if_empty = false);

  // Publishes a message. Errors: kNotFound (no such exchange), kAccessRefused (internal
  // exchange), kPreconditionFailed (larger than Options::max_message_size).
  Status publish(std::string_view exchange, std::string_view routing_key, std::string body,
                 BasicProperties properties = {}, const PublishOptions& options = {});
  // Publishes one message per body, all with the same exchange, routing key and properties,
  // in order: the same as publish() for each body, but the exchange is checked and routed
  // once and each queue takes the whole batch under one lock (the fast way to publish many
  // messages from one thread). In confirm mode each message counts as one publish. Errors as
  // publish(); an error means none was published, except when the exchange is deleted while
  // the batch is being published: the messages before that point were.
  Status publish_batch(std::string_view exchange, std::string_view routing_key,
                       std::vector<std::string> bodies, const BasicProperties& properties = {},
                       const PublishOptions& options = {});

  // Turns on publisher confirms for this channel.
  Status confirm_select();
  // Waits until every message published since confirm_select() is confirmed.
  // Errors: kPreconditionFailed if the broker nacked any of them since the last call,
  // kTimedOut, kInvalidArgument if confirms are not on.
  Status wait_for_confirms(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Subscribes `callback` to a queue; returns the consumer tag.
  Result<std::string> consume(std::string_view queue, ConsumerCallback callback,
                              const ConsumeOptions& options = {});
  // Stops a consumer; no callback for it runs after this returns... except one already
  // running on another thread.
  Status cancel(const std::string& consumer_tag);
  // Takes one message if one is ready.
  Result<std::optional<Delivery>> get(std::string_view queue, bool no_ack = false);
  // Limits unacked deliveries: per consumer created afterwards, or channel-wide (global).
  Status qos(uint16_t prefetch_count, bool global = false);

  Status ack(uint64_t delivery_tag, bool multiple = false);
  Status nack(uint64_t delivery_tag, bool multiple = false, bool requeue = true);
  Status reject(uint64_t delivery_tag, bool requeue = true);
  // Requeues every unacked delivery of this channel.
  Status recover();

  // Where mandatory messages that no queue took are returned.
  void on_return(ReturnCallback callback);

  // Closes the channel: consumers are cancelled, unacked messages requeued. Idempotent.
  void close();

 private:
  friend class Broker;
  explicit Channel(std::unique_ptr<client::ChannelImpl> impl);
  std::unique_ptr<client::ChannelImpl> impl_;
};

}  // namespace burrow
