// SystemClock and ManualClock.
#include <burrow/clock.h>

#include <chrono>

namespace burrow {

TimeMs SystemClock::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

ManualClock::ManualClock() : now_(SystemClock::instance().now_ms()) {}

}  // namespace burrow
