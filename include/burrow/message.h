// A message as published and as delivered: where it was published, its properties, its body.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <burrow/properties.h>

namespace burrow {

// Plain value type. The broker shares one immutable Message among every queue it reached
// (std::shared_ptr<const Message>), so delivering it to many consumers copies nothing.
struct Message {
  std::string exchange;     // the exchange it was published to ("" = default exchange)
  std::string routing_key;  // the routing key it was published with
  BasicProperties properties;
  std::string body;
};

// One message handed to a consumer or returned by get().
struct Delivery {
  // Acknowledge with this tag on the channel that received the delivery. Unique per channel.
  uint64_t delivery_tag = 0;
  // True when the message was delivered before and requeued (nack/reject with requeue, or
  // its channel closed before acking).
  bool redelivered = false;
  // The message, shared with the broker (no copy). Never null.
  std::shared_ptr<const Message> message;
};

}  // namespace burrow
