#include "broker/test_controls.h"

#include <algorithm>

namespace burrow::broker {

bool FaultInjector::take(std::atomic<uint64_t>& budget) {
  uint64_t left = budget.load(std::memory_order_relaxed);
  while (left > 0) {
    if (budget.compare_exchange_weak(left, left - 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

uint64_t FaultInjector::take_drop_acks(uint64_t n) {
  uint64_t left = drop_acks_.load(std::memory_order_relaxed);
  while (left > 0) {
    const uint64_t taken = std::min(left, n);
    if (drop_acks_.compare_exchange_weak(left, left - taken, std::memory_order_relaxed)) {
      return taken;
    }
  }
  return 0;
}

void PublishLog::enable(size_t limit) {
  std::lock_guard lock(mu_);
  limit_ = limit;
  enabled_.store(limit > 0, std::memory_order_relaxed);
  while (records_.size() > limit_) {
    records_.pop_front();
    ++dropped_;
  }
}

size_t PublishLog::limit() const {
  std::lock_guard lock(mu_);
  return limit_;
}

void PublishLog::add(PublishedRecord record) {
  std::lock_guard lock(mu_);
  if (limit_ == 0) return;
  record.sequence = next_sequence_++;
  if (records_.size() == limit_) {
    records_.pop_front();
    ++dropped_;
  }
  records_.push_back(std::move(record));
}

std::vector<PublishedRecord> PublishLog::snapshot() const {
  std::lock_guard lock(mu_);
  return {records_.begin(), records_.end()};
}

uint64_t PublishLog::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void PublishLog::clear() {
  std::lock_guard lock(mu_);
  records_.clear();
  dropped_ = 0;
  next_sequence_ = 1;
}

}  // namespace burrow::broker
