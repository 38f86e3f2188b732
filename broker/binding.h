// A binding: a route from a source exchange to a queue or to another exchange.
#pragma once

#include <string>

#include <burrow/field_table.h>

namespace burrow::broker {

enum class DestinationKind : uint8_t { kQueue, kExchange };

// Identity is the whole tuple, as in RabbitMQ: the same source, destination and key with
// different arguments are two bindings.
struct Binding {
  std::string source;
  DestinationKind kind = DestinationKind::kQueue;
  std::string destination;
  std::string routing_key;
  FieldTable arguments;

  friend bool operator==(const Binding&, const Binding&) = default;
};

}  // namespace burrow::broker
