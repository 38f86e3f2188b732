// The storage interface the broker core writes through (DESIGN.md section 5). Two twins
// implement it: MemoryStore (make_memory_store(); --in-memory and tests) and the RocksDB store
// (open_rocksdb_store() in storage/rocksdb_store.h). The store knows nothing of AMQP: it keeps
// opaque keys and values in columns; storage/keys.h and storage/records.proto give them a layout.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <burrow/status.h>

#include "storage/store_stats.h"

namespace burrow::storage {

// The built-in column families of the one database (DESIGN.md section 5).
enum class Column : uint8_t {
  kMetadata,  // vhosts, users, exchanges, queues, bindings, queue heads (storage/keys.h)
  kMessages,  // key = queue id + sequence, big-endian, so a queue is a contiguous range
  kOutbox,    // transactional outbox rows
  kInbox,     // processed message ids
  kAppData,   // the embedding application's own state (more columns: Store::app_column)
};
inline constexpr int kColumnCount = 5;

// Names a column family: a built-in Column (implicitly) or an application column returned by
// Store::app_column(). A small value type; an application ColumnId is only meaningful to the
// store that returned it (ids are stable across reopen of the same data directory).
class ColumnId {
 public:
  constexpr ColumnId(Column column) noexcept  // NOLINT(google-explicit-constructor)
      : index_(static_cast<uint32_t>(column)) {}

  // The id with the given index; indexes below kColumnCount are the built-in Columns.
  static constexpr ColumnId from_index(uint32_t index) noexcept {
    ColumnId id(Column::kMetadata);
    id.index_ = index;
    return id;
  }
  constexpr uint32_t index() const noexcept { return index_; }
  constexpr bool is_builtin() const noexcept { return index_ < kColumnCount; }

  friend constexpr bool operator==(ColumnId, ColumnId) noexcept = default;

 private:
  uint32_t index_;
};

// A set of puts, deletes and range deletes applied atomically and in order. Not thread-safe.
class WriteBatch {
 public:
  enum class OpType : uint8_t { kPut, kDelete, kDeleteRange };
  struct Op {
    OpType type;
    ColumnId column;
    std::string key;    // kDeleteRange: the first key deleted
    std::string value;  // kPut: the value; kDeleteRange: the end of the range (exclusive)
  };

  void put(ColumnId column, std::string key, std::string value) {
    bytes_ += key.size() + value.size();
    ops_.push_back(Op{OpType::kPut, column, std::move(key), std::move(value)});
  }
  void del(ColumnId column, std::string key) {
    bytes_ += key.size();
    ops_.push_back(Op{OpType::kDelete, column, std::move(key), {}});
  }
  // Deletes every key k with begin <= k < end (one range tombstone in RocksDB: use it for a
  // queue's acked prefix or a deleted queue, not per message). An empty range (begin >= end)
  // is ignored.
  void delete_range(ColumnId column, std::string begin, std::string end);

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  // Key and value bytes of all operations: what the batch costs in the write-ahead log.
  size_t byte_size() const { return bytes_; }
  const std::vector<Op>& ops() const { return ops_; }
  // Replaces the key of operation `index` (the store names outbox rows at commit).
  void set_key(size_t index, std::string key) {
    bytes_ = bytes_ - ops_[index].key.size() + key.size();
    ops_[index].key = std::move(key);
  }
  // Moves `other`'s operations to the end of this batch; `other` is left empty.
  void append(WriteBatch&& other);

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

// Called once with the outcome of a write: OK once the batch is durable as the store's
// durability mode defines, or the error. Runs on the store's writer thread (RocksDB store) or
// inline (memory store, and a batch refused before it was queued). It must not block and must
// not call write_sync(), flush() or app_column() (they wait for the writer thread).
using WriteCallback = std::function<void(Status)>;

// Visits one key and value of a scan; returns false to stop. The views are valid only during
// the call.
using ScanVisitor = std::function<bool(std::string_view key, std::string_view value)>;

// Which keys a scan visits, in ascending unsigned byte order: keys k with k starting with
// `prefix`, k >= start_key and (when end_key is not empty) k < end_key; at most `limit` of them
// (0 = no limit). The views must outlive the scan() call.
//
// Paging: visit `limit` keys, then scan again with start_key = the last key + '\0' (or, for a
// queue, message_key(queue, last_seq + 1)). Start from a queue's saved head, never from the
// start of its range: RocksDB steps over every deleted entry between the two.
struct ScanOptions {
  std::string_view prefix;
  std::string_view start_key;
  std::string_view end_key;
  size_t limit = 0;
};

// What the store checks and fills in when it commits a transaction's batch (write_checked):
// optimistic concurrency control done on the store's single writer, so a transaction shares
// its group commit (and fsync) with every other write.
struct CommitCheck {
  // Keys the transaction read for update or wrote, each as (key_hash(column, key), the
  // store's visible_version() when the transaction first touched it). The commit fails with
  // kBusy when a checked write committed after that version touched the same key (hash
  // collisions are rare false conflicts, as in RocksDB's optimistic transactions).
  std::vector<std::pair<uint64_t, uint64_t>> keys;
  // Puts to Column::kOutbox with an empty key are outbox rows: the store gives them
  // consecutive row ids in commit order (so id order is commit order across transactions)
  // and durably advances the outbox sequence in the same write.
  uint32_t outbox_rows = 0;
  // Set before `done` runs with OK: the id of the first outbox row (the others follow).
  uint64_t first_row_id = 0;

