// x-argument helpers.
#include "broker/arguments.h"

#include <fmt/format.h>

namespace burrow::broker {

std::string_view erlang_type_name(FieldValue::Type type) {
  switch (type) {
    case FieldValue::Type::kBool:
      return "bool";
    case FieldValue::Type::kInt8:
      return "byte";
    case FieldValue::Type::kUInt8:
      return "unsignedbyte";
    case FieldValue::Type::kInt16:
      return "short";
    case FieldValue::Type::kUInt16:
      return "unsignedshort";
    case FieldValue::Type::kInt32:
      return "signedint";
    case FieldValue::Type::kUInt32:
      return "unsignedint";
    case FieldValue::Type::kInt64:
      return "long";
    case FieldValue::Type::kFloat:
      return "float";
    case FieldValue::Type::kDouble:
      return "double";
    case FieldValue::Type::kDecimal:
      return "decimal";
    case FieldValue::Type::kString:
      return "longstr";
    case FieldValue::Type::kBytes:
      return "binary";
    case FieldValue::Type::kArray:
      return "array";
    case FieldValue::Type::kTimestamp:
      return "timestamp";
    case FieldValue::Type::kTable:
      return "table";
    case FieldValue::Type::kVoid:
      return "void";
  }
  return "unknown";
}

std::string erlang_value(const FieldValue& value) {
  if (const std::string* s = value.as_string()) return *s;
  if (auto i = value.as_integer()) return std::to_string(*i);
  if (const bool* b = value.get_if<bool>()) return *b ? "true" : "false";
  double d = 0;
  if (const float* f = value.get_if<float>())
    d = *f;
  else if (const double* dd = value.get_if<double>())
    d = *dd;
  else
    return to_string(value);
  // Erlang prints floats in their shortest round-trip form, always with a fraction.
  std::string out = fmt::format("{}", d);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  if (auto e = out.find('e'); e != std::string::npos && out.find('.') == std::string::npos) {
    out.insert(e, ".0");
  }
  return out;
}

std::string describe_arg(const FieldValue* value) {
  if (value == nullptr) return "none";
  return fmt::format("the value '{}' of type '{}'", erlang_value(*value),
                     erlang_type_name(value->type()));
}

namespace {

// rabbit_misc:type_class/1: every integer type is one class.
int type_class(const FieldValue& v) {
  if (v.as_integer()) return -1;
  return static_cast<int>(v.type());
}

bool equivalent(const FieldValue* a, const FieldValue* b) {
  if (a == nullptr || b == nullptr) return a == b;
  if (type_class(*a) != type_class(*b)) return false;
  if (auto ia = a->as_integer()) return *ia == *b->as_integer();
  return *a == *b;
}

}  // namespace

Status assert_arg_equivalence(const FieldTable& current, const FieldTable& received,
                              std::string_view key, std::string_view resource) {
  const FieldValue* orig = current.find(key);
  const FieldValue* now = received.find(key);
  if (equivalent(orig, now)) return Status();
  // rabbit_misc:assert_args_equivalence1: with both present the bare values are printed,
  // with one missing the typed form ("the value ... of type ...") and "none".
  std::string received_text, current_text;
  if (orig != nullptr && now != nullptr) {
    received_text = "'" + erlang_value(*now) + "'";
    current_text = "'" + erlang_value(*orig) + "'";
  } else {
    received_text = describe_arg(now);
    current_text = describe_arg(orig);
  }
  return precondition_failed(
      fmt::format("inequivalent arg '{}' for {}: received {} but current "
                  "is {}",
                  key, resource, received_text, current_text));
}

}  // namespace burrow::broker
