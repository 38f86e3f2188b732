// The running state of one client connection, shared by ClientConnection and its channels:
// the socket, its reader and writer threads, the output buffer, the channel table and the
// close state. Internal to client/amqp.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "base/thread_annotations.h"
#include "client/amqp/connection_options.h"
#include "client/amqp/handshake.h"
#include "client/amqp/socket.h"
#include "protocol/frame.h"
#include "protocol/frame_writer.h"

namespace burrow::client::amqp {

class ChannelState;

// Thread-safe. Two threads per connection:
//  - the reader reads the socket, splits frames, answers the broker's channel-0 methods and
//    hands other frames to the channels, whose callbacks therefore run on it;
//  - the writer takes the output buffer in one piece and writes it (one syscall per batch),
//    and sends heartbeats when nothing else went out for half the heartbeat interval.
// Any thread appends frames with write(). The reader never blocks on the socket's write side
// (it is exempt from back-pressure), so it keeps draining deliveries while a publisher waits.
class ConnectionCore {
 public:
  using Clock = std::chrono::steady_clock;

  ConnectionCore(std::unique_ptr<TcpSocket> socket, ConnectionOptions options, Tuning tuning,
                 FieldTable server_properties);
  ~ConnectionCore();  // stop()s; must not run on the reader thread
  ConnectionCore(const ConnectionCore&) = delete;
  ConnectionCore& operator=(const ConnectionCore&) = delete;

  // Starts the reader (fed `leftover`, the bytes read after open-ok) and writer threads.
  void start(std::string leftover);

  const ConnectionOptions& options() const { return options_; }
  const Tuning& tuning() const { return tuning_; }
  const FieldTable& server_properties() const { return server_properties_; }
  // The frame size our frames are split at (frame_max, or RabbitMQ's 131072 when unlimited).
  uint32_t frame_max() const { return tuning_.frame_max == 0 ? 131072 : tuning_.frame_max; }

  // Appends frames: runs append(std::string& buffer) under the buffer's lock. Sent when the
  // buffer reaches options.flush_bytes, when `flush` is true, or flush_linger after the first
  // unsent byte. Blocks while options.max_buffered_bytes wait (not on the reader thread).
  // Errors: the connection's status once it is closing or closed (nothing is appended).
  template <typename F>
  Status write(F&& append, bool flush);
  // Asks the writer to send whatever is buffered now.
  void flush();
  bool on_reader_thread() const;

  // Allocates the lowest free channel number and registers its state. Errors: kNotAllowed when
  // all channel_max numbers are in use, the connection's status when it is closed.
  Result<std::shared_ptr<ChannelState>> add_channel();
  // Frees a channel number (after channel.close-ok either way) if `state` still holds it.
  // Any thread.
  void remove_channel(uint16_t number, const ChannelState* state);

  // The close handshake: connection.close, wait for close-ok (rpc_timeout), then stop().
  // Returns OK once the connection is closed, whoever closed it; kTimedOut if the broker did
  // not answer (the socket is closed anyway); kInvalidArgument on the reader thread.
  Status close();
  // Ends the threads and the socket without a handshake. Idempotent; not on the reader thread.
  void stop();

  bool is_open() const { return state_.load(std::memory_order_acquire) == State::kOpen; }
  // OK while open; afterwards (and while closing) why it closed: the broker's reply, a socket
  // error, missed heartbeats, a protocol error of the broker, or kClosed "connection closed by
  // the client".
  Status status() const;
  bool blocked() const { return blocked_.load(std::memory_order_acquire); }

  void set_close_callback(std::function<void(const Status&)> callback);
  void set_blocked_callback(std::function<void(bool blocked, const std::string& reason)> cb);

 private:
  enum class State : uint8_t { kOpen, kClosing, kClosed };
  enum class WriterState : uint8_t { kBusy, kIdle, kLingering };

  // Appends a channel-0 method even while closing (close, close-ok) and flushes it.
  template <typename M>
  void write_control(const M& method);
  Status closed_status() const;