  static uint64_t key_hash(ColumnId column, std::string_view key);
};

// A key-value store with atomic batches and ordered scans. Thread-safe: every method may be
// called from any thread. Destroying the store completes every pending write (callbacks run)
// before it returns; no method may be called during or after destruction.
class Store {
 public:
  virtual ~Store() = default;

  // Applies `batch` atomically. `done` (may be null) runs once the batch is durable, or with
  // the error: kInvalidArgument when the batch names an unknown column (nothing is written),
  // kIoError when it could not be written. After a failed write every later write fails with
  // kIoError too (the store never retries silently); reopen the store to recover. Callbacks of
  // the writes issued by one thread run in the order the writes were issued.
  virtual void write(WriteBatch batch, WriteCallback done) = 0;

  // Commits a transaction's batch: validates `check` against every checked write committed
  // before it (failing with kBusy "transaction conflict ..." and writing nothing), assigns its
  // outbox row ids, then writes it like write(). `check` must stay alive until `done` runs.
  virtual void write_checked(WriteBatch batch, std::shared_ptr<CommitCheck> check,
                             WriteCallback done) = 0;

  // The version a transaction records when it reads a key for update: every checked write
  // committed at or below it is visible to reads made after this call.
  virtual uint64_t visible_version() const = 0;

  // Reserves the next place in the write order for a batch not known yet: every write
  // submitted after reserve() returns is applied (and its callback run) after the reserved
  // one. The relay uses it to build "enqueue + delete the outbox row" while queues append
  // their own writes behind it. Every reservation must be filled promptly with fill() (the
  // writer waits at an unfilled one); the caller must not wait for a write in between.
  virtual uint64_t reserve() = 0;
  // Supplies the batch of a reservation; then as write().
  virtual void fill(uint64_t reservation, WriteBatch batch, WriteCallback done) = 0;

  // write() and wait for it. Must not be called from a WriteCallback.
  Status write_sync(WriteBatch batch);

  // write_sync() of one range delete (WriteBatch::delete_range).
  Status delete_range(ColumnId column, std::string begin, std::string end);

  // Reads one value into `value`. Errors: kNotFound when the key is absent (value unchanged),
  // kInvalidArgument for an unknown column, kIoError, kCorruption (naming the file).
  virtual Status get(ColumnId column, std::string_view key, std::string& value) = 0;

  // Visits the keys `options` selects, on a consistent snapshot: a scan never sees half a
  // batch. `visit` may call back into the store (writes issued during the scan are not seen).
  // Errors: kInvalidArgument for an unknown column, kIoError, kCorruption (naming the file).
  virtual Status scan(ColumnId column, const ScanOptions& options, const ScanVisitor& visit) = 0;

  // scan() of the keys that start with `prefix`, starting at `start_key` when it is non-empty
  // (so a queue's range is read from its head, never rescanned over deleted entries).
  Status scan(ColumnId column, std::string_view prefix, std::string_view start_key,
              const ScanVisitor& visit) {
    return scan(column, ScanOptions{prefix, start_key, {}, 0}, visit);
  }

  // The application column family named `name`, created (durably) on first use and kept across
  // restarts; the transactional outbox writes an application's own rows there, in the same
  // batch as its outbox rows. Names are 1 to 64 characters of [A-Za-z0-9_.-]. Errors:
  // kInvalidArgument for a bad name, kResourceError when the store holds too many columns,
  // kIoError. Must not be called from a WriteCallback.
  virtual Result<ColumnId> app_column(std::string_view name) = 0;

  // The names of the application columns, in creation order.
  virtual std::vector<std::string> app_columns() const = 0;

  // Waits until every write() that returned before this call has completed (its callback ran),
  // then persists in-memory data to table files so the next open replays little log. For tests
  // and shutdown. Errors: the store's failed-write error, kIoError. Not from a WriteCallback.
  virtual Status flush() = 0;

  // Compacts the whole column now: deleted entries are dropped and the inbox's expired
  // entries (InboxEntry past expires_at_ms) are removed. For tests and operators; RocksDB
  // otherwise compacts on its own schedule. Errors: kInvalidArgument, kIoError.
  virtual Status compact(ColumnId column) = 0;

  // Counters for metrics; cheap enough to call every few seconds.
  virtual StoreStats stats() const = 0;
};

// An in-memory store: ordered maps per column, writes complete inline (stats count each write
// as its own batch). Its contents last as long as the object, so tests can "restart" a broker
// over the same MemoryStore.
std::unique_ptr<Store> make_memory_store();

// Whether `name` may name an application column (1 to 64 characters of [A-Za-z0-9_.-]).
bool is_valid_app_column_name(std::string_view name);

}  // namespace burrow::storage
