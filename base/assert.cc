// The failure path of BURROW_ASSERT.
#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace burrow::internal {

void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "burrow: assertion failed: %s at %s:%d%s%s\n", expr, file, line,
               msg ? ": " : "", msg ? msg : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace burrow::internal
