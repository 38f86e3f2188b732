// burrow::Broker and burrow::Channel: the public in-process API over the broker core.
#include <burrow/broker.h>

#include "base/status_macros.h"
#include "broker/broker_core.h"
#include "client/channel_impl.h"
#include "client/upstream_relay.h"

namespace burrow {

Result<std::unique_ptr<Broker>> Broker::open(const Options& options) {
  ASSIGN_OR_RETURN(auto core, broker::BrokerCore::open(options));
  std::unique_ptr<Broker> b(new Broker());
  b->core_ = std::move(core);
  ASSIGN_OR_RETURN(b->connection_, b->core_->connect(broker::ConnectInfo{options.default_user,
                                                                         options.default_vhost,
                                                                         /*trusted=*/true}));
  return b;
}

Broker::~Broker() {
  {
    std::lock_guard lock(upstreams_mu_);
    upstreams_.clear();  // stops the relays before the outbox goes
  }
  if (connection_) connection_->close();
  if (core_) core_->shutdown();
}

Result<std::unique_ptr<Channel>> Broker::open_channel() {
  auto impl =
      std::make_unique<client::ChannelImpl>(connection_, next_channel_++, core_->executor());
  return std::unique_ptr<Channel>(new Channel(std::move(impl)));
}

const Options& Broker::options() const { return core_->options(); }

Status Broker::advance_clock(std::chrono::milliseconds delta) {
  return core_->advance_clock(delta.count());
}

broker::BrokerCore& Broker::core() { return *core_; }

// ---- Channel -----------------------------------------------------------------------------

Channel::Channel(std::unique_ptr<client::ChannelImpl> impl) : impl_(std::move(impl)) {}

Channel::~Channel() = default;

Status Channel::declare_exchange(std::string_view name, std::string_view type,
                                 const ExchangeOptions& o) {
  broker::ExchangeSettings s{std::string(name), std::string(type), {},         o.durable,
                             o.auto_delete,     o.internal,        o.arguments};
  return impl_->core().declare_exchange(s, o.passive);
}

Status Channel::delete_exchange(std::string_view name, bool if_unused) {
  return impl_->core().delete_exchange(name, if_unused);
}

Status Channel::bind_exchange(std::string_view destination, std::string_view source,
                              std::string_view routing_key, const FieldTable& arguments) {
  return impl_->core().bind_exchange(destination, source, routing_key, arguments);
}

Status Channel::unbind_exchange(std::string_view destination, std::string_view source,
                                std::string_view routing_key, const FieldTable& arguments) {
  return impl_->core().unbind_exchange(destination, source, routing_key, arguments);
}

Result<QueueInfo> Channel::declare_queue(std::string_view name, const QueueOptions& o) {
  broker::QueueDeclareRequest r{std::string(name), o.passive,     o.durable,
                                o.exclusive,       o.auto_delete, o.arguments};
  ASSIGN_OR_RETURN(broker::QueueDeclareResult d, impl_->core().declare_queue(std::move(r)));
  return QueueInfo{std::move(d.name), d.message_count, d.consumer_count};
}

Status Channel::bind_queue(std::string_view queue, std::string_view exchange,
                           std::string_view routing_key, const FieldTable& arguments) {
  return impl_->core().bind_queue(queue, exchange, routing_key, arguments);
}

Status Channel::unbind_queue(std::string_view queue, std::string_view exchange,
                             std::string_view routing_key, const FieldTable& arguments) {
  return impl_->core().unbind_queue(queue, exchange, routing_key, arguments);
}

Result<uint32_t> Channel::purge_queue(std::string_view queue) {
  return impl_->core().purge_queue(queue);
}

Result<uint32_t> Channel::delete_queue(std::string_view queue, bool if_unused, bool if_empty) {
  return impl_->core().delete_queue(queue, if_unused, if_empty);
}

Status Channel::publish(std::string_view exchange, std::string_view routing_key, std::string body,
                        BasicProperties properties, const PublishOptions& options) {
  return impl_->publish(exchange, routing_key, std::move(body), std::move(properties), options);
}

Status Channel::publish_batch(std::string_view exchange, std::string_view routing_key,
                              std::vector<std::string> bodies, const BasicProperties& properties,
                              const PublishOptions& options) {
  return impl_->publish_batch(exchange, routing_key, std::move(bodies), properties, options);
}

Status Channel::confirm_select() { return impl_->confirm_select(); }

Status Channel::wait_for_confirms(std::chrono::milliseconds timeout) {
  return impl_->wait_for_confirms(timeout);
}

Result<std::string> Channel::consume(std::string_view queue, ConsumerCallback callback,
                                     const ConsumeOptions& options) {
  return impl_->consume(queue, std::move(callback), options);
}

Status Channel::cancel(const std::string& consumer_tag) { return impl_->cancel(consumer_tag); }

Result<std::optional<Delivery>> Channel::get(std::string_view queue, bool no_ack) {
  return impl_->get(queue, no_ack);
}

Status Channel::qos(uint16_t prefetch_count, bool global) {
  return impl_->core().qos(0, prefetch_count, global);
}

Status Channel::ack(uint64_t delivery_tag, bool multiple) {
  return impl_->core().ack(delivery_tag, multiple);
}

Status Channel::nack(uint64_t delivery_tag, bool multiple, bool requeue) {
  return impl_->core().nack(delivery_tag, multiple, requeue);
}

Status Channel::reject(uint64_t delivery_tag, bool requeue) {
  return impl_->core().reject(delivery_tag, requeue);
}

Status Channel::recover() { return impl_->core().recover(true); }

void Channel::on_return(ReturnCallback callback) {
  impl_->set_return_callback(std::move(callback));
}

void Channel::close() { impl_->close(); }

}  // namespace burrow
