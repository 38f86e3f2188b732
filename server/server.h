// The AMQP 0-9-1 listener: accepts TCP connections (plain, or TLS for amqps) and runs one
// AmqpConnection per socket on the broker's worker threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <burrow/status.h>

#include "server/amqp_connection.h"
#include "server/resource_alarms.h"

namespace burrow::broker {
class BrokerCore;
}
namespace boost::asio::ssl {
class context;
}

namespace burrow::server {

struct ServerOptions {
  ServerLimits limits;
  // Memory and disk alarms that block publishing connections (not owned; may be null).
  ResourceAlarms* alarms = nullptr;
  // A connection must complete the AMQP handshake (through connection.open) within this time
  // (RabbitMQ's handshake_timeout). On a TLS listener the TLS handshake gets the same time
  // first, and the AMQP handshake's clock starts when it is done (as RabbitMQ's
  // ssl_handshake_timeout and handshake_timeout).
  int handshake_timeout_ms = 10000;
  // RabbitMQ's SILENT_CLOSE_DELAY: how long a refused handshake or a framing error waits
  // before the socket is closed.
  int silent_close_delay_ms = 3000;
  // After sending connection.close, how long to wait for close-ok (RabbitMQ's
  // CLOSING_TIMEOUT, or the heartbeat if shorter).
  int closing_timeout_ms = 30000;
  // Sockets (AMQP connections, handshaking ones included) accepted at once; past it the
  // listeners stop accepting until one closes, and new clients wait in the kernel's backlog.
  // Default: 0 = derived from the process's file-descriptor limit as RabbitMQ derives its
  // socket limit: 90 % of what is left after 100 descriptors (fewer for tiny limits) are kept
  // for the store, the management API and the rest (default_socket_limit()).
  size_t socket_limit = 0;
};

// RabbitMQ's socket limit for the process's RLIMIT_NOFILE (1024 -> 831, 20000 -> 17910).
size_t default_socket_limit();

// Thread-safe. Sessions run on the core's worker pool.
class Server {
 public:
  Server(broker::BrokerCore& core, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Returns the bound port (useful with port 0).
  // Errors: kIoError if the address cannot be bound.
  Result<uint16_t> listen(const std::string& address, uint16_t port);
  // The open connections (management).
  ConnectionRegistry& connections();
  // ServerOptions::socket_limit in effect.
  size_t socket_limit() const;
  // Like listen, for amqps: each accepted socket does a TLS handshake with `tls` (see
  // make_tls_server_context in server/tls.h) before the AMQP handshake. A failed TLS
  // handshake closes that socket only (logged at warn). May be called with listen, for
  // several ports. Errors: as listen; kInvalidArgument if `tls` is null.
  Result<uint16_t> listen_tls(const std::string& address, uint16_t port,
                              std::shared_ptr<boost::asio::ssl::context> tls);
  // Stops accepting and closes every connection (their unacked messages are requeued).
  // Idempotent; blocks until the sessions are torn down.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  uint64_t alarm_subscription_ = 0;
};

}  // namespace burrow::server
