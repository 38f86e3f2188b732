// RocksDbStore: the Store on RocksDB. Opening (format check, damage and lock errors, repair),
// reads with bounded iterators, writes through the GroupCommitter, application columns.
#include "storage/rocksdb_store.h"
#include "base/logging.h"

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "base/status_macros.h"
#include "base/thread_annotations.h"
#include "storage/group_commit.h"
#include "storage/keys.h"
#include "storage/kill_point.h"
#include "storage/record_codec.h"
#include "storage/rocksdb_errors.h"
#include "storage/rocksdb_tuning.h"
#include "storage/txn_sequencer.h"

namespace burrow::storage {

namespace {
spdlog::logger& logger() { return module_logger("storage"); }
}  // namespace
namespace {

// The store's own records, in the "default" column family.
constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kAppColumnKeyPrefix = "app_column/";
// Built-in columns plus application columns; ids index a fixed table so readers need no lock.
constexpr uint32_t kMaxColumns = 256;

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// Thread-safe (see Store). Reads go straight to RocksDB; writes go through the committer.
class RocksDbStore final : public Store, private GroupCommitter::Sink {
 public:
  explicit RocksDbStore(StoreOptions options) : options_(std::move(options)) {}
  ~RocksDbStore() override;

  Status open();

  using Store::scan;
  void write(WriteBatch batch, WriteCallback done) override;
  void write_checked(WriteBatch batch, std::shared_ptr<CommitCheck> check,
                     WriteCallback done) override;
  uint64_t visible_version() const override { return sequencer_.visible_version(); }
  uint64_t reserve() override { return committer_->reserve(); }
  void fill(uint64_t reservation, WriteBatch batch, WriteCallback done) override;
  Status get(ColumnId column, std::string_view key, std::string& value) override;
  Status scan(ColumnId column, const ScanOptions& options, const ScanVisitor& visit) override;
  Result<ColumnId> app_column(std::string_view name) override;
  std::vector<std::string> app_columns() const override;
  Status flush() override;
  Status compact(ColumnId column) override;
  StoreStats stats() const override;

 private:
  // GroupCommitter::Sink, on the writer thread.
  Status write_group(const std::vector<const WriteBatch*>& batches) override;
  Status sync() override;

  rocksdb::ColumnFamilyHandle* handle(ColumnId column) const {
    const uint32_t index = column.index();
    if (index >= column_count_.load(std::memory_order_acquire)) return nullptr;
    return handles_[index];
  }
  // kInvalidArgument when `batch` names a column this store does not have.
  Status check_columns(const WriteBatch& batch) const {
    for (const auto& op : batch.ops()) {
      if (handle(op.column) == nullptr) return unknown_column(op.column);
    }
    return Status();
  }
  Status unknown_column(ColumnId column) const {
    return invalid_argument("unknown column " + std::to_string(column.index()) + " in " + where());
  }
  std::string where() const { return "store at '" + options_.path + "'"; }
  Status open_error(const rocksdb::Status& s, std::string_view doing) const;

  // Lists the column families and opens the database with every one of them.
  Status open_db(const rocksdb::DBOptions& db_options);
  Status open_for_repair(rocksdb::DBOptions db_options);
  void report_repair();
  // Closes the database; `failed`: the store had failed, so close errors are expected.
  void close_db(bool failed = false);
  Status check_format();
  bool is_empty();
  Status load_app_columns(std::map<std::string, rocksdb::ColumnFamilyHandle*> unlisted);
  Status save_app_column(const std::string& name, uint32_t id);
  void publish_column(uint32_t id, rocksdb::ColumnFamilyHandle* handle);

  const StoreOptions options_;
  bool existed_ = false;  // a store was in the directory before this open
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<InfoLogTap> log_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  rocksdb::ColumnFamilyOptions app_cf_options_;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* internal_cf_ = nullptr;       // "default"
  std::vector<rocksdb::ColumnFamilyHandle*> owned_handles_;  // every handle, closed last
  // Application families found by open_db(), until load_app_columns() gives them ids.
  std::map<std::string, rocksdb::ColumnFamilyHandle*> pending_app_handles_;

