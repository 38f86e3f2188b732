// channel.* methods: open, close, flow.
#include "server/amqp_channel.h"
#include "server/handlers/handlers.h"

namespace burrow::server::handlers {

Status handle(AmqpChannel& ch, const protocol::ChannelOpen&) {
  if (ch.state() == AmqpChannel::State::kOpen) return channel_error("second 'channel.open' seen");
  ch.open_core();
  ch.set_state(AmqpChannel::State::kOpen);
  ch.send(protocol::ChannelOpenOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::ChannelClose&) {
  // The connection frees the channel number after this method (see AmqpConnection).
  ch.close_core();
  ch.send(protocol::ChannelCloseOk{});
  return Status();
}

Status handle(AmqpChannel&, const protocol::ChannelCloseOk&) {
  // Valid only while closing, which AmqpChannel handles before dispatch.
  return command_invalid("unimplemented method");
}

Status handle(AmqpChannel& ch, const protocol::ChannelFlow& m) {
  // RabbitMQ never stops delivering on request: active=false is not implemented.
  if (!m.active) return not_implemented("active=false");
  ch.send(protocol::ChannelFlowOk{true});
  return Status();
}

Status handle(AmqpChannel&, const protocol::ChannelFlowOk&) {
  // The answer to a channel.flow we never send; ignored.
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::AccessRequest&) {
  // AMQP 0-8's access tickets, gone from 0-9-1 but still answered by RabbitMQ 3.10.8
  // (rabbit_channel: ticket 1, whatever was asked; observed).
  ch.send(protocol::AccessRequestOk{1});
  return Status();
}

}  // namespace burrow::server::handlers
