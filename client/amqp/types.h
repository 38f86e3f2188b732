// The values ClientChannel takes and hands out: declare options, deliveries, returned
// messages, basic.get results, and the callback signatures.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <burrow/field_table.h>
#include <burrow/properties.h>

namespace burrow::client::amqp {

struct QueueOptions {
  bool passive = false;  // only check that the queue exists (404 otherwise)
  bool durable = false;
  bool exclusive = false;  // owned by this connection, deleted with it
  bool auto_delete = false;
  FieldTable arguments;  // x-message-ttl, x-max-length, x-queue-type, ...
};

// queue.declare-ok.
struct QueueInfo {
  std::string name;  // the server-generated name when declared with ""
  uint32_t message_count = 0;
  uint32_t consumer_count = 0;
};

struct ExchangeOptions {
  bool passive = false;
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  FieldTable arguments;  // alternate-exchange, ...
};

struct ConsumeOptions {
  std::string consumer_tag;  // empty: the broker picks one
  bool no_ack = false;       // automatic acknowledgement
  bool exclusive = false;
  FieldTable arguments;  // x-priority, ...
};

// One basic.deliver. Views point into the connection's buffers: valid only during the
// callback (copy what you keep).
struct Delivery {
  std::string_view consumer_tag;
  uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string_view exchange;
  std::string_view routing_key;
  const BasicProperties* properties = nullptr;  // never null in a callback
  std::string_view body;
};

// One basic.return: a mandatory publish that no queue took. Views are valid only during the
// callback.
struct ReturnedMessage {
  uint16_t reply_code = 0;  // 312 NO_ROUTE
  std::string_view reply_text;
  std::string_view exchange;
  std::string_view routing_key;
  const BasicProperties* properties = nullptr;
  std::string_view body;
};

// basic.get-ok with its content, owned.
struct GetResult {
  uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  uint32_t message_count = 0;  // messages left in the queue
  BasicProperties properties;
  std::string body;
};

using DeliveryCallback = std::function<void(const Delivery&)>;
using ReturnCallback = std::function<void(const ReturnedMessage&)>;
// Called once per publish when the broker confirms it: seq is publish()'s sequence number,
// ack false for basic.nack (the broker could not take responsibility for the message).
using ConfirmCallback = std::function<void(uint64_t seq, bool ack)>;
// The broker cancelled a consumer (its queue was deleted): consumer_cancel_notify.
using CancelCallback = std::function<void(std::string_view consumer_tag)>;

}  // namespace burrow::client::amqp
