// TimerService.
#include "broker/timer_service.h"

#include <chrono>

namespace burrow::broker {

TimerService::TimerService(Clock& clock, bool manual) : clock_(clock), manual_(manual) {
  if (!manual_) thread_ = std::thread([this] { thread_main(); });
}

TimerService::~TimerService() { stop(); }

void TimerService::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    timers_.clear();
    due_of_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

TimerId TimerService::schedule(TimeMs due, std::function<void()> fn) {
  TimerId id;
  bool earliest;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    if (stopped_) return id;
    earliest = timers_.empty() || due < timers_.begin()->first.first;
    timers_.emplace(std::make_pair(due, id), std::move(fn));
    due_of_.emplace(id, due);
  }
  if (earliest) cv_.notify_all();
  return id;
}

bool TimerService::cancel(TimerId id) {
  std::lock_guard lock(mu_);
  auto it = due_of_.find(id);
  if (it == due_of_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  due_of_.erase(it);
  return true;
}

TimeMs TimerService::next_due() const {
  std::lock_guard lock(mu_);
  return timers_.empty() ? -1 : timers_.begin()->first.first;
}

bool TimerService::pop_due(TimeMs now, std::function<void()>& fn) {
  std::lock_guard lock(mu_);
  if (timers_.empty() || stopped_) return false;
  auto it = timers_.begin();
  if (it->first.first > now) return false;
  fn = std::move(it->second);
  due_of_.erase(it->first.second);
  timers_.erase(it);
  return true;
}

size_t TimerService::run_due() {
  std::lock_guard run(run_mu_);
  size_t n = 0;
  std::function<void()> fn;
  while (pop_due(clock_.now_ms(), fn)) {
    fn();
    fn = nullptr;
    ++n;
  }
  return n;
}

void TimerService::thread_main() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopped_) return;
      if (timers_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const TimeMs now = clock_.now_ms();
      const TimeMs due = timers_.begin()->first.first;
      if (due > now) {
        cv_.wait_for(lock, std::chrono::milliseconds(due - now));
        continue;
      }
    }
    run_due();
  }
}

}  // namespace burrow::broker
