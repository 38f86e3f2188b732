// Optimistic transactions over a Store (see transaction.h).
#include "storage/transaction.h"

#include <future>

namespace burrow::storage {

void Transaction::track(ColumnId column, std::string_view key) {
  const uint64_t hash = CommitCheck::key_hash(column, key);
  if (tracked_.insert(hash).second) {
    check_->keys.emplace_back(hash, store_->visible_version());
  }
}

Status Transaction::get(ColumnId column, std::string_view key, std::string& value) {
  auto it = writes_.find(Key{column.index(), std::string(key)});
  if (it != writes_.end()) {
    if (!it->second) return not_found("key not found");
    value = *it->second;
    return Status();
  }
  return store_->get(column, key, value);
}

Status Transaction::get_for_update(ColumnId column, std::string_view key, std::string& value) {
  // Tracked before reading: a commit after this point is seen by the check.
  track(column, key);
  return get(column, key, value);
}

void Transaction::put(ColumnId column, std::string_view key, std::string_view value) {
  track(column, key);
  writes_.insert_or_assign(Key{column.index(), std::string(key)}, std::string(value));
}

void Transaction::del(ColumnId column, std::string_view key) {
  track(column, key);
  writes_.insert_or_assign(Key{column.index(), std::string(key)}, std::nullopt);
}

void Transaction::add_outbox_row(std::string value) {
  rows_.push_back(std::move(value));
  ++outbox_rows_;
}

void Transaction::commit(WriteCallback done) {
  WriteBatch batch;
  for (auto& [key, value] : writes_) {
    const ColumnId column = ColumnId::from_index(key.column);
    if (value) {
      batch.put(column, std::move(key.key), std::move(*value));
    } else {
      batch.del(column, std::move(key.key));
    }
  }
  for (auto& row : rows_) batch.put(Column::kOutbox, std::string(), std::move(row));
  check_->outbox_rows = outbox_rows_;
  writes_.clear();
  rows_.clear();
  store_->write_checked(std::move(batch), check_, std::move(done));
}

Status Transaction::commit_sync() {
  std::promise<Status> done;
  auto result = done.get_future();
  commit([&done](Status s) { done.set_value(std::move(s)); });
  return result.get();
}

void Transaction::rollback() {
  writes_.clear();
  rows_.clear();
  outbox_rows_ = 0;
  check_ = std::make_shared<CommitCheck>();
  tracked_.clear();
}

}  // namespace burrow::storage
