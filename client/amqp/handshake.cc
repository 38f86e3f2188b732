// ClientHandshake: the client half of rabbit_reader's handshake (see
// server/amqp_connection.cc for the server half).
#include "client/amqp/handshake.h"

#include <variant>

#include "base/status_macros.h"
#include "client/amqp/reply_status.h"
#include "protocol/frame_writer.h"

namespace burrow::client::amqp {

namespace {

constexpr std::string_view kProduct = "Burrow AMQP client";
constexpr std::string_view kVersion = "0.1.0";

bool offers_plain(std::string_view mechanisms) {
  while (!mechanisms.empty()) {
    size_t space = mechanisms.find(' ');
    if (mechanisms.substr(0, space) == "PLAIN") return true;
    if (space == std::string_view::npos) break;
    mechanisms.remove_prefix(space + 1);
  }
  return false;
}

Status unexpected(const protocol::Method& m, std::string_view phase) {
  return Status(
      StatusCode::kUnexpectedFrame,
      "unexpected " + std::string(protocol::method_name(m)) + " while " + std::string(phase));
}

}  // namespace

uint32_t negotiate_limit(uint32_t ours, uint32_t theirs) {
  if (ours == 0 || theirs == 0) return ours > theirs ? ours : theirs;
  return ours < theirs ? ours : theirs;
}

FieldTable client_properties(const ConnectionOptions& options) {
  FieldTable caps{
      {"publisher_confirms", true}, {"exchange_exchange_bindings", true},
      {"basic.nack", true},         {"consumer_cancel_notify", true},
      {"connection.blocked", true}, {"authentication_failure_close", true},
      {"per_consumer_qos", true},
  };
  FieldTable props{
      {"product", std::string(kProduct)},
      {"version", std::string(kVersion)},
      {"platform", "C++20"},
      {"capabilities", std::move(caps)},
  };
  if (!options.connection_name.empty()) props.set("connection_name", options.connection_name);
  return props;
}

void ClientHandshake::start(std::string& out) { out.append(protocol::kProtocolHeader); }

Result<size_t> ClientHandshake::on_input(std::string_view data, std::string& out) {
  size_t used = 0;
  if (phase_ == Phase::kAwaitStart && data.substr(0, 4) == "AMQP") {
    // The server refuses our protocol version and names the one it speaks.
    if (data.size() < protocol::kProtocolHeader.size()) return size_t{0};
    const auto* v = reinterpret_cast<const uint8_t*>(data.data()) + 4;
    phase_ = Phase::kFailed;
    return not_implemented("the broker does not speak AMQP 0-9-1; it offered protocol " +
                           std::to_string(v[0]) + "-" + std::to_string(v[1]) + "-" +
                           std::to_string(v[2]) + "-" + std::to_string(v[3]));
  }
  while (phase_ != Phase::kDone && phase_ != Phase::kFailed && used < data.size()) {
    protocol::Frame frame;
    Result<size_t> n = reader_.parse(data.substr(used), frame);
    if (!n.ok()) {
      phase_ = Phase::kFailed;
      return n.status();
    }
    if (*n == 0) break;
    used += *n;
    if (Status s = on_frame(frame, out); !s.ok()) {
      phase_ = Phase::kFailed;
      return s;
    }
  }
  return used;
}

Status ClientHandshake::on_frame(const protocol::Frame& frame, std::string& out) {
  if (frame.type == protocol::FrameType::kHeartbeat) return Status();
  if (frame.channel != 0 || frame.type != protocol::FrameType::kMethod) {
    return Status(StatusCode::kUnexpectedFrame,
                  "unexpected frame of type " + std::to_string(static_cast<int>(frame.type)) +
                      " on channel " + std::to_string(frame.channel) + " during the handshake");
  }
  protocol::Method m;
  RETURN_IF_ERROR(protocol::decode_method(frame.payload, m));
  if (const auto* close = std::get_if<protocol::ConnectionClose>(&m)) {
    protocol::append_method_frame(out, 0, protocol::ConnectionCloseOk{});
    return status_from_reply(close->reply_code, close->reply_text);
  }
  switch (phase_) {
    case Phase::kAwaitStart:
      if (const auto* start = std::get_if<protocol::ConnectionStart>(&m))
        return on_start(*start, out);
      return unexpected(m, "waiting for connection.start");
    case Phase::kAwaitTune:
      if (const auto* tune = std::get_if<protocol::ConnectionTune>(&m)) {
        on_tune(*tune, out);
        return Status();
      }
      if (std::holds_alternative<protocol::ConnectionSecure>(m)) {
        return not_implemented("the broker sent connection.secure; PLAIN needs no challenge");
      }
      return unexpected(m, "waiting for connection.tune");
    case Phase::kAwaitOpenOk:
      if (std::holds_alternative<protocol::ConnectionOpenOk>(m)) {
        phase_ = Phase::kDone;
        return Status();
      }
      // RabbitMQ may announce an alarm before open-ok arrives; it concerns the running
      // connection, which starts blocked-unaware (the broker repeats it on publish).
      if (std::holds_alternative<protocol::ConnectionBlocked>(m) ||
          std::holds_alternative<protocol::ConnectionUnblocked>(m)) {
        return Status();
      }
      return unexpected(m, "waiting for connection.open-ok");
    default:
      return unexpected(m, "handshaking");
  }
}

Status ClientHandshake::on_start(const protocol::ConnectionStart& m, std::string& out) {
  if (m.version_major != 0 || m.version_minor != 9) {
    return not_implemented("the broker offered AMQP " + std::to_string(m.version_major) + "-" +
                           std::to_string(m.version_minor) + ", not 0-9");
  }
  if (!offers_plain(m.mechanisms)) {
    return not_implemented("the broker offers no PLAIN authentication (it offers '" + m.mechanisms +
                           "')");
  }
  server_properties_ = m.server_properties;
  protocol::ConnectionStartOk ok;
  ok.client_properties = client_properties(options_);
  ok.mechanism = "PLAIN";
  // RFC 4616: [authzid] NUL authcid NUL passwd.
  ok.response.reserve(options_.user.size() + options_.password.size() + 2);
  ok.response.push_back('\0');
  ok.response += options_.user;
  ok.response.push_back('\0');
  ok.response += options_.password;
  ok.locale = "en_US";
  protocol::append_method_frame(out, 0, ok);
  phase_ = Phase::kAwaitTune;
  return Status();
}

void ClientHandshake::on_tune(const protocol::ConnectionTune& m, std::string& out) {
  tuning_.channel_max = static_cast<uint16_t>(negotiate_limit(options_.channel_max, m.channel_max));
  tuning_.frame_max = negotiate_limit(options_.frame_max, m.frame_max);
  // Never below the protocol minimum, even if asked for less.
  if (tuning_.frame_max != 0 && tuning_.frame_max < protocol::kFrameMinSize) {
    tuning_.frame_max = protocol::kFrameMinSize;
  }
  tuning_.heartbeat_s = static_cast<uint16_t>(negotiate_limit(options_.heartbeat_s, m.heartbeat));
  protocol::append_method_frame(
      out, 0,
      protocol::ConnectionTuneOk{tuning_.channel_max, tuning_.frame_max, tuning_.heartbeat_s});
  protocol::append_method_frame(out, 0, protocol::ConnectionOpen{options_.vhost, "", false});
  reader_.set_frame_max(tuning_.frame_max);
  phase_ = Phase::kAwaitOpenOk;
}

}  // namespace burrow::client::amqp
