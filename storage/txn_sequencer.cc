// Conflict checks and outbox row ids for transactional commits (see txn_sequencer.h).
#include "storage/txn_sequencer.h"

#include <algorithm>
#include <string>

#include "base/hash.h"
#include "storage/keys.h"

namespace burrow::storage {

uint64_t CommitCheck::key_hash(ColumnId column, std::string_view key) {
  const uint32_t index = column.index();
  const std::string_view column_bytes(reinterpret_cast<const char*>(&index), sizeof(index));
  return fnv1a64(key, fnv1a64(column_bytes));
}

TxnSequencer::TxnSequencer() = default;

Status TxnSequencer::prepare(WriteBatch& batch, CommitCheck& check, uint64_t version) {
  if (slots_.empty() && !check.keys.empty()) slots_.resize(kSlots);
  for (const auto& [hash, seen] : check.keys) {
    const Slot& slot = slots_[hash & (kSlots - 1)];
    const uint64_t last = slot.hash == hash ? slot.version : slot.evicted;
    if (last > seen) {
      return Status(StatusCode::kBusy,
                    "transaction conflict: a key it read or wrote was committed by another "
                    "transaction meanwhile; retry it");
    }
  }
  for (const auto& [hash, seen] : check.keys) {
    Slot& slot = slots_[hash & (kSlots - 1)];
    if (slot.hash != hash) {
      slot.evicted = std::max(slot.evicted, slot.version);
      slot.hash = hash;
    }
    slot.version = version;
  }
  if (check.outbox_rows == 0) return Status();

  check.first_row_id = next_row_id_;
  const auto& ops = batch.ops();
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    if (op.type == WriteBatch::OpType::kPut && op.column == Column::kOutbox && op.key.empty()) {
      batch.set_key(i, outbox_key(next_row_id_++));
    }
  }
  std::string next;
  put_u64_be(next, next_row_id_);
  batch.put(Column::kMetadata, outbox_sequence_key(), std::move(next));
  return Status();
}

Result<uint64_t> load_next_row_id(Store& store) {
  std::string value;
  Status s = store.get(Column::kMetadata, outbox_sequence_key(), value);
  if (s.code() == StatusCode::kNotFound) return uint64_t{1};
  if (!s.ok()) return s;
  if (value.size() != 8) {
    return Status(StatusCode::kCorruption,
                  "outbox sequence record has " + std::to_string(value.size()) + " bytes, not 8");
  }
  return get_u64_be(value.data());
}

}  // namespace burrow::storage
