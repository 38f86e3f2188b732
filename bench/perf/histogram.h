// A latency histogram one thread records into while another reads it: log-linear buckets
// (32 per power of two, about 3% precision, as HdrHistogram with 2 significant digits) of
// relaxed atomic counters, so recording costs one load and one store.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace burrow::perf {

// Bucket counts copied out of a Histogram; mergeable and subtractable, for per-interval and
// whole-run percentiles.
class HistogramSnapshot {
 public:
  HistogramSnapshot();
  void add(const HistogramSnapshot& other);
  // this - earlier (an interval's recordings).
  HistogramSnapshot minus(const HistogramSnapshot& earlier) const;
  uint64_t count() const { return total_; }
  // The value at percentile p (0-100), as its bucket's midpoint; 0 when empty.
  uint64_t percentile(double p) const;

 private:
  friend class Histogram;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
};

// Single writer (record), any number of readers (snapshot).
class Histogram {
 public:
  static constexpr int kBuckets = 64 + 58 * 32;  // every uint64_t value

  void record(uint64_t value) {
    auto& c = counts_[bucket_of(value)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  HistogramSnapshot snapshot() const;

  static int bucket_of(uint64_t value);
  // The midpoint of a bucket's range.
  static uint64_t value_of(int bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
};

}  // namespace burrow::perf
