// Key encoders and decoders for the layouts drawn in storage/keys.h.
#include "storage/keys.h"

namespace burrow::storage {
namespace {

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// A length-prefixed component: [varint len][bytes].
void put_name(std::string& out, std::string_view name) {
  put_varint(out, name.size());
  out.append(name);
}

std::string tagged(MetadataKind kind) { return std::string(1, static_cast<char>(kind)); }

}  // namespace

void put_u64_be(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t get_u64_be(const char* p) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

std::string message_key(uint64_t queue_id, uint64_t seq) {
  std::string key;
  key.reserve(kMessageKeySize);
  put_u64_be(key, queue_id);
  put_u64_be(key, seq);
  return key;
}

std::string message_prefix(uint64_t queue_id) {
  std::string key;
  key.reserve(kMessagePrefixSize);
  put_u64_be(key, queue_id);
  return key;
}

std::optional<MessageKey> decode_message_key(std::string_view key) {
  if (key.size() != kMessageKeySize) return std::nullopt;
  return MessageKey{get_u64_be(key.data()), get_u64_be(key.data() + 8)};
}

std::string outbox_key(uint64_t row_id) {
  std::string key;
  put_u64_be(key, row_id);
  return key;
}

std::optional<uint64_t> decode_outbox_key(std::string_view key) {
  if (key.size() != kOutboxKeySize) return std::nullopt;
  return get_u64_be(key.data());
}

std::string parked_outbox_key(uint64_t row_id) {
  std::string key(kParkedOutboxPrefix);
  put_u64_be(key, row_id);
  return key;
}

std::optional<uint64_t> decode_parked_outbox_key(std::string_view key) {
  if (key.size() != kParkedOutboxPrefix.size() + kOutboxKeySize ||
      !key.starts_with(kParkedOutboxPrefix)) {
    return std::nullopt;
  }
  return get_u64_be(key.data() + kParkedOutboxPrefix.size());
}

std::string inbox_prefix(std::string_view scope) {
  std::string key;
  put_name(key, scope);
  return key;
}

std::string inbox_key(std::string_view scope, std::string_view message_id) {
  std::string key = inbox_prefix(scope);
  key.append(message_id);
  return key;
}

std::string metadata_prefix(MetadataKind kind) { return tagged(kind); }

std::string vhost_key(std::string_view vhost) {
  std::string key = tagged(MetadataKind::kVhost);
  key.append(vhost);
  return key;
}

std::string user_key(std::string_view user) {
  std::string key = tagged(MetadataKind::kUser);
  key.append(user);
  return key;
}

std::string permission_key(std::string_view vhost, std::string_view user) {
  std::string key = tagged(MetadataKind::kPermission);
  put_name(key, vhost);
  key.append(user);
  return key;
}

std::string exchange_prefix(std::string_view vhost) {
  std::string key = tagged(MetadataKind::kExchange);
  put_name(key, vhost);
  return key;
}

std::string exchange_key(std::string_view vhost, std::string_view exchange) {
  std::string key = exchange_prefix(vhost);
  key.append(exchange);
  return key;
}

std::string queue_prefix(std::string_view vhost) {
  std::string key = tagged(MetadataKind::kQueue);
  put_name(key, vhost);
  return key;
}

std::string queue_key(std::string_view vhost, std::string_view queue) {
  std::string key = queue_prefix(vhost);
  key.append(queue);
  return key;
}

std::string queue_head_key(uint64_t queue_id) {
  std::string key = tagged(MetadataKind::kQueueHead);
  put_u64_be(key, queue_id);
  return key;
}

std::string delivered_key(uint64_t queue_id, uint64_t seq) {
  std::string key = delivered_prefix(queue_id);
  put_u64_be(key, seq);
  return key;
}

std::string delivered_prefix(uint64_t queue_id) {
  std::string key = tagged(MetadataKind::kDelivered);
  put_u64_be(key, queue_id);
  return key;
}

std::string outbox_sequence_key() { return tagged(MetadataKind::kOutboxSequence); }
std::string outbox_head_key() { return tagged(MetadataKind::kOutboxHead); }

std::string running_key() { return tagged(MetadataKind::kRunning); }

std::string delayed_prefix(std::string_view vhost) {
  std::string key = tagged(MetadataKind::kDelayed);
  put_name(key, vhost);
  return key;
}

std::string delayed_key(std::string_view vhost, uint64_t id) {
  std::string key = delayed_prefix(vhost);
  put_u64_be(key, id);
  return key;
}

std::string binding_prefix(std::string_view vhost) {
  std::string key = tagged(MetadataKind::kBinding);
  put_name(key, vhost);
  return key;
}

std::string binding_source_prefix(std::string_view vhost, std::string_view source) {
  std::string key = binding_prefix(vhost);
  put_name(key, source);
  return key;
}

std::string binding_key(std::string_view vhost, std::string_view source, BindingDestination kind,
                        std::string_view destination, std::string_view routing_key,
                        std::string_view arguments) {
  std::string key = binding_source_prefix(vhost, source);
  key.push_back(static_cast<char>(kind));
  put_name(key, destination);
  put_name(key, routing_key);
  key.append(arguments);
  return key;
}

std::string policy_key(std::string_view vhost, std::string_view policy) {
  std::string key = tagged(MetadataKind::kPolicy);
  put_name(key, vhost);
  key.append(policy);
  return key;
}

std::string prefix_successor(std::string_view prefix) {
  std::string key(prefix);
  while (!key.empty()) {
    auto last = static_cast<unsigned char>(key.back());
    if (last != 0xff) {
      key.back() = static_cast<char>(last + 1);
      return key;
    }
    key.pop_back();
  }
  return key;
}

}  // namespace burrow::storage
