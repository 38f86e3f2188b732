// Queue types, as RabbitMQ's x-queue-type names them. A QueueType is what is fixed per type:
// what a declaration may ask for (properties, arguments, redeclaration), which operations the
// type refuses and with which error, and how its queues keep and return messages.
//
// On one node, a quorum queue is a FIFO like a classic queue with different rules: the one
// message engine (ClassicQueue) serves both and asks its type's Semantics where they differ.
// docs/queue_types.md lists every rule with the RabbitMQ 3.10.8 behaviour it follows.
#pragma once

#include <string_view>

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "broker/queue_arguments.h"

namespace burrow::broker {

struct QueueSettings;

class QueueType {
 public:
  // Where a type's queues behave differently from a classic queue's.
  struct Semantics {
    // Transient messages are stored too (a quorum queue keeps every message in its log).
    bool store_every_message = false;
    // basic.nack/reject/recover requeue at the back of the queue, and the unacked messages
    // of a consumer whose channel closes go back to the front, ahead of every ready message
    // (rabbit_fifo's returns). Classic: both restore the original position.
    bool requeue_at_back = false;
    // Redeliveries carry x-delivery-count (the times the message was returned) and so does
    // every basic.get (0 for a message never returned). Classic: only with x-delivery-limit.
    bool delivery_count_header = false;
    // reject-publish refuses a message only once the queue is over its limit, and keeps
    // refusing until it is down to 80 % of it (rabbit_fifo's soft limit). Classic: a
    // message that would not fit is refused.
    bool soft_length_limit = false;
  };

  virtual ~QueueType() = default;
  // "classic", "quorum": the x-queue-type value and management's "type".
  virtual std::string_view name() const = 0;
  // RabbitMQ's module for the type, as its error texts name it ("rabbit_quorum_queue").
  virtual std::string_view module() const = 0;
  virtual const Semantics& semantics() const = 0;

  // queue.declare with an empty name: whether the broker may name the queue.
  virtual bool allows_server_named() const = 0;
  // A new queue's properties and arguments, in RabbitMQ's order. Errors: 406 (and 541 for
  // classic queues' x-queue-master-locator, as RabbitMQ 3.10.8's crash looks).
  virtual Result<QueueArguments> validate(const QueueSettings& settings,
                                          std::string_view resource) const = 0;
  // Redeclaration of a queue of this type with `received` arguments. Error: 406.
  virtual Status check_equivalent(const FieldTable& current, const FieldTable& received,
                                  std::string_view resource) const = 0;

  // Operations the type refuses. `resource` is "queue 'q' in vhost '/'".
  // basic.consume while the channel has a global prefetch (basic.qos global=true, count > 0).
  virtual Status check_consume(std::string_view /*resource*/, bool /*global_prefetch*/) const {
    return Status();
  }
  // basic.get on a queue with (or without) single active consumer.
  virtual Status check_get(std::string_view /*resource*/, bool /*single_active*/) const {
    return Status();
  }
  // queue.delete with if-unused / if-empty.
  virtual Status check_delete(std::string_view /*resource*/, bool /*if_unused*/,
                              bool /*if_empty*/) const {
    return Status();
  }
};

const QueueType& classic_queue_type();
const QueueType& quorum_queue_type();

// The type `arguments` name in x-queue-type: classic when absent. Error: 406 for a type
// Burrow does not implement (stream), or a value that is not a type (the same checks and
// texts as the arguments' validation).
Result<const QueueType*> queue_type_for(const FieldTable& arguments, std::string_view resource);

}  // namespace burrow::broker
