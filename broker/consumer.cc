// Prefetch credit.
#include "broker/consumer.h"

namespace burrow::broker {

bool ChannelCredit::try_acquire() {
  uint32_t limit = limit_.load(std::memory_order_relaxed);
  if (limit == 0) {
    used_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  uint32_t used = used_.load(std::memory_order_relaxed);
  while (used < limit) {
    if (used_.compare_exchange_weak(used, used + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

bool Consumer::try_take_credit() {
  if (settings_.no_ack) return true;
  uint32_t unacked = unacked_.load(std::memory_order_relaxed);
  if (settings_.prefetch != 0 && unacked >= settings_.prefetch) return false;
  if (!channel_credit_->try_acquire()) return false;
  unacked_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Consumer::release_credit(uint32_t n) {
  if (settings_.no_ack || n == 0) return;
  unacked_.fetch_sub(n, std::memory_order_relaxed);
  channel_credit_->release(n);
}

}  // namespace burrow::broker
