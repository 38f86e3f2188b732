// Non-default field values for the generated method samples (method_samples.h). `v` (0 or 1)
// picks a value set; `i` is the field's position, so neighbouring fields differ. Integers have
// their top bit set (sign and width mistakes show), strings reach the wire limits in set 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <burrow/field_table.h>

namespace burrow::protocol::testing {

// Set 0 alternates starting with true (bit order mistakes show); set 1 sets every bit.
inline bool sample_bit(int v, int bit) { return v == 1 || bit % 2 == 0; }
inline uint8_t sample_octet(int v, int i) { return static_cast<uint8_t>(0x80 | v << 4 | (i + 1)); }
inline uint16_t sample_short(int v, int i) {
  return static_cast<uint16_t>(0x8000 | v << 12 | (i + 1) << 4 | 0x5);
}
inline uint32_t sample_long(int v, int i) {
  return 0x80000000u | uint32_t(v) << 24 | uint32_t(i + 1) << 8 | 0x37;
}
inline uint64_t sample_longlong(int v, int i) {
  return 0x8000000000000000ull | uint64_t(v) << 48 | uint64_t(i + 1) << 16 | 0x1234;
}
// Set 0: the field's name plus non-ASCII UTF-8; set 1: 255 bytes, the short string limit.
inline std::string sample_shortstr(int v, std::string_view name) {
  if (v == 0) return std::string(name) + " \xc3\xa9\xe2\x82\xac";  // " é€"
  std::string s(255, 'x');
  s.replace(0, name.size(), name);
  return s;
}
// Set 0: bytes a short string could not hold (NUL, 0xFF); set 1: longer than 64 KiB.
inline std::string sample_longstr(int v, std::string_view name) {
  if (v == 0) return std::string("\0\x01\xff", 3) + std::string(name);
  return std::string(name) + std::string(70000, 'y');
}
inline FieldTable sample_table(int v, std::string_view name) {
  if (v == 0) return FieldTable{{"name", std::string(name)}, {"n", int32_t{-7}}};
  return FieldTable{{"x-nested", FieldTable{{"list", FieldArray{int64_t{1} << 40, "two", Void{}}}}},
                    {"flag", true},
                    {"name", Bytes{std::string(name)}}};
}

}  // namespace burrow::protocol::testing
