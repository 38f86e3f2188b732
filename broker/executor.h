// Where the broker runs its background work (queue deliveries, consumer callbacks, timers).
#pragma once

#include <functional>

namespace burrow::broker {

// Runs posted functions on some thread, never inline in post(). Thread-safe.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void post(std::function<void()> fn) = 0;
};

}  // namespace burrow::broker
