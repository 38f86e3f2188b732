// libFuzzer target: decode_method over an arbitrary method-frame payload. A payload that
// decodes must encode back to bytes that decode again and re-encode identically (the codec
// is a fixed point after one round), and its name must be known.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "protocol/methods.h"
#include "protocol/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace burrow::protocol;
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  Method method;
  if (!decode_method(payload, method).ok()) return 0;
  FUZZ_CHECK(!method_name(method).empty());
  check_reencodes(method, encode_method, [](std::string_view bytes, Method& out) {
    return decode_method(bytes, out).ok();
  });
  return 0;
}
