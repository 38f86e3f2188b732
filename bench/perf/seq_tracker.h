// Which (producer, sequence) pairs a consumer received, as one bitmap per producer, and the
// merge that turns the bitmaps of one queue's consumers into lost and duplicated counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace burrow::perf {

// Not thread-safe: one consumer's reader thread marks; read after the consumer stopped.
class SeqTracker {
 public:
  explicit SeqTracker(size_t producers) : bits_(producers) {}

  // Returns false when this tracker saw (producer, seq) before (a duplicate); sequence
  // numbers start at 1. Unknown producers are counted as foreign and otherwise ignored.
  bool mark(uint16_t producer, uint64_t seq);

  uint64_t duplicates() const { return duplicates_; }
  uint64_t foreign() const { return foreign_; }
  const std::vector<uint64_t>& bits(uint16_t producer) const { return bits_[producer]; }
  size_t producers() const { return bits_.size(); }

 private:
  std::vector<std::vector<uint64_t>> bits_;  // bit seq of bits_[producer]
  uint64_t duplicates_ = 0;
  uint64_t foreign_ = 0;
};

// What one producer sent to a queue: sequences 1..sent, minus those the broker nacked or
// returned (it never took responsibility for them, so they may legitimately be missing).
struct ProducerOutcome {
  uint16_t producer = 0;
  uint64_t sent = 0;
  std::vector<uint64_t> excused;  // sorted
};

struct QueueVerdict {
  uint64_t unique = 0;      // distinct messages received
  uint64_t duplicated = 0;  // deliveries beyond the first of a message
  uint64_t lost = 0;        // sent, not excused, never received
};

// Merges the trackers of one queue's consumers (competing consumers share the queue's
// messages, so the union is what the queue delivered).
QueueVerdict judge_queue(const std::vector<const SeqTracker*>& consumers,
                         const std::vector<ProducerOutcome>& producers);

}  // namespace burrow::perf
