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
  std::string once;
  Writer w1(once);
  encode_table(table, w1);
  Reader r2(once);
  burrow::FieldTable again;
  FUZZ_CHECK(decode_table(r2, again).ok());
  FUZZ_CHECK(r2.remaining() == 0);
  std::string twice;
  Writer w2(twice);
  encode_table(again, w2);
  FUZZ_CHECK(once == twice);
  return 0;
}
