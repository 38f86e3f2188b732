// RocksDB options for a broker's store. The reasons are in storage/README.md ("RocksDB
// choices"); comments here say what each setting protects.
#include "storage/rocksdb_tuning.h"

#include <algorithm>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>

#include "storage/keys.h"
#include "storage/record_codec.h"

namespace burrow::storage {
namespace {

bool supported(rocksdb::CompressionType type) {
  static const std::vector<rocksdb::CompressionType> available =
      rocksdb::GetSupportedCompressions();
  return std::find(available.begin(), available.end(), type) != available.end();
}

// LZ4 where the library has it (fast enough for the flush path), else Snappy, else none;
// ZSTD for the bottom level, where most long-lived bytes end up.
void set_compression(rocksdb::ColumnFamilyOptions& cf) {
  if (supported(rocksdb::kLZ4Compression)) {
    cf.compression = rocksdb::kLZ4Compression;
  } else if (supported(rocksdb::kSnappyCompression)) {
    cf.compression = rocksdb::kSnappyCompression;
  } else {
    cf.compression = rocksdb::kNoCompression;
  }
  if (supported(rocksdb::kZSTD)) cf.bottommost_compression = rocksdb::kZSTD;
}

// Drops processed-message records of the inbox once their dedup window is over, as RocksDB
// compacts them: expiry costs no scan and no delete. Lookups still check expires_at_ms (an
// expired entry may survive until its file is compacted). Stateless, so one instance serves
// every compaction.
class InboxExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    return inbox_entry_expired(std::string_view(value.data(), value.size()), wall_clock_ms());
  }
  const char* Name() const override { return "burrow.InboxExpiryFilter"; }
};

}  // namespace

std::string column_family_name(Column column) {
  switch (column) {
    case Column::kMetadata:
      return "metadata";
    case Column::kMessages:
      return "messages";
    case Column::kOutbox:
      return "outbox";
    case Column::kInbox:
      return "inbox";
    case Column::kAppData:
      return "app";
  }
  return "unknown";
}

ColumnProfile column_profile(Column column) {
  switch (column) {
    case Column::kMetadata:
      return ColumnProfile::kMetadata;
    case Column::kMessages:
    case Column::kOutbox:
      return ColumnProfile::kQueue;
    case Column::kInbox:
      return ColumnProfile::kLookup;
    case Column::kAppData:
      return ColumnProfile::kApp;
  }
  return ColumnProfile::kApp;
}

rocksdb::DBOptions make_db_options(const StoreOptions& options) {
  rocksdb::DBOptions db;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = true;
  if (options.env != nullptr) db.env = options.env;

  // Refuse a damaged WAL instead of dropping what follows the damage: a torn last record
  // (a crash mid-write; never confirmed) is tolerated, a bad record anywhere else fails the
  // open with kCorruption. kPointInTimeRecovery would silently drop every later record,
  // confirmed ones included; kAbsoluteConsistency would refuse every store after a power cut.
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db.paranoid_checks = true;
  // A synced WAL that goes missing or shrinks is an error, not an empty replay.
  db.track_and_verify_wals_in_manifest = true;
  // No automatic resume after a background error (e.g. disk full during a flush): the store
  // fails every later write and the operator restarts it once the cause is fixed.
  db.max_bgerror_resume_count = 0;

  // Bound the WAL (and so the replay after a crash); beyond it RocksDB flushes the column
  // families that pin the oldest log, e.g. a rarely written metadata column.
  db.max_total_wal_size = options.max_wal_bytes;
  db.db_write_buffer_size = options.total_write_buffer_bytes;
  // Table files are written back in 1 MiB steps instead of one long fsync at the end of a
  // flush, which would stall the WAL fsyncs of the group-commit writer behind it.
  db.bytes_per_sync = 1 << 20;
  // The WAL is fsynced by the writer only (Durability), never in the background.
  db.wal_bytes_per_sync = 0;
  db.max_background_jobs = 2;

  db.keep_log_file_num = 5;
  db.max_log_file_size = 16 << 20;

  // Tickers only (scan skips, bytes): counters are cheap, histograms and timers are not.
  db.statistics = rocksdb::CreateDBStatistics();
  db.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  return db;
}

rocksdb::ColumnFamilyOptions make_column_family_options(
    ColumnProfile profile, const StoreOptions& options,
    const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.compaction_style = rocksdb::kCompactionStyleLevel;
  // Levels sized from the bottom up: ~90% of the data sits in the last level whatever the
  // database size, so deleted messages do not linger in upper levels.
  cf.level_compaction_dynamic_level_bytes = true;
  set_compression(cf);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  // 10 bits/key: ~1% false positives; get() of an absent key skips the data block read.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;

  switch (profile) {
    case ColumnProfile::kInternal:
      cf.write_buffer_size = 1 << 20;
      break;
    case ColumnProfile::kMetadata:
    case ColumnProfile::kLookup:
    case ColumnProfile::kApp:
      cf.write_buffer_size = std::max<size_t>(options.write_buffer_bytes / 4, 1 << 20);
      break;
    case ColumnProfile::kQueue:
      cf.write_buffer_size = options.write_buffer_bytes;
      // A spare memtable so publishes continue while one flushes.
      cf.max_write_buffer_number = 3;
      // Files whose entries are mostly tombstones (a drained queue flushes as deletes) are
      // marked for compaction as soon as they are written: 64 deletes in any window of 128
      // entries, or half the file, and the compaction drops them together with what they
      // delete, so seeks do not step over them for long.
      cf.table_properties_collector_factories.push_back(
          rocksdb::NewCompactOnDeletionCollectorFactory(128, 64, 0.5));
      break;
  }

  if (profile == ColumnProfile::kLookup) {
    static const InboxExpiryFilter filter;
    cf.compaction_filter = &filter;
    // Files are compacted (and so filtered) at least once a day even when nothing else
    // triggers a compaction, so expired entries do not stay on disk for long.
    cf.periodic_compaction_seconds = 24 * 3600;
  }

  if (profile == ColumnProfile::kQueue) {
    // Queue id (the first 8 bytes of a message key) as the prefix: a seek inside one queue
    // consults prefix blooms and skips files that hold nothing of that queue. Scans with a
    // prefix of 8+ bytes use it; shorter prefixes scan in total order (RocksDbStore::scan).
    // Outbox keys are exactly 8 bytes: one prefix per row, harmless.
    cf.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(kMessagePrefixSize));
    cf.memtable_prefix_bloom_size_ratio = 0.05;
    table.whole_key_filtering = true;  // get() of one message stays cheap too
  }

  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace burrow::storage