  // handles_[i] is written before column_count_ is raised past i (release), read after
  // (acquire); a slot never changes once published.
  std::array<rocksdb::ColumnFamilyHandle*, kMaxColumns> handles_{};
  std::atomic<uint32_t> column_count_{kColumnCount};

  mutable std::mutex app_mu_;  // serializes app_column(); guards the name tables
  std::map<std::string, uint32_t, std::less<>> app_ids_ GUARDED_BY(app_mu_);
  std::map<uint32_t, std::string> app_names_ GUARDED_BY(app_mu_);  // id order = creation order

  TxnSequencer sequencer_;
  std::unique_ptr<GroupCommitter> committer_;
};

RocksDbStore::~RocksDbStore() {
  const bool failed = committer_ != nullptr && !committer_->error().ok();
  committer_.reset();  // completes every queued write, callbacks included
  if (db_ == nullptr) return;
  if (options_.durability == Durability::kOs && !failed) {
    // A clean shutdown leaves nothing only in the page cache.
    if (auto s = db_->SyncWAL(); !s.ok()) {
      logger().error("storage: syncing the WAL of {} on close failed: {}", where(), s.ToString());
    }
  }
  close_db(failed);
}

Status RocksDbStore::open_error(const rocksdb::Status& s, std::string_view doing) const {
  if (is_lock_error(s)) {
    return Status(StatusCode::kIoError,
                  "data directory '" + options_.path + "' is in use by another burrowd (lock " +
                      (std::filesystem::path(options_.path) / "LOCK").string() +
                      "): " + s.ToString());
  }
  if (s.IsCorruption()) {
    std::string message = where() + " is damaged (" + std::string(doing) + "): " + s.ToString();
    const auto reports = log_ ? log_->damage_reports() : std::vector<std::string>{};
    for (const auto& report : reports) message += "; " + report;
    message +=
        ". Nothing was changed on disk. To salvage what is readable, open it with repair "
        "(StoreOptions::repair, burrowd --repair): it skips damaged log records and moves "
        "damaged table files to '" +
        (std::filesystem::path(options_.path) / "lost").string() +
        "'; confirmed messages in them are lost";
    return Status(StatusCode::kCorruption, std::move(message));
  }
  return from_rocksdb(s, std::string(doing) + " " + where());
}

Status RocksDbStore::open() {
  namespace fs = std::filesystem;
  std::error_code ec;
  existed_ = fs::exists(fs::path(options_.path) / "CURRENT", ec);
  if (!existed_ && !options_.create_if_missing) {
    return not_found("no store at '" + options_.path + "' (and create_if_missing is false)");
  }

  rocksdb::DBOptions db_options = make_db_options(options_);
  statistics_ = db_options.statistics;
  if (auto s = db_options.env->CreateDirIfMissing(options_.path); !s.ok()) {
    return from_rocksdb(s, "creating the data directory of " + where());
  }
  std::shared_ptr<rocksdb::Logger> file_log;
  if (auto s = rocksdb::CreateLoggerFromOptions(options_.path, db_options, &file_log); !s.ok()) {
    return from_rocksdb(s, "creating the info log of " + where());
  }
  log_ = std::make_shared<InfoLogTap>(std::move(file_log));
  db_options.info_log = log_;

  cache_ = rocksdb::NewLRUCache(options_.block_cache_bytes);
  app_cf_options_ = make_column_family_options(ColumnProfile::kApp, options_, cache_);

  if (options_.repair && existed_) {
    RETURN_IF_ERROR(open_for_repair(db_options));
  } else {
    RETURN_IF_ERROR(open_db(db_options));
  }

  RETURN_IF_ERROR(check_format());
  RETURN_IF_ERROR(load_app_columns(std::move(pending_app_handles_)));

  if (options_.verify_checksums_on_open && !options_.repair) {
    if (auto s = db_->VerifyChecksum(); !s.ok()) return open_error(s, "verifying the tables of");
  }

  ASSIGN_OR_RETURN(const uint64_t next_row_id, load_next_row_id(*this));
  sequencer_.set_next_row_id(next_row_id);

  GroupCommitter::Options commit_options;
  commit_options.sync = options_.durability == Durability::kFsync;
  commit_options.max_group_bytes = options_.max_group_bytes;
  GroupCommitter::Sink& sink = *this;
  committer_ = std::make_unique<GroupCommitter>(sink, sequencer_, commit_options);
  return Status();
}

Status RocksDbStore::open_db(const rocksdb::DBOptions& db_options) {
  std::vector<std::string> families;
  if (existed_) {
    if (auto s = rocksdb::DB::ListColumnFamilies(db_options, options_.path, &families); !s.ok()) {
      return open_error(s, "reading the MANIFEST of");
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName,
                           make_column_family_options(ColumnProfile::kInternal, options_, cache_));
  for (int i = 0; i < kColumnCount; ++i) {
    const auto column = static_cast<Column>(i);
    descriptors.emplace_back(column_family_name(column),
                             make_column_family_options(column_profile(column), options_, cache_));
  }
  for (const auto& name : families) {
    bool known = false;
    for (const auto& d : descriptors) known = known || d.name == name;
    if (known) continue;
    if (!std::string_view(name).starts_with(kAppColumnFamilyPrefix)) {
      return invalid_argument(where() + " has a column family '" + name +
                              "' this build does not know: not a Burrow store, or a newer "
                              "format");
    }
    descriptors.emplace_back(name, app_cf_options_);
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  if (auto s = rocksdb::DB::Open(db_options, options_.path, descriptors, &handles, &db_); !s.ok()) {
    db_ = nullptr;
    return open_error(s, "opening");
  }
  owned_handles_ = handles;
  internal_cf_ = handles[0];
  pending_app_handles_.clear();
  for (size_t i = 1; i < handles.size(); ++i) {
    if (i <= static_cast<size_t>(kColumnCount)) {
      handles_[i - 1] = handles[i];
    } else {
      pending_app_handles_.emplace(descriptors[i].name.substr(kAppColumnFamilyPrefix.size()),
                                   handles[i]);
    }
  }
  return Status();
}

void RocksDbStore::close_db(bool failed) {
  if (db_ == nullptr) return;
  for (auto* h : owned_handles_) {
    if (auto s = db_->DestroyColumnFamilyHandle(h); !s.ok()) {
      logger().error("storage: closing a column family of {}: {}", where(), s.ToString());
    }
  }
  owned_handles_.clear();
  pending_app_handles_.clear();
  handles_.fill(nullptr);
  internal_cf_ = nullptr;
  if (auto s = db_->Close(); !s.ok()) {
    if (failed) {
      logger().warn("storage: closing failed {}: {}", where(), s.ToString());
    } else {
      logger().error("storage: closing {} failed: {}", where(), s.ToString());
    }
  }
  delete db_;
  db_ = nullptr;
}

Status RocksDbStore::open_for_repair(rocksdb::DBOptions db_options) {
  logger().warn("storage: opening {} in repair mode: damaged data is dropped (see {}/LOG)", where(),
                options_.path);
  // 1. A damaged WAL: replay every record that reads cleanly, skip the damaged ones. (A lost
  //    ack brings a message back - a redelivery; a lost publish is lost either way.)
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords;
  Status opened = open_db(db_options);
  if (opened.ok()) {
    // 2. Damaged tables: read every block once.
    auto verified = db_->VerifyChecksum();
    if (verified.ok()) {
      report_repair();
      return Status();
    }
    logger().warn("storage: repair of {}: {}", where(), verified.ToString());
    close_db();
  } else if (opened.code() != StatusCode::kCorruption) {
    return opened;
  }
  // 3. RepairDB: a new MANIFEST from the table files that read cleanly; the others are moved
  //    to lost/ whole (RocksDB cannot salvage part of a table).
  std::vector<std::string> families;
  if (!rocksdb::DB::ListColumnFamilies(db_options, options_.path, &families).ok()) {
    families.clear();  // RepairDB finds the families in the tables' properties
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : families) descriptors.emplace_back(name, app_cf_options_);
  logger().warn("storage: repairing {} with RepairDB: damaged files go to {}/lost", where(),
                options_.path);
  if (auto s = rocksdb::RepairDB(options_.path, db_options, descriptors, app_cf_options_);
      !s.ok()) {
    return open_error(s, "repairing");
  }
  RETURN_IF_ERROR(open_db(db_options));
  if (auto s = db_->VerifyChecksum(); !s.ok()) {
    return open_error(s, "verifying the repaired tables of");
  }
  report_repair();
  return Status();
}

void RocksDbStore::report_repair() {
  for (const auto& report : log_->damage_reports()) {
    logger().warn("storage: repair of {}: {}", where(), report);
  }
  logger().warn("storage: {} repaired and open", where());
}

bool RocksDbStore::is_empty() {
  std::vector<rocksdb::ColumnFamilyHandle*> all = owned_handles_;
  for (auto* h : all) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), h));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok()) return false;
  }
  return true;
}

