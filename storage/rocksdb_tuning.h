// Internal to storage/: the RocksDB options of the store and of each column family, chosen for
// a broker's workload (storage/README.md explains each choice).
#pragma once

#include <memory>
#include <string>

#include <rocksdb/cache.h>
#include <rocksdb/options.h>

#include "storage/rocksdb_store.h"

namespace burrow::storage {

// How a column family is used, which decides its options.
enum class ColumnProfile {
  kInternal,  // "default": the store's own few records
  kMetadata,  // small, read whole at recovery, point lookups
  kQueue,     // messages, outbox: append at the tail, delete at the head (delete-heavy FIFO)
  kLookup,    // inbox: point lookups by id ("was this processed?")
  kApp,       // application data: unknown, general purpose
};

// The RocksDB column family name of a built-in column ("metadata", "messages", ...).
std::string column_family_name(Column column);
ColumnProfile column_profile(Column column);
// Application columns are "app." + name in RocksDB.
inline constexpr std::string_view kAppColumnFamilyPrefix = "app.";

rocksdb::DBOptions make_db_options(const StoreOptions& options);
rocksdb::ColumnFamilyOptions make_column_family_options(
    ColumnProfile profile, const StoreOptions& options,
    const std::shared_ptr<rocksdb::Cache>& cache);

}  // namespace burrow::storage
