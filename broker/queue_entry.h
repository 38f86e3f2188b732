// One message's place in one queue.
#pragma once

#include <cstdint>

#include <burrow/clock.h>

#include "broker/stored_message.h"

namespace burrow::broker {

// A message in a queue, ready or delivered-but-unacked. Moves between the queue (ready) and
// the channel that delivered it (unacked) until acked or requeued.
struct QueueEntry {
  uint64_t seq = 0;  // position in its queue, increasing; requeue restores this order
  StoredMessagePtr message;
  bool redelivered = false;     // delivered before
  uint32_t delivery_count = 0;  // times delivered (for delivery limits)
  uint8_t priority = 0;         // effective priority in a priority queue (capped at max)
  TimeMs expires_at = 0;        // when the message expires in this queue; 0 = never
  bool persisted = false;       // stored (a persistent message in a durable queue)
};

}  // namespace burrow::broker
