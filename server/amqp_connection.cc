// AmqpConnection: protocol header, handshake (start/start-ok, tune/tune-ok, open), channel
// multiplexing, heartbeats and the error paths of RabbitMQ 3.10's rabbit_reader.
#include "server/amqp_connection.h"
#include "base/logging.h"

#include <spdlog/spdlog.h>

#include <variant>

#include "base/reply.h"
#include "broker/broker_core.h"
#include "protocol/erlang_text.h"
#include "protocol/field_table_codec.h"
#include "server/amqp_channel.h"
#include "server/server_properties.h"

namespace burrow::server {

namespace {
spdlog::logger& logger() { return module_logger("amqp"); }
}  // namespace

namespace {

constexpr uint16_t kConnectionClass = 10;

// rabbit_reader's connection states, as they appear in "unexpected method in connection
// state ~w".
const char* phase_name(bool starting, bool tuning, bool opening) {
  if (starting) return "starting";
  if (tuning) return "tuning";
  if (opening) return "opening";
  return "running";
}

// PLAIN: [authzid] NUL user NUL password (RFC 4616), as rabbit_auth_mechanism_plain.
bool parse_plain(std::string_view response, std::string& user, std::string& password) {
  // rabbit_auth_mechanism_plain takes no authorization identity: the response must start
  // with NUL (observed on RabbitMQ 3.10.8: "x\0guest\0guest" is a syntax error).
  size_t first = response.find('\0');
  if (first != 0) return false;
  size_t second = response.find('\0', first + 1);
  if (second == std::string_view::npos) return false;
  if (response.find('\0', second + 1) != std::string_view::npos) return false;
  user.assign(response.substr(first + 1, second - first - 1));
  password.assign(response.substr(second + 1));
  return true;
}

// AMQPLAIN: a field table's entries (without the length prefix) with LOGIN and PASSWORD.
bool parse_amqplain(std::string_view response, std::string& user, std::string& password) {
  std::string framed;
  protocol::Writer w(framed);
  w.put_longstr(response);
  protocol::Reader r(framed);
  FieldTable table;
  if (!protocol::decode_table(r, table).ok()) return false;
  const FieldValue* login = table.find("LOGIN");
  const FieldValue* pass = table.find("PASSWORD");
  // Long strings only, as rabbit_auth_mechanism_amqplain (byte arrays are refused).
  const std::string* l = login ? login->get_if<std::string>() : nullptr;
  const std::string* p = pass ? pass->get_if<std::string>() : nullptr;
  if (l == nullptr || p == nullptr) return false;
  user = *l;
  password = *p;
  return true;
}

// rabbit_reader:validate_negotiated_integer_value/3 and fail_negotiation/4.
Status validate_negotiated(const char* field, uint32_t min, uint32_t server, uint32_t client) {
  if (client != 0 && client < min) {
    return not_allowed(
        fmt::format("negotiated {} = {} is lower than the minimum allowed value "
                    "({})",
                    field, client, min));
  }
  if (server != 0 && (client == 0 || client > server)) {
    return not_allowed(
        fmt::format("negotiated {} = {} is higher than the maximum allowed value "
                    "({})",
                    field, client, server));
  }
  return Status();
}

}  // namespace

AmqpConnection::AmqpConnection(broker::BrokerCore& core, ServerLimits limits, PeerInfo peer,
                               std::shared_ptr<OutputBuffer> out, ConnectionRegistry* registry)
    : core_(core),
      limits_(limits),
      peer_(std::move(peer)),
      out_(std::move(out)),
      reader_(protocol::kFrameMinSize),
      registry_(registry) {}

AmqpConnection::~AmqpConnection() { shutdown(); }

void AmqpConnection::shutdown() {
  for (auto& [number, ch] : channels_) {
    if (ch) ch->close_core();
  }
  channels_.clear();
  open_channels_ = 0;
  if (broker_connection_) broker_connection_->close();
  if (entry_) {
    // As rabbit_reader logs it.
    logger().info("closing AMQP connection ({} -> {}:{}, vhost: '{}', user: '{}')", peer_.address,
                  peer_.local_host, peer_.local_port, entry_->vhost, entry_->user);
    if (registry_) registry_->remove(entry_->id);
    entry_.reset();
    core_.stats().connections_closed.fetch_add(1, std::memory_order_relaxed);
  }
  phase_ = Phase::kClosed;
}

void AmqpConnection::force_close(const std::string& reason) {
  if (phase_ != Phase::kRunning) return;
  close_with(MethodError{Status(StatusCode::kConnectionForced, reason), 0, 0});
}

void AmqpConnection::set_resource_alarm(bool memory, bool disk) {
  memory_alarm_ = memory;
  disk_alarm_ = disk;
  if (memory || disk) {
    if (published_ && !blocked_ && phase_ == Phase::kRunning) block();
  } else if (blocked_) {
    blocked_ = false;
    if (sent_blocked_ && phase_ == Phase::kRunning) send(protocol::ConnectionUnblocked{});
    sent_blocked_ = false;
  }
  update_state();
}

void AmqpConnection::block() {
  blocked_ = true;
  if (client_has_capability("connection.blocked")) {
    send(protocol::ConnectionBlocked{memory_alarm_ ? "low on memory" : "low on disk"});
    sent_blocked_ = true;
  }
  logger().info("connection from {}: blocked by a resource alarm", peer_.address);
}

// management's connection state: running, blocking (alarm on, not published yet), blocked.
void AmqpConnection::update_state() {
  if (!entry_) return;
  const int state = blocked_ ? 2 : (memory_alarm_ || disk_alarm_) ? 1 : 0;
  entry_->state.store(state, std::memory_order_relaxed);
}

void AmqpConnection::note_sent(size_t bytes) {
  if (entry_) {
    entry_->send_oct.fetch_add(bytes, std::memory_order_relaxed);
    entry_->send_cnt.fetch_add(1, std::memory_order_relaxed);
  }
}

void AmqpConnection::on_channel_opened(uint16_t number,
                                       const std::shared_ptr<broker::Channel>& channel) {
  core_.stats().channels_opened.fetch_add(1, std::memory_order_relaxed);
  if (entry_) entry_->add_channel(number, channel);
}

void AmqpConnection::on_channel_closed(uint16_t number) {
  if (entry_ && entry_->remove_channel(number)) {
    core_.stats().channels_closed.fetch_add(1, std::memory_order_relaxed);
  }
}

bool AmqpConnection::client_has_capability(std::string_view name) const {
  const FieldValue* caps = client_properties_.find("capabilities");
  const FieldTable* table = caps ? caps->get_if<FieldTable>() : nullptr;
  if (table == nullptr) return false;
  const FieldValue* v = table->find(name);
  const bool* b = v ? v->get_if<bool>() : nullptr;
  return b != nullptr && *b;
}

void AmqpConnection::send_heartbeat() {
  out_->write([](std::string& buf) { protocol::append_heartbeat(buf); });
}

// ---- input -------------------------------------------------------------------------------

size_t AmqpConnection::on_input(std::string_view data) {
  size_t used = 0;
  if (phase_ == Phase::kHandshake) {
    used = on_protocol_header(data);
    if (used == 0) return 0;
  }
  while (next_ == NextStep::kContinue && used < data.size()) {
    protocol::Frame frame;
    Result<size_t> n = reader_.parse(data.substr(used), frame);
    if (!n.ok()) {
      fatal(n.status());
      break;
    }
    if (*n == 0) break;
    used += *n;
    on_frame(frame);
    if (blocked_) break;  // an alarm: the rest waits until it clears
  }
  flush_channels();
  if (entry_) {
    entry_->recv_oct.fetch_add(used, std::memory_order_relaxed);
    entry_->recv_cnt.fetch_add(1, std::memory_order_relaxed);
  }
  return used;
}

size_t AmqpConnection::on_protocol_header(std::string_view data) {
  if (data.size() < protocol::kProtocolHeader.size()) return 0;
  std::string_view header = data.substr(0, protocol::kProtocolHeader.size());
  // AMQP 0-9-1, or 0-9 (AMQP 1 1 0 9), which RabbitMQ treats as 0-9-1. Anything else gets
  // the header Burrow speaks, and the socket is closed (rabbit_reader:refuse_connection).
  bool ok =
      header == protocol::kProtocolHeader || header == std::string_view("AMQP\x01\x01\x00\x09", 8);
  if (!ok) {
    out_->write([](std::string& buf) { buf.append(protocol::kProtocolHeader); });
    next_ = NextStep::kCloseAfterFlush;
    phase_ = Phase::kClosed;
    return header.size();
  }
  send(protocol::ConnectionStart{0, 9, server_properties(), "AMQPLAIN PLAIN", "en_US"});
  phase_ = Phase::kStarting;
  return header.size();
}

void AmqpConnection::on_frame(const protocol::Frame& frame) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed) {
    // Only connection.close and close-ok matter once we sent connection.close.
    if (frame.channel != 0 || frame.type != protocol::FrameType::kMethod) return;
    protocol::Method m;
    if (!protocol::decode_method(frame.payload, m).ok()) return;
    if (std::holds_alternative<protocol::ConnectionClose>(m)) {
      send(protocol::ConnectionCloseOk{});
      next_ = NextStep::kCloseAfterFlush;
    } else if (std::holds_alternative<protocol::ConnectionCloseOk>(m)) {
      next_ = NextStep::kCloseAfterFlush;
    }
    return;
  }
  if (frame.channel == 0) {
    on_channel0_frame(frame);
  } else {
    on_channel_frame(frame);
  }
}

