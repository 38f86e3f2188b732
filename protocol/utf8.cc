// xmerl_ucs:from_utf8/1's acceptance rules (expand_utf8_1/3), without building code points.
#include "protocol/utf8.h"

#include <cstdint>

namespace burrow::protocol {

bool is_rabbit_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* end = p + s.size();
  while (p < end) {
    // ASCII runs dominate queue names and routing keys.
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const auto cont = [](uint8_t c) { return (c & 0xC0) == 0x80; };
    const size_t left = static_cast<size_t>(end - p);
    if ((p[0] & 0xE0) == 0xC0) {
      if (left < 2 || !cont(p[1])) return false;
      if ((((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu)) < 0x80) return false;  // overlong
      p += 2;
    } else if ((p[0] & 0xF0) == 0xE0) {
      if (left < 3 || !cont(p[1]) || !cont(p[2])) return false;
      if ((((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu)) < 0x800) return false;
      p += 3;
    } else if ((p[0] & 0xF8) == 0xF0) {
      if (left < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3])) return false;
      const uint32_t c =
          ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
      if (c < 0x10000) return false;
      p += 4;
    } else {
      return false;  // a continuation byte first, or a 5/6-byte lead (F8..FF)
    }
  }
  return true;
}

}  // namespace burrow::protocol
