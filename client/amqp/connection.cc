// ClientConnection: connect (TCP + ClientHandshake on the calling thread), then hand the
// socket to a ConnectionCore and its threads.
#include "client/amqp/connection.h"

#include <chrono>

#include "base/status_macros.h"
#include "client/amqp/channel_state.h"
#include "client/amqp/connection_core.h"
#include "client/amqp/socket.h"

namespace burrow::client::amqp {

namespace {

using Clock = std::chrono::steady_clock;

// Runs the handshake on `socket`; returns the bytes read after open-ok.
Result<std::string> handshake(TcpSocket& socket, ClientHandshake& hs, Clock::time_point deadline) {
  std::string out;
  hs.start(out);
  RETURN_IF_ERROR(socket.write_all(out));
  std::string in;
  size_t used_total = 0;
  char buf[16 * 1024];
  while (!hs.done()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return Status(StatusCode::kTimedOut, "the AMQP handshake did not finish in time");
    }
    Result<size_t> n = socket.read_some(buf, sizeof buf, static_cast<int>(left.count()));
    if (!n.ok()) {
      if (n.status().code() == StatusCode::kClosed) {
        return Status(StatusCode::kClosed,
                      "the broker closed the socket during the handshake (refused login or "
                      "unsupported protocol?)");
      }
      return n.status();
    }
    in.append(buf, *n);
    out.clear();
    Result<size_t> used = hs.on_input(std::string_view(in).substr(used_total), out);
    if (!out.empty()) {
      Status sent = socket.write_all(out);
      if (used.ok() && !sent.ok()) return sent;
    }
    if (!used.ok()) return used.status();
    used_total += *used;
  }
  return in.substr(used_total);
}

}  // namespace

Result<std::unique_ptr<ClientConnection>> ClientConnection::connect(
    const ConnectionOptions& options) {
  const auto deadline = Clock::now() + options.connect_timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<TcpSocket> socket,
                   TcpSocket::connect(options.host, options.port, options.connect_timeout));
  ClientHandshake hs(options);
  ASSIGN_OR_RETURN(std::string leftover, handshake(*socket, hs, deadline));
  auto core = std::make_shared<ConnectionCore>(std::move(socket), options, hs.tuning(),
                                               hs.server_properties());
  core->start(std::move(leftover));
  return std::unique_ptr<ClientConnection>(new ClientConnection(std::move(core)));
}

Result<std::unique_ptr<ClientConnection>> ClientConnection::connect(
    const std::string& host, uint16_t port, const std::string& user, const std::string& password,
    const std::string& vhost, uint16_t heartbeat_s, uint32_t frame_max) {
  ConnectionOptions o;
  o.host = host;
  o.port = port;
  o.user = user;
  o.password = password;
  o.vhost = vhost;
  o.heartbeat_s = heartbeat_s;
  o.frame_max = frame_max;
  return connect(o);
}

ClientConnection::~ClientConnection() {
  if (core_->is_open() && !core_->on_reader_thread()) core_->close().ignore_error();
  core_->stop();
}

Result<std::unique_ptr<ClientChannel>> ClientConnection::open_channel() {
  ASSIGN_OR_RETURN(std::shared_ptr<ChannelState> state, core_->add_channel());
  Result<protocol::ChannelOpenOk> ok =
      state->call<protocol::ChannelOpenOk>(protocol::ChannelOpen{});
  if (!ok.ok()) {
    core_->remove_channel(state->number(), state.get());
    return ok.status();
  }
  return std::make_unique<ClientChannel>(core_, std::move(state));
}

Status ClientConnection::close() { return core_->close(); }
bool ClientConnection::is_open() const { return core_->is_open(); }
Status ClientConnection::status() const { return core_->status(); }
const Tuning& ClientConnection::tuning() const { return core_->tuning(); }
const FieldTable& ClientConnection::server_properties() const { return core_->server_properties(); }
bool ClientConnection::blocked() const { return core_->blocked(); }
void ClientConnection::flush() { core_->flush(); }

void ClientConnection::set_close_callback(std::function<void(const Status&)> callback) {
  core_->set_close_callback(std::move(callback));
}

void ClientConnection::set_blocked_callback(
    std::function<void(bool blocked, const std::string& reason)> cb) {
  core_->set_blocked_callback(std::move(cb));
}

}  // namespace burrow::client::amqp
