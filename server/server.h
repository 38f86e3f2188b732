// The AMQP 0-9-1 listener: accepts TCP connections and runs one AmqpConnection per socket on
// the broker's worker threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <burrow/status.h>

#include "server/amqp_connection.h"

namespace burrow::broker {
class BrokerCore;
}

namespace burrow::server {

struct ServerOptions {
  ServerLimits limits;
  // A connection must complete the handshake (through connection.open) within this time
  // (RabbitMQ's handshake_timeout).
  int handshake_timeout_ms = 10000;
  // RabbitMQ's SILENT_CLOSE_DELAY: how long a refused handshake or a framing error waits
  // before the socket is closed.
  int silent_close_delay_ms = 3000;
  // After sending connection.close, how long to wait for close-ok (RabbitMQ's
  // CLOSING_TIMEOUT, or the heartbeat if shorter).
  int closing_timeout_ms = 30000;
};

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
  // Stops accepting and closes every connection (their unacked messages are requeued).
  // Idempotent; blocks until the sessions are torn down.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace burrow::server
