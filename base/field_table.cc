// FieldTable lookups, FieldValue conversions and rendering.
#include <burrow/field_table.h>

#include <fmt/format.h>

namespace burrow {

FieldTable::FieldTable(std::initializer_list<FieldEntry> entries) : entries_(entries) {}

const FieldValue* FieldTable::find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e.value;
  }
  return nullptr;
}

FieldValue* FieldTable::find(std::string_view name) {
  for (auto& e : entries_) {
    if (e.name == name) return &e.value;
  }
  return nullptr;
}

void FieldTable::set(std::string name, FieldValue value) {
  if (FieldValue* existing = find(name)) {
    *existing = std::move(value);
    return;
  }
  entries_.push_back(FieldEntry{std::move(name), std::move(value)});
}

bool FieldTable::erase(std::string_view name) {
  auto old_size = entries_.size();
  std::erase_if(entries_, [&](const FieldEntry& e) { return e.name == name; });
  return entries_.size() != old_size;
}

bool operator==(const FieldTable& a, const FieldTable& b) { return a.entries_ == b.entries_; }

char field_type_code(FieldValue::Type type) {
  static constexpr char kCodes[] = {'t', 'b', 'B', 's', 'u', 'I', 'i', 'l', 'f',
                                    'd', 'D', 'S', 'x', 'A', 'T', 'F', 'V'};
  return kCodes[static_cast<size_t>(type)];
}

char FieldValue::type_code() const { return field_type_code(type()); }

std::optional<int64_t> FieldValue::as_integer() const {
  return std::visit(
      [](const auto& v) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<int64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      v_);
}

std::optional<double> FieldValue::as_number() const {
  if (auto i = as_integer()) return static_cast<double>(*i);
  if (auto f = get_if<float>()) return *f;
  if (auto d = get_if<double>()) return *d;
  return std::nullopt;
}

const std::string* FieldValue::as_string() const {
  if (auto s = get_if<std::string>()) return s;
  if (auto b = get_if<Bytes>()) return &b->data;
  return nullptr;
}

std::string to_string(const FieldValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
          return std::to_string(static_cast<int>(v));
        } else if constexpr (std::is_integral_v<T> || std::is_floating_point_v<T>) {
          return fmt::format("{}", v);
        } else if constexpr (std::is_same_v<T, Decimal>) {
          return fmt::format("{{decimal,{},{}}}", v.scale, v.value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, Bytes>) {
          return v.data;
        } else if constexpr (std::is_same_v<T, FieldArray>) {
          std::string out = "[";
          for (size_t i = 0; i < v.size(); ++i) {
            if (i) out += ",";
            out += to_string(v[i]);
          }
          return out + "]";
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return fmt::format("{}", v.seconds);
        } else if constexpr (std::is_same_v<T, FieldTable>) {
          return to_string(v);
        } else {
          return "undefined";
        }
      },
      value.variant());
}

std::string to_string(const FieldTable& table) {
  std::string out = "[";
  bool first = true;
  for (const auto& e : table.entries()) {
    if (!first) out += ",";
    first = false;
    out += fmt::format("{{{},{}}}", e.name, to_string(e.value));
  }
  return out + "]";
}

}  // namespace burrow
