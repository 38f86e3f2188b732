// MemoryStore: the in-memory twin of the RocksDB store (as leveldb's memenv).
#include <array>
#include <future>
#include <map>
#include <mutex>

#include "base/thread_annotations.h"
#include "storage/store.h"

namespace burrow::storage {

void WriteBatch::append(WriteBatch&& other) {
  for (auto& op : other.ops_) ops_.push_back(std::move(op));
  other.ops_.clear();
}

Status Store::write_sync(WriteBatch batch) {
  std::promise<Status> done;
  auto result = done.get_future();
  write(std::move(batch), [&done](Status s) { done.set_value(std::move(s)); });
  return result.get();
}

namespace {

// Thread-safe: one mutex guards all columns.
class MemoryStore final : public Store {
 public:
  void write(WriteBatch batch, WriteCallback done) override {
    {
      std::lock_guard lock(mu_);
      for (const auto& op : batch.ops()) {
        auto& column = columns_[static_cast<size_t>(op.column)];
        if (op.is_delete) {
          column.erase(op.key);
        } else {
          column.insert_or_assign(op.key, op.value);
        }
      }
    }
    if (done) done(Status());
  }

  Status get(Column column, std::string_view key, std::string& value) override {
    std::lock_guard lock(mu_);
    const auto& map = columns_[static_cast<size_t>(column)];
    auto it = map.find(key);
    if (it == map.end()) return not_found("key not found");
    value = it->second;
    return Status();
  }

  Status scan(Column column, std::string_view prefix, std::string_view start_key,
              const std::function<bool(std::string_view, std::string_view)>& visit) override {
    // Copy the range first so `visit` may call back into the store.
    std::vector<std::pair<std::string, std::string>> range;
    {
      std::lock_guard lock(mu_);
      const auto& map = columns_[static_cast<size_t>(column)];
      auto it = map.lower_bound(start_key.empty() ? prefix : start_key);
      for (; it != map.end() && std::string_view(it->first).starts_with(prefix); ++it) {
        range.emplace_back(it->first, it->second);
      }
    }
    for (const auto& [k, v] : range) {
      if (!visit(k, v)) break;
    }
    return Status();
  }

 private:
  std::mutex mu_;
  std::array<std::map<std::string, std::string, std::less<>>, kColumnCount> columns_
      GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace burrow::storage
