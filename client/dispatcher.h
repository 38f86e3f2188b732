// Runs one channel's consumer callbacks on the broker's workers, one at a time and in order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "base/thread_annotations.h"
#include "broker/executor.h"

namespace burrow::client {

// Thread-safe. Events are queued by broker threads (often with a broker lock held, so
// post() never runs user code) and run later by one worker at a time. Batches amortize the
// hand-off: one executor task runs every event queued meanwhile.
class Dispatcher : public std::enable_shared_from_this<Dispatcher> {
 public:
  explicit Dispatcher(broker::Executor& executor) : executor_(executor) {}

  void post(std::function<void()> event);
  // Drops queued events and waits until no event is running, unless called from inside an
  // event (then it returns at once). Later posts are ignored.
  void shutdown();

 private:
  void run();

  broker::Executor& executor_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> events_ GUARDED_BY(mu_);
  bool scheduled_ GUARDED_BY(mu_) = false;
  bool running_ GUARDED_BY(mu_) = false;
  // Also read without the lock between events, so a shutdown from inside an event stops the
  // rest of its batch.
  std::atomic<bool> shut_down_{false};
  std::thread::id runner_ GUARDED_BY(mu_);
};

}  // namespace burrow::client
