// Streams: RabbitMQ 3.10.8's rabbit_stream_queue rules on one node (docs/queue_types.md).
#include "broker/stream_queue.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/logging.h"
#include "base/status_macros.h"
#include "broker/channel.h"
#include "broker/executor.h"
#include "broker/persistence.h"
#include "storage/queue_range.h"
#include "storage/record_codec.h"

namespace burrow::broker {

namespace {

spdlog::logger& logger() { return module_logger("broker"); }

// What the stream keeps of a published message, as a RabbitMQ 3.10.8 stream hands it out
// (its messages go through an AMQP 1.0 form and back): the x-stream-offset header (type long)
// with the message's offset; headers sorted by name, without array and table values; no
// cluster_id. The append time is its timestamp. Made once at append, so reads share it.
StoredMessagePtr with_offset(const StoredMessage& message, uint64_t offset, TimeMs now) {
  auto copy = std::make_shared<StoredMessage>(message);
  BasicProperties& props = copy->message.properties;
  if (!props.headers) props.headers.emplace();
  std::vector<FieldEntry>& entries = props.headers->entries();
  std::erase_if(entries, [](const FieldEntry& e) {
    return e.value.is<FieldArray>() || e.value.is<FieldTable>() || e.name == "x-stream-offset";
  });
  entries.push_back(FieldEntry{"x-stream-offset", static_cast<int64_t>(offset)});
  std::stable_sort(entries.begin(), entries.end(),
                   [](const FieldEntry& a, const FieldEntry& b) { return a.name < b.name; });
  props.cluster_id.reset();
  copy->wire_properties.clear();
  copy->published_at = now;
  return copy;
}

}  // namespace

StreamQueue::StreamQueue(QueueSettings settings, QueueArguments arguments, const QueueType& type,
                         QueueContext context)
    : Queue(std::move(settings), std::move(arguments), type),
      context_(std::move(context)),
      segment_limit_(arguments_.max_segment_size_bytes.value_or(kDefaultSegmentBytes)) {}

// ---- offsets --------------------------------------------------------------------------------

Result<StreamQueue::OffsetSpec> StreamQueue::parse_offset(const FieldValue* value, TimeMs now,
                                                          std::string_view resource) {
  using Kind = OffsetSpec::Kind;
  // rabbit_stream_queue:parse_offset_arg/1 (3.10.8).
  if (value == nullptr) return OffsetSpec{Kind::kNext, 0};
  if (const auto* s = value->get_if<std::string>()) {
    if (*s == "first") return OffsetSpec{Kind::kFirst, 0};
    if (*s == "last") return OffsetSpec{Kind::kLast, 0};
    if (*s == "next") return OffsetSpec{Kind::kNext, 0};
    // An interval: the messages of the last "1h", "7D"... (rabbit_amqqueue:check_max_age/1,
    // which crashes on a string without leading digits: a bare 541).
    Result<int64_t> age = parse_max_age(*s);
    if (!age.ok()) {
      if (age.status().code() == StatusCode::kInternalError) return age.status();
      return precondition_failed(
          fmt::format("invalid arg 'x-stream-offset' for {}: "
                      "{{invalid_stream_offset_arg,{{longstr,<<\"{}\">>}}}}",
                      resource, *s));
    }
    return OffsetSpec{Kind::kTimestamp, now - *age};
  }
  if (const auto* t = value->get_if<Timestamp>()) {
    // An AMQP timestamp is in seconds.
    return OffsetSpec{Kind::kTimestamp, static_cast<int64_t>(t->seconds) * 1000};
  }
  if (auto n = value->as_integer()) return OffsetSpec{Kind::kOffset, *n};
  // Any other type (a float, a bool, a table): RabbitMQ's consume crashes.
  return Status(StatusCode::kInternalError, "");
}

uint64_t StreamQueue::resolve_locked(const OffsetSpec& spec) const {
  using Kind = OffsetSpec::Kind;
  switch (spec.kind) {
    case Kind::kFirst:
      return first_offset_;
    case Kind::kNext:
      return next_offset_;
    case Kind::kLast: {
      // The first offset of the last chunk (osiris' "last").
      uint64_t o = next_offset_;
      while (o > first_offset_) {
        --o;
        if (slot_locked(o).chunk_start) return o;
      }
      return first_offset_;
    }
    case Kind::kOffset:
      // Before the log's start: from its start. Past its end: from that offset once the log
      // reaches it (RabbitMQ 3.10.8 delivers nothing before).
      if (spec.value < 0 || static_cast<uint64_t>(spec.value) < first_offset_) {
        return first_offset_;
      }
      return static_cast<uint64_t>(spec.value);
    case Kind::kTimestamp: {
      // The first chunk appended at or after the time; none: the next message.
      auto it = std::lower_bound(log_.begin(), log_.end(), spec.value,
                                 [](const Slot& s, int64_t t) { return s.timestamp < t; });
      return first_offset_ + static_cast<uint64_t>(it - log_.begin());
    }
  }
  return next_offset_;
}

// ---- appending --------------------------------------------------------------------------------

EnqueueOutcome StreamQueue::enqueue(StoredMessagePtr message, const EnqueueOptions& options) {
  std::optional<Taken> collected;
  {
    std::lock_guard lock(mu_);
    if (deleted_) return EnqueueOutcome::kDeleted;
    collected = append_locked(std::span<const StoredMessagePtr>(&message, 1), options);
  }
  if (collected) write_taken(*collected, options.collect);
  return EnqueueOutcome::kAccepted;
}

void StreamQueue::enqueue_batch(std::span<const StoredMessagePtr> messages,
                                const EnqueueOptions& options, std::span<EnqueueOutcome> outcomes) {
  std::optional<Taken> collected;
  {
    std::lock_guard lock(mu_);
    const EnqueueOutcome outcome = deleted_ ? EnqueueOutcome::kDeleted : EnqueueOutcome::kAccepted;
    std::fill(outcomes.begin(), outcomes.end(), outcome);
    if (!deleted_) collected = append_locked(messages, options);
  }
  if (collected) write_taken(*collected, options.collect);
}

std::optional<StreamQueue::Taken> StreamQueue::append_locked(
    std::span<const StoredMessagePtr> messages, const EnqueueOptions& options) {
  if (messages.empty()) return std::nullopt;
  const TimeMs now = context_.clock->now_ms();
  roll_if_full_locked(now);
  const bool stored = context_.persistence != nullptr;
  uint64_t bytes = 0;
  for (const StoredMessagePtr& m : messages) {
    StoredMessagePtr copy = with_offset(*m, next_offset_, now);
    const auto size = static_cast<uint32_t>(copy->body_size());
    // Without a store, each append is a chunk; with one, the flush marks chunk starts.
    log_.push_back(Slot{copy, now, size, !stored && &m == messages.data(), false});
    resident_bytes_ += size + kMessageOverhead;
    bytes += record_bytes(size, copy->message.exchange, copy->message.routing_key);
    if (stored) {
      context_.persistence->charge(size + kMessageOverhead);
      pending_.emplace_back(next_offset_, std::move(copy));
    }
    ++next_offset_;
  }
  counters_.publish += messages.size();
  segments_.back().bytes += bytes;
  segments_.back().last_timestamp = now;
  log_bytes_ += bytes;
  if (stored) {
    if (options.gate) {
      options.gate->add();
      pending_gates_.push_back(options.gate);
    }
    trim_resident_locked();
    // The outbox relay's (or a dead-lettering) atomic write: this append, and what was
    // pending, joins it once the lock is released.
    if (options.collect != nullptr) return take_pending_locked();
    schedule_flush_locked();
    return std::nullopt;  // with a store, readers wait for the write
  }
  if (!readers_.empty()) schedule_drain_locked();
  return std::nullopt;
}

void StreamQueue::schedule_flush_locked() {
  // One write in flight at a time: what is appended meanwhile becomes the next chunk (so
  // chunks grow with the load, and the writer's queue stays short).
  if (flush_scheduled_ || write_in_flight_ || pending_.empty()) return;
  flush_scheduled_ = true;
  context_.executor->post(
      [self = shared_from_this()] { static_cast<StreamQueue&>(*self).flush(); });
}

void StreamQueue::flush() {
  Taken taken;
  {
    std::lock_guard lock(mu_);
    flush_scheduled_ = false;
    if (deleted_ || pending_.empty() || write_in_flight_) return;
    write_in_flight_ = true;
    taken = take_pending_locked();
  }
  // Encoded outside the lock: publishers go on appending meanwhile.
  write_taken(taken, nullptr);
}

void StreamQueue::on_written(uint64_t start, uint64_t end, bool ok, bool flushed) {
  std::lock_guard lock(mu_);
  if (flushed) write_in_flight_ = false;
  if (deleted_) return;
  // A failed write leaves the mark where it is: its messages were nacked and are never
  // delivered (the store fails every later write too until the broker restarts).
  if (ok) {
    completed_.emplace(start, end);
    // Writes may complete out of order (a collected one joins an earlier reserved batch):
    // the mark moves over contiguous completed ranges only.
    for (auto it = completed_.begin(); it != completed_.end() && it->first <= written_;
         it = completed_.erase(it)) {
      written_ = std::max(written_, it->second);
    }
  }
  trim_resident_locked();
  schedule_flush_locked();
  if (!readers_.empty()) schedule_drain_locked();
}

StreamQueue::Taken StreamQueue::take_pending_locked() {
  Taken taken;
  taken.messages.reserve(pending_.size());
  std::vector<size_t> starts;  // index in `messages` of each chunk's first message
  uint64_t expected = 0;
  for (auto& [offset, message] : pending_) {
    // Retention may have deleted the segment an unwritten message was in.
    if (offset < first_offset_) continue;
    // A chunk ends at a gap, and after kMaxChunk messages (a reader starting inside a chunk
    // reads it from its first message).
    if (starts.empty() || offset != expected ||
        taken.messages.size() - starts.back() == kMaxChunk) {
      starts.push_back(taken.messages.size());
      taken.chunks.push_back(Persistence::StreamChunk{offset, {}});
      log_[offset - first_offset_].chunk_start = true;
    }
    taken.messages.push_back(std::move(message));
    expected = offset + 1;
  }
  for (size_t i = 0; i < taken.chunks.size(); ++i) {
    const size_t end = i + 1 < starts.size() ? starts[i + 1] : taken.messages.size();
    taken.chunks[i].messages =
        std::span<const StoredMessagePtr>(taken.messages).subspan(starts[i], end - starts[i]);
  }
  // The range covers the gaps before the first message too, so consecutive takes leave none.
  taken.start = taken_until_;
  taken.end = pending_.back().first + 1;
  taken_until_ = taken.end;
  taken.gates = std::move(pending_gates_);
  pending_.clear();
  pending_gates_.clear();
  return taken;
}

void StreamQueue::write_taken(Taken& taken, WriteCollector* collect) {
  // Completion runs on the store's writer thread: it only posts the bookkeeping to the
  // executor.
  std::weak_ptr<Queue> weak = weak_from_this();
  Executor* executor = context_.executor;
  const bool flushed = collect == nullptr;
  context_.persistence->put_stream_chunks(
      context_.queue_id, taken.chunks, std::move(taken.gates),
      [weak, executor, start = taken.start, end = taken.end, flushed](bool ok) {
        executor->post([weak, start, end, ok, flushed] {
          if (auto self = weak.lock()) {
            static_cast<StreamQueue&>(*self).on_written(start, end, ok, flushed);
          }
        });
      },
      collect);
}

uint64_t StreamQueue::chunk_first_locked(uint64_t offset) const {
  while (offset > first_offset_ && !slot_locked(offset).chunk_start) --offset;
  return offset;
}

void StreamQueue::roll_if_full_locked(TimeMs now) {
  if (segments_.empty()) {
    segments_.push_back(Segment{next_offset_, 0, now});
    return;
  }
  if (segments_.back().bytes < static_cast<uint64_t>(segment_limit_)) return;
  // The new segment's tracking chunk: one offset, no message.
  segments_.push_back(Segment{next_offset_, kChunkHeaderBytes, now});
  log_bytes_ += kChunkHeaderBytes;
  log_.push_back(Slot{nullptr, now, 0, false, true});
  ++next_offset_;
  apply_retention_locked(now);
}

void StreamQueue::skip_gaps_locked(Reader& reader) const {
  while (reader.next >= first_offset_ && reader.next < next_offset_ &&
         slot_locked(reader.next).gap) {
    ++reader.next;
  }
}

void StreamQueue::apply_retention_locked(TimeMs now) {
  const auto& max_bytes = arguments_.max_length_bytes;
  const auto& max_age = arguments_.max_age_ms;
  if (!max_bytes && !max_age) return;
  uint64_t new_first = first_offset_;
  while (segments_.size() > 1) {
    const Segment& oldest = segments_.front();
    const bool over_bytes = max_bytes && log_bytes_ > static_cast<uint64_t>(*max_bytes);
    const bool too_old = max_age && oldest.last_timestamp < now - *max_age;
    if (!over_bytes && !too_old) break;
    log_bytes_ -= oldest.bytes;
    segments_.pop_front();
    new_first = segments_.front().first_offset;
  }
  if (new_first == first_offset_) return;
  for (uint64_t o = first_offset_; o < new_first; ++o) {
    const Slot& s = log_.front();
    if (s.message) release_locked(s);
    log_.pop_front();
  }
  first_offset_ = new_first;
  resident_from_ = std::max(resident_from_, first_offset_);
  // Readers behind the new start continue from it (osiris readers skip deleted segments).
  for (Reader& r : readers_) r.next = std::max(r.next, first_offset_);
  if (context_.persistence != nullptr) {
    context_.persistence->truncate_stream(context_.queue_id, first_offset_);
  }
}

void StreamQueue::trim_resident_locked() {
  if (context_.persistence == nullptr) return;  // nowhere else to read it from
  Persistence& p = *context_.persistence;
  while ((resident_bytes_ > kResidentBytes || p.over_budget()) && resident_from_ < written_) {
    Slot& s = log_[resident_from_ - first_offset_];
    if (s.message) {
      release_locked(s);
      s.message.reset();
    }
    ++resident_from_;
  }
}

void StreamQueue::release_locked(const Slot& slot) {
  resident_bytes_ -= slot.size + kMessageOverhead;
  if (context_.persistence != nullptr) context_.persistence->release(slot.size + kMessageOverhead);
}

// ---- consumers ----------------------------------------------------------------------------

Status StreamQueue::add_consumer(ConsumerPtr consumer) {
  ASSIGN_OR_RETURN(OffsetSpec spec,
                   parse_offset(consumer->settings().arguments.find("x-stream-offset"),
                                context_.clock->now_ms(), resource()));
  std::lock_guard lock(mu_);
  if (deleted_) return not_found(resource() + " was deleted");
  readers_.push_back(Reader{std::move(consumer), resolve_locked(spec)});
  schedule_drain_locked();
  return Status();
}

void StreamQueue::remove_consumer(const Consumer& consumer) {
  std::lock_guard lock(mu_);
  std::erase_if(readers_, [&](const Reader& r) { return r.consumer.get() == &consumer; });
}

void StreamQueue::settle(std::span<const QueueEntry> entries) {
  std::lock_guard lock(mu_);
  unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(entries.size()));
  counters_.ack += entries.size();
  // The channel returned the entries' credit: readers may go on.
  if (!readers_.empty()) schedule_drain_locked();
}