Status RocksDbStore::check_format() {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), internal_cf_, slice(kFormatKey), &value);
  if (s.IsNotFound()) {
    // A new store - or one whose creation crashed before the header was written.
    if (existed_ && !is_empty()) {
      return invalid_argument(where() +
                              " holds a RocksDB database without a Burrow format header: "
                              "not a Burrow store; refusing to open it");
    }
    FormatHeader header;
    header.set_format_version(kFormatVersion);
    header.set_created_by("burrow");
    header.set_created_at_ms(wall_clock_ms());
    rocksdb::WriteOptions sync;
    sync.sync = true;
    return from_rocksdb(db_->Put(sync, internal_cf_, slice(kFormatKey), serialize_record(header)),
                        "writing the format header of " + where());
  }
  if (!s.ok()) return open_error(s, "reading the format header of");
  FormatHeader header;
  RETURN_IF_ERROR(parse_record(value, header));
  if (header.format_version() != kFormatVersion) {
    return invalid_argument(
        where() + " has storage format version " + std::to_string(header.format_version()) +
        "; this build reads version " + std::to_string(kFormatVersion) + " only" +
        (header.format_version() > kFormatVersion ? " (written by a newer Burrow)" : ""));
  }
  return Status();
}

void RocksDbStore::publish_column(uint32_t id, rocksdb::ColumnFamilyHandle* handle) {
  handles_[id] = handle;
  if (id + 1 > column_count_.load(std::memory_order_relaxed)) {
    column_count_.store(id + 1, std::memory_order_release);
  }
}

