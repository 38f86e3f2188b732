// Persistence: durable entities and persistent messages as storage records.
#include "broker/persistence.h"
#include "base/logging.h"

#include <cstring>
#include <future>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/status_macros.h"
#include "broker/exchange.h"
#include "broker/message_pack.h"
#include "broker/queue.h"
#include "storage/keys.h"
#include "storage/queue_range.h"
#include "storage/record_codec.h"

namespace burrow::broker {

namespace {
spdlog::logger& logger() { return module_logger("broker"); }
}  // namespace

namespace st = burrow::storage;

void ConfirmGate::done(bool ok) {
  if (!ok) ok_.store(false, std::memory_order_relaxed);
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    on_done_(ok_.load(std::memory_order_relaxed));
  }
}

namespace {

st::BindingDestination destination_kind(DestinationKind kind) {
  return kind == DestinationKind::kQueue ? st::BindingDestination::kQueue
                                         : st::BindingDestination::kExchange;
}

std::string binding_record_key(std::string_view vhost, const Binding& b) {
  return st::binding_key(vhost, b.source, destination_kind(b.kind), b.destination, b.routing_key,
                         st::binding_arguments_bytes(b.arguments));
}

void log_failed_write(const Status& s) {
  if (!s.ok()) logger().error("persisting a message failed: {}", s.to_string());
}

}  // namespace

Status Persistence::save_exchange(const ExchangeSettings& x, PendingWrites* pending) {
  st::ExchangeRecord record;
  record.set_vhost(x.vhost);
  record.set_name(x.name);
  record.set_type(x.type);
  record.set_durable(x.durable);
  record.set_auto_delete(x.auto_delete);
  record.set_internal(x.internal);
  st::encode_field_table(x.arguments, *record.mutable_arguments());
  st::WriteBatch batch;
  batch.put(st::Column::kMetadata, st::exchange_key(x.vhost, x.name), st::serialize_record(record));
  return write_metadata(std::move(batch), pending);
}

Status Persistence::delete_exchange(std::string_view vhost, std::string_view name,
                                    PendingWrites* pending) {
  st::WriteBatch batch;
  batch.del(st::Column::kMetadata, st::exchange_key(vhost, name));
  // Bindings from it go with it (bindings to it are deleted by the caller one by one).
  const std::string prefix = st::binding_source_prefix(vhost, name);
  batch.delete_range(st::Column::kMetadata, prefix, st::prefix_successor(prefix));
  return write_metadata(std::move(batch), pending);
}

Status Persistence::save_queue(const QueueSettings& q, uint64_t queue_id, PendingWrites* pending) {
  st::QueueRecord record;
  record.set_vhost(q.vhost);
  record.set_name(q.name);
  record.set_queue_id(queue_id);
  record.set_durable(q.durable);
  record.set_exclusive(q.exclusive());
  record.set_auto_delete(q.auto_delete);
  st::encode_field_table(q.arguments, *record.mutable_arguments());
  record.set_type("classic");
  st::WriteBatch batch;
  batch.put(st::Column::kMetadata, st::queue_key(q.vhost, q.name), st::serialize_record(record));
  return write_metadata(std::move(batch), pending);
}

Status Persistence::delete_queue(std::string_view vhost, std::string_view name, uint64_t queue_id,
                                 PendingWrites* pending) {
  st::WriteBatch batch;
  batch.del(st::Column::kMetadata, st::queue_key(vhost, name));
  st::delete_queue(batch, queue_id);
  return write_metadata(std::move(batch), pending);
}

Status Persistence::save_binding(std::string_view vhost, const Binding& b, PendingWrites* pending) {
  st::BindingRecord record;
  record.set_vhost(std::string(vhost));
  record.set_source(b.source);
  record.set_destination_kind(b.kind == DestinationKind::kQueue ? st::BindingRecord::QUEUE
                                                                : st::BindingRecord::EXCHANGE);
  record.set_destination(b.destination);
  record.set_routing_key(b.routing_key);
  st::encode_field_table(b.arguments, *record.mutable_arguments());
  st::WriteBatch batch;
  batch.put(st::Column::kMetadata, binding_record_key(vhost, b), st::serialize_record(record));
  return write_metadata(std::move(batch), pending);
}

