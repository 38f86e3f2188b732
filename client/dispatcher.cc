// Dispatcher.
#include "client/dispatcher.h"

namespace burrow::client {

void Dispatcher::post(std::function<void()> event) {
  std::lock_guard lock(mu_);
  if (shut_down_.load(std::memory_order_relaxed)) return;
  events_.push_back(std::move(event));
  if (scheduled_) return;
  scheduled_ = true;
  executor_.post([self = shared_from_this()] { self->run(); });
}

void Dispatcher::run() {
  std::deque<std::function<void()>> batch;
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
      batch.swap(events_);
      running_ = true;
      runner_ = std::this_thread::get_id();
    }
    for (auto& event : batch) {
      if (shut_down_.load(std::memory_order_acquire)) break;
      event();
    }
    batch.clear();
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