Status RocksDbStore::save_app_column(const std::string& name, uint32_t id) {
  AppColumnRecord record;
  record.set_name(name);
  record.set_id(id);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  return from_rocksdb(db_->Put(sync, internal_cf_, std::string(kAppColumnKeyPrefix) + name,
                               serialize_record(record)),
                      "saving application column '" + name + "' of " + where());
}

Status RocksDbStore::load_app_columns(
    std::map<std::string, rocksdb::ColumnFamilyHandle*> unlisted) {
  std::lock_guard lock(app_mu_);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), internal_cf_));
  for (it->Seek(slice(kAppColumnKeyPrefix));
       it->Valid() && view(it->key()).starts_with(kAppColumnKeyPrefix); it->Next()) {
    AppColumnRecord record;
    RETURN_IF_ERROR(parse_record(view(it->value()), record));
    const std::string& name = record.name();
    auto h = unlisted.find(name);
    if (h == unlisted.end()) {
      return Status(StatusCode::kCorruption, where() + " lists application column '" + name +
                                                 "' but has no column family '" +
                                                 std::string(kAppColumnFamilyPrefix) + name + "'");
    }
    const uint32_t id = record.id();
    if (id < kColumnCount || id >= kMaxColumns || handles_[id] != nullptr) {
      return Status(StatusCode::kCorruption, where() + " gives application column '" + name +
                                                 "' an invalid id " + std::to_string(id));
    }
    publish_column(id, h->second);
    app_ids_.emplace(name, id);
    app_names_.emplace(id, name);
    unlisted.erase(h);
  }
  if (!it->status().ok()) return open_error(it->status(), "reading the column catalog of");
  // Column families created by an app_column() that crashed before recording them.
  for (const auto& [name, h] : unlisted) {
    const uint32_t id = column_count_.load(std::memory_order_relaxed);
    if (id >= kMaxColumns) return Status(StatusCode::kResourceError, "too many columns");
    RETURN_IF_ERROR(save_app_column(name, id));
    publish_column(id, h);
    app_ids_.emplace(name, id);
    app_names_.emplace(id, name);
  }
  return Status();
}

