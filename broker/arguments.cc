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

std::string describe_arg(const FieldValue* value) {
  if (value == nullptr) return "none";
  return fmt::format("the value '{}' of type '{}'", to_string(*value),
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
  return precondition_failed(
      fmt::format("inequivalent arg '{}' for {}: received {} but current "
                  "is {}",
                  key, resource, describe_arg(now), describe_arg(orig)));
}

}  // namespace burrow::broker
