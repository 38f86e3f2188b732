// ClientChannel: encodes each AMQP method and sends it through the connection; synchronous
// methods wait on the ChannelState for their reply.
#include "client/amqp/channel.h"

#include "base/status_macros.h"
#include "client/amqp/channel_state.h"
#include "client/amqp/connection_core.h"
#include "protocol/content_header.h"
#include "protocol/frame_writer.h"

namespace burrow::client::amqp {

namespace p = protocol;

ClientChannel::ClientChannel(std::shared_ptr<ConnectionCore> conn,
                             std::shared_ptr<ChannelState> state)
    : conn_(std::move(conn)), state_(std::move(state)), number_(state_->number()) {}

ClientChannel::~ClientChannel() {
  if (state_->is_open() && !conn_->on_reader_thread()) state_->close().ignore_error();
  state_->disable_callbacks();
}

bool ClientChannel::is_open() const { return state_->is_open(); }
Status ClientChannel::status() const { return state_->status(); }

template <typename M>
Status ClientChannel::send_async(const M& method) {
  if (!state_->is_open()) return state_->status();
  return conn_->write([&](std::string& out) { p::append_method_frame(out, number_, method); },
                      false);
}

// ---- topology --------------------------------------------------------------------------

Result<QueueInfo> ClientChannel::queue_declare(std::string_view name, const QueueOptions& o) {
  p::QueueDeclare m;
  m.queue = name;
  m.passive = o.passive;
  m.durable = o.durable;
  m.exclusive = o.exclusive;
  m.auto_delete = o.auto_delete;
  m.arguments = o.arguments;
  ASSIGN_OR_RETURN(p::QueueDeclareOk ok, state_->call<p::QueueDeclareOk>(m));
  return QueueInfo{std::move(ok.queue), ok.message_count, ok.consumer_count};
}

Status ClientChannel::queue_bind(std::string_view queue, std::string_view exchange,
                                 std::string_view routing_key, const FieldTable& arguments) {
  p::QueueBind m;
  m.queue = queue;
  m.exchange = exchange;
  m.routing_key = routing_key;
  m.arguments = arguments;
  return state_->call<p::QueueBindOk>(m).status();
}

Status ClientChannel::queue_unbind(std::string_view queue, std::string_view exchange,
                                   std::string_view routing_key, const FieldTable& arguments) {
  p::QueueUnbind m;
  m.queue = queue;
  m.exchange = exchange;
  m.routing_key = routing_key;
  m.arguments = arguments;
  return state_->call<p::QueueUnbindOk>(m).status();
}

Result<uint32_t> ClientChannel::queue_purge(std::string_view queue) {
  p::QueuePurge m;
  m.queue = queue;
  ASSIGN_OR_RETURN(p::QueuePurgeOk ok, state_->call<p::QueuePurgeOk>(m));
  return ok.message_count;
}

Result<uint32_t> ClientChannel::queue_delete(std::string_view queue, bool if_unused,
                                             bool if_empty) {
  p::QueueDelete m;
  m.queue = queue;
  m.if_unused = if_unused;
  m.if_empty = if_empty;
  ASSIGN_OR_RETURN(p::QueueDeleteOk ok, state_->call<p::QueueDeleteOk>(m));
  return ok.message_count;
}

Status ClientChannel::exchange_declare(std::string_view name, std::string_view type,
                                       const ExchangeOptions& o) {
  p::ExchangeDeclare m;
  m.exchange = name;
  m.type = type;
  m.passive = o.passive;
  m.durable = o.durable;
  m.auto_delete = o.auto_delete;
  m.internal = o.internal;
  m.arguments = o.arguments;
  return state_->call<p::ExchangeDeclareOk>(m).status();
}

Status ClientChannel::exchange_delete(std::string_view name, bool if_unused) {
  p::ExchangeDelete m;
  m.exchange = name;
  m.if_unused = if_unused;
  return state_->call<p::ExchangeDeleteOk>(m).status();
}

Status ClientChannel::exchange_bind(std::string_view destination, std::string_view source,
                                    std::string_view routing_key, const FieldTable& arguments) {
  p::ExchangeBind m;
  m.destination = destination;
  m.source = source;
  m.routing_key = routing_key;
  m.arguments = arguments;
  return state_->call<p::ExchangeBindOk>(m).status();
}

Status ClientChannel::qos(uint16_t prefetch_count, bool global) {
  return state_->call<p::BasicQosOk>(p::BasicQos{0, prefetch_count, global}).status();
}

// ---- publishing ------------------------------------------------------------------------

Status ClientChannel::confirm_select() {
  RETURN_IF_ERROR(state_->call<p::ConfirmSelectOk>(p::ConfirmSelect{false}).status());
  state_->enable_confirms();
  confirms_ = true;
  return Status();
}

Result<uint64_t> ClientChannel::publish(std::string_view exchange, std::string_view routing_key,
                                        std::string_view body, const BasicProperties& properties,
                                        bool mandatory) {
  if (!state_->is_open()) return state_->status();
  publish_.exchange.assign(exchange);
  publish_.routing_key.assign(routing_key);
  publish_.mandatory = mandatory;
  properties_buf_.clear();
  p::Writer w(properties_buf_);
  p::encode_properties(properties, w);
  // Numbered before the frames exist, so the confirm cannot overtake the bookkeeping.
  const uint64_t seq = confirms_ ? state_->record_publish() : 0;
  const uint32_t frame_max = conn_->frame_max();
  RETURN_IF_ERROR(conn_->write(
      [&](std::string& out) {
        p::append_method_frame(out, number_, publish_);
        p::append_content_frames(out, number_, p::BasicPublish::kClassId, properties_buf_, body,
                                 frame_max);
      },
      false));
  return seq;
}

void ClientChannel::flush() { conn_->flush(); }

Status ClientChannel::wait_for_confirms(uint64_t max_unconfirmed,
                                        std::chrono::milliseconds timeout) {
  return state_->wait_for_confirms(max_unconfirmed, timeout);
}

ConfirmCounts ClientChannel::confirm_counts() const { return state_->confirm_counts(); }

void ClientChannel::set_confirm_callback(ConfirmCallback callback) {
  state_->set_confirm_callback(std::move(callback));
}

void ClientChannel::set_return_callback(ReturnCallback callback) {
  state_->set_return_callback(std::move(callback));
}

// ---- consuming -------------------------------------------------------------------------

Result<std::string> ClientChannel::consume(std::string_view queue, DeliveryCallback callback,
                                           const ConsumeOptions& o) {
  p::BasicConsume m;
  m.queue = queue;
  m.consumer_tag = o.consumer_tag;
  m.no_ack = o.no_ack;
  m.exclusive = o.exclusive;
  m.arguments = o.arguments;
  state_->set_pending_consumer(std::move(callback));
  ASSIGN_OR_RETURN(p::BasicConsumeOk ok, state_->call<p::BasicConsumeOk>(m));
  return std::move(ok.consumer_tag);
}

Status ClientChannel::cancel(std::string_view consumer_tag) {
  return state_->call<p::BasicCancelOk>(p::BasicCancel{std::string(consumer_tag), false}).status();
}

void ClientChannel::set_cancel_callback(CancelCallback callback) {
  state_->set_cancel_callback(std::move(callback));
}

Status ClientChannel::ack(uint64_t delivery_tag, bool multiple) {
  return send_async(p::BasicAck{delivery_tag, multiple});
}

Status ClientChannel::nack(uint64_t delivery_tag, bool multiple, bool requeue) {
  return send_async(p::BasicNack{delivery_tag, multiple, requeue});
}

Status ClientChannel::reject(uint64_t delivery_tag, bool requeue) {
  return send_async(p::BasicReject{delivery_tag, requeue});
}

Result<std::optional<GetResult>> ClientChannel::get(std::string_view queue, bool no_ack) {
  p::BasicGet m;
  m.queue = queue;
  m.no_ack = no_ack;
  ASSIGN_OR_RETURN(RpcReply reply, state_->call(p::Method(std::move(m))));
  if (std::holds_alternative<p::BasicGetEmpty>(reply.method)) return std::optional<GetResult>();
  auto* ok = std::get_if<p::BasicGetOk>(&reply.method);
  if (ok == nullptr) {
    return Status(StatusCode::kUnexpectedFrame, "the broker answered basic.get with " +
                                                    std::string(p::method_name(reply.method)));
  }
  GetResult r;
  r.delivery_tag = ok->delivery_tag;
  r.redelivered = ok->redelivered;
  r.exchange = std::move(ok->exchange);
  r.routing_key = std::move(ok->routing_key);
  r.message_count = ok->message_count;
  r.properties = std::move(reply.properties);
  r.body = std::move(reply.body);
  return std::optional<GetResult>(std::move(r));
}

Status ClientChannel::close() { return state_->close(); }

}  // namespace burrow::client::amqp
