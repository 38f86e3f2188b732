// Appending whole frames to an output buffer: methods, content (header + body frames split at
// frame_max) and heartbeats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <burrow/properties.h>

#include "protocol/frame.h"
#include "protocol/methods.h"
#include "protocol/wire.h"

namespace burrow::protocol {

// Appends the 7-byte frame header; returns the offset of its size field for patching.
size_t begin_frame(std::string& out, FrameType type, uint16_t channel);
// Patches the size written by begin_frame and appends the frame-end octet.
void end_frame(std::string& out, size_t size_offset);

template <typename M>
void append_method_frame(std::string& out, uint16_t channel, const M& method) {
  size_t at = begin_frame(out, FrameType::kMethod, channel);
  Writer w(out);
  w.put_u16(M::kClassId);
  w.put_u16(M::kMethodId);
  method.encode(w);
  end_frame(out, at);
}
void append_method_frame(std::string& out, uint16_t channel, const Method& method);

// Appends a content header frame and as many body frames as the body needs, each at most
// frame_max bytes in all. `encoded_properties` are flags + properties (encode_properties).
void append_content_frames(std::string& out, uint16_t channel, uint16_t class_id,
                           std::string_view encoded_properties, std::string_view body,
                           uint32_t frame_max);

void append_heartbeat(std::string& out);

}  // namespace burrow::protocol
