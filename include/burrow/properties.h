// The 14 AMQP basic-class properties a message carries (the content header's fields).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <burrow/field_table.h>

namespace burrow {

// Message properties. An absent optional is a property the publisher did not set (its flag bit
// is clear on the wire). Plain value type; thread-compatible.
struct BasicProperties {
  std::optional<std::string> content_type;
  std::optional<std::string> content_encoding;
  std::optional<FieldTable> headers;
  // 1 = transient, 2 = persistent. Only persistent messages in durable queues survive a restart.
  std::optional<uint8_t> delivery_mode;
  std::optional<uint8_t> priority;
  std::optional<std::string> correlation_id;
  std::optional<std::string> reply_to;
  // Per-message TTL in milliseconds, as a decimal string ("60000").
  std::optional<std::string> expiration;
  std::optional<std::string> message_id;
  std::optional<uint64_t> timestamp;  // seconds since the epoch
  std::optional<std::string> type;
  // If set, must equal the publishing user's name (RabbitMQ checks it).
  std::optional<std::string> user_id;
  std::optional<std::string> app_id;
  // The deprecated "reserved" property (cluster-id), carried through unchanged.
  std::optional<std::string> cluster_id;

  bool persistent() const { return delivery_mode && *delivery_mode == 2; }

  friend bool operator==(const BasicProperties&, const BasicProperties&) = default;
};

}  // namespace burrow