void AmqpConnection::on_channel0_frame(const protocol::Frame& frame) {
  switch (frame.type) {
    case protocol::FrameType::kHeartbeat:
      return;
    case protocol::FrameType::kMethod: {
      protocol::Method m;
      Status s = protocol::decode_method(frame.payload, m);
      if (!s.ok()) {
        uint16_t class_id = 0, method_id = 0;
        if (frame.payload.size() >= 4) {
          const auto* p = reinterpret_cast<const uint8_t*>(frame.payload.data());
          class_id = protocol::load_u16(p);
          method_id = protocol::load_u16(p + 2);
        }
        close_with(MethodError{std::move(s), class_id, method_id});
        return;
      }
      on_connection_method(m);
      return;
    }
    default:
      close_with(MethodError{
          Status(StatusCode::kUnexpectedFrame,
                 protocol::unexpected_frame_text(static_cast<uint8_t>(frame.type), frame.payload)),
          0, 0});
  }
}

void AmqpConnection::on_connection_method(const protocol::Method& method) {
  const uint16_t class_id = protocol::method_class_id(method);
  const uint16_t method_id = protocol::method_method_id(method);
  auto unexpected = [&] {
    close_with(MethodError{
        channel_error(fmt::format("unexpected method in connection state {}",
                                  phase_name(phase_ == Phase::kStarting, phase_ == Phase::kTuning,
                                             phase_ == Phase::kOpening))),
        class_id, method_id});
  };
  switch (phase_) {
    case Phase::kStarting:
      if (auto* m = std::get_if<protocol::ConnectionStartOk>(&method)) return on_start_ok(*m);
      return unexpected();
    case Phase::kTuning:
      if (auto* m = std::get_if<protocol::ConnectionTuneOk>(&method)) return on_tune_ok(*m);
      return unexpected();
    case Phase::kOpening:
      if (auto* m = std::get_if<protocol::ConnectionOpen>(&method)) return on_open(*m);
      return unexpected();
    case Phase::kRunning:
      if (std::holds_alternative<protocol::ConnectionClose>(method)) return on_close();
      if (std::holds_alternative<protocol::ConnectionUpdateSecret>(method)) {
        // Burrow's credentials do not expire, so there is nothing to refresh.
        send(protocol::ConnectionUpdateSecretOk{});
        return;
      }
      return unexpected();
    default:
      return;
  }
}