void StreamQueue::discard(std::vector<QueueEntry> entries) { settle(entries); }

void StreamQueue::requeue(std::vector<QueueEntry> entries, bool /*redelivered*/,
                          const std::function<void()>& release_credit) {
  release_credit();
  settle(entries);
}

void StreamQueue::return_undelivered(std::vector<QueueEntry> entries, bool counted_unacked) {
  // The reader is gone: nothing goes back (the log still has them).
  if (!counted_unacked) return;
  std::lock_guard lock(mu_);
  unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(entries.size()));
}

void StreamQueue::detach(std::span<const Consumer* const> consumers,
                         std::vector<QueueEntry> unacked) {
  std::lock_guard lock(mu_);
  for (const Consumer* c : consumers) {
    std::erase_if(readers_, [&](const Reader& r) { return r.consumer.get() == c; });
  }
  unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(unacked.size()));
}

void StreamQueue::notify_credit() {
  std::lock_guard lock(mu_);
  if (!readers_.empty()) schedule_drain_locked();
}

Result<std::optional<QueueEntry>> StreamQueue::get(bool /*no_ack*/, uint32_t& remaining) {
  remaining = 0;
  return type_.check_get(resource(), false);  // the type's refusal
}

// ---- delivery ----------------------------------------------------------------------------

