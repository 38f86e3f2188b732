// Timers on the broker's Clock: message TTL, queue expiry, delayed messages, consumer
// timeouts. With the system clock a timer thread fires them when due; with a manual clock they
// fire only when the test advances time (run_due), in due order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include <burrow/clock.h>

#include "base/thread_annotations.h"

namespace burrow::broker {

using TimerId = uint64_t;

// Thread-safe. Callbacks run one at a time on the timer thread (system clock) or on the
// thread calling run_due (manual clock); they must not block for long and may schedule or
// cancel timers. A callback is never called after cancel() of its id returned, unless it was
// already running.
class TimerService {
 public:
  // `manual`: the clock only moves when told; no timer thread is started.
  TimerService(Clock& clock, bool manual);
  ~TimerService();
  TimerService(const TimerService&) = delete;
  TimerService& operator=(const TimerService&) = delete;

  // Runs `fn` once the clock reads at least `due`. Timers due at the same time run in the
  // order they were scheduled.
  TimerId schedule(TimeMs due, std::function<void()> fn);
  // Returns whether the timer was pending (and is now cancelled).
  bool cancel(TimerId id);

  // Runs every timer due at the clock's current time, earliest first, including timers that
  // callbacks schedule for a time already reached. Returns how many ran. For manual clocks
  // (the timer thread does this by itself otherwise).
  size_t run_due();

  // The due time of the earliest pending timer, or -1.
  TimeMs next_due() const;

  // Stops the timer thread; pending timers never run. Idempotent.
  void stop();

 private:
  void thread_main();
  // Pops the earliest due timer into `fn`; false if none is due.
  bool pop_due(TimeMs now, std::function<void()>& fn);

  Clock& clock_;
  const bool manual_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // (due, sequence) -> callback; the sequence keeps scheduling order for equal due times.
  std::map<std::pair<TimeMs, TimerId>, std::function<void()>> timers_ GUARDED_BY(mu_);
  std::map<TimerId, TimeMs> due_of_ GUARDED_BY(mu_);
  TimerId next_id_ GUARDED_BY(mu_) = 1;
  bool stopped_ GUARDED_BY(mu_) = false;
  std::mutex run_mu_;  // one runner at a time, so callbacks never overlap
  std::thread thread_;
};

}  // namespace burrow::broker
