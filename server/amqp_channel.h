// One AMQP channel of a connection: assembles content frames into publishes, dispatches
// methods to the handlers (one file per AMQP class in handlers/), and, as the broker
// channel's sink, turns deliveries, returns and confirms into frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "broker/channel.h"
#include "protocol/content_header.h"
#include "protocol/frame.h"
#include "protocol/frame_writer.h"
#include "protocol/methods.h"
#include "server/amqp_connection.h"

namespace burrow::server {

// The owner-thread methods (handle_frame, send, close) run on the connection's strand; the
// ChannelSink methods run on broker threads and only touch the output buffer and immutable
// state.
class AmqpChannel final : public broker::ChannelSink {
 public:
  AmqpChannel(AmqpConnection& connection, uint16_t number);
  ~AmqpChannel() override;

  enum class State : uint8_t {
    kStarting,  // created by its first frame; only channel.open is valid
    kOpen,
    kClosing,  // we sent channel.close; everything but close/close-ok is ignored
  };

  // Processes one frame for this channel. An error names the method that caused it; the
  // connection decides (base/reply.h) whether it closes the channel or the connection.
  MethodError handle_frame(const protocol::Frame& frame);

  State state() const { return state_; }
  void set_state(State s) { state_ = s; }
  uint16_t number() const { return number_; }
  AmqpConnection& connection() { return connection_; }
  // The broker channel; null until channel.open.
  broker::Channel* core() { return core_.get(); }
  void open_core();
  // Closes the broker channel (requeues unacked, cancels consumers). Idempotent.
  void close_core();
  // Soft error: sends channel.close with the reply and enters kClosing.
  void close_with(const MethodError& error);
  // The channel is done (closed by the client, or close-ok received): the connection frees
  // its number.
  bool finished() const { return finished_; }
  void mark_finished() { finished_ = true; }

  // basic.get-ok with the message's content, as one write.
  void send_get_ok(const broker::GetResult& result);

  // tx.commit that delivered messages: RabbitMQ's channel is then "committing" until the
  // queues confirm them, and answers any method but channel.close with 504 "unexpected
  // command while processing 'tx.commit'". Burrow's queues took the messages already, so the
  // window is the rest of the input being handled: commit-ok goes out from a task posted to
  // the connection, which runs after it (as a pipelined method reaches RabbitMQ in time).
  void begin_commit();

  template <typename M>
  void send(const M& method) {
    connection_.out().write(
        [&](std::string& buf) { protocol::append_method_frame(buf, number_, method); });
  }

  // Sends the confirms held back by a confirm-delay fault whose time has come (on the
  // connection's thread).
  void send_due_confirms();

  // broker::ChannelSink
  void on_deliver(const std::string& consumer_tag, uint64_t delivery_tag,
                  const broker::QueueEntry& entry) override;
  void on_return(uint16_t reply_code, std::string_view reply_text,
                 const broker::StoredMessage& message) override;
  void on_confirm(uint64_t seq, bool multiple, bool ack) override;
  void on_cancel(const std::string& consumer_tag) override;
  void on_error(const Status& error) override;

 private:
  MethodError on_method(const protocol::Frame& frame);
  MethodError on_content_header(const protocol::Frame& frame);
  MethodError on_content_body(const protocol::Frame& frame);
  MethodError finish_publish();
  // basic.ack or basic.nack for a publisher confirm.
  void send_confirm(uint64_t seq, bool multiple, bool ack);
  // Appends a content header and body frames for `message`.
  void append_content(std::string& buf, const broker::StoredMessage& message) const;

  AmqpConnection& connection_;
  const uint16_t number_;
  const bool cancel_notify_;  // the client set capability consumer_cancel_notify
  State state_ = State::kStarting;
  bool finished_ = false;
  std::shared_ptr<broker::Channel> core_;

  // Content assembly (rabbit_command_assembler): a publish waits for its header, then for
  // body frames until body_size bytes arrived.
  enum class Assembly : uint8_t { kMethod, kHeader, kBody };
  Assembly assembly_ = Assembly::kMethod;
  protocol::BasicPublish publish_;
  std::shared_ptr<broker::StoredMessage> pending_;
  uint64_t body_remaining_ = 0;
  uint64_t pending_body_size_ = 0;
  // Assembling a content that is dropped: its publish arrived while closing, or its body
  // overran its header (then body_remaining_ is set so the content never completes).
  bool discard_ = false;
  // Between a tx.commit that delivered messages and its commit-ok (begin_commit).
  bool committing_ = false;

  // Confirms held back by fault injection (delay_confirms), in sequence order; on_confirm
  // adds from broker threads.
  struct DelayedConfirm {
    std::chrono::steady_clock::time_point due;
    uint64_t seq;
    bool multiple;
    bool ack;
  };
  std::mutex delayed_mu_;
  std::deque<DelayedConfirm> delayed_confirms_;
};

}  // namespace burrow::server