void AmqpConnection::on_start_ok(const protocol::ConnectionStartOk& m) {
  client_properties_ = m.client_properties;
  mechanism_ = m.mechanism;
  std::string user, password;
  bool parsed = false;
  if (m.mechanism == "PLAIN") {
    parsed = parse_plain(m.response, user, password);
  } else if (m.mechanism == "AMQPLAIN") {
    parsed = parse_amqplain(m.response, user, password);
  } else {
    return silent_close(command_invalid("unknown authentication mechanism '" + m.mechanism + "'"));
  }
  if (!parsed) {
    return silent_close(Status(StatusCode::kSyntaxError, m.mechanism + " response is malformed"));
  }
  Status auth = core_.authenticate(user, password, peer_.loopback);
  if (!auth.ok()) {
    logger().error("connection from {}: {} login refused: {}", peer_.address, m.mechanism,
                   auth.message());
    // rabbit_reader:auth_fail: the reason goes to the log; the client gets a generic text, and
    // only if it said it understands a close during the handshake.
    if (client_has_capability("authentication_failure_close")) {
      send(protocol::ConnectionClose{403,
                                     "ACCESS_REFUSED - Login was refused using authentication "
                                     "mechanism " +
                                         m.mechanism + ". For details see the broker logfile.",
                                     0, 0});
    }
    next_ = NextStep::kCloseAfterDelay;
    phase_ = Phase::kClosed;
    return;
  }
  user_ = std::move(user);
  send(protocol::ConnectionTune{limits_.channel_max, limits_.frame_max, limits_.heartbeat});
  phase_ = Phase::kTuning;
}

