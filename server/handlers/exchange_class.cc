// exchange.* methods: declare, delete, bind, unbind.
#include "base/status_macros.h"
#include "server/amqp_channel.h"
#include "server/handlers/handlers.h"

namespace burrow::server::handlers {

Status handle(AmqpChannel& ch, const protocol::ExchangeDeclare& m) {
  broker::ExchangeSettings s{m.exchange,    m.type,     {},         m.durable,
                             m.auto_delete, m.internal, m.arguments};
  RETURN_IF_ERROR(ch.core()->declare_exchange(s, m.passive));
  if (!m.no_wait) ch.send(protocol::ExchangeDeclareOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::ExchangeDelete& m) {
  RETURN_IF_ERROR(ch.core()->delete_exchange(m.exchange, m.if_unused));
  if (!m.no_wait) ch.send(protocol::ExchangeDeleteOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::ExchangeBind& m) {
  RETURN_IF_ERROR(ch.core()->bind_exchange(m.destination, m.source, m.routing_key, m.arguments));
  if (!m.no_wait) ch.send(protocol::ExchangeBindOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::ExchangeUnbind& m) {
  RETURN_IF_ERROR(ch.core()->unbind_exchange(m.destination, m.source, m.routing_key, m.arguments));
  if (!m.no_wait) ch.send(protocol::ExchangeUnbindOk{});
  return Status();
}

}  // namespace burrow::server::handlers
