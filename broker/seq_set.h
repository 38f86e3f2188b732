// SeqSet: the set of a queue's sequence numbers still in the store.
#pragma once

#include <bit>
#include <cstdint>
#include <deque>

namespace burrow::broker {

// The sequences are mostly contiguous and leave roughly in order, so the set is one bit per
// sequence from the lowest member (a sliding bitmap): a 10M-message backlog costs 1.25 MB
// instead of a tree node (48 bytes) per message. Not thread-safe.
class SeqSet {
 public:
  void insert(uint64_t seq) {
    if (count_ == 0) {
      words_.clear();
      base_ = seq & ~uint64_t{63};
    }
    while (seq < base_) {
      words_.push_front(0);
      base_ -= 64;
    }
    const uint64_t index = (seq - base_) / 64;
    while (index >= words_.size()) words_.push_back(0);
    const uint64_t bit = uint64_t{1} << ((seq - base_) % 64);
    if ((words_[index] & bit) == 0) {
      words_[index] |= bit;
      ++count_;
    }
  }

  void erase(uint64_t seq) {
    if (seq < base_) return;
    const uint64_t index = (seq - base_) / 64;
    if (index >= words_.size()) return;
    const uint64_t bit = uint64_t{1} << ((seq - base_) % 64);
    if ((words_[index] & bit) == 0) return;
    words_[index] &= ~bit;
    --count_;
    // Keep the front word non-zero, so min() is O(1).
    while (!words_.empty() && words_.front() == 0) {
      words_.pop_front();
      base_ += 64;
    }
  }

  bool empty() const { return count_ == 0; }
  uint64_t size() const { return count_; }
  // The lowest member. Requires !empty().
  uint64_t min() const { return base_ + static_cast<uint64_t>(std::countr_zero(words_.front())); }

 private:
  std::deque<uint64_t> words_;
  uint64_t base_ = 0;  // the sequence of bit 0 of words_.front(), a multiple of 64
  uint64_t count_ = 0;
};

}  // namespace burrow::broker
