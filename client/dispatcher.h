// Runs one channel's consumer callbacks on the broker's workers, one at a time and in order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <burrow/message.h>

#include "base/thread_annotations.h"
#include "broker/executor.h"

namespace burrow::client {

// Receives the deliveries posted for it (a consumer of the channel).
class DeliveryHandler {
 public:
  virtual ~DeliveryHandler() = default;
  virtual void on_delivery(const Delivery& delivery) = 0;
};

// Thread-safe. Events are queued by broker threads (often with a broker lock held, so
// post() never runs user code) and run later by one worker at a time. Batches amortize the
// hand-off: one executor task runs every event queued meanwhile. A delivery is queued without
// an allocation of its own (the event buffers are reused), other events as functions.
class Dispatcher : public std::enable_shared_from_this<Dispatcher> {
 public:
  explicit Dispatcher(broker::Executor& executor) : executor_(executor) {}

  void post(std::function<void()> event);
  void post_delivery(std::shared_ptr<DeliveryHandler> handler, Delivery delivery);
  // Drops queued events and waits until no event is running, unless called from inside an
  // event (then it returns at once). Later posts are ignored.
  void shutdown();

 private:
  struct Event {
    std::shared_ptr<DeliveryHandler> handler;  // set: a delivery for it
    Delivery delivery;
    std::function<void()> fn;  // otherwise this
  };
  // Queues `event`; schedules a run unless one is scheduled. Called with mu_ held.
  void enqueue_locked(Event event) REQUIRES(mu_);
  void run();

  broker::Executor& executor_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::vector<Event> events_ GUARDED_BY(mu_);
  // The batch being run, swapped with events_ (so both keep their capacity). Only the one
  // running run() touches it.
  std::vector<Event> running_batch_;
  bool scheduled_ GUARDED_BY(mu_) = false;
  bool running_ GUARDED_BY(mu_) = false;
  // Also read without the lock between events, so a shutdown from inside an event stops the
  // rest of its batch.
  std::atomic<bool> shut_down_{false};
  std::thread::id runner_ GUARDED_BY(mu_);
};

}  // namespace burrow::client