void StreamQueue::schedule_drain_locked() {
  drain_requested_ = true;
  if (drain_scheduled_ || deleted_) return;
  drain_scheduled_ = true;
  context_.executor->post(
      [self = shared_from_this()] { static_cast<StreamQueue&>(*self).drain(); });
}

void StreamQueue::drain() {
  struct Handover {
    ConsumerPtr consumer;
    std::vector<QueueEntry> entries;
  };
  std::vector<Handover> out;
  std::vector<Load> loads;
  for (int pass = 0; pass < kDrainPasses; ++pass) {
    out.clear();
    loads.clear();
    {
      std::lock_guard lock(mu_);
      drain_requested_ = false;
      if (!deleted_) {
        const uint64_t readable = readable_end_locked();
        for (Reader& r : readers_) {
          if (r.consumer->cancelled()) continue;
          std::vector<QueueEntry> entries;
          while (r.next < readable && entries.size() < kDrainBatch) {
            const Slot& s = slot_locked(r.next);
            if (s.gap) {
              ++r.next;
              continue;
            }
            if (!s.message) {
              // Behind the resident window: read back from the store outside the lock. The
              // first message's credit is taken now, so a load always has some.
              if (entries.empty() && r.consumer->try_take_credit()) {
                // As many as its prefetch lets it take now (the one just taken included).
                const uint32_t prefetch = r.consumer->settings().prefetch;
                const uint32_t unacked = r.consumer->unacked();
                const size_t limit =
                    prefetch == 0 || prefetch < unacked
                        ? kLoadBatch
                        : std::clamp<size_t>(prefetch - unacked + 1, 1, kLoadBatch);
                loads.push_back(Load{r.consumer, chunk_first_locked(r.next), r.next, limit});
              }
              break;
            }
            if (!r.consumer->try_take_credit()) break;
            QueueEntry e;
            e.seq = r.next;
            e.message = s.message;
            e.body_size = s.size;
            e.persisted = context_.persistence != nullptr;
            entries.push_back(std::move(e));
            ++r.next;
          }
          if (!entries.empty()) {
            unacked_ += static_cast<uint32_t>(entries.size());
            counters_.deliver += entries.size();
            out.push_back(Handover{r.consumer, std::move(entries)});
          }
        }
      }
      if (out.empty() && loads.empty()) {
        drain_scheduled_ = false;
        return;
      }
    }
    for (Handover& h : out) h.consumer->channel().deliver(h.consumer, std::move(h.entries));
    bool read_any = false;
    for (const Load& load : loads) read_any |= deliver_loaded(load);
    if (out.empty() && !read_any) {
      // Only failed reads (logged): the next publish, ack or consumer tries again, rather
      // than a busy loop on a failing disk; one that came meanwhile does so now.
      std::lock_guard lock(mu_);
      if (!drain_requested_) {
        drain_scheduled_ = false;
        return;
      }
    }
  }
  // Still busy: let other queues run, then continue.
  context_.executor->post(
      [self = shared_from_this()] { static_cast<StreamQueue&>(*self).drain(); });
}

