// Internal to storage/: RocksDB statuses in Burrow's error vocabulary, and the info-log tap
// that recovers the name of a damaged WAL file, which RocksDB's returned status leaves out.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <burrow/status.h>
#include <rocksdb/env.h>
#include <rocksdb/status.h>

#include "base/thread_annotations.h"

namespace burrow::storage {

// Maps a RocksDB status: Corruption -> kCorruption, NotFound -> kNotFound, InvalidArgument ->
// kInvalidArgument, everything else (I/O, no space, busy...) -> kIoError. The message is
// "<what>: <RocksDB's text>"; a full disk says so first.
Status from_rocksdb(const rocksdb::Status& s, std::string_view what);

// Whether `s` is RocksDB failing to take the LOCK file of a database another process (or
// another handle in this one) holds.
bool is_lock_error(const rocksdb::Status& s);

// Forwards RocksDB's info log to its LOG file (the wrapped logger) and keeps the warnings that
// report damage: "<file>: dropping N bytes; Corruption: ..." from WAL replay. Thread-safe.
class InfoLogTap final : public rocksdb::LoggerWrapper {
 public:
  explicit InfoLogTap(std::shared_ptr<rocksdb::Logger> target);

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }

  // The damage reports seen so far (at most a few, oldest first).
  std::vector<std::string> damage_reports() const;

 private:
  std::shared_ptr<rocksdb::Logger> target_;
  mutable std::mutex mu_;
  std::vector<std::string> reports_ GUARDED_BY(mu_);
};

}  // namespace burrow::storage
