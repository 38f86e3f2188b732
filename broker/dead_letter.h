// The dead-lettered form of a message, as RabbitMQ 3.10's rabbit_dead_letter:make_msg/5:
// x-death history, x-first-death-* headers, new exchange and routing keys, expiration cleared.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <burrow/clock.h>

#include "broker/queue.h"
#include "broker/stored_message.h"

namespace burrow::broker {

struct DeadLetterTarget {
  std::string_view queue;                    // the queue the message dies in
  std::string_view exchange;                 // its x-dead-letter-exchange
  const std::string* routing_key = nullptr;  // its x-dead-letter-routing-key, if any
};

// The new message and the routing keys to publish it with through the dead-letter exchange.
struct DeadLetterMessage {
  StoredMessagePtr message;
  std::vector<std::string> routing_keys;
};

// Builds the dead-lettered message. `now_seconds` stamps the x-death "time".
DeadLetterMessage make_dead_letter_message(const StoredMessage& message, DeathReason reason,
                                           const DeadLetterTarget& target, int64_t now_seconds);

// rabbit_dead_letter:is_cycle/2: whether routing the dead-lettered `message` to `queue` would
// close an automatic cycle (one without a "rejected" death), which RabbitMQ drops.
bool is_dead_letter_cycle(const StoredMessage& message, std::string_view queue);

}  // namespace burrow::broker
