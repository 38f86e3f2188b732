// How the broker keeps what must survive a restart in the store (DESIGN.md section 5), as
// RabbitMQ does: durable exchanges, queues and bindings, and persistent messages in durable
// queues. Transient messages, non-durable entities and exclusive queues are never written.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <burrow/status.h>

#include "broker/binding.h"
#include "broker/queue_entry.h"
#include "storage/store.h"

namespace burrow::storage {
class MessageRecord;
}  // namespace burrow::storage

namespace burrow::broker {

struct ExchangeSettings;
struct QueueSettings;

// Waits for the store writes of one publish (one per durable queue it reached) and reports
// once: the publisher confirm fires only when every write is durable. Thread-safe.
class ConfirmGate {
 public:
  explicit ConfirmGate(std::function<void(bool ok)> on_done) : on_done_(std::move(on_done)) {}
  // One more write to wait for. Only before seal().
  void add() { pending_.fetch_add(1, std::memory_order_relaxed); }
  // A write finished.
  void done(bool ok);
  // No more writes will be added; fires now if none is pending.
  void seal() { done(true); }

 private:
  std::function<void(bool)> on_done_;
  std::atomic<int> pending_{1};  // the seal token
  std::atomic<bool> ok_{true};
};

// Gathers the store writes of publishes into one batch instead of submitting each: the outbox
// relay routes rows this way and adds the rows' deletes, so "enqueued" and "row gone" are one
// atomic write (it submits the batch through a Store::reserve() made before routing, so the
// queues' later writes - deliveries, acks - still land after it). Not thread-safe.
struct WriteCollector {
  storage::WriteBatch batch;
  std::vector<storage::WriteCallback> on_written;  // run with the batch's outcome, in order
};

// Metadata writes submitted in order while a lock is held, and waited for after it is
// released (VHost): a thread holding the topology lock never waits for the store, because the
// outbox relay may hold the store's write order (Store::reserve) while it needs that lock to
// route. Not thread-safe.
class PendingWrites {
 public:
  void add(storage::Store& store, storage::WriteBatch batch);
  // Waits for every write added; the first error.
  Status wait();
  bool empty() const { return writes_.empty(); }

 private:
  std::vector<std::future<Status>> writes_;
};

// A message read back from the store: its sequence in its queue and its contents.
struct LoadedMessage {
  uint64_t seq = 0;
  StoredMessagePtr message;
  TimeMs expires_at = 0;
  uint32_t delivery_count = 0;
  uint32_t body_size = 0;
};

// Thread-safe (the store is). Metadata writes wait for durability (a declare-ok means the
// entity survives a restart, as in RabbitMQ); message writes are asynchronous.
//
// Memory budget (Options::memory_budget_bytes): queues charge the bytes of the persistent
// messages they hold ready in memory; past the budget a queue keeps a newly stored message
// only as its index entry (QueueEntry without a message) once its write completed, and reads
// the contents back in batches when a consumer reaches it (lazy bodies).
class Persistence {
 public:
  explicit Persistence(storage::Store& store, uint64_t memory_budget_bytes = 0)
      : store_(store), budget_(memory_budget_bytes) {}

  storage::Store& store() { return store_; }

  // ---- metadata (durable entities) ----
  // Each waits until the write is durable, or with `pending` only submits it there (the
  // caller waits later; the returned status is then OK).
  Status save_exchange(const ExchangeSettings& exchange, PendingWrites* pending = nullptr);
  Status delete_exchange(std::string_view vhost, std::string_view name,
                         PendingWrites* pending = nullptr);
  Status save_queue(const QueueSettings& queue, uint64_t queue_id,
                    PendingWrites* pending = nullptr);
  // Deletes the queue's record, messages, head and delivery markers.
  Status delete_queue(std::string_view vhost, std::string_view name, uint64_t queue_id,
                      PendingWrites* pending = nullptr);
  Status save_binding(std::string_view vhost, const Binding& binding,
                      PendingWrites* pending = nullptr);
  Status delete_binding(std::string_view vhost, const Binding& binding,
                        PendingWrites* pending = nullptr);

  // ---- clean and unclean stops ----
  // Whether the last broker on this store stopped without mark_stopped() (a crash), then
  // records that one is running now. Errors: the store's.
  Result<bool> open_running();
  // The last write of a clean stop (every other write was submitted before).
  Status mark_stopped();

