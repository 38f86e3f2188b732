// connection.start server properties.
#include "server/server_properties.h"

#include <unistd.h>

#include <string>

namespace burrow::server {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

const std::string& server_node_name() {
  static const std::string kName = "burrow@" + host_name();
  return kName;
}

const FieldTable& server_properties() {
  static const FieldTable kProperties = [] {
    FieldTable caps{
        {"publisher_confirms", true},
        {"exchange_exchange_bindings", true},
        {"basic.nack", true},
        {"consumer_cancel_notify", true},
        {"connection.blocked", true},
        {"consumer_priorities", true},
        {"authentication_failure_close", true},
        {"per_consumer_qos", true},
        {"direct_reply_to", true},
    };
    return FieldTable{
        {"capabilities", caps},
        {"cluster_name", "burrow@" + host_name()},
        {"copyright", "Copyright (c) the Burrow authors"},
        {"information", "Burrow, an embeddable AMQP 0-9-1 broker that behaves as RabbitMQ 3.10"},
        {"platform", "C++20"},
        {"product", "Burrow"},
        {"version", "3.10.8"},
        {"burrow_version", "0.1.0"},
    };
  }();
  return kProperties;
}

}  // namespace burrow::server
