// One AMQP 0-9-1 connection as a sans-I/O state machine: bytes in (on_input), frames out
// (into an OutputBuffer), and a verdict on what the socket should do next. The handshake,
// tuning, channel multiplexing and error replies follow RabbitMQ 3.10's rabbit_reader.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "broker/connection.h"
#include "protocol/frame.h"
#include "protocol/frame_writer.h"
#include "protocol/methods.h"
#include "server/connection_registry.h"
#include "server/output_buffer.h"

namespace burrow::broker {
class BrokerCore;
}

namespace burrow::server {

class AmqpChannel;

// Limits the server offers in connection.tune (RabbitMQ's defaults).
struct ServerLimits {
  uint32_t frame_max = 131072;
  uint16_t channel_max = 2047;
  uint16_t heartbeat = 60;  // seconds
  // Open connections beyond this many are refused at connection.open with 530 (RabbitMQ's
  // connection_max; needs the registry). Default: 0 = no limit.
  size_t max_connections = 0;
};

// Who is on the other end of the socket (the management API will show it).
struct PeerInfo {
  std::string address;  // "127.0.0.1:51234", for logs
  bool loopback = true;
  // For management: the client's and our end of the socket.
  std::string peer_host;
  uint16_t peer_port = 0;
  std::string local_host;
  uint16_t local_port = 0;
  bool tls = false;          // connected through a TLS listener (amqps)
  std::string tls_protocol;  // once handshaken: "TLSv1.3", "TLSv1.2"; empty without TLS
  std::string tls_cipher;    // once handshaken: "TLS_AES_256_GCM_SHA384"; empty without TLS
};

// What the socket owner should do after feeding input.
enum class NextStep : uint8_t {
  kContinue,         // keep reading
  kCloseAfterFlush,  // write what is pending, then close the socket
  kCloseAfterDelay,  // stop reading; write what is pending and close after a delay (as
                     // RabbitMQ's SILENT_CLOSE_DELAY for handshake and framing errors)
};

// Where a method failed, for the reply's class_id/method_id.
struct MethodError {
  Status status;
  uint16_t class_id = 0;
  uint16_t method_id = 0;
};

// Not thread-safe: one thread at a time calls on_input and friends (the socket's strand).
// Broker threads write deliveries into the OutputBuffer through the channels' sinks.
class AmqpConnection {
 public:
  // `registry` (may be null) lists the connection once it is open, for management.
  AmqpConnection(broker::BrokerCore& core, ServerLimits limits, PeerInfo peer,
                 std::shared_ptr<OutputBuffer> out, ConnectionRegistry* registry = nullptr);
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  // Consumes as many whole frames of `data` as it can; returns how many bytes it used.
  size_t on_input(std::string_view data);
  NextStep next_step() const { return next_; }
  // True once connection.open succeeded (before: handshake timeout applies).
  bool is_open() const { return phase_ == Phase::kRunning; }
  // True after we sent connection.close and wait for close-ok (bounded by a timeout).
  bool awaiting_close_ok() const { return phase_ == Phase::kClosing; }
  // The heartbeat interval the client chose in tune-ok, in seconds (0: none).
  uint16_t heartbeat() const { return heartbeat_; }
  void send_heartbeat();
  // The socket is gone (or about to close): closes every channel, requeueing unacked
  // messages, and the broker connection. Idempotent.
  void shutdown();

  // The socket's peer as the listener saw it (address, loopback, TLS details).
  const PeerInfo& peer() const { return peer_; }

  // For channels.
  broker::BrokerCore& core() { return core_; }
  OutputBuffer& out() { return *out_; }
  uint32_t frame_max() const { return frame_max_; }
  bool client_has_capability(std::string_view name) const;
  const broker::ConnectionPtr& broker_connection() const { return broker_connection_; }

  // Sends a method on channel 0.
  template <typename M>
  void send(const M& method);

