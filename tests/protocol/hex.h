// unhex("01 ce"): bytes from hex digits, spaces ignored, for writing expected wire bytes readably.
#pragma once

#include <string>
#include <string_view>

namespace burrow::protocol::testing {

inline std::string unhex(std::string_view hex) {
  const auto nibble = [](char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;  // digits and either letter case
  };
  std::string out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ') continue;
    if (high < 0) {
      high = nibble(c);
    } else {
      out.push_back(static_cast<char>(high << 4 | nibble(c)));
      high = -1;
    }
  }
  return out;
}

}  // namespace burrow::protocol::testing
