// A queue's message range in column kMessages (keys: storage/keys.h): the few operations the
// broker needs to persist a queue without ever scanning it from the start after deletes.
//
//   publish      batch.put(kMessages, message_key(q, seq), encode_message_value(...))
//   ack (any)    batch.del(kMessages, message_key(q, seq))
//   head moved   advance_queue_head(batch, q, head): one range tombstone for everything below
//                `head` and the saved head, so recovery seeks straight to it
//   recovery     load_queue_head(store, q), then scan_queue(store, q, head, ...) in pages
//   queue gone   delete_queue(batch, q)
//
// Free functions over Store, so both twins behave alike. Thread-safe as Store is.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include <burrow/status.h>

#include "storage/store.h"

namespace burrow::storage {

// Adds to `batch`: delete every message of `queue_id` with sequence < `head`, and save `head`.
// The caller guarantees that no message below `head` is still needed (all acked, expired or
// dead-lettered). Cheap however many messages it covers: one range tombstone, which RocksDB
// skips as a whole when it seeks (no per-key tombstones to step over).
void advance_queue_head(WriteBatch& batch, uint64_t queue_id, uint64_t head);

// Adds to `batch`: save `head` only, for a caller that already point-deleted every message
// below it (the broker deletes each message as it leaves its queue). No range tombstone: many
// of them in a memtable make every new iterator slower (RocksDB fragments them per
// iterator), see docs/benchmarks.md "Queue churn".
void save_queue_head(WriteBatch& batch, uint64_t queue_id, uint64_t head);

// The saved head of `queue_id`, or 0 when none was saved. Errors: kCorruption, kIoError.
Result<uint64_t> load_queue_head(Store& store, uint64_t queue_id);

// Adds to `batch`: delete every message of `queue_id` and its saved head.
void delete_queue(WriteBatch& batch, uint64_t queue_id);

// Visits the messages of `queue_id` with sequence >= `from_seq`, in order, at most `limit`
// (0 = all); `visit` returns false to stop. Page by calling again with the last seq + 1.
using QueueVisitor = std::function<bool(uint64_t seq, std::string_view value)>;
Status scan_queue(Store& store, uint64_t queue_id, uint64_t from_seq, size_t limit,
                  const QueueVisitor& visit);

}  // namespace burrow::storage
