// The header every burrow-perf message body starts with, so consumers can compute end-to-end
// latency and find lost and duplicated messages. The rest of the body is zero padding (-s).
//
//   0          2                      8                               16
//   +----------+----------------------+-------------------------------+----------...
//   | producer | sequence (u48, from  | send time: steady clock, ns   | padding
//   | id (u16) | 1, per producer)     | (u64)                         |
//   +----------+----------------------+-------------------------------+----------...
//   big-endian
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace burrow::perf {

inline constexpr size_t kHeaderSize = 16;

struct PayloadHeader {
  uint16_t producer = 0;
  uint64_t sequence = 0;  // < 2^48
  uint64_t sent_ns = 0;
};

// steady_clock in ns: CLOCK_MONOTONIC, comparable across the threads of one process.
inline uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Writes the header over the first kHeaderSize bytes of `body` (which must be that long).
inline void write_header(std::string& body, const PayloadHeader& h) {
  auto* p = reinterpret_cast<unsigned char*>(body.data());
  p[0] = static_cast<unsigned char>(h.producer >> 8);
  p[1] = static_cast<unsigned char>(h.producer);
  for (int i = 0; i < 6; ++i) p[2 + i] = static_cast<unsigned char>(h.sequence >> (40 - 8 * i));
  for (int i = 0; i < 8; ++i) p[8 + i] = static_cast<unsigned char>(h.sent_ns >> (56 - 8 * i));
}

// nullopt for a body too short to carry a header (not a burrow-perf message).
inline std::optional<PayloadHeader> read_header(std::string_view body) {
  if (body.size() < kHeaderSize) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  PayloadHeader h;
  h.producer = static_cast<uint16_t>((p[0] << 8) | p[1]);
  for (int i = 0; i < 6; ++i) h.sequence = (h.sequence << 8) | p[2 + i];
  for (int i = 0; i < 8; ++i) h.sent_ns = (h.sent_ns << 8) | p[8 + i];
  return h;
}

}  // namespace burrow::perf
