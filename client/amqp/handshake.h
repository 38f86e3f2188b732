// The client side of the AMQP 0-9-1 opening handshake as a sans-I/O state machine: protocol
// header, start/start-ok (PLAIN), tune/tune-ok, open/open-ok. Bytes in, frames out; the
// connection owns the socket (the mirror of server/amqp_connection.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "client/amqp/connection_options.h"
#include "protocol/frame.h"
#include "protocol/methods.h"

namespace burrow::client::amqp {

// What the handshake settled on.
struct Tuning {
  uint16_t channel_max = 0;  // 0: no limit (we then use 65535)
  uint32_t frame_max = 0;    // 0: no limit
  uint16_t heartbeat_s = 0;  // 0: no heartbeats
};

// Negotiates a limit as the RabbitMQ Java client does: the smaller value, where 0 means
// "no limit" and loses to any non-zero value.
uint32_t negotiate_limit(uint32_t ours, uint32_t theirs);

// The client properties sent in start-ok: product, version, platform, the capabilities this
// client implements (publisher_confirms, basic.nack, consumer_cancel_notify,
// connection.blocked, authentication_failure_close, exchange_exchange_bindings,
// per_consumer_qos) and connection_name when set.
FieldTable client_properties(const ConnectionOptions& options);

// Not thread-safe; used by the connecting thread only.
class ClientHandshake {
 public:
  explicit ClientHandshake(ConnectionOptions options) : options_(std::move(options)) {}

  // Appends the protocol header ("AMQP" 0 0 9 1) that opens the conversation.
  void start(std::string& out);

  // Consumes whole frames from the front of `data`, appending our replies to `out`. Returns the
  // bytes used (stops right after connection.open-ok; later bytes belong to the running
  // connection). Errors:
  // - the broker's connection.close (e.g. 403 ACCESS_REFUSED for bad credentials, 530
  //   NOT_ALLOWED for an unknown vhost) as status_from_reply gives it; close-ok is appended;
  // - kNotImplemented when the broker answers with another protocol header or offers no PLAIN
  //   mechanism;
  // - kFrameError/kSyntaxError for undecodable frames, kUnexpectedFrame for a method the
  //   handshake does not expect at this point.
  Result<size_t> on_input(std::string_view data, std::string& out);

  bool done() const { return phase_ == Phase::kDone; }
  const Tuning& tuning() const { return tuning_; }
  const FieldTable& server_properties() const { return server_properties_; }

 private:
  enum class Phase : uint8_t { kAwaitStart, kAwaitTune, kAwaitOpenOk, kDone, kFailed };

  Status on_frame(const protocol::Frame& frame, std::string& out);
  Status on_start(const protocol::ConnectionStart& m, std::string& out);
  void on_tune(const protocol::ConnectionTune& m, std::string& out);

  const ConnectionOptions options_;
  Phase phase_ = Phase::kAwaitStart;
  protocol::FrameReader reader_{protocol::kFrameMinSize};
  Tuning tuning_;
  FieldTable server_properties_;
};

}  // namespace burrow::client::amqp
