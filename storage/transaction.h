// storage::Transaction: optimistic read-modify-write over a Store, committed in one atomic
// write through the store's writer (Store::write_checked), so it shares group commit, fsync
// and durability mode with every other write.
//
// Isolation: reads see the latest committed state plus the transaction's own writes. Every key
// read with get_for_update() or written with put()/del() is validated at commit: when another
// transaction committed that key after this one first touched it, commit fails with kBusy and
// nothing is written (RocksDB's OptimisticTransaction without a snapshot). Plain get() is not
// validated. Range scans are not offered (phantoms are not detected). Writes made with
// Store::write() outside transactions are not seen by the check.
//
// Not thread-safe: one transaction is used by one thread at a time; many transactions may run
// concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <burrow/status.h>

#include "storage/store.h"

namespace burrow::storage {

class Transaction {
 public:
  explicit Transaction(Store& store) : store_(&store) {}
  Transaction(Transaction&&) noexcept = default;
  Transaction& operator=(Transaction&&) noexcept = default;

  // Reads `key`: the transaction's own write if it made one, else the committed value.
  // Errors: kNotFound, and the store's.
  Status get(ColumnId column, std::string_view key, std::string& value);
  // get(), and commit fails with kBusy if another transaction commits `key` meanwhile.
  Status get_for_update(ColumnId column, std::string_view key, std::string& value);
  void put(ColumnId column, std::string_view key, std::string_view value);
  void del(ColumnId column, std::string_view key);
  // Adds an outbox row (an OutboxRow record); the store gives it its id at commit.
  void add_outbox_row(std::string value);

  uint32_t outbox_rows() const { return outbox_rows_; }
  bool empty() const { return writes_.empty() && outbox_rows_ == 0 && check_->keys.empty(); }

  // Commits asynchronously: `done` runs once with OK when the write is durable (the store's
  // durability mode), kBusy on a conflict, or the store's error. The transaction is spent
  // afterwards. On OK, first_row_id() is the id of the first outbox row.
  void commit(WriteCallback done);
  // commit() and wait. Not from a WriteCallback.
  Status commit_sync();
  uint64_t first_row_id() const { return check_->first_row_id; }
  // The check commit() submits (first_row_id is set on it before the callback runs with OK).
  std::shared_ptr<const CommitCheck> check() const { return check_; }

  // Drops every staged write.
  void rollback();

 private:
  struct Key {
    uint32_t column;
    std::string key;
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  void track(ColumnId column, std::string_view key);

  Store* store_;
  // Staged writes in key order (the last write of a key wins); nullopt = delete.
  std::map<Key, std::optional<std::string>> writes_;
  std::vector<std::string> rows_;
  uint32_t outbox_rows_ = 0;
  std::shared_ptr<CommitCheck> check_ = std::make_shared<CommitCheck>();
  std::unordered_set<uint64_t> tracked_;  // key hashes already in check_->keys
};

}  // namespace burrow::storage
