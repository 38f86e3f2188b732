// Random names from a per-thread generator.
#include "broker/names.h"

#include <cstdint>
#include <random>

namespace burrow::broker {

std::string generate_name(std::string_view prefix) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(prefix);
  out.reserve(prefix.size() + 22);
  uint64_t bits = 0;
  for (int i = 0; i < 22; ++i) {
    if (i % 10 == 0) bits = rng();  // 10 characters of 6 bits per 64-bit draw
    out.push_back(kAlphabet[bits & 63u]);
    bits >>= 6;
  }
  return out;
}

}  // namespace burrow::broker