  // ---- messages of durable queues ----
  // Writes a persistent message; `gate` (may be null) learns when it is durable, and
  // `written` (may be null) is raised to entry.seq once the write completed (writes complete
  // in submission order, so a queue that submits in sequence order gets a watermark).
  // With `collect`, the write joins that batch instead of being submitted.
  void put_message(uint64_t queue_id, const QueueEntry& entry,
                   const std::shared_ptr<ConfirmGate>& gate,
                   std::shared_ptr<std::atomic<uint64_t>> written = nullptr,
                   WriteCollector* collect = nullptr);
  // ---- messages held by durable delayed-message exchanges ----
  // Stores a held message (any delivery mode, as the plugin); `gate` (may be null) learns
  // when it is durable.
  void put_delayed(std::string_view vhost, uint64_t id, std::string_view exchange,
                   std::span<const std::string> routing_keys, const StoredMessage& message,
                   TimeMs due, const std::shared_ptr<ConfirmGate>& gate,
                   WriteCollector* collect = nullptr);
  void delete_delayed(std::string_view vhost, uint64_t id);
  struct HeldMessage {
    uint64_t id = 0;
    std::string exchange;
    std::vector<std::string> routing_keys;
    StoredMessagePtr message;
    TimeMs due = 0;
  };
  // Every held message of `vhost`, in id order.
  Result<std::vector<HeldMessage>> load_delayed(std::string_view vhost);

  // ---- streams ----
  // A stream keeps one record per chunk, keyed by the chunk's first offset; its value holds
  // the chunk's messages in offset order (each a 4-byte length, then the message value).
  struct StreamChunk {
    uint64_t first_offset = 0;
    std::span<const StoredMessagePtr> messages;
  };
  // Writes chunks of a stream in one batch. Once the write completed, every gate is done
  // (their add() was called at append), then `on_done` runs with the outcome (on the store's
  // writer thread: it must not block).
  void put_stream_chunks(uint64_t queue_id, std::span<const StreamChunk> chunks,
                         std::vector<std::shared_ptr<ConfirmGate>> gates,
                         std::function<void(bool ok)> on_done, WriteCollector* collect = nullptr);
  // Retention: deletes every chunk of the stream below `first_offset` (one range tombstone,
  // however many messages) and saves `first_offset` as the stream's start.
  void truncate_stream(uint64_t queue_id, uint64_t first_offset);
  // Visits the stream's chunks from the one keyed `from` on: (first offset, the messages'
  // values). `visit` returns false to stop.
  using ChunkVisitor = std::function<bool(uint64_t first_offset, std::vector<std::string_view>&)>;
  Status scan_stream(uint64_t queue_id, uint64_t from, const ChunkVisitor& visit);
  // Reads up to `limit` messages from offset `from` on, starting at the chunk keyed
  // `chunk_first` (the one holding `from`).
  Result<std::vector<LoadedMessage>> load_stream(uint64_t queue_id, uint64_t chunk_first,
                                                 uint64_t from, size_t limit);

  // Reads back the messages `seqs` (ascending) of `queue_id`; ones no longer stored are left
  // out. One ordered scan from the first to the last.
  Result<std::vector<LoadedMessage>> load_messages(uint64_t queue_id,
                                                   std::span<const uint64_t> seqs);
  // Decodes a message value (storage/record_codec.h framing) read from the store.
  static Result<LoadedMessage> decode_message(uint64_t seq, std::string_view value);
  // The same, parsing into `record` (a caller decoding many reuses one).
  static Result<LoadedMessage> decode_message(uint64_t seq, std::string_view value,
                                              storage::MessageRecord& record);

  // ---- memory budget for ready persistent messages ----
  // Bytes a resident message is charged: its body plus a fixed estimate of the rest.
  static constexpr uint64_t kMessageOverhead = 256;
  void charge(uint64_t bytes) { resident_.fetch_add(bytes, std::memory_order_relaxed); }
  void release(uint64_t bytes) { resident_.fetch_sub(bytes, std::memory_order_relaxed); }
  // Whether new messages should be kept on disk only (0 budget = unlimited).
  // `pending`: bytes about to be charged (recovery decides a batch before charging it).
  bool over_budget(uint64_t pending = 0) const {
    return budget_ != 0 && resident_.load(std::memory_order_relaxed) + pending > budget_;
  }
  uint64_t resident_bytes() const { return resident_.load(std::memory_order_relaxed); }
  uint64_t budget() const { return budget_; }
  // Records that messages were delivered (and how often), so a restart brings them back
  // with redelivered=true and their delivery counts.
  void mark_delivered(uint64_t queue_id, std::span<const std::pair<uint64_t, uint32_t>> seqs);
  // Deletes messages that left the queue for good, and moves the saved head when given.
  // With `collect`, the deletes join that batch instead of being submitted.
  void delete_messages(uint64_t queue_id, std::span<const uint64_t> seqs, uint64_t new_head,
                       WriteCollector* collect = nullptr);

  // One atomic write built while other writes go on (Store::reserve): reserve() a place in
  // the write order, gather writes into a WriteCollector, then fill() it (runs the
  // collector's callbacks with the outcome). Nothing may wait for a write in between.
  uint64_t reserve() { return store_.reserve(); }
  void fill(uint64_t reservation, WriteCollector collect);

 private:
  Status write_metadata(storage::WriteBatch batch, PendingWrites* pending);
  // store_.write(), or joins `collect`'s batch.
  void submit(storage::WriteBatch batch, WriteCollector* collect, storage::WriteCallback done);

  storage::Store& store_;
  const uint64_t budget_;
  std::atomic<uint64_t> resident_{0};
};

}  // namespace burrow::broker
