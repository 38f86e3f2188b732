// The AMQP method handlers, one file per class (channel_class.cc, exchange_class.cc,
// queue_class.cc, basic_class.cc, confirm_class.cc, tx_class.cc). Each maps a decoded method
// onto the broker channel and sends the reply; an error Status is sent back by the caller as
// channel.close or connection.close (base/reply.h). Connection-class methods on channel 0 are
// the connection's own (server/amqp_connection.cc).
#pragma once

#include <burrow/status.h>

#include "broker/stored_message.h"
#include "protocol/methods.h"

namespace burrow::server {
class AmqpChannel;
}

namespace burrow::server::handlers {

// Methods a client must not send on a channel (server-to-client methods, connection methods
// on a non-zero channel): RabbitMQ answers 503 "unimplemented method".
template <typename M>
Status handle(AmqpChannel&, const M&) {
  return command_invalid("unimplemented method");
}

// channel
Status handle(AmqpChannel& ch, const protocol::ChannelOpen& m);
Status handle(AmqpChannel& ch, const protocol::ChannelClose& m);
Status handle(AmqpChannel& ch, const protocol::ChannelCloseOk& m);
Status handle(AmqpChannel& ch, const protocol::ChannelFlow& m);
Status handle(AmqpChannel& ch, const protocol::ChannelFlowOk& m);
// access (AMQP 0-8's tickets; RabbitMQ 3.10.8 still answers request with ticket 1)
Status handle(AmqpChannel& ch, const protocol::AccessRequest& m);
// exchange
Status handle(AmqpChannel& ch, const protocol::ExchangeDeclare& m);
Status handle(AmqpChannel& ch, const protocol::ExchangeDelete& m);
Status handle(AmqpChannel& ch, const protocol::ExchangeBind& m);
Status handle(AmqpChannel& ch, const protocol::ExchangeUnbind& m);
// queue
Status handle(AmqpChannel& ch, const protocol::QueueDeclare& m);
Status handle(AmqpChannel& ch, const protocol::QueueBind& m);
Status handle(AmqpChannel& ch, const protocol::QueueUnbind& m);
Status handle(AmqpChannel& ch, const protocol::QueuePurge& m);
Status handle(AmqpChannel& ch, const protocol::QueueDelete& m);
// basic
Status handle(AmqpChannel& ch, const protocol::BasicQos& m);
Status handle(AmqpChannel& ch, const protocol::BasicConsume& m);
Status handle(AmqpChannel& ch, const protocol::BasicCancel& m);
Status handle(AmqpChannel& ch, const protocol::BasicGet& m);
Status handle(AmqpChannel& ch, const protocol::BasicAck& m);
Status handle(AmqpChannel& ch, const protocol::BasicNack& m);
Status handle(AmqpChannel& ch, const protocol::BasicReject& m);
Status handle(AmqpChannel& ch, const protocol::BasicRecover& m);
Status handle(AmqpChannel& ch, const protocol::BasicRecoverAsync& m);
// A whole publish: method, header and body assembled.
Status publish(AmqpChannel& ch, const protocol::BasicPublish& m, broker::StoredMessagePtr message);
// confirm
Status handle(AmqpChannel& ch, const protocol::ConfirmSelect& m);
// tx
Status handle(AmqpChannel& ch, const protocol::TxSelect& m);
Status handle(AmqpChannel& ch, const protocol::TxCommit& m);
Status handle(AmqpChannel& ch, const protocol::TxRollback& m);

}  // namespace burrow::server::handlers
