// Dispatcher.
#include "client/dispatcher.h"

namespace burrow::client {

void Dispatcher::post(std::function<void()> event) {
  std::lock_guard lock(mu_);
  enqueue_locked(Event{nullptr, Delivery{}, std::move(event)});
}

void Dispatcher::post_delivery(std::shared_ptr<DeliveryHandler> handler, Delivery delivery) {
  std::lock_guard lock(mu_);
  enqueue_locked(Event{std::move(handler), std::move(delivery), nullptr});
}

void Dispatcher::enqueue_locked(Event event) {
  if (shut_down_.load(std::memory_order_relaxed)) return;
  events_.push_back(std::move(event));
  if (scheduled_) return;
  scheduled_ = true;
  executor_.post([self = shared_from_this()] { self->run(); });
}

void Dispatcher::run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      running_ = false;
      if (events_.empty() || shut_down_.load(std::memory_order_relaxed)) {
        scheduled_ = false;
        events_.clear();
        idle_.notify_all();
        return;
      }
      running_batch_.swap(events_);
      running_ = true;
      runner_ = std::this_thread::get_id();
    }
    for (Event& event : running_batch_) {
      if (shut_down_.load(std::memory_order_acquire)) break;
      if (event.handler) {
        event.handler->on_delivery(event.delivery);
      } else {
        event.fn();
      }
    }
    running_batch_.clear();  // keeps its capacity for the next swap
  }
}

void Dispatcher::shutdown() {
  std::unique_lock lock(mu_);
  shut_down_.store(true, std::memory_order_release);
  events_.clear();
  if (running_ && runner_ == std::this_thread::get_id()) return;
  idle_.wait(lock, [this] { return !running_; });
}

}  // namespace burrow::client