  void reader_loop(std::string leftover);
  void writer_loop();
  void on_frame(const protocol::Frame& frame);
  void on_channel0(const protocol::Frame& frame);
  std::shared_ptr<ChannelState> find_channel(uint16_t number);
  // The broker broke the protocol: connection.close with the error, wait for close-ok.
  void protocol_error(const Status& error);
  // The connection is over: record why (first caller wins), fail the channels, call back.
  void finish(Status why);

  const ConnectionOptions options_;
  const Tuning tuning_;
  const FieldTable server_properties_;
  std::unique_ptr<TcpSocket> socket_;
  std::thread reader_;
  std::thread writer_;

  mutable std::mutex mu_;
  std::condition_variable closed_cv_;
  Status status_ GUARDED_BY(mu_);        // set by finish()
  Status close_reason_ GUARDED_BY(mu_);  // why we sent connection.close
  std::function<void(const Status&)> close_callback_ GUARDED_BY(mu_);
  std::function<void(bool, const std::string&)> blocked_callback_ GUARDED_BY(mu_);
  std::atomic<State> state_{State::kOpen};
  std::atomic<bool> blocked_{false};
  std::atomic<bool> stopped_{false};

  // The output buffer and the writer's state.
  mutable std::mutex out_mu_;
  std::condition_variable writer_cv_;   // wakes the writer
  std::condition_variable drained_cv_;  // wakes publishers waiting for room
  std::string out_ GUARDED_BY(out_mu_);
  bool flush_requested_ GUARDED_BY(out_mu_) = false;
  Clock::time_point pending_since_ GUARDED_BY(out_mu_);
  Clock::time_point last_write_ GUARDED_BY(out_mu_);
  WriterState writer_state_ GUARDED_BY(out_mu_) = WriterState::kBusy;
  bool writer_stop_ GUARDED_BY(out_mu_) = false;
  bool writer_exited_ GUARDED_BY(out_mu_) = false;
  Status write_error_ GUARDED_BY(out_mu_);

  // The channel table; the reader keeps a copy refreshed when version_ changes.
  std::mutex channels_mu_;
  std::vector<std::shared_ptr<ChannelState>> channels_ GUARDED_BY(channels_mu_);
  std::atomic<uint64_t> channels_version_{0};

  // Reader-thread state.
  protocol::FrameReader frame_reader_;
  std::vector<std::shared_ptr<ChannelState>> reader_channels_;
  uint64_t reader_channels_version_ = ~uint64_t{0};
  bool reader_dirty_ = false;  // the reader appended frames that wait for a flush
  Clock::time_point last_read_;
};

template <typename F>
Status ConnectionCore::write(F&& append, bool flush) {
  const bool reader = on_reader_thread();
  std::unique_lock lock(out_mu_);
  if (!reader && out_.size() >= options_.max_buffered_bytes) {
    flush_requested_ = true;
    writer_cv_.notify_one();
    drained_cv_.wait(lock, [&] {
      return out_.size() < options_.max_buffered_bytes || writer_exited_ || !is_open();
    });
  }
  if (!is_open() || writer_exited_) {
    lock.unlock();
    return closed_status();
  }
  const bool was_empty = out_.empty();
  append(out_);
  bool wake = false;
  if (flush || out_.size() >= options_.flush_bytes) {
    if (!flush_requested_) {
      flush_requested_ = true;
      wake = writer_state_ != WriterState::kBusy;
    }
  } else if (was_empty) {
    pending_since_ = Clock::now();
    wake = writer_state_ == WriterState::kIdle;
  }
  if (reader) reader_dirty_ = !flush_requested_;
  lock.unlock();
  if (wake) writer_cv_.notify_one();
  return Status();
}

template <typename M>
void ConnectionCore::write_control(const M& method) {
  {
    std::lock_guard lock(out_mu_);
    if (writer_exited_) return;
    protocol::append_method_frame(out_, 0, method);
    flush_requested_ = true;
  }
  writer_cv_.notify_one();
}

}  // namespace burrow::client::amqp
