// MemoryStore: the in-memory twin of the RocksDB store (as leveldb's memenv). Same contract
// (tests/storage/store_contract_test.cc runs against both), no files, no group commit.
#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

#include "base/status_macros.h"
#include "base/thread_annotations.h"
#include "storage/store.h"

namespace burrow::storage {
namespace {

// Thread-safe: one mutex guards all columns.
class MemoryStore final : public Store {
 public:
  MemoryStore() : columns_(kColumnCount) {}

  using Store::scan;

  void write(WriteBatch batch, WriteCallback done) override {
    Status status;
    {
      std::lock_guard lock(mu_);
      status = check_columns(batch);
      if (status.ok()) {
        for (const auto& op : batch.ops()) apply(op);
        stats_.write_batches++;
        stats_.writes_per_batch.add(1);
        stats_.bytes_written += batch.byte_size();
      } else {
        stats_.failed_writes++;
      }
      stats_.writes++;
    }
    if (done) done(std::move(status));
  }

  Status get(ColumnId column, std::string_view key, std::string& value) override {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(check_column(column));
    const auto& map = columns_[column.index()];
    auto it = map.find(key);
    if (it == map.end()) return not_found("key not found");
    value = it->second;
    return Status();
  }

  Status scan(ColumnId column, const ScanOptions& options, const ScanVisitor& visit) override {
    // Copy the range first so `visit` may call back into the store.
    std::vector<std::pair<std::string, std::string>> range;
    {
      std::lock_guard lock(mu_);
      RETURN_IF_ERROR(check_column(column));
      const auto& map = columns_[column.index()];
      auto it = map.lower_bound(std::max(options.prefix, options.start_key));
      for (; it != map.end(); ++it) {
        std::string_view key = it->first;
        if (!key.starts_with(options.prefix)) break;
        if (!options.end_key.empty() && key >= options.end_key) break;
        if (options.limit != 0 && range.size() >= options.limit) break;
        range.emplace_back(it->first, it->second);
      }
    }
    for (const auto& [k, v] : range) {
      if (!visit(k, v)) break;
    }
    return Status();
  }

  Result<ColumnId> app_column(std::string_view name) override {
    if (!is_valid_app_column_name(name)) {
      return invalid_argument("invalid application column name '" + std::string(name) +
                              "' (1 to 64 characters of [A-Za-z0-9_.-])");
    }
    std::lock_guard lock(mu_);
    auto it = app_ids_.find(std::string(name));
    if (it != app_ids_.end()) return ColumnId::from_index(it->second);
    const auto index = static_cast<uint32_t>(columns_.size());
    columns_.emplace_back();
    app_ids_.emplace(std::string(name), index);
    app_names_.emplace_back(name);
    return ColumnId::from_index(index);
  }

  std::vector<std::string> app_columns() const override {
    std::lock_guard lock(mu_);
    return app_names_;
  }

  Status flush() override { return Status(); }

  StoreStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  using Map = std::map<std::string, std::string, std::less<>>;

  Status check_column(ColumnId column) const REQUIRES(mu_) {
    if (column.index() >= columns_.size()) {
      return invalid_argument("unknown column " + std::to_string(column.index()));
    }
    return Status();
  }

  Status check_columns(const WriteBatch& batch) const REQUIRES(mu_) {
    for (const auto& op : batch.ops()) {
      Status s = check_column(op.column);
      if (!s.ok()) return s;
    }
    return Status();
  }

  void apply(const WriteBatch::Op& op) REQUIRES(mu_) {
    Map& map = columns_[op.column.index()];
    switch (op.type) {
      case WriteBatch::OpType::kPut:
        map.insert_or_assign(op.key, op.value);
        break;
      case WriteBatch::OpType::kDelete:
        map.erase(op.key);
        break;
      case WriteBatch::OpType::kDeleteRange:
        map.erase(map.lower_bound(op.key), map.lower_bound(op.value));
        break;
    }
  }

  mutable std::mutex mu_;
  // A deque so references to existing columns survive app_column() adding one.
  std::deque<Map> columns_ GUARDED_BY(mu_);
  std::unordered_map<std::string, uint32_t> app_ids_ GUARDED_BY(mu_);
  std::vector<std::string> app_names_ GUARDED_BY(mu_);
  StoreStats stats_ GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace burrow::storage
