// The server-properties table of connection.start.
#pragma once

#include <string>

#include <burrow/field_table.h>

namespace burrow::server {

// RabbitMQ 3.10's keys and capabilities table, with Burrow's identity: product "Burrow",
// version "3.10.8" (the RabbitMQ behaviour it reproduces, for clients that gate features on
// the broker version) and burrow_version (Burrow's own). docs/rabbitmq_compatibility.md explains.
const FieldTable& server_properties();
// The node name management shows: "burrow@<host>" (RabbitMQ's rabbit@<host>).
const std::string& server_node_name();

}  // namespace burrow::server