bool StreamQueue::deliver_loaded(const Load& load) {
  Result<std::vector<LoadedMessage>> loaded =
      context_.persistence->load_stream(context_.queue_id, load.chunk_first, load.from, load.limit);
  std::vector<QueueEntry> entries;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(readers_.begin(), readers_.end(),
                           [&](const Reader& r) { return r.consumer == load.consumer; });
    // Read, and the reader still there and where it was (retention may have moved it on).
    const bool usable = loaded.ok() && !deleted_ && it != readers_.end() && it->next == load.from;
    if (!loaded.ok()) {
      logger().error("{}: reading the stream back from the store failed: {}", resource(),
                     loaded.status().to_string());
    }
    for (size_t i = 0; usable && i < loaded->size(); ++i) {
      LoadedMessage& m = (*loaded)[i];
      skip_gaps_locked(*it);
      if (m.seq != it->next || m.seq >= readable_end_locked()) break;
      // The first message uses the credit the drain took for the load.
      if (!entries.empty() && !load.consumer->try_take_credit()) break;
      QueueEntry e;
      e.seq = m.seq;
      e.message = std::move(m.message);
      e.body_size = m.body_size;
      e.persisted = true;
      entries.push_back(std::move(e));
      ++it->next;
    }
    unacked_ += static_cast<uint32_t>(entries.size());
    counters_.deliver += entries.size();
    if (entries.empty()) load.consumer->release_credit(1);
  }
  if (!entries.empty()) load.consumer->channel().deliver(load.consumer, std::move(entries));
  return loaded.ok();
}