Status Persistence::delete_binding(std::string_view vhost, const Binding& b,
                                   PendingWrites* pending) {
  st::WriteBatch batch;
  batch.del(st::Column::kMetadata, binding_record_key(vhost, b));
  return write_metadata(std::move(batch), pending);
}

void Persistence::put_message(uint64_t queue_id, const QueueEntry& entry,
                              const std::shared_ptr<ConfirmGate>& gate,
                              std::shared_ptr<std::atomic<uint64_t>> written,
                              WriteCollector* collect) {
  st::MessageRecord record;
  fill_record(*entry.message, record);
  if (entry.expires_at != 0) record.set_expiry_ms(static_cast<uint64_t>(entry.expires_at));
  record.set_delivery_count(entry.delivery_count);
  st::WriteBatch batch;
  batch.put(st::Column::kMessages, st::message_key(queue_id, entry.seq),
            st::encode_message_value(record, entry.message->message.body));
  if (gate) gate->add();
  if (written) {
    submit(std::move(batch), collect,
           [gate, written = std::move(written), seq = entry.seq](Status s) {
             log_failed_write(s);
             // A failed write leaves the watermark: the message keeps its contents in memory.
             if (s.ok()) written->store(seq, std::memory_order_release);
             if (gate) gate->done(s.ok());
           });
  } else {
    // One shared_ptr capture: fits std::function's inline buffer (no allocation per publish).
    submit(std::move(batch), collect, [gate](Status s) {
      log_failed_write(s);
      if (gate) gate->done(s.ok());
    });
  }
}

void Persistence::put_stream_chunks(uint64_t queue_id, std::span<const StreamChunk> chunks,
                                    std::vector<std::shared_ptr<ConfirmGate>> gates,
                                    std::function<void(bool ok)> on_done, WriteCollector* collect) {
  if (chunks.empty()) {  // every message was dropped by retention before it was written
    for (const auto& gate : gates) gate->done(true);
    if (on_done) on_done(true);
    return;
  }
  st::WriteBatch batch;
  st::MessageRecord record;
  std::string value;
  for (const StreamChunk& chunk : chunks) {
    value.clear();
    for (const StoredMessagePtr& m : chunk.messages) {
      record.Clear();
      fill_record(*m, record);
      const std::string encoded = st::encode_message_value(record, m->message.body);
      const auto size = static_cast<uint32_t>(encoded.size());
      char prefix[4];
      std::memcpy(prefix, &size, 4);
      value.append(prefix, 4);
      value.append(encoded);
    }
    batch.put(st::Column::kMessages, st::message_key(queue_id, chunk.first_offset), value);
  }
  submit(std::move(batch), collect,
         [gates = std::move(gates), on_done = std::move(on_done)](Status s) {
           log_failed_write(s);
           for (const auto& gate : gates) gate->done(s.ok());
           if (on_done) on_done(s.ok());
         });
}

void Persistence::truncate_stream(uint64_t queue_id, uint64_t first_offset) {
  st::WriteBatch batch;
  st::advance_queue_head(batch, queue_id, first_offset);
  submit(std::move(batch), nullptr, nullptr);
}

Status Persistence::scan_stream(uint64_t queue_id, uint64_t from, const ChunkVisitor& visit) {
  Status failed;
  std::vector<std::string_view> messages;
  RETURN_IF_ERROR(
      st::scan_queue(store_, queue_id, from, 0, [&](uint64_t first, std::string_view value) {
        messages.clear();
        while (!value.empty()) {
          uint32_t size = 0;
          if (value.size() < 4) break;
          std::memcpy(&size, value.data(), 4);
          if (value.size() - 4 < size) break;
          messages.push_back(value.substr(4, size));
          value.remove_prefix(4 + size);
        }
        if (!value.empty()) {
          failed = Status(StatusCode::kCorruption,
                          fmt::format("stream chunk {} of queue {} is truncated", first, queue_id));
          return false;
        }
        return visit(first, messages);
      }));
  return failed;
}

