// ChannelState: a channel's inbound side (deliveries, returns, confirms, the broker's
// channel.close, method replies) and the waits of its owner thread.
#include "client/amqp/channel_state.h"

#include <algorithm>
#include <variant>

#include "client/amqp/connection_core.h"
#include "client/amqp/reply_status.h"
#include "protocol/frame_writer.h"

namespace burrow::client::amqp {

namespace {

Status on_reader_error() {
  return invalid_argument(
      "synchronous AMQP methods cannot be called from a callback: they would wait for the "
      "reader thread that runs it");
}

}  // namespace

Status ChannelState::status() const {
  std::lock_guard lock(mu_);
  return open_.load() ? Status() : status_;
}

// ---- reader thread ---------------------------------------------------------------------

Status ChannelState::on_frame(const protocol::Frame& frame) {
  Result<bool> complete = assembler_.feed(frame);
  if (!complete.ok()) return complete.status();
  if (!*complete) return Status();
  return on_command(assembler_.command());
}

Status ChannelState::on_command(Command& command) {
  protocol::Method& m = command.method;
  if (const auto* deliver = std::get_if<protocol::BasicDeliver>(&m)) {
    on_deliver(*deliver, command);
  } else if (const auto* ack = std::get_if<protocol::BasicAck>(&m)) {
    on_confirm(ack->delivery_tag, ack->multiple, true);
  } else if (const auto* nack = std::get_if<protocol::BasicNack>(&m)) {
    on_confirm(nack->delivery_tag, nack->multiple, false);
  } else if (const auto* ret = std::get_if<protocol::BasicReturn>(&m)) {
    on_return(*ret, command);
  } else if (const auto* cancel = std::get_if<protocol::BasicCancel>(&m)) {
    if (!cancel->no_wait) {
      (void)conn_.write(
          [&](std::string& out) {
            protocol::append_method_frame(out, number_,
                                          protocol::BasicCancelOk{cancel->consumer_tag});
          },
          true);
    }
    on_broker_cancel(cancel->consumer_tag);
  } else if (const auto* close = std::get_if<protocol::ChannelClose>(&m)) {
    (void)conn_.write(
        [&](std::string& out) {
          protocol::append_method_frame(out, number_, protocol::ChannelCloseOk{});
        },
        true);
    close_with(status_from_reply(close->reply_code, close->reply_text));
  } else if (std::holds_alternative<protocol::ChannelCloseOk>(m)) {
    close_with(Status(StatusCode::kClosed, "channel closed by the client"));
  } else if (const auto* flow = std::get_if<protocol::ChannelFlow>(&m)) {
    // RabbitMQ never sends channel.flow (it blocks the socket instead); acknowledge it and
    // carry on, as the Java client does when no flow listener is set.
    (void)conn_.write(
        [&](std::string& out) {
          protocol::append_method_frame(out, number_, protocol::ChannelFlowOk{flow->active});
        },
        true);
  } else {
    on_reply(command);
  }
  return Status();
}

void ChannelState::on_deliver(const protocol::BasicDeliver& m, const Command& command) {
  auto it = std::find_if(consumers_.begin(), consumers_.end(),
                         [&](const Consumer& c) { return c.tag == m.consumer_tag; });
  if (it == consumers_.end() || !it->callback) return;
  Delivery d;
  d.consumer_tag = m.consumer_tag;
  d.delivery_tag = m.delivery_tag;
  d.redelivered = m.redelivered;
  d.exchange = m.exchange;
  d.routing_key = m.routing_key;
  d.properties = &command.header.properties;
  d.body = command.body;
  std::lock_guard lock(callback_mu_);
  if (callbacks_enabled_) it->callback(d);
}

void ChannelState::on_return(const protocol::BasicReturn& m, const Command& command) {
  ReturnedMessage r;
  r.reply_code = m.reply_code;
  r.reply_text = m.reply_text;
  r.exchange = m.exchange;
  r.routing_key = m.routing_key;
  r.properties = &command.header.properties;
  r.body = command.body;
  std::lock_guard lock(callback_mu_);
  if (callbacks_enabled_ && return_callback_) return_callback_(r);
}

void ChannelState::on_confirm(uint64_t tag, bool multiple, bool ack) {
  resolved_.clear();
  {
    std::lock_guard lock(mu_);
    confirms_.on_confirm(tag, multiple, ack,
                         [&](uint64_t seq, bool acked) { resolved_.emplace_back(seq, acked); });
  }
  cv_.notify_all();
  std::lock_guard lock(callback_mu_);
  if (!callbacks_enabled_ || !confirm_callback_) return;
  for (const auto& [seq, acked] : resolved_) confirm_callback_(seq, acked);
}

void ChannelState::on_broker_cancel(const std::string& tag) {
  std::erase_if(consumers_, [&](const Consumer& c) { return c.tag == tag; });
  std::lock_guard lock(callback_mu_);
  if (callbacks_enabled_ && cancel_callback_) cancel_callback_(tag);
}

void ChannelState::on_reply(Command& command) {
  if (const auto* ok = std::get_if<protocol::BasicConsumeOk>(&command.method)) {
    std::optional<DeliveryCallback> callback;
    {
      std::lock_guard lock(mu_);
      callback.swap(pending_consumer_);
    }
    consumers_.push_back(Consumer{ok->consumer_tag, callback ? std::move(*callback) : nullptr});
  } else if (const auto* cancel_ok = std::get_if<protocol::BasicCancelOk>(&command.method)) {
    std::erase_if(consumers_, [&](const Consumer& c) { return c.tag == cancel_ok->consumer_tag; });
  }
  {
    std::lock_guard lock(mu_);
    if (!awaiting_reply_) return;  // the call timed out; nobody wants this reply any more
    RpcReply reply;
    reply.method = command.method;
    if (command.has_content) {
      reply.properties = command.header.properties;
      reply.body.assign(command.body);
    }
    reply_ = std::move(reply);
  }
  cv_.notify_all();
}

void ChannelState::close_with(Status why) {
  {
    std::lock_guard lock(mu_);
    if (!open_.load()) return;
  }
  // The number is free before anyone learns the channel closed, so a channel opened right
  // after close() returns may reuse it.
  conn_.remove_channel(number_, this);
  {
    std::lock_guard lock(mu_);
    if (!open_.load()) return;
    status_ = std::move(why);
    open_.store(false, std::memory_order_release);
  }
  cv_.notify_all();
}

void ChannelState::on_connection_closed(const Status& why) { close_with(why); }

// ---- owner thread ----------------------------------------------------------------------

Result<RpcReply> ChannelState::call(const protocol::Method& request) {
  if (conn_.on_reader_thread()) return on_reader_error();
  {
    std::lock_guard lock(mu_);
    if (!open_.load()) return status_;
    awaiting_reply_ = true;
    reply_.reset();
  }
  Status sent = conn_.write(
      [&](std::string& out) { protocol::append_method_frame(out, number_, request); }, true);
  std::unique_lock lock(mu_);
  if (!sent.ok()) {
    awaiting_reply_ = false;
    return sent;
  }
  cv_.wait_for(lock, conn_.options().rpc_timeout,
               [&] { return reply_.has_value() || !open_.load(); });
  awaiting_reply_ = false;
  if (reply_) {
    RpcReply reply = std::move(*reply_);
    reply_.reset();
    return reply;
  }
  if (!open_.load()) return status_;
  return Status(StatusCode::kTimedOut,
                std::string(protocol::method_name(request)) + ": no reply from the broker within " +
                    std::to_string(conn_.options().rpc_timeout.count()) + " ms");
}

void ChannelState::set_pending_consumer(DeliveryCallback callback) {
  std::lock_guard lock(mu_);
  pending_consumer_ = std::move(callback);
}

Status ChannelState::close() {
  if (conn_.on_reader_thread()) return on_reader_error();
  {
    std::lock_guard lock(mu_);
    if (!open_.load() || closing_) return Status();
    closing_ = true;
  }
  Status sent = conn_.write(
      [&](std::string& out) {
        protocol::append_method_frame(out, number_, protocol::ChannelClose{200, "Goodbye", 0, 0});
      },
      true);
  if (!sent.ok()) {
    close_with(sent);  // the connection is gone, and the channel with it
    return Status();
  }
  std::unique_lock lock(mu_);
  if (cv_.wait_for(lock, conn_.options().rpc_timeout, [&] { return !open_.load(); })) {
    return Status();
  }
  lock.unlock();
  close_with(Status(StatusCode::kTimedOut, "the broker did not answer channel.close"));
  return Status(StatusCode::kTimedOut, "the broker did not answer channel.close");
}

void ChannelState::enable_confirms() {
  std::lock_guard lock(mu_);
  confirms_.enable();
}

uint64_t ChannelState::record_publish() {
  std::lock_guard lock(mu_);
  return confirms_.enabled() ? confirms_.on_publish() : 0;
}

ConfirmCounts ChannelState::confirm_counts() const {
  std::lock_guard lock(mu_);
  return confirms_.counts();
}

Status ChannelState::wait_for_confirms(uint64_t max_unconfirmed,
                                       std::chrono::milliseconds timeout) {
  if (conn_.on_reader_thread()) return on_reader_error();
  {
    std::lock_guard lock(mu_);
    if (!confirms_.enabled()) return invalid_argument("confirm_select() was not called");
  }
  conn_.flush();
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout,
               [&] { return confirms_.unconfirmed() <= max_unconfirmed || !open_.load(); });
  if (confirms_.unconfirmed() <= max_unconfirmed) return Status();
  if (!open_.load()) return status_;
  return Status(StatusCode::kTimedOut, std::to_string(confirms_.unconfirmed()) +
                                           " publishes still unconfirmed after " +
                                           std::to_string(timeout.count()) + " ms");
}

void ChannelState::set_return_callback(ReturnCallback cb) {
  std::lock_guard lock(callback_mu_);
  return_callback_ = std::move(cb);
}

void ChannelState::set_confirm_callback(ConfirmCallback cb) {
  std::lock_guard lock(callback_mu_);
  confirm_callback_ = std::move(cb);
}

void ChannelState::set_cancel_callback(CancelCallback cb) {
  std::lock_guard lock(callback_mu_);
  cancel_callback_ = std::move(cb);
}

void ChannelState::disable_callbacks() {
  std::lock_guard lock(callback_mu_);
  callbacks_enabled_ = false;
  return_callback_ = nullptr;
  confirm_callback_ = nullptr;
  cancel_callback_ = nullptr;
}

}  // namespace burrow::client::amqp
