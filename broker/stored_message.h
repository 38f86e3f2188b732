// The broker's immutable, shared form of a published message.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <burrow/clock.h>
#include <burrow/message.h>

namespace burrow::broker {

// Created once per publish and shared by every queue the message reached. Immutable after
// publish, so any thread may read it.
struct StoredMessage {
  Message message;
  // The properties as the publishing adapter received them on the wire, kept so an adapter
  // can deliver them without re-encoding. Opaque to the broker; empty when the message did
  // not come from the wire or its properties were changed (dead-lettering).
  std::string wire_properties;
  TimeMs published_at = 0;
  // Routing keys from a BCC header, which is removed before the message reaches a queue but
  // still counts when it is dead-lettered without x-dead-letter-routing-key.
  std::vector<std::string> bcc_keys;

  size_t body_size() const { return message.body.size(); }
  bool persistent() const { return message.properties.persistent(); }
};

using StoredMessagePtr = std::shared_ptr<const StoredMessage>;

// The public view of a stored message, sharing its ownership (no copy).
inline std::shared_ptr<const Message> public_message(const StoredMessagePtr& stored) {
  return std::shared_ptr<const Message>(stored, &stored->message);
}

}  // namespace burrow::broker
