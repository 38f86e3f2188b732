// queue.* methods: declare, bind, unbind, purge, delete.
#include "base/status_macros.h"
#include "server/amqp_channel.h"
#include "server/handlers/handlers.h"

namespace burrow::server::handlers {

Status handle(AmqpChannel& ch, const protocol::QueueDeclare& m) {
  broker::QueueDeclareRequest r{m.queue,     m.passive,     m.durable,
                                m.exclusive, m.auto_delete, m.arguments};
  ASSIGN_OR_RETURN(broker::QueueDeclareResult result, ch.core()->declare_queue(std::move(r)));
  if (!m.no_wait) {
    ch.send(protocol::QueueDeclareOk{result.name, result.message_count, result.consumer_count});
  }
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::QueueBind& m) {
  RETURN_IF_ERROR(ch.core()->bind_queue(m.queue, m.exchange, m.routing_key, m.arguments));
  if (!m.no_wait) ch.send(protocol::QueueBindOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::QueueUnbind& m) {
  RETURN_IF_ERROR(ch.core()->unbind_queue(m.queue, m.exchange, m.routing_key, m.arguments));
  ch.send(protocol::QueueUnbindOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::QueuePurge& m) {
  ASSIGN_OR_RETURN(uint32_t count, ch.core()->purge_queue(m.queue));
  if (!m.no_wait) ch.send(protocol::QueuePurgeOk{count});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::QueueDelete& m) {
  const bool reply = !m.no_wait;
  return ch.core()
      ->delete_queue(m.queue, m.if_unused, m.if_empty,
                     [&](uint32_t count) {
                       if (reply) ch.send(protocol::QueueDeleteOk{count});
                     })
      .status();
}

}  // namespace burrow::server::handlers
