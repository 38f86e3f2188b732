// Publisher confirms bookkeeping for one channel: numbers publishes 1, 2, 3... after
// confirm.select and resolves them from basic.ack / basic.nack (single or multiple).
#pragma once

#include <cstdint>
#include <deque>

namespace burrow::client::amqp {

// Counters since confirm.select.
struct ConfirmCounts {
  uint64_t published = 0;
  uint64_t acked = 0;
  uint64_t nacked = 0;
  uint64_t unconfirmed() const { return published - acked - nacked; }
};

// Not thread-safe (the channel guards it with its mutex). The unresolved window is kept as a
// deque of flags from the oldest unresolved publish: O(1) per publish and per resolved
// publish, whatever order the broker confirms in.
class ConfirmTracker {
 public:
  // Starts numbering (confirm.select-ok arrived); the next publish is number 1.
  void enable() { enabled_ = true; }
  bool enabled() const { return enabled_; }

  // Records a publish and returns its sequence number (its delivery tag in confirms).
  uint64_t on_publish() {
    window_.push_back(0);
    ++counts_.published;
    return next_++;
  }

  // Applies basic.ack (ack) or basic.nack (!ack) for `tag` (and every earlier unresolved
  // publish when `multiple`). Calls resolved(seq, ack) once per newly resolved publish, in
  // increasing order. Tags already resolved or never published are ignored.
  template <typename F>
  void on_confirm(uint64_t tag, bool multiple, bool ack, F&& resolved) {
    if (tag >= next_) tag = next_ - 1;  // a broker bug; resolve what we know
    if (tag < base_) return;
    const uint64_t from = multiple ? base_ : tag;
    for (uint64_t seq = from; seq <= tag; ++seq) {
      uint8_t& state = window_[seq - base_];
      if (state != 0) continue;
      state = 1;
      ++(ack ? counts_.acked : counts_.nacked);
      resolved(seq, ack);
    }
    while (!window_.empty() && window_.front() != 0) {
      window_.pop_front();
      ++base_;
    }
  }

  const ConfirmCounts& counts() const { return counts_; }
  uint64_t unconfirmed() const { return counts_.unconfirmed(); }
  // The number the next publish will get.
  uint64_t next_sequence() const { return next_; }

 private:
  bool enabled_ = false;
  uint64_t next_ = 1;
  uint64_t base_ = 1;           // the oldest unresolved publish (window_.front())
  std::deque<uint8_t> window_;  // 0 = waiting, 1 = resolved; index = seq - base_
  ConfirmCounts counts_;
};

}  // namespace burrow::client::amqp
