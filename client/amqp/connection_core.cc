// ConnectionCore: the reader and writer threads, channel-0 methods, and every way a client
// connection ends (our close, the broker's close, protocol errors, socket loss, heartbeats).
#include "client/amqp/connection_core.h"

#include <algorithm>
#include <cstring>
#include <variant>

#include "base/assert.h"
#include "client/amqp/channel_state.h"
#include "client/amqp/reply_status.h"
#include "protocol/methods.h"

namespace burrow::client::amqp {

namespace {

constexpr size_t kReadChunk = 128 * 1024;
constexpr size_t kMinReadSpace = 16 * 1024;
// How long stop() lets the writer send what is pending (a close-ok) before cutting the socket.
constexpr auto kWriterDrainTimeout = std::chrono::seconds(2);

// The connection whose reader runs on this thread, if any.
thread_local const ConnectionCore* tl_reader_of = nullptr;

}  // namespace

ConnectionCore::ConnectionCore(std::unique_ptr<TcpSocket> socket, ConnectionOptions options,
                               Tuning tuning, FieldTable server_properties)
    : options_(std::move(options)),
      tuning_(tuning),
      server_properties_(std::move(server_properties)),
      socket_(std::move(socket)),
      frame_reader_(tuning.frame_max) {}

ConnectionCore::~ConnectionCore() { stop(); }

void ConnectionCore::start(std::string leftover) {
  {
    std::lock_guard lock(out_mu_);
    last_write_ = Clock::now();
  }
  writer_ = std::thread([this] { writer_loop(); });
  reader_ = std::thread(
      [this, leftover = std::move(leftover)]() mutable { reader_loop(std::move(leftover)); });
}

bool ConnectionCore::on_reader_thread() const { return tl_reader_of == this; }

void ConnectionCore::flush() {
  bool wake = false;
  {
    std::lock_guard lock(out_mu_);
    if (!out_.empty() && !flush_requested_) {
      flush_requested_ = true;
      wake = writer_state_ != WriterState::kBusy;
    }
  }
  if (wake) writer_cv_.notify_one();
}

Status ConnectionCore::status() const {
  std::lock_guard lock(mu_);
  // While our connection.close waits for close-ok, the reason we sent it is the answer.
  if (status_.ok() && state_.load() == State::kClosing) return close_reason_;
  return status_;
}

Status ConnectionCore::closed_status() const {
  std::lock_guard lock(mu_);
  if (!status_.ok()) return status_;
  return Status(StatusCode::kClosed, "the connection is closing");
}

void ConnectionCore::set_close_callback(std::function<void(const Status&)> callback) {
  std::lock_guard lock(mu_);
  close_callback_ = std::move(callback);
}

void ConnectionCore::set_blocked_callback(
    std::function<void(bool blocked, const std::string& reason)> cb) {
  std::lock_guard lock(mu_);
  blocked_callback_ = std::move(cb);
}

// ---- channels --------------------------------------------------------------------------

Result<std::shared_ptr<ChannelState>> ConnectionCore::add_channel() {
  if (!is_open()) return closed_status();
  const size_t max = tuning_.channel_max == 0 ? 65535 : tuning_.channel_max;
  std::lock_guard lock(channels_mu_);
  size_t number = 1;
  while (number < channels_.size() && channels_[number]) ++number;
  if (number > max) {
    return not_allowed("all " + std::to_string(max) + " channels (channel_max) are in use");
  }
  if (number >= channels_.size()) channels_.resize(number + 1);
  auto state = std::make_shared<ChannelState>(*this, static_cast<uint16_t>(number));
  channels_[number] = state;
  channels_version_.fetch_add(1, std::memory_order_release);
  return state;
}

void ConnectionCore::remove_channel(uint16_t number, const ChannelState* state) {
  std::lock_guard lock(channels_mu_);
  if (number < channels_.size() && channels_[number].get() == state) {
    channels_[number].reset();
    channels_version_.fetch_add(1, std::memory_order_release);
  }
}

std::shared_ptr<ChannelState> ConnectionCore::find_channel(uint16_t number) {
  const uint64_t version = channels_version_.load(std::memory_order_acquire);
  if (version != reader_channels_version_) {
    std::lock_guard lock(channels_mu_);
    reader_channels_ = channels_;
    reader_channels_version_ = channels_version_.load(std::memory_order_relaxed);
  }
  return number < reader_channels_.size() ? reader_channels_[number] : nullptr;
}

// ---- closing ---------------------------------------------------------------------------

Status ConnectionCore::close() {
  if (on_reader_thread()) {
    return invalid_argument("close() cannot be called from a callback of the same connection");
  }
  bool send = false;
  {
    std::lock_guard lock(mu_);
    if (state_.load() == State::kOpen) {
      state_.store(State::kClosing, std::memory_order_release);
      close_reason_ = Status(StatusCode::kClosed, "connection closed by the client");
      send = true;
    }
  }
  if (send) write_control(protocol::ConnectionClose{200, "Goodbye", 0, 0});
  bool closed;
  {
    std::unique_lock lock(mu_);
    closed = closed_cv_.wait_for(lock, options_.rpc_timeout,
                                 [&] { return state_.load() == State::kClosed; });
  }
  stop();
  if (!closed) return Status(StatusCode::kTimedOut, "the broker did not answer connection.close");
  return Status();
}

void ConnectionCore::stop() {
  if (stopped_.exchange(true)) return;
  BURROW_ASSERT_MSG(!on_reader_thread(),
                    "an AMQP connection cannot be closed or destroyed from its own callback");
  {
    std::unique_lock lock(out_mu_);
    writer_stop_ = true;
    writer_cv_.notify_one();
    drained_cv_.wait_for(lock, kWriterDrainTimeout, [&] { return writer_exited_; });
  }
  socket_->shutdown();
  if (writer_.joinable()) writer_.join();
  if (reader_.joinable()) reader_.join();
  finish(Status(StatusCode::kClosed, "connection closed by the client"));
}

void ConnectionCore::finish(Status why) {
  std::function<void(const Status&)> callback;
  {
    std::lock_guard lock(mu_);
    if (state_.load() == State::kClosed) return;
    state_.store(State::kClosed, std::memory_order_release);
    status_ = why;
    callback = close_callback_;
  }
  closed_cv_.notify_all();
  {
    // Publishers waiting for room check is_open() under out_mu_: pass through it so none
    // misses this wake-up.
    std::lock_guard lock(out_mu_);
  }
  drained_cv_.notify_all();
  std::vector<std::shared_ptr<ChannelState>> channels;
  {
    std::lock_guard lock(channels_mu_);
    channels = channels_;
  }
  for (auto& ch : channels) {
    if (ch) ch->on_connection_closed(why);
  }
  if (callback) callback(why);
}

void ConnectionCore::protocol_error(const Status& error) {
  {
    std::lock_guard lock(mu_);
    if (state_.load() != State::kOpen) return;
    state_.store(State::kClosing, std::memory_order_release);
    close_reason_ = error;
  }
  // Codes without an AMQP meaning go out as 541 INTERNAL_ERROR.
  uint16_t code = static_cast<uint16_t>(error.code());
  if (code < 300 || code > 600) code = protocol::kInternalError;
  write_control(protocol::ConnectionClose{
      code, std::string(status_code_name(error.code())) + " - " + error.message(), 0, 0});
}

// ---- reader ----------------------------------------------------------------------------

void ConnectionCore::reader_loop(std::string leftover) {
  tl_reader_of = this;
  std::vector<char> buf(std::max(kReadChunk, leftover.size() + kMinReadSpace));
  std::memcpy(buf.data(), leftover.data(), leftover.size());
  size_t begin = 0, end = leftover.size();
  last_read_ = Clock::now();
  const int hb_ms = tuning_.heartbeat_s * 1000;
  Status why;
  for (;;) {
    bool parsable = true;
    while (begin < end) {
      protocol::Frame frame;
      Result<size_t> n =
          frame_reader_.parse(std::string_view(buf.data() + begin, end - begin), frame);
      if (!n.ok()) {
        protocol_error(n.status());
        parsable = false;
        break;
      }
      if (*n == 0) break;
      begin += *n;
      on_frame(frame);
    }
    if (reader_dirty_) {
      reader_dirty_ = false;
      flush();
    }
    if (!parsable) {
      // Nothing after a framing error can be trusted: give up on the input; the writer still
      // sends our connection.close.
      std::lock_guard lock(mu_);
      why = close_reason_;
      break;
    }
    if (begin == end) {
      begin = end = 0;
    } else if (buf.size() - end < kMinReadSpace) {
      std::memmove(buf.data(), buf.data() + begin, end - begin);
      end -= begin;
      begin = 0;
      if (buf.size() - end < kMinReadSpace) buf.resize(buf.size() * 2);
    }
    Result<size_t> n =
        socket_->read_some(buf.data() + end, buf.size() - end, hb_ms ? hb_ms / 2 : -1);
    if (!n.ok()) {
      why = n.status();
      break;
    }
    const auto now = Clock::now();
    if (*n == 0) {
      if (hb_ms && now - last_read_ > std::chrono::milliseconds(2 * hb_ms)) {
        why = Status(StatusCode::kTimedOut,
                     "connection lost: no data or heartbeat from the broker for " +
                         std::to_string(2 * tuning_.heartbeat_s) + " s");
        break;
      }
      continue;
    }
    last_read_ = now;
    end += *n;
  }
  {
    std::lock_guard lock(out_mu_);
    if (!write_error_.ok()) why = write_error_;
  }
  if (stopped_.load()) {
    why = Status(StatusCode::kClosed, "connection closed by the client");
  } else if (why.code() == StatusCode::kClosed) {
    why = Status(StatusCode::kClosed, "connection lost: the broker closed the socket");
  } else if (why.code() == StatusCode::kIoError) {
    why = Status(StatusCode::kIoError, "connection lost: " + why.message());
  }
  finish(std::move(why));
  // Wake a writer blocked on a dead peer; stop() joins both threads.
  if (!stopped_.load()) socket_->shutdown();
}

void ConnectionCore::on_frame(const protocol::Frame& frame) {
  if (frame.channel == 0) return on_channel0(frame);
  if (state_.load(std::memory_order_acquire) != State::kOpen) return;  // closing: drop
  if (frame.type == protocol::FrameType::kHeartbeat) {
    return protocol_error(Status(StatusCode::kUnexpectedFrame,
                                 "heartbeat frame on channel " + std::to_string(frame.channel)));
  }
  std::shared_ptr<ChannelState> ch = find_channel(frame.channel);
  if (!ch) return;  // a channel we already forgot; nothing can be done with it
  if (Status s = ch->on_frame(frame); !s.ok()) protocol_error(s);
}

void ConnectionCore::on_channel0(const protocol::Frame& frame) {
  if (frame.type == protocol::FrameType::kHeartbeat) return;
  if (frame.type != protocol::FrameType::kMethod) {
    protocol_error(Status(
        StatusCode::kUnexpectedFrame,
        "content frame of type " + std::to_string(static_cast<int>(frame.type)) + " on channel 0"));
    return;
  }
  protocol::Method m;
  if (Status s = protocol::decode_method(frame.payload, m); !s.ok()) {
    protocol_error(s);
    return;
  }
  if (const auto* close = std::get_if<protocol::ConnectionClose>(&m)) {
    write_control(protocol::ConnectionCloseOk{});
    Status why = status_from_reply(close->reply_code, close->reply_text);
    {
      std::lock_guard lock(mu_);
      // A close crossing ours: the broker's reason is more useful than "closed by the
      // client" only when it is an error.
      if (state_.load() == State::kClosing && close->reply_code == protocol::kReplySuccess) {
        why = close_reason_;
      }
    }
    finish(std::move(why));
    return;
  }
  if (std::holds_alternative<protocol::ConnectionCloseOk>(m)) {
    Status why;
    {
      std::lock_guard lock(mu_);
      why = close_reason_;
    }
    if (why.ok()) why = Status(StatusCode::kClosed, "the broker sent an unsolicited close-ok");
    finish(std::move(why));
    return;
  }
  if (const auto* blocked = std::get_if<protocol::ConnectionBlocked>(&m)) {
    blocked_.store(true, std::memory_order_release);
    std::function<void(bool, const std::string&)> cb;
    {
      std::lock_guard lock(mu_);
      cb = blocked_callback_;
    }
    if (cb) cb(true, blocked->reason);
    return;
  }
  if (std::holds_alternative<protocol::ConnectionUnblocked>(m)) {
    blocked_.store(false, std::memory_order_release);
    std::function<void(bool, const std::string&)> cb;
    {
      std::lock_guard lock(mu_);
      cb = blocked_callback_;
    }
    if (cb) cb(false, "");
    return;
  }
  if (std::holds_alternative<protocol::ConnectionUpdateSecretOk>(m)) return;
  if (state_.load() != State::kOpen) return;
  protocol_error(Status(StatusCode::kCommandInvalid,
                        "unexpected " + std::string(protocol::method_name(m)) + " on channel 0"));
}

// ---- writer ----------------------------------------------------------------------------

void ConnectionCore::writer_loop() {
  const auto heartbeat = std::chrono::milliseconds(tuning_.heartbeat_s * 1000 / 2);
  const auto linger = std::chrono::duration_cast<Clock::duration>(options_.flush_linger);
  std::string batch;
  std::unique_lock lock(out_mu_);
  for (;;) {
    const auto now = Clock::now();
    bool send = false;
    if (writer_stop_) {
      if (out_.empty()) break;
      send = true;
    } else if (!out_.empty()) {
      send = flush_requested_ || now >= pending_since_ + linger;
    } else if (heartbeat.count() > 0 && now >= last_write_ + heartbeat) {
      protocol::append_heartbeat(out_);
      send = true;
    }
    if (!send) {
      auto deadline = Clock::time_point::max();
      if (!out_.empty()) deadline = pending_since_ + linger;
      if (heartbeat.count() > 0) deadline = std::min(deadline, last_write_ + heartbeat);
      writer_state_ = out_.empty() ? WriterState::kIdle : WriterState::kLingering;
      if (deadline == Clock::time_point::max()) {
        writer_cv_.wait(lock);
      } else {
        writer_cv_.wait_until(lock, deadline);
      }
      writer_state_ = WriterState::kBusy;
      continue;
    }
    batch.swap(out_);
    flush_requested_ = false;
    lock.unlock();
    drained_cv_.notify_all();
    Status s = socket_->write_all(batch);
    batch.clear();
    lock.lock();
    last_write_ = Clock::now();
    if (!s.ok()) {
      write_error_ = std::move(s);
      socket_->shutdown();  // the reader sees the loss and finishes the connection
      break;
    }
  }
  writer_exited_ = true;
  out_.clear();
  lock.unlock();
  drained_cv_.notify_all();
}

}  // namespace burrow::client::amqp
