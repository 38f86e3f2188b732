// Frame writers. Content is split as RabbitMQ's rabbit_binary_generator:build_content_frames/3
// splits it: body frames carry at most frame_max - 8 bytes, an empty body sends no body frame.
#include "protocol/frame_writer.h"

#include <algorithm>

#include "protocol/content_header.h"

namespace burrow::protocol {

size_t begin_frame(std::string& out, FrameType type, uint16_t channel) {
  Writer w(out);
  w.put_u8(static_cast<uint8_t>(type));
  w.put_u16(channel);
  const size_t at = out.size();
  w.put_u32(0);
  return at;
}

void end_frame(std::string& out, size_t size_offset) {
  Writer w(out);
  w.patch_u32(size_offset, static_cast<uint32_t>(out.size() - size_offset - 4));
  w.put_u8(kFrameEnd);
}

void append_method_frame(std::string& out, uint16_t channel, const Method& method) {
  const size_t at = begin_frame(out, FrameType::kMethod, channel);
  Writer w(out);
  encode_method(method, w);
  end_frame(out, at);
}

void append_content_frames(std::string& out, uint16_t channel, uint16_t class_id,
                           std::string_view encoded_properties, std::string_view body,
                           uint32_t frame_max) {
  // frame_max 0 means no limit: the whole body in one frame. A frame_max too small to carry a
  // byte is a caller bug (RabbitMQ negotiates at least 4096); it still makes progress.
  const size_t max_payload = frame_max == 0
                                 ? std::max<size_t>(body.size(), 1)
                                 : std::max<size_t>(frame_max, kFrameOverhead + 1) - kFrameOverhead;
  const size_t body_frames = (body.size() + max_payload - 1) / max_payload;
  out.reserve(out.size() + kFrameOverhead + 12 + encoded_properties.size() + body.size() +
              body_frames * kFrameOverhead);

  size_t at = begin_frame(out, FrameType::kHeader, channel);
  Writer w(out);
  encode_content_header(class_id, body.size(), encoded_properties, w);
  end_frame(out, at);

  for (size_t offset = 0; offset < body.size(); offset += max_payload) {
    at = begin_frame(out, FrameType::kBody, channel);
    w.put_bytes(body.substr(offset, max_payload));
    end_frame(out, at);
  }
}

void append_heartbeat(std::string& out) {
  static constexpr char kHeartbeat[] = {8, 0, 0, 0, 0, 0, 0, static_cast<char>(kFrameEnd)};
  out.append(kHeartbeat, sizeof kHeartbeat);
}

}  // namespace burrow::protocol
