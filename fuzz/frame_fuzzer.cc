// libFuzzer target: FrameReader::parse over an arbitrary byte stream, then each method,
// content-header and field-table payload it yields through the decoders. The first two bytes
// choose frame_max (from 0 = no limit to 65535 * 64), so the size checks are exercised at
// every limit. Invariants checked: parse() never reports more bytes than it was given, a
// frame's payload lies inside the input, and the stream is consumed frame by frame.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "protocol/content_header.h"
#include "protocol/frame.h"
#include "protocol/methods.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace burrow::protocol;
  if (size < 2) return 0;
  const uint32_t frame_max = (static_cast<uint32_t>(data[0]) << 8 | data[1]) * 64u;
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  FrameReader reader(frame_max);
  while (!input.empty()) {
    Frame frame;
    auto used = reader.parse(input, frame);
    if (!used.ok() || *used == 0) break;
    FUZZ_CHECK(*used <= input.size());
    FUZZ_CHECK(*used == frame.payload.size() + kFrameOverhead);
    FUZZ_CHECK(frame.payload.data() >= input.data() &&
               frame.payload.data() + frame.payload.size() <= input.data() + input.size());
    if (frame.type == FrameType::kMethod) {
      Method method;
      (void)decode_method(frame.payload, method);
    } else if (frame.type == FrameType::kHeader) {
      ContentHeader header;
      (void)decode_content_header(frame.payload, header);
    }
    input.remove_prefix(*used);
  }
  return 0;
}