void AmqpConnection::on_tune_ok(const protocol::ConnectionTuneOk& m) {
  // RabbitMQ reports a failed negotiation against connection.tune.
  Status s =
      validate_negotiated("frame_max", protocol::kFrameMinSize, limits_.frame_max, m.frame_max);
  if (s.ok()) s = validate_negotiated("channel_max", 1, limits_.channel_max, m.channel_max);
  if (!s.ok()) {
    close_with(MethodError{std::move(s), kConnectionClass, protocol::ConnectionTune::kMethodId});
    return;
  }
  frame_max_ = m.frame_max;
  channel_max_ = m.channel_max;
  heartbeat_ = m.heartbeat;
  reader_.set_frame_max(frame_max_);
  phase_ = Phase::kOpening;
}

void AmqpConnection::on_open(const protocol::ConnectionOpen& m) {
  if (limits_.max_connections != 0 && registry_ != nullptr &&
      registry_->size() >= limits_.max_connections) {
    close_with(MethodError{not_allowed(fmt::format("connection refused: node connection limit "
                                                   "({}) is reached",
                                                   limits_.max_connections)),
                           kConnectionClass, protocol::ConnectionOpen::kMethodId});
    return;
  }
  auto conn = core_.connect(broker::ConnectInfo{user_, m.virtual_host});
  if (!conn.ok()) {
    close_with(MethodError{conn.status(), kConnectionClass, protocol::ConnectionOpen::kMethodId});
    return;
  }
  broker_connection_ = std::move(*conn);
  send(protocol::ConnectionOpenOk{});
  phase_ = Phase::kRunning;
  core_.stats().connections_opened.fetch_add(1, std::memory_order_relaxed);
  if (registry_) {
    auto entry = std::make_shared<ConnectionEntry>();
    entry->id = broker_connection_->id();
    entry->name = fmt::format("{}:{} -> {}:{}", peer_.peer_host, peer_.peer_port, peer_.local_host,
                              peer_.local_port);
    entry->peer_host = peer_.peer_host;
    entry->peer_port = peer_.peer_port;
    entry->host = peer_.local_host;
    entry->port = peer_.local_port;
    entry->user = user_;
    entry->vhost = m.virtual_host;
    entry->auth_mechanism = mechanism_;
    entry->tls = peer_.tls;
    entry->client_properties = client_properties_;
    entry->connected_at = SystemClock::instance().now_ms();
    entry->frame_max = frame_max_;
    entry->channel_max = channel_max_;
    entry->heartbeat = heartbeat_;
    if (poster_) {
      entry->force_close = [poster = poster_](std::string reason) {
        poster([reason = std::move(reason)](AmqpConnection& c) { c.force_close(reason); });
      };
    }
    entry_ = entry;
    registry_->add(std::move(entry));
    update_state();
  }
  logger().info("connection from {}: user '{}' authenticated and granted access to vhost '{}'",
                peer_.address, user_, m.virtual_host);
}

void AmqpConnection::on_close() {
  for (auto& [number, ch] : channels_) {
    if (ch) ch->close_core();
  }
  send(protocol::ConnectionCloseOk{});
  next_ = NextStep::kCloseAfterFlush;
  phase_ = Phase::kClosed;
}