void RocksDbStore::write(WriteBatch batch, WriteCallback done) {
  if (Status s = check_columns(batch); !s.ok()) {
    if (done) done(std::move(s));
    return;
  }
  committer_->submit(std::move(batch), std::move(done));
}

void RocksDbStore::write_checked(WriteBatch batch, std::shared_ptr<CommitCheck> check,
                                 WriteCallback done) {
  if (Status s = check_columns(batch); !s.ok()) {
    if (done) done(std::move(s));
    return;
  }
  committer_->submit_checked(std::move(batch), std::move(check), std::move(done));
}

void RocksDbStore::fill(uint64_t reservation, WriteBatch batch, WriteCallback done) {
  if (Status s = check_columns(batch); !s.ok()) {
    committer_->fill(reservation, WriteBatch(), nullptr);
    if (done) done(std::move(s));
    return;
  }
  committer_->fill(reservation, std::move(batch), std::move(done));
}

Status RocksDbStore::write_group(const std::vector<const WriteBatch*>& batches) {
  size_t bytes = 0;
  for (const auto* b : batches) bytes += b->byte_size() + 16 * b->size();
  rocksdb::WriteBatch merged(bytes + 64);
  for (const auto* batch : batches) {
    for (const auto& op : batch->ops()) {
      rocksdb::ColumnFamilyHandle* cf = handle(op.column);
      rocksdb::Status s;
      switch (op.type) {
        case WriteBatch::OpType::kPut:
          s = merged.Put(cf, op.key, op.value);
          break;
        case WriteBatch::OpType::kDelete:
          s = merged.Delete(cf, op.key);
          break;
        case WriteBatch::OpType::kDeleteRange:
          s = merged.DeleteRange(cf, op.key, op.value);
          break;
      }
      if (!s.ok()) return from_rocksdb(s, "building a write batch for " + where());
    }
  }
  // No sync here even in fsync mode: sync() follows, so the kill points can sit between the
  // WAL write and the fsync. The data is readable before it is durable; only the callbacks
  // (publisher confirms) wait for durability.
  rocksdb::WriteOptions write_options;
  write_options.sync = false;
  return from_rocksdb(db_->Write(write_options, &merged), "writing to " + where());
}

Status RocksDbStore::sync() {
  return from_rocksdb(db_->SyncWAL(), "syncing the write-ahead log of " + where());
}

Status RocksDbStore::get(ColumnId column, std::string_view key, std::string& value) {
  rocksdb::ColumnFamilyHandle* cf = handle(column);
  if (cf == nullptr) return unknown_column(column);
  rocksdb::PinnableSlice found;
  auto s = db_->Get(rocksdb::ReadOptions(), cf, slice(key), &found);
  if (s.IsNotFound()) return not_found("key not found");
  if (!s.ok()) return from_rocksdb(s, "reading from " + where());
  value.assign(found.data(), found.size());
  return Status();
}

Status RocksDbStore::scan(ColumnId column, const ScanOptions& options, const ScanVisitor& visit) {
  rocksdb::ColumnFamilyHandle* cf = handle(column);
  if (cf == nullptr) return unknown_column(column);

  // Start at max(prefix, start_key); a start key past the prefix range selects nothing.
  std::string_view start = options.prefix;
  if (options.start_key > options.prefix) {
    if (!options.start_key.starts_with(options.prefix)) return Status();
    start = options.start_key;
  }
  // Stop at min(end_key, the end of the prefix range): the iterator never steps past the range
  // into other queues' live entries or tombstones.
  std::string upper = prefix_successor(options.prefix);
  if (!options.end_key.empty() && (upper.empty() || options.end_key < upper)) {
    upper = std::string(options.end_key);
  }
  if (!upper.empty() && start >= upper) return Status();

  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) read_options.iterate_upper_bound = &upper_slice;
  // Prefix seek (blooms) only when every key visited shares the seek key's 8-byte prefix.
  const bool prefix_column = column == Column::kMessages || column == Column::kOutbox;
  read_options.total_order_seek = !(prefix_column && options.prefix.size() >= kMessagePrefixSize);

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, cf));
  size_t visited = 0;
  for (it->Seek(slice(start)); it->Valid(); it->Next()) {
    const std::string_view key = view(it->key());
    if (!key.starts_with(options.prefix)) break;
    if (options.limit != 0 && visited >= options.limit) break;
    ++visited;
    if (!visit(key, view(it->value()))) break;
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning " + where());
  return Status();
}

