// AmqpChannel: content assembly, method dispatch, and frames for deliveries.
#include "server/amqp_channel.h"

#include <algorithm>
#include <limits>
#include <variant>

#include <spdlog/spdlog.h>

#include "base/logging.h"
#include "base/reply.h"
#include "base/status_macros.h"
#include "broker/access_control.h"
#include "broker/broker_core.h"
#include "broker/connection.h"
#include "broker/test_controls.h"
#include "protocol/content_header.h"
#include "protocol/erlang_text.h"
#include "protocol/wire.h"
#include "server/handlers/handlers.h"

namespace burrow::server {

namespace {

constexpr uint16_t kBasicClass = 60;
constexpr uint16_t kPublishMethod = 40;
// The most a content header makes the channel reserve for its body before the body arrives.
constexpr uint64_t kMaxBodyReserve = 1 << 20;
// A content header's class id, weight and body size, before its properties.
constexpr size_t kHeaderPrefixSize = 12;
// rabbit_channel's reply to a method that arrives while a tx.commit is in progress (504).
constexpr const char* kCommittingText = "unexpected command while processing 'tx.commit'";

spdlog::logger& logger() { return module_logger("amqp"); }

MethodError unexpected(std::string text, uint16_t class_id, uint16_t method_id) {
  return MethodError{Status(StatusCode::kUnexpectedFrame, std::move(text)), class_id, method_id};
}

}  // namespace

AmqpChannel::AmqpChannel(AmqpConnection& connection, uint16_t number)
    : connection_(connection),
      number_(number),
      cancel_notify_(connection.client_has_capability("consumer_cancel_notify")) {}

AmqpChannel::~AmqpChannel() { close_core(); }

void AmqpChannel::open_core() {
  core_ = std::make_shared<broker::Channel>(connection_.broker_connection(), number_, this);
  connection_.on_channel_opened(number_, core_);
}

void AmqpChannel::close_core() {
  if (core_) {
    core_->close();
    connection_.on_channel_closed(number_);
  }
}

void AmqpChannel::close_with(const MethodError& error) {
  Reply reply = reply_for(error.status);
  close_core();
  state_ = State::kClosing;
  send(protocol::ChannelClose{reply.code, reply.text, error.class_id, error.method_id});
}

// ---- inbound -----------------------------------------------------------------------------

MethodError AmqpChannel::handle_frame(const protocol::Frame& frame) {
  // rabbit_command_assembler: each frame must be what the assembly state expects.
  switch (frame.type) {
    case protocol::FrameType::kMethod:
      if (assembly_ == Assembly::kHeader) {
        return unexpected(
            "expected content header for class 60, got non content header frame "
            "instead",
            kBasicClass, kPublishMethod);
      }
      if (assembly_ == Assembly::kBody) {
        return unexpected("expected content body, got non content body frame instead", kBasicClass,
                          kPublishMethod);
      }
      return on_method(frame);
    case protocol::FrameType::kHeader:
      if (assembly_ == Assembly::kMethod) {
        return unexpected("expected method frame, got non method frame instead", 0, 0);
      }
      if (assembly_ == Assembly::kBody) {
        return unexpected("expected content body, got non content body frame instead", kBasicClass,
                          kPublishMethod);
      }
      return on_content_header(frame);
    case protocol::FrameType::kBody:
      if (assembly_ == Assembly::kMethod) {
        return unexpected("expected method frame, got non method frame instead", 0, 0);
      }
      if (assembly_ == Assembly::kHeader) {
        return unexpected(
            "expected content header for class 60, got non content header frame "
            "instead",
            kBasicClass, kPublishMethod);
      }
      return on_content_body(frame);
    case protocol::FrameType::kHeartbeat:
      break;  // the connection handles heartbeats
  }
  return {};
}

MethodError AmqpChannel::on_method(const protocol::Frame& frame) {
  protocol::Method method;
  Status decoded = protocol::decode_method(frame.payload, method);
  uint16_t class_id = 0, method_id = 0;
  if (frame.payload.size() >= 4) {
    const auto* p = reinterpret_cast<const uint8_t*>(frame.payload.data());
    class_id = protocol::load_u16(p);
    method_id = protocol::load_u16(p + 2);
  }
  if (!decoded.ok()) {
    // A non-UTF-8 short string fails in RabbitMQ's channel process, whose close names no
    // method (0.0) on channels other than 0 (protocol/methods.h, decode_method).
    if (decoded.code() == StatusCode::kFrameError &&
        decoded.message() == protocol::kMalformedUtf8Text) {
      class_id = method_id = 0;
    }
    return MethodError{std::move(decoded), class_id, method_id};
  }

  if (state_ == State::kClosing) {
    // rabbit_channel in state closing: answer close, finish on close-ok, drop the rest (but
    // keep assembling content so the frame stream stays in sync).
    if (std::holds_alternative<protocol::ChannelClose>(method)) {
      send(protocol::ChannelCloseOk{});
      finished_ = true;
    } else if (std::holds_alternative<protocol::ChannelCloseOk>(method)) {
      finished_ = true;
    } else if (std::holds_alternative<protocol::BasicPublish>(method)) {
      assembly_ = Assembly::kHeader;
      discard_ = true;
    }
    return {};
  }
  if (state_ == State::kStarting && !std::holds_alternative<protocol::ChannelOpen>(method)) {
    return MethodError{channel_error("expected 'channel.open'"), class_id, method_id};
  }
  if (committing_ && std::holds_alternative<protocol::ChannelClose>(method)) {
    committing_ = false;  // the commit-ok is never sent (the messages stay queued)
  }
  // basic.publish is checked when its content is complete (finish_publish), where RabbitMQ's
  // channel process sees it.
  if (committing_ && !std::holds_alternative<protocol::BasicPublish>(method)) {
    return MethodError{channel_error(kCommittingText), class_id, method_id};
  }
  if (auto* publish = std::get_if<protocol::BasicPublish>(&method)) {
    publish_ = std::move(*publish);
    pending_ = std::make_shared<broker::StoredMessage>();
    assembly_ = Assembly::kHeader;
    discard_ = false;
    return {};
  }
  Status s = std::visit([this](const auto& m) { return handlers::handle(*this, m); }, method);
  if (std::holds_alternative<protocol::ChannelClose>(method)) finished_ = true;
  if (!s.ok()) return MethodError{std::move(s), class_id, method_id};
  return {};
}

MethodError AmqpChannel::on_content_header(const protocol::Frame& frame) {
  // Only class, weight and body size are read here; the properties are decoded when the
  // content is complete (finish_publish), as RabbitMQ's command assembler keeps them as bytes
  // until the channel process needs them.
  protocol::ContentHeader header;
  if (frame.payload.size() < kHeaderPrefixSize) {
    Status s = protocol::decode_content_header(frame.payload, header);
    return MethodError{std::move(s), kBasicClass, kPublishMethod};
  }
  {
    const auto* p = reinterpret_cast<const uint8_t*>(frame.payload.data());
    header.class_id = protocol::load_u16(p);
    header.weight = protocol::load_u16(p + 2);
    header.body_size = protocol::load_u64(p + 4);
  }
  if (header.class_id != kBasicClass) {
    return unexpected("expected content header for class 60, got one for class " +
                          std::to_string(header.class_id) + " instead",
                      kBasicClass, kPublishMethod);
  }
  if (header.weight != 0) {
    return unexpected(
        "expected content header for class 60, got non content header frame "
        "instead",
        kBasicClass, kPublishMethod);
  }
  // No limit on the announced size here: RabbitMQ 3.10.8 takes a header announcing more than
  // 512 MiB (?MAX_MSG_SIZE) and waits for its body (observed; tests/integration
  // test_raw_protocol.py ContentErrorTest). A body over max_message_size is counted, not
  // stored, and refused with 406 once complete.
  if (!discard_) {
    pending_->wire_properties.assign(frame.payload.substr(kHeaderPrefixSize));
    // Reserve only what the broker would accept (a larger body is counted, not stored, and
    // refused when complete), and at most kMaxBodyReserve before the body arrives: a content
    // header alone must not commit memory (one 22-byte frame per channel could otherwise
    // reserve max_message_size, 128 MiB, on each of 2047 channels). Bigger bodies grow as
    // their frames arrive.
    if (header.body_size <= connection_.core().options().max_message_size) {
      pending_->message.body.reserve(std::min<uint64_t>(header.body_size, kMaxBodyReserve));
    }
  }
  body_remaining_ = header.body_size;
  pending_body_size_ = header.body_size;
  assembly_ = Assembly::kBody;
  if (body_remaining_ == 0) return finish_publish();
  return {};
}

MethodError AmqpChannel::on_content_body(const protocol::Frame& frame) {
  if (frame.payload.size() > body_remaining_) {
    // More body than the header announced. RabbitMQ 3.10.8's command assembler lets its
    // remaining size go negative: the content never completes, later body frames are taken
    // in silently, and any other frame is a 505 "expected content body" (observed; see
    // ContentErrorTest). Burrow discards the content and waits for a body that cannot end.
    discard_ = true;
    pending_.reset();
    body_remaining_ = std::numeric_limits<uint64_t>::max();
    return {};
  }
  body_remaining_ -= frame.payload.size();
  if (!discard_ && pending_body_size_ <= connection_.core().options().max_message_size) {
    pending_->message.body.append(frame.payload);
  }
  if (body_remaining_ == 0) return finish_publish();
  return {};
}

void AmqpChannel::begin_commit() {
  committing_ = true;
  connection_.post([number = number_](AmqpConnection& connection) {
    if (!connection.is_open()) return;
    AmqpChannel* ch = connection.channel(number);
    // Closed meanwhile (or replaced by a new channel with the number): nothing to answer.
    if (ch == nullptr || !ch->committing_ || ch->state() != State::kOpen) return;
    ch->committing_ = false;
    ch->send(protocol::TxCommitOk{});
  });
}

MethodError AmqpChannel::finish_publish() {
  assembly_ = Assembly::kMethod;
  std::shared_ptr<broker::StoredMessage> message = std::move(pending_);
  if (discard_) {
    discard_ = false;
    return {};
  }
  if (committing_) return MethodError{channel_error(kCommittingText), kBasicClass, kPublishMethod};
  if (Status s = core_->check_message_size(pending_body_size_); !s.ok()) {
    return MethodError{std::move(s), kBasicClass, kPublishMethod};
  }
  if (Status s = protocol::decode_properties_exactly(message->wire_properties,
                                                     message->message.properties);
      !s.ok()) {
    // RabbitMQ checks the exchange (write permission, existence, internal) before it decodes
    // the properties; undecodable properties then crash its channel process, which closes
    // the connection with a bare 541 INTERNAL_ERROR naming no method (observed on 3.10.8).
    if (Status target = core_->check_publish_target(publish_.exchange); !target.ok()) {
      return MethodError{std::move(target), kBasicClass, kPublishMethod};
    }
    logger().error("channel {}: undecodable content header properties: {}", number_, s.message());
    return MethodError{Status(StatusCode::kInternalError, ""), 0, 0};
  }
  message->message.exchange = publish_.exchange;
  message->message.routing_key = publish_.routing_key;
  message->published_at = connection_.core().clock().now_ms();
  Status s = handlers::publish(*this, publish_, std::move(message));
  if (!s.ok()) return MethodError{std::move(s), kBasicClass, kPublishMethod};
  return {};
}

// ---- outbound ----------------------------------------------------------------------------

void AmqpChannel::append_content(std::string& buf, const broker::StoredMessage& message) const {
  if (!message.wire_properties.empty()) {
    protocol::append_content_frames(buf, number_, kBasicClass, message.wire_properties,
                                    message.message.body, connection_.frame_max());
    return;
  }
  std::string props;
  protocol::Writer w(props);
  protocol::encode_properties(message.message.properties, w);
  protocol::append_content_frames(buf, number_, kBasicClass, props, message.message.body,
                                  connection_.frame_max());
}

void AmqpChannel::on_deliver(const std::string& consumer_tag, uint64_t delivery_tag,
                             const broker::QueueEntry& entry) {
  const broker::StoredMessage& m = *entry.message;
  connection_.out().write([&](std::string& buf) {
    // basic.deliver, encoded in place (the hot path; equal to protocol::BasicDeliver's
    // encoding, which tests/server check).
    size_t at = protocol::begin_frame(buf, protocol::FrameType::kMethod, number_);
    protocol::Writer w(buf);
    w.put_u16(protocol::BasicDeliver::kClassId);
    w.put_u16(protocol::BasicDeliver::kMethodId);
    w.put_shortstr(consumer_tag);
    w.put_u64(delivery_tag);
    w.put_u8(entry.redelivered ? 1 : 0);
    w.put_shortstr(m.message.exchange);
    w.put_shortstr(m.message.routing_key);
    protocol::end_frame(buf, at);
    append_content(buf, m);
  });
}

void AmqpChannel::send_get_ok(const broker::GetResult& r) {
  const broker::StoredMessage& m = *r.entry.message;
  protocol::BasicGetOk ok{r.delivery_tag, r.entry.redelivered, m.message.exchange,
                          m.message.routing_key, r.message_count};
  connection_.out().write([&](std::string& buf) {
    protocol::append_method_frame(buf, number_, ok);
    append_content(buf, m);
  });
}

void AmqpChannel::on_return(uint16_t reply_code, std::string_view reply_text,
                            const broker::StoredMessage& message) {
  protocol::BasicReturn ret{reply_code, std::string(reply_text), message.message.exchange,
                            message.message.routing_key};
  connection_.out().write([&](std::string& buf) {
    protocol::append_method_frame(buf, number_, ret);
    append_content(buf, message);
  });
}

void AmqpChannel::on_confirm(uint64_t seq, bool multiple, bool ack) {
  const int64_t delay_ms = connection_.core().faults().confirm_delay_ms();
  {
    std::lock_guard lock(delayed_mu_);
    // Once one confirm is held back, later ones queue behind it so the order holds even
    // when the delay is cleared meanwhile.
    if (delay_ms > 0 || !delayed_confirms_.empty()) {
      auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
      if (!delayed_confirms_.empty()) due = std::max(due, delayed_confirms_.back().due);
      delayed_confirms_.push_back(DelayedConfirm{due, seq, multiple, ack});
      const int64_t wait_ms =
          std::chrono::ceil<std::chrono::milliseconds>(due - std::chrono::steady_clock::now())
              .count();
      const uint16_t number = number_;
      connection_.post_after(std::max<int64_t>(wait_ms, 0), [number](AmqpConnection& c) {
        if (AmqpChannel* ch = c.channel(number)) ch->send_due_confirms();
      });
      return;
    }
  }
  send_confirm(seq, multiple, ack);
}

void AmqpChannel::send_confirm(uint64_t seq, bool multiple, bool ack) {
  if (ack) {
    send(protocol::BasicAck{seq, multiple});
  } else {
    send(protocol::BasicNack{seq, multiple, false});
  }
}

void AmqpChannel::send_due_confirms() {
  std::lock_guard lock(delayed_mu_);
  const auto now = std::chrono::steady_clock::now();
  while (!delayed_confirms_.empty() && delayed_confirms_.front().due <= now) {
    const DelayedConfirm& c = delayed_confirms_.front();
    send_confirm(c.seq, c.multiple, c.ack);
    delayed_confirms_.pop_front();
  }
}

void AmqpChannel::on_error(const Status& error) {
  // From a timer thread: the close happens on the connection's own thread.
  const uint16_t number = number_;
  connection_.post([number, error](AmqpConnection& c) {
    c.close_channel_with(number, MethodError{error, 0, 0});
  });
}

void AmqpChannel::on_cancel(const std::string& consumer_tag) {
  // Only clients that said they understand it get a server-initiated cancel.
  if (cancel_notify_) send(protocol::BasicCancel{consumer_tag, true});
}

}  // namespace burrow::server
