// The management HTTP API: RabbitMQ 3.10's paths, JSON field names, status codes and error
// bodies over Burrow's broker core, so rabbitmqadmin, dashboards and scripts work unchanged
// (docs/management.md lists what is served). Also /metrics in rabbitmq_prometheus's format
// and Burrow's own /api/burrow/... operations (outbox parked rows, dead-letter replay).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <burrow/status.h>

#include "server/management/http_types.h"

namespace burrow::broker {
class BrokerCore;
}

namespace burrow::server {
class ConnectionRegistry;
class ResourceAlarms;
}  // namespace burrow::server

namespace burrow::server::management {

// A listener as /api/overview shows it.
struct ListenerInfo {
  std::string protocol;  // "amqp", "http", "amqp/ssl"
  std::string ip_address;
  uint16_t port = 0;
};

struct ApiOptions {
  std::vector<ListenerInfo> listeners;
  // Memory and disk alarms to report and adjust (not owned; may be null).
  ResourceAlarms* alarms = nullptr;
  // The AMQP listeners' socket limit (Server::socket_limit()), reported as sockets_total;
  // 0: the file-descriptor limit.
  size_t socket_limit = 0;
};

// Thread-safe: handle() may run on several threads at once.
class ManagementApi {
 public:
  // `connections` may be null (no AMQP listener).
  ManagementApi(broker::BrokerCore& core, ConnectionRegistry* connections, ApiOptions options);
  ~ManagementApi();
  ManagementApi(const ManagementApi&) = delete;
  ManagementApi& operator=(const ManagementApi&) = delete;

  void add_listener(ListenerInfo listener);

  HttpResponse handle(const HttpRequest& request);

  // Loads a definitions document (RabbitMQ's definitions.json) as the administrator would
  // (burrowd --definitions). Errors: kInvalidArgument with the reason.
  Status import_definitions(const std::string& json_text);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace burrow::server::management
