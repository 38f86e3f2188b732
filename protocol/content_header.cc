// Content header codec: the 14 basic properties behind a flags word, in the spec's order.
#include "protocol/content_header.h"

#include "base/status_macros.h"
#include "protocol/field_table_codec.h"

namespace burrow::protocol {
namespace {

// Flag bits of the first flags word, most significant first, in property order.
enum : uint16_t {
  kContentType = 1u << 15,
  kContentEncoding = 1u << 14,
  kHeaders = 1u << 13,
  kDeliveryMode = 1u << 12,
  kPriority = 1u << 11,
  kCorrelationId = 1u << 10,
  kReplyTo = 1u << 9,
  kExpiration = 1u << 8,
  kMessageId = 1u << 7,
  kTimestamp = 1u << 6,
  kType = 1u << 5,
  kUserId = 1u << 4,
  kAppId = 1u << 3,
  kClusterId = 1u << 2,
  // Bit 1 is unused; bit 0 says another flags word follows.
  kContinuation = 1u << 0,
};

template <typename T, typename Read>
Status read_if(uint16_t flags, uint16_t bit, std::optional<T>& out, Read read) {
  if (!(flags & bit)) {
    out.reset();
    return Status();
  }
  return read(out ? *out : out.emplace());  // reuse a held string's capacity
}

}  // namespace

void encode_properties(const BasicProperties& p, Writer& w) {
  const auto flag = [](bool present, uint16_t bit) { return present ? bit : uint16_t{0}; };
  w.put_u16(static_cast<uint16_t>(
      flag(p.content_type.has_value(), kContentType) |
      flag(p.content_encoding.has_value(), kContentEncoding) |
      flag(p.headers.has_value(), kHeaders) | flag(p.delivery_mode.has_value(), kDeliveryMode) |
      flag(p.priority.has_value(), kPriority) | flag(p.correlation_id.has_value(), kCorrelationId) |
      flag(p.reply_to.has_value(), kReplyTo) | flag(p.expiration.has_value(), kExpiration) |
      flag(p.message_id.has_value(), kMessageId) | flag(p.timestamp.has_value(), kTimestamp) |
      flag(p.type.has_value(), kType) | flag(p.user_id.has_value(), kUserId) |
      flag(p.app_id.has_value(), kAppId) | flag(p.cluster_id.has_value(), kClusterId)));
  if (p.content_type) w.put_shortstr(*p.content_type);
  if (p.content_encoding) w.put_shortstr(*p.content_encoding);
  if (p.headers) encode_table(*p.headers, w);
  if (p.delivery_mode) w.put_u8(*p.delivery_mode);
  if (p.priority) w.put_u8(*p.priority);
  if (p.correlation_id) w.put_shortstr(*p.correlation_id);
  if (p.reply_to) w.put_shortstr(*p.reply_to);
  if (p.expiration) w.put_shortstr(*p.expiration);
  if (p.message_id) w.put_shortstr(*p.message_id);
  if (p.timestamp) w.put_u64(*p.timestamp);
  if (p.type) w.put_shortstr(*p.type);
  if (p.user_id) w.put_shortstr(*p.user_id);
  if (p.app_id) w.put_shortstr(*p.app_id);
  if (p.cluster_id) w.put_shortstr(*p.cluster_id);
}

Status decode_properties(Reader& r, BasicProperties& out) {
  uint16_t flags = 0;
  RETURN_IF_ERROR(r.read_u16(flags));
  // The spec allows more flags words after one with the continuation bit (bit 0). RabbitMQ
  // 3.10.8 ignores that bit and reads properties right after the first word, so a
  // continuation word is trailing bytes to it (observed: 541 for "00 01 00 00"); Burrow reads
  // the same way. Basic has 14 properties: one word holds them all.
  const auto shortstr = [&r](std::string& v) { return r.read_shortstr(v); };
  const auto octet = [&r](uint8_t& v) { return r.read_u8(v); };
  RETURN_IF_ERROR(read_if(flags, kContentType, out.content_type, shortstr));
  RETURN_IF_ERROR(read_if(flags, kContentEncoding, out.content_encoding, shortstr));
  RETURN_IF_ERROR(
      read_if(flags, kHeaders, out.headers, [&r](FieldTable& v) { return decode_table(r, v); }));
  RETURN_IF_ERROR(read_if(flags, kDeliveryMode, out.delivery_mode, octet));
  RETURN_IF_ERROR(read_if(flags, kPriority, out.priority, octet));
  RETURN_IF_ERROR(read_if(flags, kCorrelationId, out.correlation_id, shortstr));
  RETURN_IF_ERROR(read_if(flags, kReplyTo, out.reply_to, shortstr));
  RETURN_IF_ERROR(read_if(flags, kExpiration, out.expiration, shortstr));
  RETURN_IF_ERROR(read_if(flags, kMessageId, out.message_id, shortstr));
  RETURN_IF_ERROR(
      read_if(flags, kTimestamp, out.timestamp, [&r](uint64_t& v) { return r.read_u64(v); }));
  RETURN_IF_ERROR(read_if(flags, kType, out.type, shortstr));
  RETURN_IF_ERROR(read_if(flags, kUserId, out.user_id, shortstr));
  RETURN_IF_ERROR(read_if(flags, kAppId, out.app_id, shortstr));
  return read_if(flags, kClusterId, out.cluster_id, shortstr);
}

Status decode_content_header(std::string_view payload, ContentHeader& out) {
  Reader r(payload);
  RETURN_IF_ERROR(r.read_u16(out.class_id));
  RETURN_IF_ERROR(r.read_u16(out.weight));
  RETURN_IF_ERROR(r.read_u64(out.body_size));
  out.raw_properties = payload.substr(payload.size() - r.remaining());
  return decode_properties_exactly(out.raw_properties, out.properties);
}

Status decode_properties_exactly(std::string_view bytes, BasicProperties& out) {
  Reader r(bytes);
  RETURN_IF_ERROR(decode_properties(r, out));
  // RabbitMQ's decode_properties ends with `<<>> = R14`: nothing may follow the properties.
  if (r.remaining() != 0) {
    return Status(StatusCode::kSyntaxError, "bytes after the content header properties");
  }
  return Status();
}

void encode_content_header(uint16_t class_id, uint64_t body_size,
                           std::string_view encoded_properties, Writer& w) {
  w.put_u16(class_id);
  w.put_u16(0);  // weight: always 0 in 0-9-1
  w.put_u64(body_size);
  w.put_bytes(encoded_properties);
}

}  // namespace burrow::protocol
