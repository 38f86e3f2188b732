// Encoding and decoding of field tables and arrays with every value type RabbitMQ accepts:
// t b B s u I i l L f d D S x A T F V ('L' decodes to a signed 64-bit integer, as RabbitMQ).
//
//   table  = u32 byte length, then entries: shortstr name, type octet, value
//   array  = u32 byte length, then values:  type octet, value
#pragma once

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "protocol/wire.h"

namespace burrow::protocol {

// Tables may nest tables and arrays; deeper input is rejected so a hostile peer cannot exhaust
// the stack.
inline constexpr int kMaxFieldTableDepth = 128;

void encode_table(const FieldTable& table, Writer& w);
void encode_array(const FieldArray& array, Writer& w);
void encode_field_value(const FieldValue& value, Writer& w);

// Errors: kSyntaxError for truncated data, an unknown type octet, a length beyond the
// enclosing data, or nesting deeper than kMaxFieldTableDepth.
Status decode_table(Reader& r, FieldTable& out);
Status decode_array(Reader& r, FieldArray& out);

}  // namespace burrow::protocol
