// libFuzzer target: decode_content_header over an arbitrary content-header payload (class,
// weight, body size, property flags with continuation bits, the 14 properties, headers
// table). A header that decodes must keep its raw properties inside the input, and its
// properties must re-encode to bytes that decode again and re-encode identically.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <burrow/properties.h>

#include "fuzz/fuzz_check.h"
#include "protocol/content_header.h"
#include "protocol/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace burrow::protocol;
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  ContentHeader header;
  if (!decode_content_header(payload, header).ok()) return 0;
  FUZZ_CHECK(header.raw_properties.data() >= payload.data() &&
             header.raw_properties.data() + header.raw_properties.size() <=
                 payload.data() + payload.size());
  check_reencodes(header.properties, encode_properties,
                  [](std::string_view bytes, burrow::BasicProperties& out) {
                    Reader reader(bytes);
                    return decode_properties(reader, out).ok() && reader.remaining() == 0;
                  });
  return 0;
}
