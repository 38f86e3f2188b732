// basic.* methods: qos, consume, cancel, get, publish, ack, nack, reject, recover.
#include "base/status_macros.h"
#include "server/amqp_channel.h"
#include "server/handlers/handlers.h"

namespace burrow::server::handlers {

Status handle(AmqpChannel& ch, const protocol::BasicQos& m) {
  RETURN_IF_ERROR(ch.core()->qos(m.prefetch_size, m.prefetch_count, m.global));
  ch.send(protocol::BasicQosOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::BasicConsume& m) {
  broker::ConsumeRequest r{m.queue, m.consumer_tag, m.no_local, m.no_ack, m.exclusive, m.arguments};
  const bool reply = !m.no_wait;
  // consume-ok goes out under the channel's delivery lock, before any delivery.
  auto tag = ch.core()->consume(std::move(r), [&](const std::string& t) {
    if (reply) ch.send(protocol::BasicConsumeOk{t});
  });
  return tag.status();
}

Status handle(AmqpChannel& ch, const protocol::BasicCancel& m) {
  const bool reply = !m.no_wait;
  return ch.core()->cancel(m.consumer_tag, [&] {
    if (reply) ch.send(protocol::BasicCancelOk{m.consumer_tag});
  });
}

Status handle(AmqpChannel& ch, const protocol::BasicGet& m) {
  return ch.core()->get(m.queue, m.no_ack, [&](const std::optional<broker::GetResult>& r) {
    if (!r) {
      ch.send(protocol::BasicGetEmpty{});
      return;
    }
    ch.send_get_ok(*r);
  });
}

Status publish(AmqpChannel& ch, const protocol::BasicPublish& m, broker::StoredMessagePtr message) {
  return ch.core()->publish(m.exchange, m.routing_key, m.mandatory, m.immediate,
                            std::move(message));
}

Status handle(AmqpChannel& ch, const protocol::BasicAck& m) {
  return ch.core()->ack(m.delivery_tag, m.multiple);
}

Status handle(AmqpChannel& ch, const protocol::BasicNack& m) {
  return ch.core()->nack(m.delivery_tag, m.multiple, m.requeue);
}

Status handle(AmqpChannel& ch, const protocol::BasicReject& m) {
  return ch.core()->reject(m.delivery_tag, m.requeue);
}

Status handle(AmqpChannel& ch, const protocol::BasicRecover& m) {
  RETURN_IF_ERROR(ch.core()->recover(m.requeue));
  ch.send(protocol::BasicRecoverOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::BasicRecoverAsync& m) {
  // Deprecated and without a reply; otherwise as basic.recover.
  return ch.core()->recover(m.requeue);
}

}  // namespace burrow::server::handlers
