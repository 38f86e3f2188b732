// AMQP 0-9-1 frames and the incremental frame reader.
//
//   0      1         3             7                    7+size     8+size
//   +------+---------+-------------+--------------------+----------+
//   | type | channel | size (u32)  | payload (size B)   | 0xCE end |
//   +------+---------+-------------+--------------------+----------+
//
// type: 1 method, 2 content header, 3 content body, 8 heartbeat. frame_max, negotiated in
// connection.tune, bounds the whole frame (header, payload and end octet) Burrow writes. On input
// RabbitMQ 3.10.8 allows 8 bytes of slack (clients often miscount the overhead): it rejects a
// frame only when its payload alone exceeds frame_max, and so does FrameReader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <burrow/status.h>

namespace burrow::protocol {

enum class FrameType : uint8_t { kMethod = 1, kHeader = 2, kBody = 3, kHeartbeat = 8 };

inline constexpr uint8_t kFrameEnd = 0xCE;
inline constexpr size_t kFrameHeaderSize = 7;
inline constexpr size_t kFrameOverhead = 8;  // header + end octet
// The smallest frame_max a peer may negotiate, and the limit before tuning (RabbitMQ's
// ?FRAME_MIN_SIZE).
inline constexpr uint32_t kFrameMinSize = 4096;
// The 8-byte protocol header a client opens with: "AMQP" 0 0 9 1.
inline constexpr std::string_view kProtocolHeader{"AMQP\x00\x00\x09\x01", 8};

// One frame; payload points into the buffer given to FrameReader::parse.
struct Frame {
  FrameType type = FrameType::kMethod;
  uint16_t channel = 0;
  std::string_view payload;
};

// Splits a byte stream into frames without owning or copying it (sans-I/O): the caller keeps
// the bytes, calls parse() on the unconsumed part, and drops the consumed prefix. Enforces
// frame_max and the frame-end octet. Not thread-safe.
class FrameReader {
 public:
  explicit FrameReader(uint32_t frame_max = kFrameMinSize) : frame_max_(frame_max) {}

  // frame_max 0 means "no limit" (AMQP's convention); Burrow always negotiates a limit.
  void set_frame_max(uint32_t frame_max) { frame_max_ = frame_max; }
  uint32_t frame_max() const { return frame_max_; }

  // Parses the frame at the start of `data`. Returns the number of bytes it used, 0 when
  // `data` holds only part of a frame (call again with more), or kFrameError whose message is
  // RabbitMQ's reply text (after "FRAME_ERROR - "), checked in RabbitMQ's order:
  // - a payload over frame_max, seen from the 7-byte header alone:
  //   "type 1, all octets = <<>>: {frame_too_large,200000,131064}";
  // - a frame-end octet other than 0xCE: "type 1, all octets = <<...>>:
  //   {invalid_frame_end_marker,0}";
  // - an unknown type, or a known type with an impossible payload (method < 4 bytes, content
  //   header < 14 bytes, heartbeat with a payload): "type 5, all octets = <<\"abc\">>:
  //   unknown_frame". `frame` is filled in for this one (the frame is 8 + payload bytes long):
  //   RabbitMQ ignores such frames on a closing connection and answers 505 UNEXPECTED_FRAME
  //   instead on a channel before connection.open (see unexpected_frame_text in erlang_text.h).
  // These texts contain line breaks where Erlang's ~p breaks lines, as RabbitMQ's do.
  Result<size_t> parse(std::string_view data, Frame& frame) const;

 private:
  uint32_t frame_max_;
};

}  // namespace burrow::protocol
