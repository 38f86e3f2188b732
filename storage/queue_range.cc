// Queue range helpers (see queue_range.h).
#include "storage/queue_range.h"

#include "base/status_macros.h"
#include "storage/keys.h"
#include "storage/record_codec.h"

namespace burrow::storage {

void advance_queue_head(WriteBatch& batch, uint64_t queue_id, uint64_t head) {
  batch.delete_range(Column::kMessages, message_key(queue_id, 0), message_key(queue_id, head));
  save_queue_head(batch, queue_id, head);
}

void save_queue_head(WriteBatch& batch, uint64_t queue_id, uint64_t head) {
  QueueHead record;
  record.set_head(head);
  batch.put(Column::kMetadata, queue_head_key(queue_id), serialize_record(record));
}

Result<uint64_t> load_queue_head(Store& store, uint64_t queue_id) {
  std::string value;
  Status s = store.get(Column::kMetadata, queue_head_key(queue_id), value);
  if (s.code() == StatusCode::kNotFound) return uint64_t{0};
  RETURN_IF_ERROR(s);
  QueueHead record;
  RETURN_IF_ERROR(parse_record(value, record));
  return record.head();
}

void delete_queue(WriteBatch& batch, uint64_t queue_id) {
  const std::string end = prefix_successor(message_prefix(queue_id));
  if (end.empty()) {
    // The all-ones queue id has no successor prefix: delete up to its last key, then that key.
    batch.delete_range(Column::kMessages, message_prefix(queue_id),
                       message_key(queue_id, UINT64_MAX));
    batch.del(Column::kMessages, message_key(queue_id, UINT64_MAX));
  } else {
    batch.delete_range(Column::kMessages, message_prefix(queue_id), end);
  }
  batch.del(Column::kMetadata, queue_head_key(queue_id));
  const std::string markers = delivered_prefix(queue_id);
  batch.delete_range(Column::kMetadata, markers, prefix_successor(markers));
}

Status scan_queue(Store& store, uint64_t queue_id, uint64_t from_seq, size_t limit,
                  const QueueVisitor& visit) {
  const std::string prefix = message_prefix(queue_id);
  const std::string start = message_key(queue_id, from_seq);
  Status decode_error;
  RETURN_IF_ERROR(store.scan(Column::kMessages, ScanOptions{prefix, start, {}, limit},
                             [&](std::string_view key, std::string_view value) {
                               auto decoded = decode_message_key(key);
                               if (!decoded) {
                                 decode_error = Status(
                                     StatusCode::kCorruption,
                                     "malformed message key of " + std::to_string(key.size()) +
                                         " bytes in queue " + std::to_string(queue_id));
                                 return false;
                               }
                               return visit(decoded->seq, value);
                             }));
  return decode_error;
}

}  // namespace burrow::storage
