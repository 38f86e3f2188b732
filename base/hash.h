// FNV-1a, 64 bits: a fixed hash (same value on every build and platform, unlike std::hash) for
// keys whose hash is stored or must agree across processes: outbox buckets, conflict slots.
#pragma once

#include <cstdint>
#include <string_view>

namespace burrow {

inline constexpr uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;

// Continues a hash `h` over `bytes` (start with kFnv1aOffset).
constexpr uint64_t fnv1a64(std::string_view bytes, uint64_t h = kFnv1aOffset) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace burrow
