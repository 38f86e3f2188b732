// The storage interface the broker core writes through (DESIGN.md section 5). Two twins
// implement it: MemoryStore (this issue; --in-memory and tests) and the RocksDB store.
// The store knows nothing of AMQP: it keeps opaque keys and values in named columns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <burrow/status.h>

namespace burrow::storage {

// The column families of the one database (DESIGN.md section 5).
enum class Column : uint8_t {
  kMetadata,  // vhosts, users, exchanges, queues, bindings
  kMessages,  // key = queue id + sequence, big-endian, so a queue is a contiguous range
  kOutbox,    // transactional outbox rows
  kInbox,     // processed message ids
  kAppData,   // the embedding application's own state
};
inline constexpr int kColumnCount = 5;

// A set of puts and deletes applied atomically. Not thread-safe.
class WriteBatch {
 public:
  struct Op {
    Column column;
    bool is_delete;
    std::string key;
    std::string value;
  };

  void put(Column column, std::string key, std::string value) {
    ops_.push_back(Op{column, false, std::move(key), std::move(value)});
  }
  void del(Column column, std::string key) {
    ops_.push_back(Op{column, true, std::move(key), {}});
  }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  const std::vector<Op>& ops() const { return ops_; }
  void append(WriteBatch&& other);

 private:
  std::vector<Op> ops_;
};

// Called once a write is durable (or failed). Runs on the store's writer thread or inline;
// it must not block.
using WriteCallback = std::function<void(Status)>;

// A key-value store with atomic batches and ordered scans. Thread-safe: every method may be
// called from any thread.
class Store {
 public:
  virtual ~Store() = default;

  // Applies `batch` atomically. `done` runs once the batch is durable as the durability mode
  // defines, or with the error (kIoError) if it could not be written; after a failed write
  // every later write fails too.
  virtual void write(WriteBatch batch, WriteCallback done) = 0;

  // write() and wait for it.
  Status write_sync(WriteBatch batch);

  // Reads one value. Errors: kNotFound when the key is absent, kIoError.
  virtual Status get(Column column, std::string_view key, std::string& value) = 0;

  // Visits the keys that start with `prefix` in ascending byte order, starting at
  // `start_key` when it is non-empty (so a queue's range is read from its head, never
  // rescanned over deleted entries). `visit` returns false to stop.
  virtual Status scan(Column column, std::string_view prefix, std::string_view start_key,
                      const std::function<bool(std::string_view key, std::string_view value)>&
                          visit) = 0;
};

// An in-memory store: ordered maps per column, writes complete inline. Its contents last as
// long as the object, so tests can "restart" a broker over the same MemoryStore.
std::unique_ptr<Store> make_memory_store();

}  // namespace burrow::storage
