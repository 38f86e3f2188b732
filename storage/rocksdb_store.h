// Opening the RocksDB store: one database per broker, a column family per Column plus one per
// application column, group-committed writes (storage/group_commit.h). No RocksDB header here:
// the broker includes this file; only storage/*.cc see RocksDB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <burrow/options.h>
#include <burrow/status.h>

#include "storage/store.h"

namespace rocksdb {
class Env;
}

namespace burrow::storage {

// The on-disk format this build reads and writes (docs/storage_format.md). A store written
// with another version is refused on open.
inline constexpr uint32_t kFormatVersion = 1;

struct StoreOptions {
  // The data directory: one RocksDB database (burrowd --data-dir). Required.
  std::string path;

  // When a write's callback runs. kFsync: after the group's WAL write is fsynced (survives
  // power loss; each group pays one fsync, shared by every write in it). kOs: after the WAL
  // write reaches the OS (survives the process being killed, not a power cut; no fsync). A
  // clean close syncs the WAL in both modes. Default: kFsync.
  Durability durability = Durability::kFsync;

  // Create the directory and an empty store when there is none. Default: true. When false, a
  // missing store fails with kNotFound.
  bool create_if_missing = true;

  // Salvage a damaged store before opening it (RocksDB's RepairDB): readable records are kept,
  // the files that fail checks are moved to <path>/lost, and what was dropped is logged.
  // Confirmed data may be lost - run it only when an open failed with kCorruption and an
  // operator chose to (burrowd --repair). Default: false: a damaged store refuses to open,
  // naming the damaged file, and nothing on disk is changed.
  bool repair = false;

  // Read every table file on open to verify its checksums. Default: false: open stays fast
  // (milliseconds) and a damaged table block is reported, with its file, by the first read
  // that touches it - recovery reads every live message, so a broker start still finds it.
  // Set it to refuse a damaged store before serving anything, at the cost of reading the
  // whole database.
  bool verify_checksums_on_open = false;

  // One LRU block cache shared by every column family. Default: 64 MiB. Mostly serves message
  // bodies paged in from a backlog larger than memory.
  size_t block_cache_bytes = size_t{64} << 20;

  // Memtable size of the messages and outbox columns (others use a quarter). A bigger memtable
  // lets more publish/ack pairs cancel out before anything reaches a table file. Default:
  // 64 MiB.
  size_t write_buffer_bytes = size_t{64} << 20;

  // All memtables together: past it, RocksDB flushes the largest. Default: 256 MiB.
  size_t total_write_buffer_bytes = size_t{256} << 20;

  // Largest write-ahead log before the column families pinning its oldest file are flushed:
  // bounds the log replayed after a crash, hence restart time. Default: 256 MiB.
  uint64_t max_wal_bytes = uint64_t{256} << 20;

  // Largest group commit, in key and value bytes. Default: 4 MiB.
  size_t max_group_bytes = size_t{4} << 20;

  // The RocksDB environment, for tests that inject faults (a full disk, a failing fsync).
  // Not owned; must outlive the store. Default: nullptr = RocksDB's default (POSIX) Env.
  rocksdb::Env* env = nullptr;
};

// Opens (or creates) the store in options.path. Errors:
//  - kIoError "data directory '<path>' is in use by another burrowd (lock <path>/LOCK)" when
//    another process (or another store in this one) has it open;
//  - kCorruption naming the damaged file (a WAL record, a table block, the MANIFEST), with
//    nothing changed on disk, unless options.repair;
//  - kInvalidArgument when the directory holds a store of another format version or something
//    that is not a Burrow store, or BURROW_KILL_AT is malformed (storage/kill_point.h);
//  - kNotFound when there is no store and !options.create_if_missing;
//  - kIoError for any other I/O failure.
Result<std::unique_ptr<Store>> open_rocksdb_store(const StoreOptions& options);

}  // namespace burrow::storage
