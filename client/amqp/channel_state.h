// The shared half of one client channel: what the reader thread feeds (frames, confirms,
// deliveries, the broker's channel.close) and what the owner thread waits on (method
// replies, confirms). Internal to client/amqp; ClientChannel is the handle over it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <burrow/properties.h>
#include <burrow/status.h>

#include "base/thread_annotations.h"
#include "client/amqp/command_assembler.h"
#include "client/amqp/confirm_tracker.h"
#include "client/amqp/types.h"
#include "protocol/methods.h"

namespace burrow::client::amqp {

class ConnectionCore;

// A synchronous method's reply, with the content of basic.get-ok.
struct RpcReply {
  protocol::Method method;
  BasicProperties properties;
  std::string body;
};

// Thread-safe. Reader-thread entry points: on_frame. Owner entry points: call, the confirm
// and callback setters. Any thread: on_connection_closed, status, is_open.
class ChannelState {
 public:
  ChannelState(ConnectionCore& conn, uint16_t number) : conn_(conn), number_(number) {}

  uint16_t number() const { return number_; }
  ConnectionCore& connection() { return conn_; }
  bool is_open() const { return open_.load(std::memory_order_acquire); }
  // OK while open, else why the channel closed.
  Status status() const;

  // ---- reader thread -----------------------------------------------------------------
  // Feeds one frame of this channel. An error is a protocol violation by the broker: the
  // connection closes with it.
  Status on_frame(const protocol::Frame& frame);
  // The connection closed: the channel is closed with `why`, waiters wake. Idempotent.
  void on_connection_closed(const Status& why);

  // ---- owner thread ------------------------------------------------------------------
  // Sends a synchronous method and waits (rpc_timeout) for its reply. Errors: the channel's
  // close reason when the broker closes it instead (e.g. kNotFound for a missing queue),
  // kTimedOut, kInvalidArgument on the reader thread (it would wait for itself).
  Result<RpcReply> call(const protocol::Method& request);
  template <typename Reply, typename Request>
  Result<Reply> call(const Request& request);

  // Registers the callback of the basic.consume about to be sent; consume-ok installs it on
  // the reader thread before any delivery for the new tag can arrive.
  void set_pending_consumer(DeliveryCallback callback);
  // Sends channel.close and waits for close-ok. OK once closed (by us or earlier).
  Status close();

  // Publisher confirms.
  void enable_confirms();
  // The sequence number for the next publish (0 when confirms are off).
  uint64_t record_publish();
  ConfirmCounts confirm_counts() const;
  // Waits until at most max_unconfirmed publishes await a confirm.
  Status wait_for_confirms(uint64_t max_unconfirmed, std::chrono::milliseconds timeout);

  void set_return_callback(ReturnCallback cb);
  void set_confirm_callback(ConfirmCallback cb);
  void set_cancel_callback(CancelCallback cb);
  // No callback runs after this returns (waits for one in progress). Owner thread only.
  void disable_callbacks();

 private:
  struct Consumer {
    std::string tag;
    DeliveryCallback callback;
  };

  Status on_command(Command& command);
  void on_deliver(const protocol::BasicDeliver& m, const Command& command);
  void on_return(const protocol::BasicReturn& m, const Command& command);
  void on_confirm(uint64_t tag, bool multiple, bool ack);
  void on_broker_cancel(const std::string& tag);
  void on_reply(Command& command);
  // Frees the channel's number and marks it closed (first reason wins).
  void close_with(Status why);

  ConnectionCore& conn_;
  const uint16_t number_;
  std::atomic<bool> open_{true};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Status status_ GUARDED_BY(mu_);
  bool closing_ GUARDED_BY(mu_) = false;  // we sent channel.close
  bool awaiting_reply_ GUARDED_BY(mu_) = false;
  std::optional<RpcReply> reply_ GUARDED_BY(mu_);
  std::optional<DeliveryCallback> pending_consumer_ GUARDED_BY(mu_);
  ConfirmTracker confirms_ GUARDED_BY(mu_);

  // Held while a callback runs, so disable_callbacks() can wait for it.
  std::mutex callback_mu_;
  bool callbacks_enabled_ GUARDED_BY(callback_mu_) = true;
  ReturnCallback return_callback_ GUARDED_BY(callback_mu_);
  ConfirmCallback confirm_callback_ GUARDED_BY(callback_mu_);
  CancelCallback cancel_callback_ GUARDED_BY(callback_mu_);

  // Reader-thread state.
  CommandAssembler assembler_;
  std::vector<Consumer> consumers_;  // few per channel: a linear search beats hashing
  std::vector<std::pair<uint64_t, bool>> resolved_;
};

template <typename Reply, typename Request>
Result<Reply> ChannelState::call(const Request& request) {
  Result<RpcReply> reply = call(protocol::Method(request));
  if (!reply.ok()) return reply.status();
  if (auto* m = std::get_if<Reply>(&reply->method)) return std::move(*m);
  return Status(StatusCode::kUnexpectedFrame,
                "the broker answered " + std::string(Request::kName) + " with " +
                    std::string(protocol::method_name(reply->method)));
}

}  // namespace burrow::client::amqp
