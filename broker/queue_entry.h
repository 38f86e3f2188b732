// One message's place in one queue.
#pragma once

#include <cstdint>

#include <burrow/clock.h>

#include "broker/stored_message.h"

namespace burrow::broker {

// A message in a queue, ready or delivered-but-unacked. Moves between the queue (ready) and
// the channel that delivered it (unacked) until acked or requeued.
//
// A ready entry of a persisted message may be "paged out": `message` is null and the
// contents are only in the store (the queue's memory budget was exceeded); the queue reads
// them back before the entry leaves it, so every entry a queue hands out has its message.
// A ready entry deep in a backlog may be "packed": `message` is null and the contents are in
// the queue's PackLog (broker/pack_log.h), unpacked when the entry reaches the head.
struct QueueEntry {
  uint64_t seq = 0;  // position in its queue, increasing; requeue restores this order
  StoredMessagePtr message;
  TimeMs expires_at = 0;        // when the message expires in this queue; 0 = never
  uint32_t body_size = 0;       // the message's body size (also while paged out)
  uint32_t delivery_count = 0;  // times delivered (for delivery limits)
  // Quorum queues: the order in which entries came back to the returns bucket (a consumer's
  // channel closed); it keeps that bucket in order when entries go back to it.
  uint32_t return_order = 0;
  uint8_t priority = 0;      // effective priority in a priority queue (capped at max)
  bool redelivered = false;  // delivered before
  bool persisted = false;    // stored (a persistent message in a durable queue)
  bool packed = false;       // contents in the queue's PackLog (message is null)
};
// Every queued message has one: keep it small (docs/benchmarks.md 19.1, memory per message).
static_assert(sizeof(QueueEntry) <= 48);

}  // namespace burrow::broker
