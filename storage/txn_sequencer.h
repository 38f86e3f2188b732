// TxnSequencer: the part of a transactional commit that both store twins share - conflict
// detection for write_checked() and outbox row ids. Called by whoever serializes the store's
// writes (the GroupCommitter's writer thread, or the MemoryStore under its lock), one group at
// a time.
//
// Conflict detection is RocksDB's optimistic transactions done on our own writer: a table of
// 2^18 slots, slot = hash(column, key) mod 2^18, each remembering the full hash and version of
// the last key committed there, plus the highest version of any other key that was evicted from
// it. A transaction records visible_version() when it first touches a key; at commit its key
// conflicts when the slot holds that key with a newer version, or holds another key and has
// evicted one with a newer version (conservative: the evicted one may have been this key). So
// a false conflict needs two other keys of the same slot committed during the transaction,
// rare even with thousands in flight. A transaction that passes stamps its slots with its
// group's version at once, so a later member of the same group conflicts with it too. Only the
// committing thread touches the table (allocated on the first transaction: 6 MiB).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "storage/store.h"

namespace burrow::storage {

class TxnSequencer {
 public:
  TxnSequencer();

  // The highest version whose writes are visible to reads (acquire).
  uint64_t visible_version() const { return visible_.load(std::memory_order_acquire); }
  // The version of the next group; call once per group before prepare().
  uint64_t begin_group() { return ++version_; }
  // After the group's writes are readable.
  void publish(uint64_t version) { visible_.store(version, std::memory_order_release); }

  // Validates `check` for a group of version `version`; on success stamps its keys, replaces
  // the empty-key kOutbox puts of `batch` with row keys (and sets check.first_row_id) and
  // appends the durable outbox sequence. Errors: kBusy on a conflict (batch unchanged).
  Status prepare(WriteBatch& batch, CommitCheck& check, uint64_t version);

  // The first outbox row id to hand out (at open: above every stored row and the saved
  // sequence).
  void set_next_row_id(uint64_t id) { next_row_id_ = id; }
  uint64_t next_row_id() const { return next_row_id_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t version = 0;  // of the key `hash`; 0 = empty
    uint64_t evicted = 0;  // highest version of another key that held the slot
  };
  static constexpr size_t kSlots = size_t{1} << 18;
  std::vector<Slot> slots_;
  uint64_t version_ = 0;  // writer only
  std::atomic<uint64_t> visible_{0};
  uint64_t next_row_id_ = 1;  // writer only
};

// The first free outbox row id of a store: the saved outbox sequence (written in the same
// batch as every row, so it is always past the highest row), or 1 for a new store.
Result<uint64_t> load_next_row_id(Store& store);

}  // namespace burrow::storage
