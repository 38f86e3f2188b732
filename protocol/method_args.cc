// ArgsReader's content checks: UTF-8 short strings and field tables.
#include "protocol/method_args.h"

#include "protocol/erlang_text.h"
#include "protocol/field_table_codec.h"
#include "protocol/utf8.h"

namespace burrow::protocol {

void ArgsReader::shortstr_utf8(std::string& v) {
  Status s = r_.read_shortstr(v);
  if (!s.ok()) return layout(std::move(s));
  if (content_.ok() && !is_rabbit_utf8(v)) {
    content_ = Status(StatusCode::kFrameError, std::string(kMalformedUtf8Text));
  }
}

void ArgsReader::table(FieldTable& v) {
  const uint8_t* start = r_.position();
  uint32_t size = 0;
  Status s = r_.read_u32(size);
  if (s.ok()) s = r_.skip(size);
  if (!s.ok()) return layout(std::move(s));
  // The bytes are there; decode the entries from a reader over exactly this table.
  Reader table_reader(start, sizeof(uint32_t) + size_t{size});
  Status entries = decode_table(table_reader, v);
  if (!entries.ok() && content_.ok()) {
    content_ = Status(StatusCode::kSyntaxError, "malformed field table: " + entries.message());
  }
}

}  // namespace burrow::protocol