Result<ColumnId> RocksDbStore::app_column(std::string_view name) {
  if (!is_valid_app_column_name(name)) {
    return invalid_argument("invalid application column name '" + std::string(name) +
                            "' (1 to 64 characters of [A-Za-z0-9_.-])");
  }
  std::lock_guard lock(app_mu_);
  if (auto it = app_ids_.find(name); it != app_ids_.end()) return ColumnId::from_index(it->second);
  if (Status e = committer_->error(); !e.ok()) return e;
  const uint32_t id = column_count_.load(std::memory_order_relaxed);
  if (id >= kMaxColumns) {
    return Status(StatusCode::kResourceError,
                  where() + " holds the most columns it can (" + std::to_string(kMaxColumns) + ")");
  }
  const std::string family = std::string(kAppColumnFamilyPrefix) + std::string(name);
  rocksdb::ColumnFamilyHandle* h = nullptr;
  if (auto s = db_->CreateColumnFamily(app_cf_options_, family, &h); !s.ok()) {
    return from_rocksdb(s, "creating column family '" + family + "' in " + where());
  }
  owned_handles_.push_back(h);  // only ever appended under app_mu_; read by the destructor
  // Recorded after the family exists: a crash in between leaves a family the next open
  // adopts (load_app_columns), never a record without its family.
  RETURN_IF_ERROR(save_app_column(std::string(name), id));
  publish_column(id, h);
  app_ids_.emplace(std::string(name), id);
  app_names_.emplace(id, std::string(name));
  return ColumnId::from_index(id);
}

std::vector<std::string> RocksDbStore::app_columns() const {
  std::lock_guard lock(app_mu_);
  std::vector<std::string> names;
  names.reserve(app_names_.size());
  for (const auto& [id, name] : app_names_) names.push_back(name);
  return names;
}

Status RocksDbStore::flush() {
  committer_->wait_for_pending();
  RETURN_IF_ERROR(committer_->error());
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  {
    std::lock_guard lock(app_mu_);
    all = owned_handles_;
  }
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  return from_rocksdb(db_->Flush(flush_options, all), "flushing " + where());
}

Status RocksDbStore::compact(ColumnId column) {
  rocksdb::ColumnFamilyHandle* cf = handle(column);
  if (cf == nullptr) return unknown_column(column);
  rocksdb::CompactRangeOptions options;
  // Rewrite the last level too, so compaction filters see every entry.
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return from_rocksdb(db_->CompactRange(options, cf, nullptr, nullptr), "compacting " + where());
}

StoreStats RocksDbStore::stats() const {
  StoreStats stats;
  committer_->add_stats(stats);
  auto aggregated = [&](const std::string& property) {
    uint64_t value = 0;
    return db_->GetAggregatedIntProperty(property, &value) ? value : 0;
  };
  stats.sst_bytes = aggregated(rocksdb::DB::Properties::kLiveSstFilesSize);
  stats.memtable_bytes = aggregated(rocksdb::DB::Properties::kCurSizeAllMemTables);
  stats.estimated_keys = aggregated(rocksdb::DB::Properties::kEstimateNumKeys);
  stats.pending_compaction_bytes =
      aggregated(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  rocksdb::VectorLogPtr wal_files;
  if (db_->GetSortedWalFiles(wal_files).ok()) {
    for (const auto& f : wal_files) {
      if (f->Type() == rocksdb::kAliveLogFile) stats.wal_bytes += f->SizeFileBytes();
    }
  }
  stats.scan_skipped_entries = statistics_->getTickerCount(rocksdb::NUMBER_ITER_SKIP);
  return stats;
}

}  // namespace

Result<std::unique_ptr<Store>> open_rocksdb_store(const StoreOptions& options) {
  RETURN_IF_ERROR(arm_kill_point_from_env());
  if (options.path.empty()) return invalid_argument("StoreOptions::path is empty");
  auto store = std::make_unique<RocksDbStore>(options);
  RETURN_IF_ERROR(store->open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace burrow::storage
