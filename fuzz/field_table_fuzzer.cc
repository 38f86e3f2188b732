// libFuzzer target: decode_table over arbitrary bytes (the 4-byte length prefix included):
// huge declared lengths, deep nesting, unknown type octets, truncation anywhere. A table that
// decodes must re-encode to bytes that decode again and re-encode identically.
#include <cstddef>
#include <cstdint>
#include <string>

#include <burrow/field_table.h>

#include "fuzz/fuzz_check.h"
#include "protocol/field_table_codec.h"
#include "protocol/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace burrow::protocol;
  Reader r(data, size);
  burrow::FieldTable table;
  if (!decode_table(r, table).ok()) return 0;
  check_reencodes(table, encode_table, [](std::string_view bytes, burrow::FieldTable& out) {
    Reader reader(bytes);
    return decode_table(reader, out).ok() && reader.remaining() == 0;
  });
  return 0;
}
