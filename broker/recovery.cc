// Recovery of durable state from the store.
#include "broker/recovery.h"

#include <spdlog/spdlog.h>

#include <map>

#include "base/status_macros.h"
#include "broker/classic_queue.h"
#include "broker/persistence.h"
#include "broker/stream_queue.h"
#include "storage/keys.h"
#include "storage/queue_range.h"
#include "storage/record_codec.h"

namespace burrow::broker {

namespace st = burrow::storage;

namespace {

// Reads every record under `prefix` into `visit` (parsing errors stop the scan).
template <typename Record, typename Visit>
Status scan_records(st::Store& store, const std::string& prefix, Visit visit) {
  Status failed;
  Status s =
      store.scan(st::Column::kMetadata, prefix, {}, [&](std::string_view, std::string_view value) {
        Record record;
        failed = st::parse_record(value, record);
        if (!failed.ok()) return false;
        failed = visit(record);
        return failed.ok();
      });
  RETURN_IF_ERROR(s);
  return failed;
}

uint32_t parse_varint(std::string_view v) {
  uint32_t out = 0;
  int shift = 0;
  for (char c : v) {
    out |= static_cast<uint32_t>(static_cast<uint8_t>(c) & 0x7f) << shift;
    if ((static_cast<uint8_t>(c) & 0x80) == 0) break;
    shift += 7;
  }
  return out;
}

Status recover_messages(st::Store& store, ClassicQueue& queue, uint64_t queue_id, bool crashed,
                        uint64_t& count) {
  // Delivery markers: messages handed to a consumer before the restart.
  std::map<uint64_t, uint32_t> delivered;
  const std::string markers = st::delivered_prefix(queue_id);
  RETURN_IF_ERROR(store.scan(
      st::Column::kMetadata, markers, {}, [&](std::string_view key, std::string_view value) {
        if (key.size() == markers.size() + 8) {
          delivered[st::get_u64_be(key.data() + markers.size())] = parse_varint(value);
        }
        return true;
      }));
  ASSIGN_OR_RETURN(uint64_t head, st::load_queue_head(store, queue_id));
  // Only the index comes back: every recovered message starts paged out (its contents stay
  // in the store until a consumer reaches it, read back in batches), so a restart costs one
  // scan and ~50 bytes per message whatever the backlog. In batches, so the index never
  // exists twice in memory.
  constexpr size_t kBatch = 65536;
  std::vector<QueueEntry> entries;
  entries.reserve(kBatch);
  uint64_t next_seq = head;
  Status failed;
  st::MessageRecord record;
  RETURN_IF_ERROR(st::scan_queue(store, queue_id, head, 0, [&](uint64_t seq, std::string_view v) {
    std::string_view body;
    failed = st::decode_message_value(v, record, body);
    if (!failed.ok()) return false;
    QueueEntry entry;
    entry.seq = seq;
    entry.body_size = static_cast<uint32_t>(body.size());
    entry.expires_at = record.has_expiry_ms() ? static_cast<TimeMs>(record.expiry_ms()) : 0;
    if (auto it = delivered.find(seq); it != delivered.end()) {
      entry.redelivered = true;
      entry.delivery_count = it->second;
      delivered.erase(it);
    } else if (record.delivery_count() > 0) {
      // Written again with its count when a quorum queue requeued it at the back
      // (ClassicQueue::move_to_back_locked), and not delivered since.
      entry.redelivered = true;
      entry.delivery_count = record.delivery_count();
    }
    if (crashed) entry.redelivered = true;
    if (queue.arguments().max_priority) {
      const uint32_t p = record.properties().has_priority() ? record.properties().priority() : 0;
      entry.priority = static_cast<uint8_t>(std::min<uint32_t>(p, *queue.arguments().max_priority));
    }
    entries.push_back(std::move(entry));
    next_seq = seq + 1;
    if (entries.size() == kBatch) {
      count += entries.size();
      queue.recover(std::move(entries));
      entries = {};
      entries.reserve(kBatch);
    }
    return true;
  }));
  RETURN_IF_ERROR(failed);
  count += entries.size();
  queue.recover(std::move(entries));
  queue.finish_recovery(next_seq);
  // Markers left without their message (a quick ack's delete can reach the writer before
  // the delivery marker) would flag a later message with the same sequence: drop them.
  if (!delivered.empty()) {
    st::WriteBatch batch;
    for (const auto& [seq, n] : delivered) {
      batch.del(st::Column::kMetadata, st::delivered_key(queue_id, seq));
    }
    RETURN_IF_ERROR(store.write_sync(std::move(batch)));
  }
  return Status();
}

}  // namespace

Result<RecoveryStats> recover_vhost(Persistence& persistence, VHost& vhost, bool crashed) {
  st::Store& store = persistence.store();
  RecoveryStats stats;
  const std::string& name = vhost.name();
  RETURN_IF_ERROR(scan_records<st::ExchangeRecord>(
      store, st::exchange_prefix(name), [&](const st::ExchangeRecord& r) -> Status {
        ExchangeSettings s;
        s.name = r.name();
        s.type = r.type();
        s.durable = r.durable();
        s.auto_delete = r.auto_delete();
        s.internal = r.internal();
        RETURN_IF_ERROR(st::decode_field_table(r.arguments(), s.arguments));
        vhost.recover_exchange(std::move(s));
        ++stats.exchanges;
        return Status();
      }));
  std::vector<std::pair<std::shared_ptr<ClassicQueue>, uint64_t>> queues;
  std::vector<std::shared_ptr<StreamQueue>> streams;
  RETURN_IF_ERROR(scan_records<st::QueueRecord>(
      store, st::queue_prefix(name), [&](const st::QueueRecord& r) -> Status {
        QueueSettings s;
        s.name = r.name();
        s.durable = true;
        s.auto_delete = r.auto_delete();
        RETURN_IF_ERROR(st::decode_field_table(r.arguments(), s.arguments));
        ASSIGN_OR_RETURN(QueuePtr q, vhost.recover_queue(std::move(s), r.queue_id()));
        if (auto classic = std::dynamic_pointer_cast<ClassicQueue>(q)) {
          queues.emplace_back(std::move(classic), r.queue_id());
        } else if (auto stream = std::dynamic_pointer_cast<StreamQueue>(q)) {
          streams.push_back(std::move(stream));
        }
        stats.max_queue_id = std::max(stats.max_queue_id, r.queue_id());
        ++stats.queues;
        return Status();
      }));
  RETURN_IF_ERROR(scan_records<st::BindingRecord>(
      store, st::binding_prefix(name), [&](const st::BindingRecord& r) -> Status {
        Binding b;
        b.source = r.source();
        b.kind = r.destination_kind() == st::BindingRecord::QUEUE ? DestinationKind::kQueue
                                                                  : DestinationKind::kExchange;
        b.destination = r.destination();
        b.routing_key = r.routing_key();
        RETURN_IF_ERROR(st::decode_field_table(r.arguments(), b.arguments));
        if (vhost.recover_binding(b)) ++stats.bindings;
        return Status();
      }));
  for (auto& [queue, id] : queues) {
    Status s = recover_messages(store, *queue, id, crashed, stats.messages);
    if (!s.ok()) {
      return Status(s.code(), "recovering queue '" + queue->name() + "': " + s.message());
    }
  }
  for (auto& stream : streams) {
    Status s = stream->recover(stats.messages);
    if (!s.ok()) {
      return Status(s.code(), "recovering stream '" + stream->name() + "': " + s.message());
    }
  }
  // Expiry and length limits only now: dead letters must find every queue's sequence
  // numbers past its recovered messages (ClassicQueue::start_after_recovery).
  for (auto& [queue, id] : queues) queue->start_after_recovery();
  // Messages held by durable delayed-message exchanges, released when due (at once if that
  // passed while the broker was down), after the queues' messages so a release
  // enqueues behind them.
  ASSIGN_OR_RETURN(std::vector<Persistence::HeldMessage> held, persistence.load_delayed(name));
  for (auto& h : held) {
    vhost.recover_delayed(h.id, std::move(h.exchange), std::move(h.routing_keys),
                          std::move(h.message), h.due);
  }
  stats.delayed = held.size();
  return stats;
}

}  // namespace burrow::broker
