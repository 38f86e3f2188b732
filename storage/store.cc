// The implementation-independent parts of the Store interface: WriteBatch and the synchronous
// helpers built on write().
#include "storage/store.h"

#include <future>

namespace burrow::storage {

void WriteBatch::delete_range(ColumnId column, std::string begin, std::string end) {
  if (begin >= end) return;
  bytes_ += begin.size() + end.size();
  ops_.push_back(Op{OpType::kDeleteRange, column, std::move(begin), std::move(end)});
}

void WriteBatch::append(WriteBatch&& other) {
  if (ops_.empty()) {
    ops_ = std::move(other.ops_);
  } else {
    ops_.reserve(ops_.size() + other.ops_.size());
    for (auto& op : other.ops_) ops_.push_back(std::move(op));
  }
  bytes_ += other.bytes_;
  other.ops_.clear();
  other.bytes_ = 0;
}

Status Store::write_sync(WriteBatch batch) {
  std::promise<Status> done;
  auto result = done.get_future();
  write(std::move(batch), [&done](Status s) { done.set_value(std::move(s)); });
  return result.get();
}

Status Store::delete_range(ColumnId column, std::string begin, std::string end) {
  WriteBatch batch;
  batch.delete_range(column, std::move(begin), std::move(end));
  return write_sync(std::move(batch));
}

bool is_valid_app_column_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace burrow::storage
