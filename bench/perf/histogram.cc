// Histogram bucket math and percentiles.
#include "bench/perf/histogram.h"

#include <bit>
#include <cmath>

namespace burrow::perf {

int Histogram::bucket_of(uint64_t value) {
  if (value < 64) return static_cast<int>(value);
  const int msb = 63 - std::countl_zero(value);  // >= 6
  const int shift = msb - 5;                     // value >> shift is in [32, 63]
  return 64 + (shift - 1) * 32 + static_cast<int>((value >> shift) - 32);
}

uint64_t Histogram::value_of(int bucket) {
  if (bucket < 64) return static_cast<uint64_t>(bucket);
  const int shift = (bucket - 64) / 32 + 1;
  const uint64_t mantissa = static_cast<uint64_t>((bucket - 64) % 32 + 32);
  return (mantissa << shift) + (uint64_t{1} << (shift - 1));
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot s;
  for (int i = 0; i < kBuckets; ++i) {
    s.counts_[i] = counts_[i].load(std::memory_order_relaxed);
    s.total_ += s.counts_[i];
  }
  return s;
}

HistogramSnapshot::HistogramSnapshot() : counts_(Histogram::kBuckets, 0) {}

void HistogramSnapshot::add(const HistogramSnapshot& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

HistogramSnapshot HistogramSnapshot::minus(const HistogramSnapshot& earlier) const {
  HistogramSnapshot d;
  for (size_t i = 0; i < counts_.size(); ++i) {
    d.counts_[i] = counts_[i] - earlier.counts_[i];
    d.total_ += d.counts_[i];
  }
  return d;
}

uint64_t HistogramSnapshot::percentile(double p) const {
  if (total_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return Histogram::value_of(static_cast<int>(i));
  }
  return Histogram::value_of(static_cast<int>(counts_.size()) - 1);
}

}  // namespace burrow::perf
