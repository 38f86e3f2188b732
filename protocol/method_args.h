// The pieces the generated method codecs (protocol/methods.cc) are built from: pack_bits for
// encoding bit fields and ArgsReader for decoding arguments with RabbitMQ's order of errors.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "protocol/wire.h"

namespace burrow::protocol {

// Packs consecutive bit fields into one octet, the first field in the least significant bit.
constexpr uint8_t pack_bits(std::initializer_list<bool> bits) {
  uint8_t v = 0;
  uint8_t mask = 1;
  for (bool b : bits) {
    if (b) v |= mask;
    mask = static_cast<uint8_t>(mask << 1);
  }
  return v;
}

// Reads a method's arguments field by field and keeps the first error of each kind.
//
// RabbitMQ matches the whole argument binary against the method's layout before it looks inside
// any field, so arguments that end early are a layout error even when an earlier field's content
// was bad. Content errors (a short string that is not UTF-8, a malformed field table) count only
// when the layout matched, first field first. finish() returns the layout error (the Reader's
// kSyntaxError, see is_truncated()) before any content error. Not thread-safe.
class ArgsReader {
 public:
  explicit ArgsReader(Reader& r) : r_(r) {}

  void u8(uint8_t& v) { layout(r_.read_u8(v)); }
  void u16(uint16_t& v) { layout(r_.read_u16(v)); }
  void u32(uint32_t& v) { layout(r_.read_u32(v)); }
  void u64(uint64_t& v) { layout(r_.read_u64(v)); }
  // The octet holding a group of bit fields.
  uint8_t bits() {
    uint8_t v = 0;
    u8(v);
    return v;
  }
  void shortstr(std::string& v) { layout(r_.read_shortstr(v)); }
  // A short string RabbitMQ requires to be UTF-8 (every short string of a method without
  // content). Content error: kFrameError "Malformed UTF-8 in shortstr".
  void shortstr_utf8(std::string& v);
  void longstr(std::string& v) { layout(r_.read_longstr(v)); }
  // The table's length is layout; its entries are content. Content error: kSyntaxError
  // "malformed field table: ..." (RabbitMQ fails with function_clause and drops the connection).
  void table(FieldTable& v);

  Status finish() { return !layout_.ok() ? std::move(layout_) : std::move(content_); }

 private:
  void layout(Status s) {
    if (!s.ok() && layout_.ok()) layout_ = std::move(s);
  }

  Reader& r_;
  Status layout_;
  Status content_;
};

}  // namespace burrow::protocol