void AmqpConnection::on_channel_frame(const protocol::Frame& frame) {
  if (phase_ != Phase::kRunning) {
    close_with(MethodError{
        Status(StatusCode::kUnexpectedFrame,
               protocol::unexpected_frame_text(static_cast<uint8_t>(frame.type), frame.payload)),
        0, 0});
    return;
  }
  if (frame.type == protocol::FrameType::kHeartbeat) {
    close_with(MethodError{
        Status(StatusCode::kUnexpectedFrame,
               protocol::unexpected_frame_text(static_cast<uint8_t>(frame.type), frame.payload)),
        0, 0});
    return;
  }
  const uint16_t number = frame.channel;
  std::unique_ptr<AmqpChannel>& ch = channels_[number];
  if (!ch) {
    // Any frame on an unused channel creates it (rabbit_reader:create_channel); it then
    // accepts only channel.open.
    if (channel_max_ != 0 && open_channels_ >= channel_max_) {
      close_with(MethodError{not_allowed(fmt::format("number of channels opened ({}) has reached "
                                                     "the negotiated channel_max ({})",
                                                     open_channels_, channel_max_)),
                             0, 0});
      return;
    }
    ch = std::make_unique<AmqpChannel>(*this, number);
    ++open_channels_;
  }
  const bool publish = frame.type == protocol::FrameType::kMethod && frame.payload.size() >= 4 &&
                       frame.payload[0] == 0 && frame.payload[1] == 60 && frame.payload[2] == 0 &&
                       frame.payload[3] == 40;
  if (publish) published_ = true;
  MethodError error = ch->handle_frame(frame);
  if (publish && (memory_alarm_ || disk_alarm_) && !blocked_ && phase_ == Phase::kRunning) {
    block();
    update_state();
  }
  if (error.status.code() == StatusCode::kInternalError) {
    // An internal failure is RabbitMQ's crashed channel: its close names no method.
    error.class_id = error.method_id = 0;
  }
  if (!error.status.ok()) {
    if (reply_for(error.status).scope == ReplyScope::kChannel) {
      ch->close_with(error);
    } else {
      close_with(error);
      return;
    }
  }
  if (ch->finished()) {
    close_channel(number);
    return;
  }
  if (ch->core() && ch->core()->confirm_mode()) touched_.push_back(number);
}

void AmqpConnection::close_channel_with(uint16_t number, const MethodError& error) {
  AmqpChannel* found = channel(number);
  if (phase_ != Phase::kRunning || found == nullptr) return;
  AmqpChannel& ch = *found;
  if (ch.state() != AmqpChannel::State::kOpen) return;
  if (reply_for(error.status).scope == ReplyScope::kChannel) {
    ch.close_with(error);
  } else {
    close_with(error);
  }
}

void AmqpConnection::close_channel(uint16_t number) {
  auto it = channels_.find(number);
  if (it != channels_.end() && it->second) {
    it->second->close_core();
    channels_.erase(it);
    --open_channels_;
  }
}

void AmqpConnection::flush_channels() {
  if (touched_.empty()) return;
  std::sort(touched_.begin(), touched_.end());
  touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
  for (uint16_t number : touched_) {
    AmqpChannel* ch = channel(number);
    if (ch != nullptr && ch->core()) ch->core()->flush();
  }
  touched_.clear();
}

// ---- errors ------------------------------------------------------------------------------

void AmqpConnection::close_with(const MethodError& error) {
  if (phase_ == Phase::kStarting || phase_ == Phase::kTuning) {
    // Before connection.open RabbitMQ 3.10.8 only logs errors (a failed tune-ok negotiation
    // included) and closes the socket after a delay, without connection.close.
    silent_close(error.status);
    return;
  }
  if (protocol::is_unknown_method(error.status)) {
    // RabbitMQ's reader crashes on an unknown class or method id: the client sees the
    // socket close at once, without a reply.
    logger().error("connection from {}: {}", peer_.address, error.status.message());
    for (auto& [number, ch] : channels_) {
      if (ch) ch->close_core();
    }
    next_ = NextStep::kCloseAfterFlush;
    phase_ = Phase::kClosed;
    return;
  }
  Reply reply = reply_for(error.status);
  logger().warn("connection from {}: closing: {}", peer_.address, reply.text);
  flush_channels();
  for (auto& [number, ch] : channels_) {
    if (ch) ch->close_core();
  }
  send(protocol::ConnectionClose{reply.code, reply.text, error.class_id, error.method_id});
  phase_ = Phase::kClosing;
}

void AmqpConnection::fatal(const Status& status) {
  close_with(MethodError{status, 0, 0});
  if (next_ == NextStep::kContinue) next_ = NextStep::kCloseAfterDelay;
}

void AmqpConnection::silent_close(const Status& status) {
  logger().error("connection from {}: handshake failed: {}", peer_.address, status.to_string());
  next_ = NextStep::kCloseAfterDelay;
  phase_ = Phase::kClosed;
}

}  // namespace burrow::server
