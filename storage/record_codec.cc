// Field tables, properties and message values to and from their protobuf records.
#include "storage/record_codec.h"

#include <chrono>

#include <limits>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "base/status_macros.h"

namespace burrow::storage {
namespace {

// A table nested 64 deep (the AMQP codec's limit) is about 3 protobuf messages per level.
constexpr int kRecordRecursionLimit = 512;

Status corrupt(std::string what) { return Status(StatusCode::kCorruption, std::move(what)); }

template <typename T>
Status in_range(int64_t v, const char* type, T& out) {
  if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
    return corrupt(std::string("stored ") + type +
                   " field value out of range: " + std::to_string(v));
  }
  out = static_cast<T>(v);
  return Status();
}

void put_varint32(std::string& out, uint32_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint32 at the front of `in` and removes it; false when truncated or too long.
bool get_varint32(std::string_view& in, uint32_t& value) {
  value = 0;
  for (int shift = 0; shift <= 28 && !in.empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    value |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

void encode_field_value(const ::burrow::FieldValue& value, FieldValue& out) {
  using Type = ::burrow::FieldValue::Type;
  const auto& v = value.variant();
  switch (value.type()) {
    case Type::kBool:
      out.set_bool_value(std::get<bool>(v));
      break;
    case Type::kInt8:
      out.set_int8_value(std::get<int8_t>(v));
      break;
    case Type::kUInt8:
      out.set_uint8_value(std::get<uint8_t>(v));
      break;
    case Type::kInt16:
      out.set_int16_value(std::get<int16_t>(v));
      break;
    case Type::kUInt16:
      out.set_uint16_value(std::get<uint16_t>(v));
      break;
    case Type::kInt32:
      out.set_int32_value(std::get<int32_t>(v));
      break;
    case Type::kUInt32:
      out.set_uint32_value(std::get<uint32_t>(v));
      break;
    case Type::kInt64:
      out.set_int64_value(std::get<int64_t>(v));
      break;
    case Type::kFloat:
      out.set_float_value(std::get<float>(v));
      break;
    case Type::kDouble:
      out.set_double_value(std::get<double>(v));
      break;
    case Type::kDecimal: {
      const auto& d = std::get<::burrow::Decimal>(v);
      out.mutable_decimal_value()->set_scale(d.scale);
      out.mutable_decimal_value()->set_value(d.value);
      break;
    }
    case Type::kString:
      out.set_string_value(std::get<std::string>(v));
      break;
    case Type::kBytes:
      out.set_bytes_value(std::get<::burrow::Bytes>(v).data);
      break;
    case Type::kArray: {
      auto* array = out.mutable_array_value();
      for (const auto& item : std::get<::burrow::FieldArray>(v)) {
        encode_field_value(item, *array->add_values());
      }
      break;
    }
    case Type::kTimestamp:
      out.set_timestamp_value(std::get<::burrow::Timestamp>(v).seconds);
      break;
    case Type::kTable:
      encode_field_table(std::get<::burrow::FieldTable>(v), *out.mutable_table_value());
      break;
    case Type::kVoid:
      out.mutable_void_value();
      break;
  }
}

void encode_field_table(const ::burrow::FieldTable& table, FieldTable& out) {
  out.mutable_entries()->Reserve(static_cast<int>(table.size()));
  for (const auto& entry : table.entries()) {
    auto* e = out.add_entries();
    e->set_name(entry.name);
    encode_field_value(entry.value, *e->mutable_value());
  }
}

Status decode_field_value(const FieldValue& record, ::burrow::FieldValue& out) {
  switch (record.value_case()) {
    case FieldValue::kBoolValue:
      out = record.bool_value();
      return Status();
    case FieldValue::kInt8Value: {
      int8_t v = 0;
      RETURN_IF_ERROR(in_range(record.int8_value(), "int8", v));
      out = v;
      return Status();
    }
    case FieldValue::kUint8Value: {
      uint8_t v = 0;
      RETURN_IF_ERROR(in_range(record.uint8_value(), "uint8", v));
      out = v;
      return Status();
    }
    case FieldValue::kInt16Value: {
      int16_t v = 0;
      RETURN_IF_ERROR(in_range(record.int16_value(), "int16", v));
      out = v;
      return Status();
    }
    case FieldValue::kUint16Value: {
      uint16_t v = 0;
      RETURN_IF_ERROR(in_range(record.uint16_value(), "uint16", v));
      out = v;
      return Status();
    }
    case FieldValue::kInt32Value:
      out = static_cast<int32_t>(record.int32_value());
      return Status();
    case FieldValue::kUint32Value:
      out = static_cast<uint32_t>(record.uint32_value());
      return Status();
    case FieldValue::kInt64Value:
      out = static_cast<int64_t>(record.int64_value());
      return Status();
    case FieldValue::kUint64Value:
      // No base type holds an unsigned 64-bit value; nothing writes this case yet.
      return corrupt("stored uint64 field value is not supported by this version");
    case FieldValue::kFloatValue:
      out = record.float_value();
      return Status();
    case FieldValue::kDoubleValue:
      out = record.double_value();
      return Status();
    case FieldValue::kDecimalValue: {
      ::burrow::Decimal d;
      RETURN_IF_ERROR(in_range(record.decimal_value().scale(), "decimal scale", d.scale));
      d.value = record.decimal_value().value();
      out = d;
      return Status();
    }
    case FieldValue::kStringValue:
      out = std::string(record.string_value());
      return Status();
    case FieldValue::kBytesValue:
      out = ::burrow::Bytes{record.bytes_value()};
      return Status();
    case FieldValue::kArrayValue: {
      ::burrow::FieldArray array;
      array.reserve(static_cast<size_t>(record.array_value().values_size()));
      for (const auto& item : record.array_value().values()) {
        RETURN_IF_ERROR(decode_field_value(item, array.emplace_back()));
      }
      out = std::move(array);
      return Status();
    }
    case FieldValue::kTimestampValue:
      out = ::burrow::Timestamp{record.timestamp_value()};
      return Status();
    case FieldValue::kTableValue: {
      ::burrow::FieldTable table;
      RETURN_IF_ERROR(decode_field_table(record.table_value(), table));
      out = std::move(table);
      return Status();
    }
    case FieldValue::kVoidValue:
      out = ::burrow::Void{};
      return Status();
    case FieldValue::VALUE_NOT_SET:
      break;
  }
  return corrupt("stored field value has no type");
}

Status decode_field_table(const FieldTable& record, ::burrow::FieldTable& out) {
  auto& entries = out.entries();
  entries.clear();
  entries.reserve(static_cast<size_t>(record.entries_size()));
  for (const auto& e : record.entries()) {
    auto& entry = entries.emplace_back();
    entry.name = e.name();
    RETURN_IF_ERROR(decode_field_value(e.value(), entry.value));
  }
  return Status();
}

void encode_properties(const ::burrow::BasicProperties& p, Properties& out) {
  if (p.content_type) out.set_content_type(*p.content_type);
  if (p.content_encoding) out.set_content_encoding(*p.content_encoding);
  if (p.headers) encode_field_table(*p.headers, *out.mutable_headers());
  if (p.delivery_mode) out.set_delivery_mode(*p.delivery_mode);
  if (p.priority) out.set_priority(*p.priority);
  if (p.correlation_id) out.set_correlation_id(*p.correlation_id);
  if (p.reply_to) out.set_reply_to(*p.reply_to);
  if (p.expiration) out.set_expiration(*p.expiration);
  if (p.message_id) out.set_message_id(*p.message_id);
  if (p.timestamp) out.set_timestamp(*p.timestamp);
  if (p.type) out.set_type(*p.type);
  if (p.user_id) out.set_user_id(*p.user_id);
  if (p.app_id) out.set_app_id(*p.app_id);
  if (p.cluster_id) out.set_cluster_id(*p.cluster_id);
}

Status decode_properties(const Properties& r, ::burrow::BasicProperties& out) {
  out = ::burrow::BasicProperties{};
  if (r.has_content_type()) out.content_type = r.content_type();
  if (r.has_content_encoding()) out.content_encoding = r.content_encoding();
  if (r.has_headers()) {
    out.headers.emplace();
    RETURN_IF_ERROR(decode_field_table(r.headers(), *out.headers));
  }
  if (r.has_delivery_mode()) {
    uint8_t v = 0;
    RETURN_IF_ERROR(in_range(r.delivery_mode(), "delivery mode", v));
    out.delivery_mode = v;
  }
  if (r.has_priority()) {
    uint8_t v = 0;
    RETURN_IF_ERROR(in_range(r.priority(), "priority", v));
    out.priority = v;
  }
  if (r.has_correlation_id()) out.correlation_id = r.correlation_id();
  if (r.has_reply_to()) out.reply_to = r.reply_to();
  if (r.has_expiration()) out.expiration = r.expiration();
  if (r.has_message_id()) out.message_id = r.message_id();
  if (r.has_timestamp()) out.timestamp = r.timestamp();
  if (r.has_type()) out.type = r.type();
  if (r.has_user_id()) out.user_id = r.user_id();
  if (r.has_app_id()) out.app_id = r.app_id();
  if (r.has_cluster_id()) out.cluster_id = r.cluster_id();
  return Status();
}

std::string serialize_record(const google::protobuf::MessageLite& record) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    record.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string binding_arguments_bytes(const ::burrow::FieldTable& arguments) {
  if (arguments.empty()) return {};
  FieldTable record;
  encode_field_table(arguments, record);
  return serialize_record(record);
}

Status parse_record(std::string_view bytes, google::protobuf::MessageLite& record) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  in.SetRecursionLimit(kRecordRecursionLimit);
  if (bytes.size() > static_cast<size_t>(INT32_MAX) || !record.ParseFromCodedStream(&in) ||
      !in.ConsumedEntireMessage()) {
    return corrupt("stored " + record.GetTypeName() + " record (" + std::to_string(bytes.size()) +
                   " bytes) does not parse");
  }
  return Status();
}

std::string encode_message_value(MessageRecord& record, std::string_view body) {
  record.set_body_size(body.size());
  const size_t record_size = record.ByteSizeLong();
  std::string value;
  value.reserve(5 + record_size + body.size());
  put_varint32(value, static_cast<uint32_t>(record_size));
  record.AppendToString(&value);
  value.append(body);
  return value;
}

Status decode_message_value(std::string_view value, MessageRecord& record, std::string_view& body) {
  std::string_view rest = value;
  uint32_t record_size = 0;
  if (!get_varint32(rest, record_size) || record_size > rest.size()) {
    return corrupt("stored message value (" + std::to_string(value.size()) +
                   " bytes) is truncated");
  }
  RETURN_IF_ERROR(parse_record(rest.substr(0, record_size), record));
  rest.remove_prefix(record_size);
  if (record.body_size() != rest.size()) {
    return corrupt("stored message body has " + std::to_string(rest.size()) +
                   " bytes, its record says " + std::to_string(record.body_size()));
  }
  body = rest;
  return Status();
}

bool inbox_entry_expired(std::string_view value, uint64_t now_ms) {
  InboxEntry entry;
  if (!entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
  return entry.expires_at_ms() != 0 && entry.expires_at_ms() <= now_ms;
}

uint64_t wall_clock_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace burrow::storage