Result<std::vector<LoadedMessage>> Persistence::load_stream(uint64_t queue_id, uint64_t chunk_first,
                                                            uint64_t from, size_t limit) {
  std::vector<LoadedMessage> out;
  out.reserve(limit);
  Status failed;
  st::MessageRecord record;  // reused: its strings keep their buffers
  RETURN_IF_ERROR(scan_stream(
      queue_id, chunk_first, [&](uint64_t first, std::vector<std::string_view>& messages) {
        for (size_t i = 0; i < messages.size(); ++i) {
          if (first + i < from) continue;
          Result<LoadedMessage> m = decode_message(first + i, messages[i], record);
          if (!m.ok()) {
            failed = m.status();
            return false;
          }
          out.push_back(std::move(*m));
          if (out.size() >= limit) return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(failed);
  return out;
}

void PendingWrites::add(storage::Store& store, storage::WriteBatch batch) {
  auto promise = std::make_shared<std::promise<Status>>();
  writes_.push_back(promise->get_future());
  store.write(std::move(batch), [promise](Status s) { promise->set_value(std::move(s)); });
}

Status PendingWrites::wait() {
  Status first;
  for (auto& w : writes_) {
    Status s = w.get();
    if (first.ok() && !s.ok()) first = std::move(s);
  }
  writes_.clear();
  return first;
}

Status Persistence::write_metadata(st::WriteBatch batch, PendingWrites* pending) {
  if (pending == nullptr) return store_.write_sync(std::move(batch));
  pending->add(store_, std::move(batch));
  return Status();
}

void Persistence::submit(st::WriteBatch batch, WriteCollector* collect, st::WriteCallback done) {
  if (collect == nullptr) {
    store_.write(std::move(batch), std::move(done));
    return;
  }
  collect->batch.append(std::move(batch));
  if (done) collect->on_written.push_back(std::move(done));
}

void Persistence::mark_delivered(uint64_t queue_id,
                                 std::span<const std::pair<uint64_t, uint32_t>> seqs) {
  if (seqs.empty()) return;
  st::WriteBatch batch;
  for (const auto& [seq, count] : seqs) {
    std::string value;
    // varint delivery count
    uint32_t v = count;
    while (v >= 0x80) {
      value.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    value.push_back(static_cast<char>(v));
    batch.put(st::Column::kMetadata, st::delivered_key(queue_id, seq), std::move(value));
  }
  store_.write(std::move(batch), nullptr);
}

void Persistence::delete_messages(uint64_t queue_id, std::span<const uint64_t> seqs,
                                  uint64_t new_head, WriteCollector* collect) {
  if (seqs.empty() && new_head == 0) return;
  st::WriteBatch batch;
  for (uint64_t seq : seqs) {
    batch.del(st::Column::kMessages, st::message_key(queue_id, seq));
    batch.del(st::Column::kMetadata, st::delivered_key(queue_id, seq));
  }
  // Every message below the new head was point-deleted as it left the queue (with its
  // delivery marker), so the head is saved without a range tombstone: RocksDB fragments the
  // range tombstones of a memtable for every new iterator, and one per head step made the
  // first read after heavy churn ~30x slower (docs/benchmarks.md, "Queue churn").
  if (new_head != 0) st::save_queue_head(batch, queue_id, new_head);
  submit(std::move(batch), collect, nullptr);
}

void Persistence::fill(uint64_t reservation, WriteCollector collect) {
  store_.fill(reservation, std::move(collect.batch),
              [on_written = std::move(collect.on_written)](Status s) {
                for (const auto& done : on_written) done(s);
              });
}

Result<LoadedMessage> Persistence::decode_message(uint64_t seq, std::string_view value) {
  st::MessageRecord record;
  return decode_message(seq, value, record);
}

Result<LoadedMessage> Persistence::decode_message(uint64_t seq, std::string_view value,
                                                  st::MessageRecord& record) {
  std::string_view body;
  RETURN_IF_ERROR(st::decode_message_value(value, record, body));
  LoadedMessage out;
  out.seq = seq;
  ASSIGN_OR_RETURN(out.message, message_from_record(record, body));
  out.expires_at = record.has_expiry_ms() ? static_cast<TimeMs>(record.expiry_ms()) : 0;
  out.delivery_count = record.delivery_count();
  out.body_size = static_cast<uint32_t>(body.size());
  return out;
}

Result<std::vector<LoadedMessage>> Persistence::load_messages(uint64_t queue_id,
                                                              std::span<const uint64_t> seqs) {
  std::vector<LoadedMessage> out;
  if (seqs.empty()) return out;
  out.reserve(seqs.size());
  size_t next = 0;  // the next wanted seq
  Status failed;
  RETURN_IF_ERROR(
      st::scan_queue(store_, queue_id, seqs.front(), 0, [&](uint64_t seq, std::string_view value) {
        while (next < seqs.size() && seqs[next] < seq) ++next;
        if (next == seqs.size()) return false;
        if (seqs[next] != seq) return true;
        auto loaded = decode_message(seq, value);
        if (!loaded.ok()) {
          failed = loaded.status();
          return false;
        }
        out.push_back(std::move(*loaded));
        return ++next < seqs.size();
      }));
  RETURN_IF_ERROR(failed);
  return out;
}

void Persistence::put_delayed(std::string_view vhost, uint64_t id, std::string_view exchange,
                              std::span<const std::string> routing_keys,
                              const StoredMessage& message, TimeMs due,
                              const std::shared_ptr<ConfirmGate>& gate, WriteCollector* collect) {
  st::MessageRecord record;
  fill_record(message, record);
  record.set_exchange(std::string(exchange));
  record.set_due_ms(static_cast<uint64_t>(due));
  for (const std::string& key : routing_keys) record.add_routing_keys(key);
  st::WriteBatch batch;
  batch.put(st::Column::kMetadata, st::delayed_key(vhost, id),
            st::encode_message_value(record, message.message.body));
  if (gate) gate->add();
  submit(std::move(batch), collect, [gate](Status s) {
    if (!s.ok()) logger().error("storing a delayed message failed: {}", s.to_string());
    if (gate) gate->done(s.ok());
  });
}

void Persistence::delete_delayed(std::string_view vhost, uint64_t id) {
  st::WriteBatch batch;
  batch.del(st::Column::kMetadata, st::delayed_key(vhost, id));
  store_.write(std::move(batch), nullptr);
}

Result<std::vector<Persistence::HeldMessage>> Persistence::load_delayed(std::string_view vhost) {
  std::vector<HeldMessage> out;
  const std::string prefix = st::delayed_prefix(vhost);
  Status failed;
  RETURN_IF_ERROR(store_.scan(
      st::Column::kMetadata, prefix, {}, [&](std::string_view key, std::string_view value) {
        if (key.size() != prefix.size() + 8) {
          failed = Status(StatusCode::kCorruption, "malformed delayed-message key");
          return false;
        }
        st::MessageRecord record;
        std::string_view body;
        failed = st::decode_message_value(value, record, body);
        if (!failed.ok()) return false;
        auto message = message_from_record(record, body);
        if (!message.ok()) {
          failed = message.status();
          return false;
        }
        HeldMessage held;
        held.id = st::get_u64_be(key.data() + prefix.size());
        held.exchange = record.exchange();
        held.routing_keys.assign(record.routing_keys().begin(), record.routing_keys().end());
        held.message = std::move(message).value();
        held.due = static_cast<TimeMs>(record.due_ms());
        out.push_back(std::move(held));
        return true;
      }));
  RETURN_IF_ERROR(failed);
  return out;
}

Result<bool> Persistence::open_running() {
  std::string value;
  Status s = store_.get(st::Column::kMetadata, st::running_key(), value);
  if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  const bool crashed = s.ok();
  st::WriteBatch batch;
  batch.put(st::Column::kMetadata, st::running_key(), "running");
  RETURN_IF_ERROR(store_.write_sync(std::move(batch)));
  return crashed;
}

Status Persistence::mark_stopped() {
  st::WriteBatch batch;
  batch.del(st::Column::kMetadata, st::running_key());
  return store_.write_sync(std::move(batch));
}

}  // namespace burrow::broker
