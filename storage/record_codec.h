// Conversions between base's AMQP value types (FieldTable, BasicProperties) and their records
// in storage/records.proto, the framing of a message value (record + body without a copy),
// and parsing that reports a bad record as kCorruption. Include this (not store.h) where the
// broker builds or reads records; it brings in protobuf headers.
#pragma once

#include <string>
#include <string_view>

#include <burrow/field_table.h>
#include <burrow/properties.h>
#include <burrow/status.h>

#include "storage/records.pb.h"

namespace burrow::storage {

// --- Field tables and properties: exact round trips, the AMQP type of every value kept ---
void encode_field_table(const ::burrow::FieldTable& table, FieldTable& out);
void encode_field_value(const ::burrow::FieldValue& value, FieldValue& out);
// Errors: kCorruption for a value without a type or out of its type's range.
Status decode_field_table(const FieldTable& record, ::burrow::FieldTable& out);
Status decode_field_value(const FieldValue& record, ::burrow::FieldValue& out);

void encode_properties(const ::burrow::BasicProperties& properties, Properties& out);
// Errors: kCorruption for a delivery mode or priority above 255 or a bad header value.
Status decode_properties(const Properties& record, ::burrow::BasicProperties& out);

// The same bytes for equal tables, every time: binding keys (storage/keys.h) embed it.
std::string binding_arguments_bytes(const ::burrow::FieldTable& arguments);

// --- Records ---
// Serializes deterministically (equal records give equal bytes).
std::string serialize_record(const google::protobuf::MessageLite& record);
// Parses `bytes` into `record`, allowing field tables nested as deep as the AMQP codec accepts.
// Errors: kCorruption naming the record type.
Status parse_record(std::string_view bytes, google::protobuf::MessageLite& record);

// --- Message values (column kMessages) ---
//
//   +------------------+------------------------------+---------------------------+
//   | varint32 length  | MessageRecord (length bytes) | body (to the end)         |
//   +------------------+------------------------------+---------------------------+
//
// Sets record.body_size and returns the value to put. One copy of the body, into the value.
std::string encode_message_value(MessageRecord& record, std::string_view body);
// Parses a value; `body` points into `value` (no copy) and is valid as long as it.
// Errors: kCorruption for a truncated value, a bad record or a body of the wrong size.
Status decode_message_value(std::string_view value, MessageRecord& record, std::string_view& body);

// Whether a stored InboxEntry value is past its dedup window at `now_ms` (wall clock). An
// unreadable value is kept (false): the filter never drops what it cannot read.
bool inbox_entry_expired(std::string_view value, uint64_t now_ms);
// Milliseconds since the epoch by the system clock.
uint64_t wall_clock_ms();

}  // namespace burrow::storage