  // Runs `task` on the connection's own thread (the socket's strand). Without a poster (tests)
  // it runs at once.
  using Task = std::function<void(AmqpConnection&)>;
  void set_poster(std::function<void(Task)> poster) { poster_ = std::move(poster); }
  void post(Task task) {
    if (poster_) {
      poster_(std::move(task));
    } else {
      task(*this);
    }
  }
  // Like post, after `ms` of real time (fault injection's delayed confirms). Without a
  // delayed poster (tests) it runs at once.
  void set_delayed_poster(std::function<void(int64_t, Task)> poster) {
    delayed_poster_ = std::move(poster);
  }
  void post_after(int64_t ms, Task task) {
    if (delayed_poster_) {
      delayed_poster_(ms, std::move(task));
    } else {
      post(std::move(task));
    }
  }
  // The open channel `number`, or null.
  AmqpChannel* channel(uint16_t number) {
    auto it = channels_.find(number);
    return it == channels_.end() ? nullptr : it->second.get();
  }
  // A broker-initiated channel error (soft: channel.close; hard: connection.close).
  void close_channel_with(uint16_t number, const MethodError& error);
  // Closes the connection with 320 CONNECTION_FORCED (management, a deleted vhost).
  void force_close(const std::string& reason);
  // Bytes the socket wrote for this connection.
  void note_sent(size_t bytes);
  // A memory or disk alarm is on or off (server/resource_alarms.h). While one is on, a
  // connection that publishes is blocked: told with connection.blocked when the client has
  // the capability, and reading_paused() until the alarms clear (then connection.unblocked).
  void set_resource_alarm(bool memory, bool disk);
  bool reading_paused() const { return blocked_; }
  // For channels: their broker channel opened or closed (management lists them).
  void on_channel_opened(uint16_t number, const std::shared_ptr<broker::Channel>& channel);
  void on_channel_closed(uint16_t number);

 private:
  enum class Phase : uint8_t {
    kHandshake,  // waiting for the protocol header
    kStarting,   // sent connection.start, waiting for start-ok
    kTuning,     // sent connection.tune, waiting for tune-ok
    kOpening,    // waiting for connection.open
    kRunning,
    kClosing,  // sent connection.close, waiting for close-ok
    kClosed,
  };

  size_t on_protocol_header(std::string_view data);
  void on_frame(const protocol::Frame& frame);
  void on_channel0_frame(const protocol::Frame& frame);
  void on_connection_method(const protocol::Method& method);
  void on_start_ok(const protocol::ConnectionStartOk& m);
  void on_tune_ok(const protocol::ConnectionTuneOk& m);
  void on_open(const protocol::ConnectionOpen& m);
  void on_close();
  void on_channel_frame(const protocol::Frame& frame);

  // Hard error: connection.close with the reply for `error`, then wait for close-ok.
  void close_with(const MethodError& error);
  // A framing error we cannot recover from: connection.close, then close after a delay.
  void fatal(const Status& status);
  // A handshake failure RabbitMQ only logs: close the socket after a delay, no reply.
  void silent_close(const Status& status);
  void close_channel(uint16_t number);
  void flush_channels();

  broker::BrokerCore& core_;
  const ServerLimits limits_;
  const PeerInfo peer_;
  std::shared_ptr<OutputBuffer> out_;
  protocol::FrameReader reader_;

  Phase phase_ = Phase::kHandshake;
  NextStep next_ = NextStep::kContinue;
  uint32_t frame_max_ = protocol::kFrameMinSize;
  uint16_t channel_max_ = 0;
  uint16_t heartbeat_ = 0;
  std::string user_;
  std::string mechanism_;
  FieldTable client_properties_;
  broker::ConnectionPtr broker_connection_;
  // By channel number; absent or null = not open. A map, not a vector indexed by number: a
  // client may use any number up to 65535 (RabbitMQ counts open channels against channel_max,
  // not numbers), and one frame on channel 65535 must not cost the connection a 512 KiB table.
  std::map<uint16_t, std::unique_ptr<AmqpChannel>> channels_;
  size_t open_channels_ = 0;
  std::vector<uint16_t> touched_;  // channels that may have confirms to flush
  std::function<void(Task)> poster_;
  std::function<void(int64_t, Task)> delayed_poster_;
  ConnectionRegistry* const registry_;
  ConnectionEntryPtr entry_;  // set while open and registered
  bool memory_alarm_ = false;
  bool disk_alarm_ = false;
  bool published_ = false;     // a basic.publish arrived on this connection
  bool blocked_ = false;       // not reading: published while an alarm is on
  bool sent_blocked_ = false;  // connection.blocked sent, unblocked owed
  void block();
  void update_state();
};

template <typename M>
void AmqpConnection::send(const M& method) {
  out_->write([&](std::string& buf) { protocol::append_method_frame(buf, 0, method); });
}

}  // namespace burrow::server
