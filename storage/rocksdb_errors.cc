// RocksDB status mapping and the damage-reporting info-log tap.
#include "storage/rocksdb_errors.h"

#include <cstdarg>
#include <cstdio>

namespace burrow::storage {
namespace {
constexpr size_t kMaxReports = 8;
}

Status from_rocksdb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status();
  std::string message(what);
  message += ": ";
  if (s.IsNoSpace()) message += "disk full: ";
  message += s.ToString();
  if (s.IsCorruption()) return Status(StatusCode::kCorruption, std::move(message));
  if (s.IsNotFound()) return not_found(std::move(message));
  if (s.IsInvalidArgument()) return invalid_argument(std::move(message));
  return Status(StatusCode::kIoError, std::move(message));
}

bool is_lock_error(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string text = s.ToString();
  return text.find("/LOCK") != std::string::npos &&
         (text.find("lock") != std::string::npos || text.find("Lock") != std::string::npos);
}

InfoLogTap::InfoLogTap(std::shared_ptr<rocksdb::Logger> target)
    : rocksdb::LoggerWrapper(target.get()), target_(std::move(target)) {}

void InfoLogTap::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  if (level >= rocksdb::InfoLogLevel::WARN_LEVEL && level < rocksdb::InfoLogLevel::HEADER_LEVEL) {
    va_list copy;
    va_copy(copy, ap);
    char line[1024];
    std::vsnprintf(line, sizeof line, format, copy);
    va_end(copy);
    std::string_view text(line);
    if (text.find("dropping") != std::string_view::npos ||
        text.find("Corruption") != std::string_view::npos) {
      std::lock_guard lock(mu_);
      if (reports_.size() < kMaxReports) reports_.emplace_back(text);
    }
  }
  rocksdb::LoggerWrapper::Logv(level, format, ap);
}

std::vector<std::string> InfoLogTap::damage_reports() const {
  std::lock_guard lock(mu_);
  return reports_;
}

}  // namespace burrow::storage
