// MemoryStore: the in-memory twin of the RocksDB store (as leveldb's memenv). Same contract
// (tests/storage/store_contract_test.cc runs against both), no files, no group commit.
#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

#include "base/status_macros.h"
#include "base/thread_annotations.h"
#include "storage/record_codec.h"
#include "storage/store.h"
#include "storage/txn_sequencer.h"

namespace burrow::storage {
namespace {

// Thread-safe: one mutex guards all columns.
class MemoryStore final : public Store {
 public:
  MemoryStore() : columns_(kColumnCount) {}

  using Store::scan;

  void write(WriteBatch batch, WriteCallback done) override {
    submit(Slot{std::move(batch), std::move(done), nullptr});
  }

  void write_checked(WriteBatch batch, std::shared_ptr<CommitCheck> check,
                     WriteCallback done) override {
    submit(Slot{std::move(batch), std::move(done), std::move(check)});
  }

  uint64_t visible_version() const override { return sequencer_.visible_version(); }

  uint64_t reserve() override {
    std::lock_guard lock(mu_);
    Slot slot;
    slot.reservation = ++next_reservation_;
    slot.ready = false;
    slots_.push_back(std::move(slot));
    return next_reservation_;
  }

  void fill(uint64_t reservation, WriteBatch batch, WriteCallback done) override {
    std::unique_lock lock(mu_);
    for (Slot& slot : slots_) {
      if (slot.reservation == reservation && !slot.ready) {
        slot.batch = std::move(batch);
        slot.done = std::move(done);
        slot.ready = true;
        break;
      }
    }
    drain(lock);
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

  // Applies the inbox expiry the RocksDB store's compaction filter applies.
  Status compact(ColumnId column) override {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(check_column(column));
    if (column != Column::kInbox) return Status();
    Map& map = columns_[column.index()];
    const uint64_t now = wall_clock_ms();
    std::erase_if(map, [&](const auto& kv) { return inbox_entry_expired(kv.second, now); });
    return Status();
  }

  StoreStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  using Map = std::map<std::string, std::string, std::less<>>;

  struct Slot {
    WriteBatch batch;
    WriteCallback done;
    std::shared_ptr<CommitCheck> check;
    uint64_t reservation = 0;
    bool ready = true;
  };

  // Writes complete inline, unless a reservation is outstanding: then they queue behind it
  // and run (in order) when it is filled, as in the RocksDB store's writer. Transactions
  // always take the queue, so their callbacks run in commit order (the outbox relies on it:
  // row ids reach the relay in id order).
  void submit(Slot slot) {
    std::unique_lock lock(mu_);
    if (slots_.empty() && !slot.check && !draining_) {
      Status status = apply_slot(slot);
      lock.unlock();
      if (slot.done) slot.done(std::move(status));
      return;
    }
    slots_.push_back(std::move(slot));
    drain(lock);
  }

  // Applies the ready slots at the front; one thread at a time, callbacks outside the lock.
  void drain(std::unique_lock<std::mutex>& lock) REQUIRES(mu_) {
    if (draining_) return;
    draining_ = true;
    while (!slots_.empty() && slots_.front().ready) {
      Slot slot = std::move(slots_.front());
      slots_.pop_front();
      Status status = apply_slot(slot);
      lock.unlock();
      if (slot.done) slot.done(std::move(status));
      lock.lock();
    }
    draining_ = false;
  }

  Status apply_slot(Slot& slot) REQUIRES(mu_) {
    Status status = check_columns(slot.batch);
    uint64_t version = 0;
    if (status.ok() && slot.check) {
      version = sequencer_.begin_group();
      status = sequencer_.prepare(slot.batch, *slot.check, version);
    }
    if (status.ok()) {
      for (const auto& op : slot.batch.ops()) apply(op);
      stats_.write_batches++;
      stats_.writes_per_batch.add(1);
      stats_.bytes_written += slot.batch.byte_size();
    } else {
      stats_.failed_writes++;
    }
    if (version != 0) sequencer_.publish(version);
    stats_.writes++;
    return status;
  }

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
  std::deque<Slot> slots_ GUARDED_BY(mu_);
  uint64_t next_reservation_ GUARDED_BY(mu_) = 0;
  bool draining_ GUARDED_BY(mu_) = false;
  TxnSequencer sequencer_;  // guarded by mu_ (its atomics are also read without it)
};

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace burrow::storage