// ---- lifecycle and state ----------------------------------------------------------------

Queue::Deleted StreamQueue::mark_deleted() {
  Deleted d;
  std::vector<std::shared_ptr<ConfirmGate>> gates;
  {
    std::lock_guard lock(mu_);
    if (deleted_) return d;
    deleted_ = true;
    // RabbitMQ 3.10.8's queue.delete-ok says 0 messages for a stream.
    d.message_count = 0;
    for (Reader& r : readers_) d.consumers.push_back(std::move(r.consumer));
    readers_.clear();
    gates.swap(pending_gates_);
    pending_.clear();
    for (const Slot& slot : log_) {
      if (slot.message) release_locked(slot);
    }
    log_.clear();
    segments_.clear();
  }
  // Accepted before the delete: confirmed, as if written. Outside the lock: a confirm takes
  // its channel's lock, and a channel calls into the queue holding it.
  for (const auto& gate : gates) gate->done(true);
  return d;
}

bool StreamQueue::deleted() const {
  std::lock_guard lock(mu_);
  return deleted_;
}

QueueCounts StreamQueue::counts() const {
  std::lock_guard lock(mu_);
  QueueCounts c;
  c.ready = static_cast<uint32_t>(next_offset_ - first_offset_);
  c.unacked = unacked_;
  c.consumers = static_cast<uint32_t>(readers_.size());
  return c;
}

