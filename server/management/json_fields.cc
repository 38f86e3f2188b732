// JSON <-> AMQP field tables and message properties, as rabbit_mgmt_format renders them.
#include <cmath>

#include "server/management/api_internal.h"

namespace burrow::server::management {

json field_value_json(const FieldValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v;
        } else if constexpr (std::is_integral_v<T>) {
          return static_cast<int64_t>(v);
        } else if constexpr (std::is_floating_point_v<T>) {
          return static_cast<double>(v);
        } else if constexpr (std::is_same_v<T, Decimal>) {
          return static_cast<double>(v.value) / std::pow(10.0, v.scale);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, Bytes>) {
          return v.data;
        } else if constexpr (std::is_same_v<T, FieldArray>) {
          json out = json::array();
          for (const auto& e : v) out.push_back(field_value_json(e));
          return out;
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return v.seconds;
        } else if constexpr (std::is_same_v<T, FieldTable>) {
          return field_table_json(v);
        } else {
          return nullptr;  // Void
        }
      },
      value.variant());
}

json field_table_json(const FieldTable& table) {
  json out = json::object();
  for (const auto& e : table.entries()) out[e.name] = field_value_json(e.value);
  return out;
}

FieldValue json_field_value(const json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_unsigned()) return static_cast<int64_t>(value.get<uint64_t>());
  if (value.is_number_float()) return value.get<double>();
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    FieldArray out;
    for (const auto& e : value) out.push_back(json_field_value(e));
    return out;
  }
  if (value.is_object()) return json_field_table(value);
  return Void{};
}

FieldTable json_field_table(const json& object) {
  FieldTable out;
  if (!object.is_object()) return out;
  for (const auto& [key, value] : object.items()) out.set(key, json_field_value(value));
  return out;
}

std::optional<int64_t> json_int(const json& value) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_unsigned()) return static_cast<int64_t>(value.get<uint64_t>());
  if (value.is_string()) {
    const std::string s = value.get<std::string>();
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() + s.size()) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

bool json_bool(const json& object, const char* key, bool fallback) {
  if (!object.contains(key)) return fallback;
  const json& v = object[key];
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) return v.get<std::string>() == "true";
  return fallback;
}

json properties_json(const BasicProperties& p) {
  json out = json::object();
  if (p.content_type) out["content_type"] = *p.content_type;
  if (p.content_encoding) out["content_encoding"] = *p.content_encoding;
  if (p.headers) out["headers"] = field_table_json(*p.headers);
  if (p.delivery_mode) out["delivery_mode"] = *p.delivery_mode;
  if (p.priority) out["priority"] = *p.priority;
  if (p.correlation_id) out["correlation_id"] = *p.correlation_id;
  if (p.reply_to) out["reply_to"] = *p.reply_to;
  if (p.expiration) out["expiration"] = *p.expiration;
  if (p.message_id) out["message_id"] = *p.message_id;
  if (p.timestamp) out["timestamp"] = *p.timestamp;
  if (p.type) out["type"] = *p.type;
  if (p.user_id) out["user_id"] = *p.user_id;
  if (p.app_id) out["app_id"] = *p.app_id;
  if (p.cluster_id) out["cluster_id"] = *p.cluster_id;
  return out;
}

Result<BasicProperties> json_properties(const json& object) {
  BasicProperties p;
  if (!object.is_object()) return invalid_argument("properties must be an object");
  for (const auto& [key, value] : object.items()) {
    auto text = [&](std::optional<std::string>& field) -> Status {
      if (!value.is_string()) return invalid_argument(key + " must be a string");
      field = value.get<std::string>();
      return Status();
    };
    auto integer = [&](int64_t max) -> Result<int64_t> {
      auto v = json_int(value);
      if (!v || *v < 0 || *v > max) return invalid_argument(key + " must be an integer");
      return *v;
    };
    Status s;
    if (key == "content_type") {
      s = text(p.content_type);
    } else if (key == "content_encoding") {
      s = text(p.content_encoding);
    } else if (key == "headers") {
      if (!value.is_object()) return invalid_argument("headers must be an object");
      p.headers = json_field_table(value);
    } else if (key == "delivery_mode") {
      auto v = integer(255);
      if (!v.ok()) return v.status();
      p.delivery_mode = static_cast<uint8_t>(*v);
    } else if (key == "priority") {
      auto v = integer(255);
      if (!v.ok()) return v.status();
      p.priority = static_cast<uint8_t>(*v);
    } else if (key == "timestamp") {
      auto v = integer(INT64_MAX);
      if (!v.ok()) return v.status();
      p.timestamp = static_cast<uint64_t>(*v);
    } else if (key == "correlation_id") {
      s = text(p.correlation_id);
    } else if (key == "reply_to") {
      s = text(p.reply_to);
    } else if (key == "expiration") {
      s = text(p.expiration);
    } else if (key == "message_id") {
      s = text(p.message_id);
    } else if (key == "type") {
      s = text(p.type);
    } else if (key == "user_id") {
      s = text(p.user_id);
    } else if (key == "app_id") {
      s = text(p.app_id);
    } else if (key == "cluster_id") {
      s = text(p.cluster_id);
    }
    if (!s.ok()) return s;
  }
  return p;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c >> 5) == 6) {
      n = 1;
    } else if ((c >> 4) == 14) {
      n = 2;
    } else if ((c >> 3) == 30) {
      n = 3;
    } else {
      return false;
    }
    if (n > 0 && i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace burrow::server::management
