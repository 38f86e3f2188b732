// ChannelImpl: the in-process channel.
#include "client/channel_impl.h"
#include "base/logging.h"

#include <spdlog/spdlog.h>

#include "base/status_macros.h"
#include "broker/broker_core.h"

namespace burrow::client {

namespace {
spdlog::logger& logger() { return module_logger("client"); }
}  // namespace

ChannelImpl::ChannelImpl(broker::ConnectionPtr connection, uint16_t number,
                         broker::Executor& executor)
    : channel_(std::make_shared<broker::Channel>(std::move(connection), number, this)),
      dispatcher_(std::make_shared<Dispatcher>(executor)),
      executor_(executor) {}

ChannelImpl::~ChannelImpl() { close(); }

void ChannelImpl::close() {
  if (closed_) return;
  closed_ = true;
  channel_->close();  // after this the broker calls no sink method
  dispatcher_->shutdown();
}

Status ChannelImpl::publish(std::string_view exchange, std::string_view routing_key,
                            std::string body, BasicProperties properties,
                            const PublishOptions& options) {
  if (closed_) return Status(StatusCode::kClosed, "channel is closed");
  auto stored = std::make_shared<broker::StoredMessage>();
  stored->message.exchange.assign(exchange);
  stored->message.routing_key.assign(routing_key);
  stored->message.properties = std::move(properties);
  stored->message.body = std::move(body);
  stored->published_at = channel_->connection()->core().clock().now_ms();
  const bool confirming = channel_->confirm_mode();
  if (confirming) ++published_;
  Status s = channel_->publish(exchange, routing_key, options.mandatory, false, std::move(stored));
  // A refused publish takes no confirm number; keep the counts aligned. Confirms resolved at
  // once (transient messages) are emitted by wait_for_confirms(), persistent ones by the
  // store's writer: no lock shared with the writer is taken here per publish.
  if (confirming && !s.ok()) --published_;
  return s;
}

Status ChannelImpl::publish_batch(std::string_view exchange, std::string_view routing_key,
                                  std::vector<std::string> bodies,
                                  const BasicProperties& properties,
                                  const PublishOptions& options) {
  if (closed_) return Status(StatusCode::kClosed, "channel is closed");
  const TimeMs now = channel_->connection()->core().clock().now_ms();
  // The batch's messages share allocations of up to kMessagesPerBlock messages (each pointer
  // aliases its block): one allocation per block instead of one per message. A block stays
  // below glibc's mmap and trim thresholds (128 KiB), so blocks are reused from the heap
  // instead of being mapped and faulted in afresh. It lives until the last of its messages is
  // released.
  constexpr size_t kMessagesPerBlock = 64;
  const size_t n = bodies.size();
  std::vector<broker::StoredMessagePtr> messages;
  messages.reserve(n);
  std::shared_ptr<broker::StoredMessage[]> block;
  for (size_t i = 0; i < n; ++i) {
    const size_t slot = i % kMessagesPerBlock;
    if (slot == 0) {
      block = std::make_shared_for_overwrite<broker::StoredMessage[]>(
          std::min(kMessagesPerBlock, n - i));
    }
    broker::StoredMessage& stored = block[slot];
    stored.message.exchange.assign(exchange);
    stored.message.routing_key.assign(routing_key);
    stored.message.properties = properties;
    stored.message.body = std::move(bodies[i]);
    stored.published_at = now;
    messages.emplace_back(block, &stored);
  }
  size_t published = 0;
  Status s = channel_->publish_batch(exchange, routing_key, options.mandatory, messages, published);
  if (channel_->confirm_mode()) published_ += published;
  return s;
}

Status ChannelImpl::confirm_select() { return channel_->confirm_select(); }

Status ChannelImpl::wait_for_confirms(std::chrono::milliseconds timeout) {
  if (!channel_->confirm_mode()) return invalid_argument("confirms are not enabled");
  channel_->flush();  // what publish() resolved at once
  std::unique_lock lock(confirm_mu_);
  awaited_ = published_;
  if (!confirm_cv_.wait_for(lock, timeout, [this] { return confirmed_ >= published_; })) {
    return Status(StatusCode::kTimedOut, "timed out waiting for publisher confirms");
  }
  if (nacked_) {
    nacked_ = false;
    return precondition_failed("the broker nacked a message");
  }
  return Status();
}

Result<std::string> ChannelImpl::consume(std::string_view queue, ConsumerCallback callback,
                                         const ConsumeOptions& options) {
  if (closed_) return Status(StatusCode::kClosed, "channel is closed");
  broker::ConsumeRequest request;
  request.queue.assign(queue);
  request.tag = options.tag;
  request.no_ack = options.no_ack;
  request.exclusive = options.exclusive;
  request.arguments = options.arguments;
  auto state = std::make_shared<ConsumerState>();
  state->callback = std::move(callback);
  // Registered under the delivery lock, before the first delivery can arrive.
  return channel_->consume(std::move(request), [&](const std::string& tag) {
    std::lock_guard lock(callbacks_mu_);
    callbacks_[tag] = state;
    callbacks_version_.fetch_add(1, std::memory_order_release);
  });
}

Status ChannelImpl::cancel(const std::string& tag) {
  RETURN_IF_ERROR(channel_->cancel(tag, nullptr));
  forget_consumer(tag);
  return Status();
}

void ChannelImpl::forget_consumer(const std::string& tag) {
  std::lock_guard lock(callbacks_mu_);
  auto it = callbacks_.find(tag);
  if (it == callbacks_.end()) return;
  it->second->active.store(false, std::memory_order_release);
  callbacks_.erase(it);
  callbacks_version_.fetch_add(1, std::memory_order_release);
}

Result<std::optional<Delivery>> ChannelImpl::get(std::string_view queue, bool no_ack) {
  if (closed_) return Status(StatusCode::kClosed, "channel is closed");
  std::optional<Delivery> out;
  RETURN_IF_ERROR(channel_->get(queue, no_ack, [&](const std::optional<broker::GetResult>& r) {
    if (r) {
      out =
          Delivery{r->delivery_tag, r->entry.redelivered, broker::public_message(r->entry.message)};
    }
  }));
  return out;
}

void ChannelImpl::set_return_callback(ReturnCallback callback) {
  std::lock_guard lock(callbacks_mu_);
  return_callback_ = std::make_shared<ReturnCallback>(std::move(callback));
}

void ChannelImpl::on_deliver(const std::string& consumer_tag, uint64_t delivery_tag,
                             const broker::QueueEntry& entry) {
  const uint64_t version = callbacks_version_.load(std::memory_order_acquire);
  if (version != cached_version_ || consumer_tag != cached_tag_) {
    std::lock_guard lock(callbacks_mu_);
    auto it = callbacks_.find(consumer_tag);
    cached_state_ = it == callbacks_.end() ? nullptr : it->second;
    cached_tag_ = consumer_tag;
    cached_version_ = version;
  }
  if (!cached_state_) return;
  dispatcher_->post_delivery(cached_state_, Delivery{delivery_tag, entry.redelivered,
                                                     broker::public_message(entry.message)});
}

void ChannelImpl::on_return(uint16_t reply_code, std::string_view reply_text,
                            const broker::StoredMessage& message) {
  std::shared_ptr<ReturnCallback> cb;
  {
    std::lock_guard lock(callbacks_mu_);
    cb = return_callback_;
  }
  if (!cb) return;
  auto copy = std::make_shared<Message>(message.message);
  dispatcher_->post([cb = std::move(cb), r = ReturnedMessage{reply_code, std::string(reply_text),
                                                             std::move(copy)}] { (*cb)(r); });
}

void ChannelImpl::on_confirm(uint64_t seq, bool /*multiple*/, bool ack) {
  // The broker confirms in sequence order, so a confirm for seq settles everything up to it.
  std::lock_guard lock(confirm_mu_);
  if (seq > confirmed_) confirmed_ = seq;
  if (!ack) nacked_ = true;
  // Wake the waiter only once what it waits for is settled (not once per confirm: each wake
  // of a waiter that must sleep again costs two system calls).
  if (confirmed_ >= awaited_) confirm_cv_.notify_all();
}

void ChannelImpl::on_error(const Status& error) {
  // The broker closes the channel (a consumer acknowledgement timeout): its consumers are
  // cancelled and its unacked messages requeued, as over AMQP; later calls get kClosed.
  // Called from the timer with no channel lock held, so the close happens right here (before
  // Broker::advance_clock returns).
  logger().warn("channel {} closed by the broker: {}", channel_->number(), error.to_string());
  channel_->close();
}

void ChannelImpl::on_cancel(const std::string& consumer_tag) { forget_consumer(consumer_tag); }

}  // namespace burrow::client
