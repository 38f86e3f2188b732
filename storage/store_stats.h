// StoreStats: what a store reports for metrics (group commit, fsyncs, bytes on disk). A plain
// struct, copied out by Store::stats(); the broker maps it onto its metric names.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <string>

namespace burrow::storage {

// Counts values in power-of-two buckets. Bucket 0 holds 0; bucket i (i >= 1) holds values whose
// highest set bit is bit i-1, i.e. [2^(i-1), 2^i - 1]; the last bucket also holds everything
// larger. Plain value type; not thread-safe (the store fills it under its own lock).
class Log2Histogram {
 public:
  static constexpr int kBuckets = 32;

  void add(uint64_t value) {
    int bucket = std::bit_width(value);
    if (bucket >= kBuckets) bucket = kBuckets - 1;
    ++buckets_[static_cast<size_t>(bucket)];
    ++count_;
    sum_ += value;
    if (value > max_) max_ = value;
  }

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  uint64_t max() const { return max_; }
  double average() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  const std::array<uint64_t, kBuckets>& buckets() const { return buckets_; }

  // The largest value bucket `i` can hold (for the last bucket: UINT64_MAX).
  static uint64_t bucket_upper_bound(int i) {
    if (i == 0) return 0;
    if (i >= kBuckets - 1 || i >= 64) return UINT64_MAX;
    return (uint64_t{1} << i) - 1;
  }

  // An upper bound for the p-th percentile (0 < p <= 100): the upper bound of the bucket that
  // holds it, clamped to max(). 0 when empty.
  uint64_t percentile(double p) const {
    if (count_ == 0) return 0;
    const double rank = p / 100.0 * static_cast<double>(count_);
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += buckets_[static_cast<size_t>(i)];
      if (static_cast<double>(seen) >= rank) {
        uint64_t bound = bucket_upper_bound(i);
        return bound < max_ ? bound : max_;
      }
    }
    return max_;
  }

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

// A snapshot of a store's counters. Counters are cumulative since the store was opened.
// Fields a store cannot know are 0 (the in-memory store has no fsyncs and no files).
struct StoreStats {
  // --- Group commit (write path) ---
  uint64_t writes = 0;         // write() calls completed, successfully or not
  uint64_t failed_writes = 0;  // write() calls completed with an error
  uint64_t write_batches = 0;  // groups committed: one WAL write each
  // write() calls merged into each group; average() is the mean group size.
  Log2Histogram writes_per_batch;
  uint64_t bytes_written = 0;  // key + value bytes of the committed groups
  uint64_t fsyncs = 0;         // WAL syncs (fsync durability only)
  Log2Histogram fsync_micros;  // latency of each WAL sync, in microseconds

  // --- RocksDB's view (0 in the memory store) ---
  uint64_t sst_bytes = 0;       // live table files ("rocksdb.live-sst-files-size")
  uint64_t wal_bytes = 0;       // write-ahead log files not yet obsolete
  uint64_t memtable_bytes = 0;  // "rocksdb.cur-size-all-mem-tables"
  uint64_t estimated_keys = 0;  // "rocksdb.estimate-num-keys", summed over column families
  uint64_t pending_compaction_bytes = 0;  // "rocksdb.estimate-pending-compaction-bytes"
  // Internal keys (tombstones, overwritten versions) scans stepped over without returning them.
  // Growing fast means some reader scans over deletes instead of seeking from a saved head.
  uint64_t scan_skipped_entries = 0;

  // --- Health ---
  // True once a write failed: every later write fails too, until the store is reopened.
  bool failed = false;
  std::string error;  // the first failure, for logs and the management API; empty when healthy
};

}  // namespace burrow::storage
