// BURROW_ASSERT: checks an invariant of Burrow's own code (never input). A failure is a bug:
// it logs the condition and location and aborts, in every build type.
#pragma once

namespace burrow::internal {
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);
}

#define BURROW_ASSERT(cond)                                                          \
  do {                                                                               \
    if (!(cond)) [[unlikely]]                                                        \
      ::burrow::internal::assert_fail(#cond, __FILE__, __LINE__, nullptr);           \
  } while (0)

#define BURROW_ASSERT_MSG(cond, msg)                                                 \
  do {                                                                               \
    if (!(cond)) [[unlikely]]                                                        \
      ::burrow::internal::assert_fail(#cond, __FILE__, __LINE__, (msg));             \
  } while (0)
