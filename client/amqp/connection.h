// ClientConnection: an AMQP 0-9-1 client connection to any broker (Burrow, RabbitMQ), over
// TCP. Opens channels; reports how and why it closed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "client/amqp/channel.h"
#include "client/amqp/connection_options.h"
#include "client/amqp/handshake.h"

namespace burrow::client::amqp {

class ConnectionCore;

// Thread-safe: any thread may open channels, query status or close. Each connection runs a
// reader thread (which runs every callback of the connection and of its channels, one at a
// time, in arrival order) and a writer thread (which batches frames into socket writes and
// sends heartbeats). There is no automatic recovery: when the connection is lost, every call
// fails with status() and the owner connects again (as the outbox relay does, with backoff).
//
// Ownership: the ClientConnection owns the socket; destroying it closes the connection.
// Channels keep the shared state alive but are closed with it. Do not destroy a connection
// (or call close()) from one of its own callbacks.
class ClientConnection {
 public:
  // Connects and performs the handshake: protocol header, start/start-ok with PLAIN
  // credentials, tune/tune-ok (channel_max, frame_max and heartbeat negotiated as
  // ConnectionOptions describes), open/open-ok on the vhost. Errors:
  // - kIoError / kTimedOut: the TCP connection failed or the handshake took longer than
  //   options.connect_timeout;
  // - kAccessRefused: the broker refused the credentials (RabbitMQ's 403 text);
  // - kNotAllowed: the vhost does not exist or the user may not use it;
  // - kClosed: the broker closed the socket during the handshake without saying why (a
  //   broker that does not send connection.close for a refused login);
  // - kNotImplemented: the broker does not speak AMQP 0-9-1 or offers no PLAIN mechanism.
  static Result<std::unique_ptr<ClientConnection>> connect(const ConnectionOptions& options);
  // The same with the common fields; heartbeat_s and frame_max as in ConnectionOptions.
  static Result<std::unique_ptr<ClientConnection>> connect(
      const std::string& host, uint16_t port, const std::string& user, const std::string& password,
      const std::string& vhost = "/", uint16_t heartbeat_s = 60, uint32_t frame_max = 131072);

  // Closes the connection (see close()) and joins its threads.
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Opens a channel on the lowest free number. Errors: the connection's status when it is
  // closed; kNotAllowed when channel_max channels are open; kTimedOut.
  Result<std::unique_ptr<ClientChannel>> open_channel();

  // connection.close, wait for close-ok (options.rpc_timeout), close the socket. Unsent
  // publishes buffered before the call are sent first. Returns OK once closed (also when it
  // was already closed: status() tells why); kTimedOut when the broker did not answer (the
  // socket is closed anyway); kInvalidArgument from a callback.
  Status close();

  bool is_open() const;
  // OK while open; afterwards why it closed: the broker's connection.close (reply code as
  // StatusCode, reply text as message, e.g. kConnectionForced on a broker shutdown), kClosed
  // "connection lost: ..." / kIoError for a lost socket, kTimedOut for missed heartbeats,
  // kClosed "connection closed by the client" after close().
  Status status() const;
  // What tune/tune-ok settled on.
  const Tuning& tuning() const;
  // connection.start's server properties (product, version, capabilities, ...).
  const FieldTable& server_properties() const;
  // True between connection.blocked and connection.unblocked (a resource alarm on the broker).
  bool blocked() const;

  // Called once, on the reader thread, when the connection closes for any reason, with
  // status(). Set it right after connect.
  void set_close_callback(std::function<void(const Status&)> callback);
  // Called on the reader thread for connection.blocked (true, reason) and unblocked (false).
  void set_blocked_callback(std::function<void(bool blocked, const std::string& reason)> cb);

  // Asks the writer to send everything buffered now (publishes are otherwise batched).
  void flush();

 private:
  explicit ClientConnection(std::shared_ptr<ConnectionCore> core) : core_(std::move(core)) {}
  std::shared_ptr<ConnectionCore> core_;
};

}  // namespace burrow::client::amqp