QueueCounters StreamQueue::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

size_t StreamQueue::resident_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const Slot& s : log_) n += s.message != nullptr;
  return n;
}

// ---- recovery ----------------------------------------------------------------------------

Status StreamQueue::recover(uint64_t& count) {
  namespace st = burrow::storage;
  if (context_.persistence == nullptr) return Status();
  Result<uint64_t> head = st::load_queue_head(context_.persistence->store(), context_.queue_id);
  if (!head.ok()) return head.status();
  std::lock_guard lock(mu_);
  first_offset_ = next_offset_ = *head;
  Status failed;
  st::MessageRecord record;
  Status s = context_.persistence->scan_stream(
      context_.queue_id, *head, [&](uint64_t first, std::vector<std::string_view>& messages) {
        for (size_t i = 0; i < messages.size(); ++i) {
          std::string_view body;
          failed = st::decode_message_value(messages[i], record, body);
          if (!failed.ok()) return false;
          const auto ts = static_cast<TimeMs>(record.publish_time_ms());
          const uint64_t offset = first + i;
          // A missing offset is a segment's tracking chunk (nothing is stored for it): the
          // segments come back where they were, without counting bytes again.
          if (segments_.empty() || offset > next_offset_) {
            segments_.push_back(Segment{next_offset_, 0, ts});
          }
          for (; next_offset_ < offset; ++next_offset_) {
            log_.push_back(Slot{nullptr, ts, 0, false, true});
            segments_.back().bytes += kChunkHeaderBytes;
            log_bytes_ += kChunkHeaderBytes;
          }
          const uint64_t bytes = record_bytes(body.size(), record.exchange(), record.routing_key());
          log_.push_back(Slot{nullptr, ts, static_cast<uint32_t>(body.size()), i == 0, false});
          segments_.back().bytes += bytes;
          segments_.back().last_timestamp = ts;
          log_bytes_ += bytes;
          ++next_offset_;
        }
        return true;
      });
  if (!s.ok()) return s;
  if (!failed.ok()) return failed;
  resident_from_ = next_offset_;
  written_ = taken_until_ = next_offset_;
  for (const Slot& slot : log_) count += slot.gap ? 0 : 1;
  return Status();
}

}  // namespace burrow::broker
