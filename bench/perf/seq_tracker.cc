// SeqTracker bitmaps and judge_queue's merge.
#include "bench/perf/seq_tracker.h"

#include <algorithm>
#include <bit>

namespace burrow::perf {

bool SeqTracker::mark(uint16_t producer, uint64_t seq) {
  if (producer >= bits_.size()) {
    ++foreign_;
    return true;
  }
  std::vector<uint64_t>& words = bits_[producer];
  const size_t word = seq / 64;
  if (word >= words.size()) words.resize(std::max(word + 1, words.size() * 2), 0);
  const uint64_t bit = uint64_t{1} << (seq % 64);
  if (words[word] & bit) {
    ++duplicates_;
    return false;
  }
  words[word] |= bit;
  return true;
}

QueueVerdict judge_queue(const std::vector<const SeqTracker*>& consumers,
                         const std::vector<ProducerOutcome>& producers) {
  QueueVerdict v;
  for (const SeqTracker* c : consumers) v.duplicated += c->duplicates();
  for (const ProducerOutcome& p : producers) {
    std::vector<uint64_t> seen;
    for (const SeqTracker* c : consumers) {
      if (p.producer >= c->producers()) continue;
      const std::vector<uint64_t>& bits = c->bits(p.producer);
      if (bits.size() > seen.size()) seen.resize(bits.size(), 0);
      for (size_t i = 0; i < bits.size(); ++i) {
        v.duplicated += static_cast<uint64_t>(std::popcount(seen[i] & bits[i]));
        seen[i] |= bits[i];
      }
    }
    for (uint64_t w : seen) v.unique += static_cast<uint64_t>(std::popcount(w));
    for (uint64_t seq = 1; seq <= p.sent; ++seq) {
      const size_t word = seq / 64;
      const bool got = word < seen.size() && (seen[word] >> (seq % 64) & 1);
      if (!got && !std::binary_search(p.excused.begin(), p.excused.end(), seq)) ++v.lost;
    }
  }
  return v;
}

}  // namespace burrow::perf
