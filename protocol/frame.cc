// FrameReader::parse: RabbitMQ 3.10.8's frame checks, in its order and with its texts.
//
// deps/rabbit/src/rabbit_reader.erl (3.10.8):
//
//   %% We allow clients to exceed the frame size a little bit since quite
//   %% a few get it wrong - off-by 1 or 8 (empty frame size) are typical.
//   -define(FRAME_SIZE_FUDGE, ?EMPTY_FRAME_SIZE).
//
//   handle_input(frame_header, <<Type:8,Channel:16,PayloadSize:32, _/binary>>,
//                State = #v1{connection = #connection{frame_max = FrameMax}})
//     when FrameMax /= 0 andalso
//          PayloadSize > FrameMax - ?EMPTY_FRAME_SIZE + ?FRAME_SIZE_FUDGE ->
//       fatal_frame_error(
//         {frame_too_large, PayloadSize, FrameMax - ?EMPTY_FRAME_SIZE},
//         Type, Channel, <<>>, State);
//   ...
//   handle_input({frame_payload, Type, Channel, PayloadSize}, Data, State) ->
//       <<Payload:PayloadSize/binary, EndMarker, Rest/binary>> = Data,
//       case EndMarker of
//           ?FRAME_END -> State1 = handle_frame(Type, Channel, Payload, State), ...
//           _          -> fatal_frame_error({invalid_frame_end_marker, EndMarker},
//                                           Type, Channel, Payload, State)
//       end;
//
// ?EMPTY_FRAME_SIZE is 8, so the limit is on the payload alone: PayloadSize > FrameMax. A frame
// may therefore be up to frame_max + 8 bytes long. The size check needs only the 7-byte header;
// the end octet is checked once the whole frame is there; the type last, by handle_frame/4 via
// rabbit_command_assembler:analyze_frame/3, which returns `error` ("unknown_frame") for:
//
//   analyze_frame(?FRAME_METHOD, <<ClassId:16, MethodId:16, MethodFields/binary>>, ...)
//   analyze_frame(?FRAME_HEADER, <<ClassId:16, Weight:16, BodySize:64, Properties/binary>>, ...)
//   analyze_frame(?FRAME_BODY, Body, _Protocol) -> {content_body, Body};
//   analyze_frame(?FRAME_HEARTBEAT, <<>>, _Protocol) -> heartbeat;
//   analyze_frame(_Type, _Body, _Protocol) -> error.
//
// All of these close the connection with 501 FRAME_ERROR (observed on RabbitMQ 3.10.8, e.g.
// "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,4097,4088}" with frame_max 4096).
#include "protocol/frame.h"

#include "protocol/erlang_text.h"
#include "protocol/wire.h"

namespace burrow::protocol {
namespace {

// analyze_frame/3's accepted shapes.
bool known_frame(uint8_t type, size_t payload_size) {
  switch (type) {
    case static_cast<uint8_t>(FrameType::kMethod):
      return payload_size >= 4;  // class id + method id
    case static_cast<uint8_t>(FrameType::kHeader):
      return payload_size >= 14;  // class id + weight + body size + flags
    case static_cast<uint8_t>(FrameType::kBody):
      return true;
    case static_cast<uint8_t>(FrameType::kHeartbeat):
      return payload_size == 0;
    default:
      return false;
  }
}

}  // namespace

Result<size_t> FrameReader::parse(std::string_view data, Frame& frame) const {
  if (data.size() < kFrameHeaderSize) return size_t{0};
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const uint8_t type = p[0];
  const uint16_t channel = load_u16(p + 1);
  const uint32_t size = load_u32(p + 3);
  if (frame_max_ != 0 && size > frame_max_) {
    return Status(StatusCode::kFrameError, frame_too_large_text(type, size, frame_max_));
  }
  // 64-bit arithmetic: size + 1 overflows 32 bits when frame_max is 0 (no limit).
  if (data.size() - kFrameHeaderSize < uint64_t{size} + 1) return size_t{0};
  const std::string_view payload = data.substr(kFrameHeaderSize, size);
  const uint8_t end = p[kFrameHeaderSize + size];
  if (end != kFrameEnd) {
    return Status(StatusCode::kFrameError, invalid_frame_end_text(type, payload, end));
  }
  frame.type = static_cast<FrameType>(type);
  frame.channel = channel;
  frame.payload = payload;
  if (!known_frame(type, size)) {
    return Status(StatusCode::kFrameError, unknown_frame_text(type, payload));
  }
  return size_t{kFrameOverhead + size};
}

}  // namespace burrow::protocol
