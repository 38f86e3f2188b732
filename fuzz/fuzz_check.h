// FUZZ_CHECK: an invariant of a fuzz target. A violation prints the condition and aborts, which
// libFuzzer (and the corpus replay) reports as a crash with the input that caused it.
// check_reencodes: the codec round-trip invariant the decoding targets share.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#include <string>
#include <string_view>

#include "protocol/wire.h"

// The codec is a fixed point after one round: `value`, just decoded from the fuzz input,
// encodes to bytes that `decode(bytes, out)` (true: decoded, all bytes used) reads back, and
// what it reads encodes to the same bytes.
template <typename T, typename Encode, typename Decode>
void check_reencodes(const T& value, Encode encode, Decode decode) {
  std::string once;
  burrow::protocol::Writer w1(once);
  encode(value, w1);
  T again;
  FUZZ_CHECK(decode(std::string_view(once), again));
  std::string twice;
  burrow::protocol::Writer w2(twice);
  encode(again, w2);
  FUZZ_CHECK(once == twice);
}
