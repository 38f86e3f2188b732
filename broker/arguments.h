// Helpers for x-arguments as RabbitMQ treats them: Erlang type names for texts, integer type
// classes, and rabbit_misc:assert_args_equivalence for redeclarations.
#pragma once

#include <string>
#include <string_view>

#include <burrow/field_table.h>
#include <burrow/status.h>

namespace burrow::broker {

// RabbitMQ's name for a field type: longstr, signedint, long, bool, table, array, ...
std::string_view erlang_type_name(FieldValue::Type type);

// A value as Erlang prints it in RabbitMQ's texts: string content, integers, true/false,
// floats with a fraction (5.0).
std::string erlang_value(const FieldValue& value);

// A value as RabbitMQ's rabbit_misc:val/1 prints it in an equivalence error: "none" when
// absent, else "the value 'V' of type 'T'".
std::string describe_arg(const FieldValue* value);

// rabbit_misc:assert_args_equivalence for one key: equal when both are absent, or the types are
// of one class (the integer types form one class) and the values are equal. Error: 406
// "inequivalent arg 'KEY' for RESOURCE: received NEW but current is ORIG", where RESOURCE is
// e.g. "queue 'q' in vhost '/'".
Status assert_arg_equivalence(const FieldTable& current, const FieldTable& received,
                              std::string_view key, std::string_view resource);

}  // namespace burrow::broker
