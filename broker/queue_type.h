// Queue types, as RabbitMQ's x-queue-type names them. A QueueType is what is fixed per type:
// what a declaration may ask for (properties, arguments, redeclaration), which operations the
// type refuses and with which error, and how its queues keep and return messages.
//
// On one node, a quorum queue is a FIFO like a classic queue with different rules: the one
// message engine (ClassicQueue) serves both and asks its type's Semantics where they differ.
// A stream is an append-only log read by cursors: its own engine (StreamQueue).
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
  // "classic", "quorum", "stream": the x-queue-type value and management's "type".
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

  // Whether queue.declare-ok reports the queue's consumers (a stream always says 0).
  virtual bool declare_ok_counts_consumers() const { return true; }
  // Whether management shows the queue's leader and members (RabbitMQ's replicated types).
  virtual bool replicated() const { return false; }
  // Whether the channel's global prefetch (basic.qos global=true) limits the queue's
  // consumers (a stream's consumers only follow their own prefetch).
  virtual bool global_prefetch_applies() const { return true; }
  // Whether queue.delete's if-unused and if-empty are ignored (a stream is deleted anyway).
  virtual bool ignores_delete_conditions() const { return false; }

  // Operations the type refuses. `resource` is "queue 'q' in vhost '/'".
  struct ConsumeRequest {
    bool global_prefetch = false;  // the channel has basic.qos global=true, count > 0
    uint32_t prefetch = 0;         // the consumer's own prefetch (basic.qos global=false)
    bool no_ack = false;
  };
  virtual Status check_consume(std::string_view /*resource*/,
                               const ConsumeRequest& /*request*/) const {
    return Status();
  }
  // basic.nack, basic.reject and basic.recover of messages from a queue of this type.
  virtual Status check_return(std::string_view /*resource*/) const { return Status(); }
  // queue.purge.
  virtual Status check_purge(std::string_view /*resource*/) const { return Status(); }
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
const QueueType& stream_queue_type();

// The type `arguments` name in x-queue-type: classic when absent. A value that is not a type
// gets the classic type, whose validation fails with RabbitMQ's text.
Result<const QueueType*> queue_type_for(const FieldTable& arguments, std::string_view resource);

}  // namespace burrow::broker
