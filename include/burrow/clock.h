// The broker's only source of time. TTLs, queue expiry, delayed messages, heartbeats-by-broker
// and back-off all read a Clock, so tests can drive time with a ManualClock.
#pragma once

#include <atomic>
#include <cstdint>

namespace burrow {

// Milliseconds since the Unix epoch.
using TimeMs = int64_t;

// Thread-safe: now_ms() may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs now_ms() const = 0;
};

// Wall-clock time (std::chrono::system_clock). Thread-safe.
class SystemClock final : public Clock {
 public:
  TimeMs now_ms() const override;
  // A process-wide instance.
  static SystemClock& instance();
};

// A clock that moves only when told to. Starts at the given time (default: the wall time at
// construction). Thread-safe. Moving it does not by itself fire broker timers; the broker's
// timer service is told through Broker::advance_clock (see broker.h).
class ManualClock final : public Clock {
 public:
  ManualClock();
  explicit ManualClock(TimeMs start) : now_(start) {}
  TimeMs now_ms() const override { return now_.load(std::memory_order_acquire); }
  void set(TimeMs t) { now_.store(t, std::memory_order_release); }
  void advance(TimeMs delta) { now_.fetch_add(delta, std::memory_order_acq_rel); }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace burrow
