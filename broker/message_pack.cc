// The store's record codec for messages, and the packed form.
//
// Packed form (all lengths and integers as base-128 varints):
//
//   published_at | exchange (length, bytes) | routing key (length, bytes) |
//   property mask (bit i: field i of BasicProperties present, in declaration order) |
//   each present property (strings: length, bytes; delivery mode, priority: one byte;
//   timestamp: varint; headers: length, then a storage FieldTable record) |
//   BCC key count, each key (length, bytes) | body (to the end)
//
// Headers go through the store's field-table record (exact AMQP types kept); everything
// else is written directly, so packing a plain message costs a few copies.
#include "broker/message_pack.h"

#include <cstdint>
#include <optional>

#include "base/status_macros.h"
#include "storage/record_codec.h"

namespace burrow::broker {

namespace st = burrow::storage;

void fill_record(const StoredMessage& message, st::MessageRecord& record) {
  const Message& m = message.message;
  record.set_exchange(m.exchange);
  record.set_routing_key(m.routing_key);
  st::encode_properties(m.properties, *record.mutable_properties());
  record.set_publish_time_ms(static_cast<uint64_t>(message.published_at));
  for (const std::string& key : message.bcc_keys) record.add_bcc_keys(key);
}

Result<StoredMessagePtr> message_from_record(const st::MessageRecord& record,
                                             std::string_view body) {
  auto message = std::make_shared<StoredMessage>();
  message->message.exchange = record.exchange();
  message->message.routing_key = record.routing_key();
  RETURN_IF_ERROR(st::decode_properties(record.properties(), message->message.properties));
  message->message.body.assign(body);
  message->published_at = static_cast<TimeMs>(record.publish_time_ms());
  message->bcc_keys.assign(record.bcc_keys().begin(), record.bcc_keys().end());
  return StoredMessagePtr(std::move(message));
}

namespace {

// Bits of the property mask.
enum PropertyBit : uint32_t {
  kContentType = 1u << 0,
  kContentEncoding = 1u << 1,
  kHeaders = 1u << 2,
  kDeliveryMode = 1u << 3,
  kPriority = 1u << 4,
  kCorrelationId = 1u << 5,
  kReplyTo = 1u << 6,
  kExpiration = 1u << 7,
  kMessageId = 1u << 8,
  kTimestamp = 1u << 9,
  kType = 1u << 10,
  kUserId = 1u << 11,
  kAppId = 1u << 12,
  kClusterId = 1u << 13,
};

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

// Reads from the front of `in`; false when the bytes end too early (damaged).
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return false;
      const auto b = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool bytes(std::string_view& s) {
    uint64_t n = 0;
    if (!varint(n) || n > in_.size()) return false;
    s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool string(std::string& s) {
    std::string_view v;
    if (!bytes(v)) return false;
    s.assign(v);
    return true;
  }
  bool optional_string(uint32_t mask, uint32_t bit, std::optional<std::string>& s) {
    if ((mask & bit) == 0) return true;
    return string(s.emplace());
  }
  bool byte(uint8_t& b) {
    if (in_.empty()) return false;
    b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  std::string_view rest() const { return in_; }

 private:
  std::string_view in_;
};

Status damaged() { return Status(StatusCode::kCorruption, "a packed message is damaged"); }

}  // namespace

void pack_message(const StoredMessage& message, std::string& out) {
  const Message& m = message.message;
  const BasicProperties& p = m.properties;
  out.clear();
  put_varint(out, static_cast<uint64_t>(message.published_at));
  put_bytes(out, m.exchange);
  put_bytes(out, m.routing_key);
  uint32_t mask = 0;
  if (p.content_type) mask |= kContentType;
  if (p.content_encoding) mask |= kContentEncoding;
  if (p.headers) mask |= kHeaders;
  if (p.delivery_mode) mask |= kDeliveryMode;
  if (p.priority) mask |= kPriority;
  if (p.correlation_id) mask |= kCorrelationId;
  if (p.reply_to) mask |= kReplyTo;
  if (p.expiration) mask |= kExpiration;
  if (p.message_id) mask |= kMessageId;
  if (p.timestamp) mask |= kTimestamp;
  if (p.type) mask |= kType;
  if (p.user_id) mask |= kUserId;
  if (p.app_id) mask |= kAppId;
  if (p.cluster_id) mask |= kClusterId;
  put_varint(out, mask);
  if (p.content_type) put_bytes(out, *p.content_type);
  if (p.content_encoding) put_bytes(out, *p.content_encoding);
  if (p.headers) {
    st::FieldTable table;
    st::encode_field_table(*p.headers, table);
    put_bytes(out, st::serialize_record(table));
  }
  if (p.delivery_mode) out.push_back(static_cast<char>(*p.delivery_mode));
  if (p.priority) out.push_back(static_cast<char>(*p.priority));
  if (p.correlation_id) put_bytes(out, *p.correlation_id);
  if (p.reply_to) put_bytes(out, *p.reply_to);
  if (p.expiration) put_bytes(out, *p.expiration);
  if (p.message_id) put_bytes(out, *p.message_id);
  if (p.timestamp) put_varint(out, *p.timestamp);
  if (p.type) put_bytes(out, *p.type);
  if (p.user_id) put_bytes(out, *p.user_id);
  if (p.app_id) put_bytes(out, *p.app_id);
  if (p.cluster_id) put_bytes(out, *p.cluster_id);
  put_varint(out, message.bcc_keys.size());
  for (const std::string& key : message.bcc_keys) put_bytes(out, key);
  out.append(m.body);
}

Result<StoredMessagePtr> unpack_message(std::string_view packed) {
  auto message = std::make_shared<StoredMessage>();
  Message& m = message->message;
  BasicProperties& p = m.properties;
  Reader in(packed);
  uint64_t published_at = 0, mask = 0;
  if (!in.varint(published_at) || !in.string(m.exchange) || !in.string(m.routing_key) ||
      !in.varint(mask)) {
    return damaged();
  }
  message->published_at = static_cast<TimeMs>(published_at);
  const auto bits = static_cast<uint32_t>(mask);
  if (!in.optional_string(bits, kContentType, p.content_type) ||
      !in.optional_string(bits, kContentEncoding, p.content_encoding)) {
    return damaged();
  }
  if (bits & kHeaders) {
    std::string_view bytes;
    if (!in.bytes(bytes)) return damaged();
    st::FieldTable table;
    RETURN_IF_ERROR(st::parse_record(bytes, table));
    RETURN_IF_ERROR(st::decode_field_table(table, p.headers.emplace()));
  }
  uint8_t b = 0;
  if (bits & kDeliveryMode) {
    if (!in.byte(b)) return damaged();
    p.delivery_mode = b;
  }
  if (bits & kPriority) {
    if (!in.byte(b)) return damaged();
    p.priority = b;
  }
  if (!in.optional_string(bits, kCorrelationId, p.correlation_id) ||
      !in.optional_string(bits, kReplyTo, p.reply_to) ||
      !in.optional_string(bits, kExpiration, p.expiration) ||
      !in.optional_string(bits, kMessageId, p.message_id)) {
    return damaged();
  }
  if (bits & kTimestamp) {
    uint64_t t = 0;
    if (!in.varint(t)) return damaged();
    p.timestamp = t;
  }
  if (!in.optional_string(bits, kType, p.type) || !in.optional_string(bits, kUserId, p.user_id) ||
      !in.optional_string(bits, kAppId, p.app_id) ||
      !in.optional_string(bits, kClusterId, p.cluster_id)) {
    return damaged();
  }
  uint64_t bcc = 0;
  if (!in.varint(bcc) || bcc > packed.size()) return damaged();
  message->bcc_keys.resize(bcc);
  for (std::string& key : message->bcc_keys) {
    if (!in.string(key)) return damaged();
  }
  m.body.assign(in.rest());
  return StoredMessagePtr(std::move(message));
}

}  // namespace burrow::broker
