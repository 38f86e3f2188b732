// ClassicQueue: ready storage, consumers, drains, TTL, limits and dead-lettering, following
// RabbitMQ 3.10's rabbit_amqqueue_process.
#include "broker/classic_queue.h"
#include "base/assert.h"
#include "base/logging.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/status_macros.h"
#include "broker/channel.h"
#include "broker/executor.h"
#include "broker/message_pack.h"
#include "broker/persistence.h"
#include "storage/kill_point.h"

namespace burrow::broker {

namespace {
spdlog::logger& logger() { return module_logger("broker"); }
}  // namespace

namespace {

// A copy of `message` with the x-delivery-count header (the number of earlier deliveries),
// as RabbitMQ's quorum queues add it on redelivery.
StoredMessagePtr with_delivery_count(const StoredMessagePtr& message, uint32_t count) {
  auto copy = std::make_shared<StoredMessage>(*message);
  auto& headers = copy->message.properties.headers;
  if (!headers) headers.emplace();
  headers->set("x-delivery-count", static_cast<int64_t>(count));
  copy->wire_properties.clear();
  return copy;
}

// `message` without the x-delivery-count header a quorum queue adds to what it hands out:
// RabbitMQ adds it to deliveries only, so a dead letter does not carry it.
StoredMessagePtr without_delivery_count(StoredMessagePtr message) {
  const auto& headers = message->message.properties.headers;
  if (!headers || !headers->contains("x-delivery-count")) return message;
  auto copy = std::make_shared<StoredMessage>(*message);
  copy->message.properties.headers->erase("x-delivery-count");
  if (copy->message.properties.headers->empty()) copy->message.properties.headers.reset();
  copy->wire_properties.clear();
  return copy;
}

// The position of `seq` in a bucket (buckets are sorted by sequence), or where it would go.
std::deque<QueueEntry>::iterator seq_position(std::deque<QueueEntry>& bucket, uint64_t seq) {
  return std::lower_bound(bucket.begin(), bucket.end(), seq,
                          [](const QueueEntry& e, uint64_t s) { return e.seq < s; });
}

}  // namespace

std::string_view death_reason_name(DeathReason reason) {
  switch (reason) {
    case DeathReason::kRejected:
      return "rejected";
    case DeathReason::kExpired:
      return "expired";
    case DeathReason::kMaxlen:
      return "maxlen";
    case DeathReason::kDeliveryLimit:
      return "delivery_limit";
  }
  return "unknown";
}

ClassicQueue::ClassicQueue(QueueSettings settings, QueueArguments arguments, const QueueType& type,
                           QueueContext context)
    : Queue(std::move(settings), std::move(arguments), type),
      context_(std::move(context)),
      has_dlx_(arguments_.dead_letter_exchange.has_value()) {
  buckets_.resize(arguments_.max_priority ? size_t{*arguments_.max_priority} + 1 : 1);
  // Quorum queues: messages returned by a consumer that went away wait in a bucket above the
  // others, served first in the order they came back (rabbit_fifo's returns).
  if (type_.semantics().requeue_at_back) buckets_.resize(buckets_.size() + 1);
  packs_ = std::vector<PackLog>(buckets_.size());
  if (context_.persistence != nullptr) written_ = std::make_shared<std::atomic<uint64_t>>(0);
}

ClassicQueue::~ClassicQueue() {
  if (ttl_timer_) context_.timers->cancel(ttl_timer_);
  if (expiry_timer_) context_.timers->cancel(expiry_timer_);
}

void ClassicQueue::start() {
  std::lock_guard lock(mu_);
  last_used_ = context_.clock->now_ms();
  if (arguments_.expires) arm_expiry_timer_locked(last_used_ + *arguments_.expires);
}

// ---- ready storage ---------------------------------------------------------------------------

std::deque<QueueEntry>* ClassicQueue::head_bucket_locked() {
  // The highest priority with messages delivers first.
  for (size_t p = buckets_.size(); p-- > 0;) {
    if (!buckets_[p].empty()) return &buckets_[p];
  }
  return nullptr;
}

QueueEntry ClassicQueue::pop_head_locked(bool need_message) {
  // The highest priority with messages delivers first.
  for (size_t p = buckets_.size(); p-- > 0;) {
    if (!buckets_[p].empty()) return take_front_locked(p, need_message);
  }
  return QueueEntry{};
}

QueueEntry ClassicQueue::take_front_locked(size_t priority, bool need_message) {
  std::deque<QueueEntry>& bucket = buckets_[priority];
  QueueEntry& front = bucket.front();
  if (front.packed) {
    PackLog& pack = packs_[priority];
    if (need_message) {
      auto message = unpack_message(pack.front());
      // The bytes were packed by this process from a valid message: failing to read them
      // back means memory is damaged, and nothing sound can follow.
      BURROW_ASSERT_MSG(message.ok(), "a packed message could not be unpacked");
      front.message = std::move(*message);
    }
    pack.pop_front();
  }
  QueueEntry entry = std::move(front);
  bucket.pop_front();
  --ready_count_;
  ready_bytes_ -= entry.body_size;
  release_locked(entry);  // charged as packed
  entry.packed = false;
  return entry;
}

void ClassicQueue::push_ready_locked(QueueEntry entry) {
  ++ready_count_;
  ready_bytes_ += entry.body_size;
  std::deque<QueueEntry>& bucket = buckets_[entry.priority];
  // Deep in a backlog: keep the contents packed (push_ready_locked always appends, so packed
  // entries stay in the order of their PackLog). Not a persisted message that is to be paged
  // out (over the memory budget): that keeps no contents at all once written.
  if (entry.message && bucket.size() >= kPackAfter && entry.body_size <= kPackMaxBody &&
      !(entry.persisted && context_.persistence->over_budget())) {
    pack_message(*entry.message, pack_scratch_);
    packs_[entry.priority].push_back(pack_scratch_);
    entry.message.reset();
    entry.packed = true;
  }
  charge_locked(entry);
  bucket.push_back(std::move(entry));
}

void ClassicQueue::insert_ready_locked(QueueEntry entry) {
  ++ready_count_;
  ready_bytes_ += entry.body_size;
  charge_locked(entry);
  std::deque<QueueEntry>& bucket = buckets_[entry.priority];
  if (entry.priority >= sorted_buckets()) {
    // A quorum queue's returns bucket is in return order. Wrap-around safe: the orders in
    // the bucket span far less than 2^31.
    auto pos = std::upper_bound(bucket.begin(), bucket.end(), entry.return_order,
                                [](uint32_t order, const QueueEntry& e) {
                                  return static_cast<int32_t>(order - e.return_order) < 0;
                                });
    bucket.insert(pos, std::move(entry));
    return;
  }
  if (bucket.empty() || entry.seq < bucket.front().seq) {
    bucket.push_front(std::move(entry));
    return;
  }
  bucket.insert(seq_position(bucket, entry.seq), std::move(entry));
}

void ClassicQueue::reinsert_locked(std::vector<QueueEntry> entries, bool mark_redelivered) {
  // Highest sequence first, so entries older than every ready one are a push_front each.
  std::sort(entries.begin(), entries.end(),
            [](const QueueEntry& a, const QueueEntry& b) { return a.seq > b.seq; });
  for (auto& e : entries) {
    if (mark_redelivered) e.redelivered = true;
    insert_ready_locked(std::move(e));
  }
}

// ---- memory budget: lazy bodies ---------------------------------------------------------------

uint64_t ClassicQueue::resident_bytes(const QueueEntry& e) {
  // A packed entry: its share of a PackLog chunk (record, length) besides the body.
  constexpr uint64_t kPackedOverhead = 48;
  return e.body_size + (e.packed ? kPackedOverhead : Persistence::kMessageOverhead);
}

void ClassicQueue::charge_locked(const QueueEntry& entry) {
  if (entry.persisted && !paged_out(entry)) context_.persistence->charge(resident_bytes(entry));
}

void ClassicQueue::release_locked(const QueueEntry& entry) {
  if (entry.persisted && !paged_out(entry)) context_.persistence->release(resident_bytes(entry));
}

void ClassicQueue::page_out_locked() {
  if (to_page_.empty()) return;
  const uint64_t written = written_->load(std::memory_order_acquire);
  while (!to_page_.empty() && to_page_.front().first <= written) {
    const auto [seq, priority] = to_page_.front();
    to_page_.pop_front();
    // Consumers caught up meanwhile: no need to page any more.
    if (!context_.persistence->over_budget()) {
      to_page_.clear();
      return;
    }
    std::deque<QueueEntry>& bucket = buckets_[priority];
    auto it = seq_position(bucket, seq);
    if (it == bucket.end() || it->seq != seq || !it->message) continue;  // left the queue
    release_locked(*it);
    it->message.reset();
  }
}

bool ClassicQueue::head_paged_locked(std::vector<uint64_t>& seqs) {
  std::deque<QueueEntry>* bucket = head_bucket_locked();
  if (bucket == nullptr || !paged_out(bucket->front())) return false;
  const size_t n = std::min(bucket->size(), kLoadBatch);
  for (size_t i = 0; i < n; ++i) {
    if (paged_out((*bucket)[i])) seqs.push_back((*bucket)[i].seq);
  }
  return true;
}

Status ClassicQueue::load_paged(std::unique_lock<std::mutex>& lock,
                                const std::vector<uint64_t>& seqs) {
  lock.unlock();
  auto loaded = context_.persistence->load_messages(context_.queue_id, seqs);
  lock.lock();
  if (!loaded.ok()) {
    // The store refuses reads (an I/O error): the messages stay paged out (nothing is
    // dropped) and the next delivery attempt tries again.
    logger().error("queue '{}' in vhost '{}': reading messages back from the store failed: {}",
                   settings_.name, settings_.vhost, loaded.status().to_string());
    return loaded.status();
  }
  size_t next = 0;
  for (uint64_t seq : seqs) {
    const bool found = next < loaded->size() && (*loaded)[next].seq == seq;
    for (auto& bucket : std::span(buckets_).first(sorted_buckets())) {
      auto it = seq_position(bucket, seq);
      if (it == bucket.end() || it->seq != seq || !paged_out(*it)) continue;
      if (found) {
        it->message = std::move((*loaded)[next].message);
        charge_locked(*it);
      } else {
        // Paged out only after its write completed and deleted only when it leaves the
        // queue: a message missing from the store is damage. Say so, and drop the entry
        // rather than stall the queue.
        logger().error("queue '{}' in vhost '{}': message {} is missing from the store",
                       settings_.name, settings_.vhost, seq);
        persisted_live_.erase(seq);
        --ready_count_;
        ready_bytes_ -= it->body_size;
        bucket.erase(it);
      }
      break;
    }
    if (found) ++next;
  }
  return Status();
}

void ClassicQueue::load_one_locked(QueueEntry& entry) {
  if (entry.message) return;
  // `entry` just left the front of its bucket; the paged-out entries behind it are likely to
  // follow (a backlog expiring or dropped at the head), so they are read in the same scan.
  std::vector<uint64_t> seqs{entry.seq};
  std::deque<QueueEntry>& bucket = buckets_[entry.priority];
  for (size_t i = 0; i < bucket.size() && seqs.size() < kLoadBatch; ++i) {
    if (bucket[i].seq <= seqs.back()) break;  // keep the list ascending
    if (paged_out(bucket[i])) seqs.push_back(bucket[i].seq);
  }
  auto loaded = context_.persistence->load_messages(context_.queue_id, seqs);
  if (!loaded.ok() || loaded->empty() || loaded->front().seq != entry.seq) {
    logger().error(
        "queue '{}' in vhost '{}': message {} could not be read back for "
        "dead-lettering: {}",
        settings_.name, settings_.vhost, entry.seq,
        loaded.ok() ? "missing from the store" : loaded.status().to_string());
    return;
  }
  entry.message = std::move(loaded->front().message);
  for (size_t i = 1; i < loaded->size(); ++i) {
    LoadedMessage& m = (*loaded)[i];
    auto it = seq_position(bucket, m.seq);
    if (it == bucket.end() || it->seq != m.seq || !paged_out(*it)) continue;
    it->message = std::move(m.message);
    charge_locked(*it);
  }
}

size_t ClassicQueue::resident_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& bucket : buckets_) {
    for (const QueueEntry& e : bucket) n += paged_out(e) ? 0 : 1;
  }
  return n;
}

size_t ClassicQueue::packed_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const PackLog& pack : packs_) n += pack.size();
  return n;
}

size_t ClassicQueue::packed_bytes() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const PackLog& pack : packs_) n += pack.allocated_bytes();
  return n;
}

// ---- limits, TTL, dead letters ---------------------------------------------------------------

void ClassicQueue::collect_dead(Effects& fx, QueueEntry& entry, DeathReason reason) {
  forget_locked(fx, entry);
  // Without a dead-letter exchange the message is simply dropped.
  if (!has_dlx_) return;
  load_one_locked(entry);
  if (entry.message) {
    if (type_.semantics().delivery_count_header) {
      entry.message = without_delivery_count(std::move(entry.message));
    }
    fx.dead.push_back(DeadLetter{std::move(entry.message), reason});
    counters_.dead_lettered++;
  }
}

void ClassicQueue::move_to_back_locked(QueueEntry& entry, Effects& fx) {
  QueueEntry old_place;
  old_place.seq = entry.seq;
  old_place.persisted = entry.persisted;
  entry.seq = next_seq_++;
  entry.priority = 0;
  if (!entry.persisted) return;
  // Stored again under its new position, with its delivery count in the record (recovery
  // reads it when no delivery marker follows), before the old record is deleted (after the
  // lock, in submission order): a crash between the two writes leaves it twice, and it is
  // delivered again - at least once, never lost.
  persisted_live_.insert(entry.seq);
  context_.persistence->put_message(context_.queue_id, entry, nullptr, nullptr, nullptr);
  forget_locked(fx, old_place);
}

void ClassicQueue::forget_locked(Effects& fx, const QueueEntry& entry) {
  if (!entry.persisted) return;
  persisted_live_.erase(entry.seq);
  fx.deleted.push_back(entry.seq);
  // Move the saved head now and then (one range tombstone for everything below it), so a
  // restart never scans the acked part of the queue.
  const uint64_t head = persisted_live_.empty() ? next_seq_ : persisted_live_.min();
  if (head >= saved_head_ + kHeadStep) {
    saved_head_ = head;
    fx.new_head = head;
  }
}

void ClassicQueue::note_delivered_locked(Effects& fx, const QueueEntry& entry, bool no_ack) {
  if (!entry.persisted) return;
  if (no_ack) {
    forget_locked(fx, entry);  // settled at delivery
  } else {
    fx.delivered.emplace_back(entry.seq, entry.delivery_count);
  }
}

void ClassicQueue::apply(Effects fx) {
  Persistence* const store = context_.persistence;
  const bool dead = !fx.dead.empty() && context_.dead_letter;
  if (store == nullptr) {
    if (dead) context_.dead_letter(*this, std::move(fx.dead), nullptr);
    return;
  }
  // Store writes first: a delivery marker must be queued before the delivery can be acked.
  store->mark_delivered(context_.queue_id, fx.delivered);
  // Nothing of the source in the store (transient messages): their copies are transient too.
  if (dead && fx.deleted.empty() && fx.new_head == 0) {
    context_.dead_letter(*this, std::move(fx.dead), nullptr);
    return;
  }
  if (!dead) {
    store->delete_messages(context_.queue_id, fx.deleted, fx.new_head);
    return;
  }
  // Dead letters leave the source and enter their target queues in one atomic write, so a
  // crash loses none and duplicates none (RabbitMQ's classic queues lose them; two writes
  // here lost 2 in 71 296 in docs/reliability.md 4c's kill check). The reservation keeps the
  // target queues' later writes (deliveries, acks of the copies) behind this one.
  WriteCollector collect;
  const uint64_t slot = store->reserve();
  context_.dead_letter(*this, std::move(fx.dead), &collect);
  store->delete_messages(context_.queue_id, fx.deleted, fx.new_head, &collect);
  BURROW_KILL_POINT("queue.before_dead_letter_write");
  store->fill(slot, std::move(collect));
}

bool ClassicQueue::over_soft_limit_locked() {
  // rabbit_fifo (3.10): once the ready messages are over a limit, publishers are refused
  // until the queue is down to 80 % of every limit.
  auto over = [&](const std::optional<int64_t>& limit, uint64_t value) {
    return limit && static_cast<int64_t>(value) > *limit;
  };
  auto below_soft = [&](const std::optional<int64_t>& limit, uint64_t value) {
    // trunc(limit * 0.8), without overflowing for limits near 2^63.
    return !limit || static_cast<int64_t>(value) <= *limit / 10 * 8 + *limit % 10 * 8 / 10;
  };
  if (over(arguments_.max_length, ready_count_) ||
      over(arguments_.max_length_bytes, ready_bytes_)) {
    refusing_publishes_ = true;
  } else if (refusing_publishes_ && below_soft(arguments_.max_length, ready_count_) &&
             below_soft(arguments_.max_length_bytes, ready_bytes_)) {
    refusing_publishes_ = false;
  }
  return refusing_publishes_;
}

bool ClassicQueue::would_overflow_locked(size_t body_size) const {
  // rabbit_amqqueue_process:will_overflow/2: one more message must fit.
  if (arguments_.max_length && static_cast<int64_t>(ready_count_) + 1 > *arguments_.max_length) {
    return true;
  }
  return arguments_.max_length_bytes &&
         static_cast<int64_t>(ready_bytes_ + body_size) > *arguments_.max_length_bytes;
}

void ClassicQueue::drop_head_locked(Effects& fx) {
  // rabbit_amqqueue_process:maybe_drop_head/2, for overflow drop-head only.
  if (arguments_.overflow != Overflow::kDropHead) return;
  auto over = [&] {
    return (arguments_.max_length && static_cast<int64_t>(ready_count_) > *arguments_.max_length) ||
           (arguments_.max_length_bytes &&
            static_cast<int64_t>(ready_bytes_) > *arguments_.max_length_bytes);
  };
  while (ready_count_ > 0 && over()) {
    QueueEntry e = pop_head_locked(/*need_message=*/has_dlx_);
    collect_dead(fx, e, DeathReason::kMaxlen);
  }
}

void ClassicQueue::expire_heads_locked(TimeMs now, Effects& fx) {
  // Classic queues expire messages only at the head (of each priority).
  for (size_t p = 0; p < buckets_.size(); ++p) {
    const std::deque<QueueEntry>& bucket = buckets_[p];
    while (!bucket.empty() && bucket.front().expires_at != 0 && bucket.front().expires_at <= now) {
      QueueEntry e = take_front_locked(p, /*need_message=*/has_dlx_);
      collect_dead(fx, e, DeathReason::kExpired);
    }
  }
}

void ClassicQueue::arm_ttl_timer_locked() {
  if (deleted_) return;
  TimeMs earliest = 0;
  for (const auto& bucket : buckets_) {
    if (!bucket.empty() && bucket.front().expires_at != 0 &&
        (earliest == 0 || bucket.front().expires_at < earliest)) {
      earliest = bucket.front().expires_at;
    }
  }
  if (earliest == 0) return;
  if (ttl_timer_ != 0 && ttl_timer_due_ <= earliest) return;
  if (ttl_timer_ != 0) context_.timers->cancel(ttl_timer_);
  ttl_timer_due_ = earliest;
  std::weak_ptr<Queue> weak = weak_from_this();
  ttl_timer_ = context_.timers->schedule(earliest, [weak] {
    if (auto self = weak.lock()) static_cast<ClassicQueue&>(*self).on_ttl_timer();
  });
}

void ClassicQueue::on_ttl_timer() {
  Effects fx;
  {
    std::lock_guard lock(mu_);
    ttl_timer_ = 0;
    if (deleted_) return;
    expire_heads_locked(context_.clock->now_ms(), fx);
    arm_ttl_timer_locked();
  }
  apply(std::move(fx));
}

void ClassicQueue::arm_expiry_timer_locked(TimeMs due) {
  if (deleted_ || expiry_timer_ != 0) return;
  std::weak_ptr<Queue> weak = weak_from_this();
  expiry_timer_ = context_.timers->schedule(due, [weak] {
    if (auto self = weak.lock()) static_cast<ClassicQueue&>(*self).on_expiry_timer();
  });
}

void ClassicQueue::on_expiry_timer() {
  {
    std::lock_guard lock(mu_);
    expiry_timer_ = 0;
    // In use again meanwhile: the countdown restarts when the last consumer goes.
    if (deleted_ || !consumers_.empty()) return;
    const TimeMs due = last_used_ + *arguments_.expires;
    if (context_.clock->now_ms() < due) {
      arm_expiry_timer_locked(due);
      return;
    }
  }
  // An expired queue is deleted with its messages; they are not dead-lettered.
  if (context_.delete_me) context_.delete_me(shared_from_this());
}

void ClassicQueue::recover(std::vector<QueueEntry> entries) {
  std::lock_guard lock(mu_);
  for (QueueEntry& e : entries) {
    e.persisted = true;
    persisted_live_.insert(e.seq);
    push_ready_locked(std::move(e));
  }
}

void ClassicQueue::finish_recovery(uint64_t next_seq) {
  std::lock_guard lock(mu_);
  next_seq_ = std::max(next_seq_, next_seq);
  if (written_) written_->store(next_seq_ - 1, std::memory_order_release);
  saved_head_ = persisted_live_.empty() ? next_seq_ : persisted_live_.min();
}

void ClassicQueue::start_after_recovery() {
  Effects fx;
  {
    std::lock_guard lock(mu_);
    expire_heads_locked(context_.clock->now_ms(), fx);
    drop_head_locked(fx);
    arm_ttl_timer_locked();
  }
  apply(std::move(fx));
}

void ClassicQueue::touch() {
  std::lock_guard lock(mu_);
  last_used_ = context_.clock->now_ms();
}

// ---- publishing and getting ------------------------------------------------------------------

EnqueueOutcome ClassicQueue::enqueue(StoredMessagePtr message, const EnqueueOptions& options) {
  Effects fx;
  EnqueueOutcome outcome = EnqueueOutcome::kDeleted;
  {
    std::lock_guard lock(mu_);
    if (deleted_) return EnqueueOutcome::kDeleted;
    const TimeMs now = context_.clock->now_ms();
    expire_heads_locked(now, fx);
    outcome = enqueue_locked(std::move(message), options, now, fx);
    page_out_locked();
  }
  apply(std::move(fx));
  return outcome;
}

void ClassicQueue::enqueue_batch(std::span<const StoredMessagePtr> messages,
                                 const EnqueueOptions& options,
                                 std::span<EnqueueOutcome> outcomes) {
  Effects fx;
  {
    std::lock_guard lock(mu_);
    if (deleted_) {
      std::fill(outcomes.begin(), outcomes.end(), EnqueueOutcome::kDeleted);
      return;
    }
    const TimeMs now = context_.clock->now_ms();
    expire_heads_locked(now, fx);
    for (size_t i = 0; i < messages.size(); ++i) {
      outcomes[i] = enqueue_locked(messages[i], options, now, fx);
    }
    page_out_locked();
  }
  apply(std::move(fx));
}

EnqueueOutcome ClassicQueue::enqueue_locked(StoredMessagePtr message, const EnqueueOptions& options,
                                            TimeMs now, Effects& fx) {
  // reject-publish(-dlx) refuses a message that would not fit, before any delivery attempt.
  // Quorum queues refuse only once over the limit (their soft limit).
  if (arguments_.overflow != Overflow::kDropHead &&
      (type_.semantics().soft_length_limit ? over_soft_limit_locked()
                                           : would_overflow_locked(message->body_size()))) {
    if (arguments_.overflow == Overflow::kRejectPublishDlx) {
      if (has_dlx_) fx.dead.push_back(DeadLetter{std::move(message), DeathReason::kMaxlen});
    }
    return EnqueueOutcome::kRejected;
  }
  // The smaller of the queue's and the message's TTL, from the time it enters the queue.
  std::optional<int64_t> ttl = arguments_.message_ttl;
  if (options.message_ttl && (!ttl || *options.message_ttl < *ttl)) ttl = options.message_ttl;
  QueueEntry entry;
  counters_.publish++;
  entry.seq = next_seq_++;
  entry.body_size = static_cast<uint32_t>(message->body_size());
  if (arguments_.max_priority) {
    // No priority counts as 0; more than the maximum counts as the maximum.
    uint8_t p = message->message.properties.priority.value_or(0);
    entry.priority = std::min(p, *arguments_.max_priority);
  }
  entry.expires_at = ttl ? now + *ttl : 0;
  entry.message = std::move(message);
  // A persistent message in a durable queue goes to the store before any consumer can
  // see it (so its ack's delete is always written after it); the publisher's confirm
  // waits for it through the gate. One that expires at once is never written.
  const bool expires_now = ttl && *ttl == 0 && !ready_empty_locked();
  if (context_.persistence != nullptr &&
      (entry.message->persistent() || type_.semantics().store_every_message) && !expires_now) {
    entry.persisted = true;
    persisted_live_.insert(entry.seq);
  }
  // A waiting consumer takes the message at once (it never counts as ready); only then
  // does a TTL of 0 let it live.
  const ConsumerPtr* c = ready_empty_locked() ? pick_consumer_locked() : nullptr;
  if (entry.persisted && (c != nullptr || !(ttl && *ttl == 0))) {
    // Over the memory budget, a message that waits in the queue keeps only its index
    // entry once its write completed (page_out_locked).
    // A collected write (outbox relay) completes out of this queue's submission order, so
    // it must not raise the written watermark: such a message stays resident.
    const bool page =
        c == nullptr && options.collect == nullptr && context_.persistence->over_budget();
    if (page) to_page_.emplace_back(entry.seq, entry.priority);
    context_.persistence->put_message(context_.queue_id, entry, options.gate,
                                      page ? written_ : nullptr, options.collect);
  } else if (entry.persisted) {
    persisted_live_.erase(entry.seq);
    entry.persisted = false;
  }
  if (c != nullptr) {
    take_for_delivery_locked(entry, **c, fx);
    assigned_.push_back(Pick{*c, std::move(entry)});
    schedule_drain_locked();
  } else if (ttl && *ttl == 0) {
    collect_dead(fx, entry, DeathReason::kExpired);
  } else {
    push_ready_locked(std::move(entry));
    drop_head_locked(fx);
    arm_ttl_timer_locked();
    if (!consumers_.empty()) schedule_drain_locked();
  }
  note_length_locked();
  return EnqueueOutcome::kAccepted;
}

void ClassicQueue::note_length_locked() {
  // rabbit_fifo evaluates its limit after every command: the publish that takes the queue
  // over the limit blocks the next ones, whatever happens in between.
  if (type_.semantics().soft_length_limit && arguments_.overflow == Overflow::kRejectPublish) {
    (void)over_soft_limit_locked();
  }
}

void ClassicQueue::take_for_delivery_locked(QueueEntry& entry, const Consumer& consumer,
                                            Effects& fx) {
  // Quorum queues: a redelivery says how often the message came back. Requeues set the
  // header; a message recovered after a restart gets it here.
  if (type_.semantics().delivery_count_header && entry.delivery_count > 0 && entry.message) {
    const auto& headers = entry.message->message.properties.headers;
    const FieldValue* h = headers ? headers->find("x-delivery-count") : nullptr;
    if (h == nullptr || h->as_integer() != static_cast<int64_t>(entry.delivery_count)) {
      entry.message = with_delivery_count(entry.message, entry.delivery_count);
    }
  }
  entry.delivery_count++;
  if (!consumer.no_ack()) unacked_++;
  (consumer.no_ack() ? counters_.deliver_no_ack : counters_.deliver)++;
  if (entry.redelivered) counters_.redeliver++;
  note_delivered_locked(fx, entry, consumer.no_ack());
}

Result<std::optional<QueueEntry>> ClassicQueue::get(bool no_ack, uint32_t& remaining) {
  Effects fx;
  std::optional<QueueEntry> out;
  {
    std::unique_lock lock(mu_);
    if (deleted_) {
      return not_found("no queue '" + settings_.name + "' in vhost '" + settings_.vhost + "'");
    }
    const TimeMs now = context_.clock->now_ms();
    last_used_ = now;
    expire_heads_locked(now, fx);
    // A paged-out head is read back first (the lock is released meanwhile, so look again).
    for (std::vector<uint64_t> seqs; head_paged_locked(seqs); seqs.clear()) {
      RETURN_IF_ERROR(load_paged(lock, seqs));
      if (deleted_) {
        return not_found("no queue '" + settings_.name + "' in vhost '" + settings_.vhost + "'");
      }
      expire_heads_locked(now, fx);
    }
    if (!ready_empty_locked()) {
      out = pop_head_locked();
      // Quorum queues: every basic.get says how often the message came back (0 the first
      // time), rabbit_fifo_client:dequeue/3.
      if (type_.semantics().delivery_count_header) {
        out->message = with_delivery_count(out->message, out->delivery_count);
      }
      out->delivery_count++;
      if (!no_ack) unacked_++;
      (no_ack ? counters_.get_no_ack : counters_.get)++;
      if (out->redelivered) counters_.redeliver++;
      note_delivered_locked(fx, *out, no_ack);
      // Expired messages that just reached the head go before the count is taken.
      expire_heads_locked(now, fx);
      arm_ttl_timer_locked();
    }
    if (!out) counters_.get_empty++;
    remaining = static_cast<uint32_t>(ready_count_);
  }
  apply(std::move(fx));
  return out;
}

// ---- consumers -------------------------------------------------------------------------------

Status ClassicQueue::add_consumer(ConsumerPtr consumer) {
  Effects fx;
  RETURN_IF_ERROR(register_consumer(std::move(consumer), fx));
  apply(std::move(fx));
  return Status();
}

Status ClassicQueue::register_consumer(ConsumerPtr consumer, Effects& fx) {
  std::lock_guard lock(mu_);
  if (deleted_) {
    return not_found("no queue '" + settings_.name + "' in vhost '" + settings_.vhost + "'");
  }
  // An exclusive consumer excludes others; on a single-active-consumer queue it is refused
  // even alone (RabbitMQ 3.10, observed).
  if (has_exclusive_consumer_ || (consumer->settings().exclusive && !consumers_.empty()) ||
      (consumer->settings().exclusive && arguments_.single_active_consumer)) {
    return access_refused("queue '" + settings_.name + "' in vhost '" + settings_.vhost +
                          "' in exclusive use");
  }
  has_exclusive_consumer_ = consumer->settings().exclusive;
  had_consumers_ = true;
  last_used_ = context_.clock->now_ms();
  if (arguments_.single_active_consumer) {
    // The first consumer is the active one; the others wait in registration order.
    consumers_.push_back(std::move(consumer));
  } else {
    // After every consumer of the same or higher priority: equal priorities keep arrival
    // order.
    const int32_t priority = consumer->settings().priority;
    auto pos = std::find_if(consumers_.begin(), consumers_.end(), [&](const ConsumerPtr& c) {
      return c->settings().priority < priority;
    });
    consumers_.insert(pos, std::move(consumer));
  }
  // RabbitMQ's queue hands a new consumer what it may take before basic.consume returns
  // (the channel's limiter credit is taken then): take it here, so a consumer registered
  // next on the same channel cannot take a global prefetch first. The drain hands these
  // over (after consume-ok: the caller holds the channel's delivery lock).
  assign_ready_locked(fx);
  return Status();
}

void ClassicQueue::assign_ready_locked(Effects& fx) {
  // An expired or paged-out head is left to the drain.
  const TimeMs now = context_.clock->now_ms();
  std::vector<uint64_t> paged;
  while (!ready_empty_locked() && assigned_.size() < kDrainBatch) {
    const QueueEntry& head = head_bucket_locked()->front();
    if ((head.expires_at != 0 && head.expires_at <= now) || head_paged_locked(paged)) break;
    const ConsumerPtr* c = pick_consumer_locked();
    if (c == nullptr) break;
    QueueEntry entry = pop_head_locked();
    take_for_delivery_locked(entry, **c, fx);
    assigned_.push_back(Pick{*c, std::move(entry)});
  }
  if (!ready_empty_locked() || !assigned_.empty()) schedule_drain_locked();
}

bool ClassicQueue::remove_consumer_locked(const Consumer& consumer) {
  auto it = std::find_if(consumers_.begin(), consumers_.end(),
                         [&](const ConsumerPtr& c) { return c.get() == &consumer; });
  if (it == consumers_.end()) return false;
  if ((*it)->settings().exclusive) has_exclusive_consumer_ = false;
  // Classic: the next single active consumer waits until the messages the active one holds
  // are back. A quorum queue activates it at once (rabbit_fifo cancels, then returns).
  if (arguments_.single_active_consumer && it == consumers_.begin() && (*it)->unacked() > 0 &&
      !type_.semantics().requeue_at_back) {
    sac_waiting_for_ = *it;
  }
  consumers_.erase(it);
  if (consumers_.empty() && !deleted_) {
    last_used_ = context_.clock->now_ms();
    if (arguments_.expires) arm_expiry_timer_locked(last_used_ + *arguments_.expires);
    return settings_.auto_delete;
  }
  // Single active consumer: the next one takes over and gets what is waiting.
  if (!ready_empty_locked()) schedule_drain_locked();
  return false;
}

void ClassicQueue::remove_consumer(const Consumer& consumer) {
  bool now_unused = false;
  {
    std::lock_guard lock(mu_);
    now_unused = remove_consumer_locked(consumer);
  }
  // RabbitMQ deletes an auto-delete queue when its last consumer goes (never before it had
  // one).
  if (now_unused && context_.delete_me) context_.delete_me(shared_from_this());
}

void ClassicQueue::detach(std::span<const Consumer* const> consumers,
                          std::vector<QueueEntry> unacked) {
  Effects fx;
  bool now_unused = false;
  {
    std::unique_lock lock(mu_);
    // A batch on its way to these consumers comes back (Channel::deliver finds the channel
    // closed) before this returns. Not when the drain itself closes a channel.
    while (handing_over_ && handover_thread_ != std::this_thread::get_id()) {
      handover_done_.wait(lock);
    }
    unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(unacked.size()));
    // Messages these consumers took at enqueue, not handed over yet: never delivered.
    std::vector<QueueEntry> undelivered;
    uint32_t counted_unacked = 0;
    std::erase_if(assigned_, [&](Pick& p) {
      if (std::find(consumers.begin(), consumers.end(), p.consumer.get()) == consumers.end()) {
        return false;
      }
      p.consumer->release_credit(1);
      if (!p.consumer->no_ack()) ++counted_unacked;
      undelivered.push_back(std::move(p.entry));
      return true;
    });
    if (!undelivered.empty()) return_undelivered_locked(std::move(undelivered), counted_unacked);
    // Classic: the unacked messages are back before the consumers go, so the next single
    // active consumer sees them first. rabbit_fifo cancels the consumers first - the next one
    // takes over and is served from the queue at once - and then returns their messages.
    const bool cancel_first = type_.semantics().requeue_at_back;
    auto remove_consumers = [&] {
      for (const Consumer* c : consumers) now_unused = remove_consumer_locked(*c) || now_unused;
    };
    if (cancel_first) {
      remove_consumers();
      if (!deleted_) assign_ready_locked(fx);
    }
    if (!deleted_ && !unacked.empty()) {
      requeue_locked(std::move(unacked), true, Return::kConsumerGone, fx);
    }
    if (!cancel_first) remove_consumers();
    check_sac_handover_locked();
  }
  apply(std::move(fx));
  if (now_unused && context_.delete_me) context_.delete_me(shared_from_this());
}

const ConsumerPtr* ClassicQueue::pick_consumer_locked() {
  const size_t n = consumers_.size();
  if (arguments_.single_active_consumer) {
    if (sac_waiting_for_) {
      if (sac_waiting_for_->unacked() > 0) return nullptr;
      sac_waiting_for_.reset();
    }
    for (size_t i = 0; i < n; ++i) {
      // The active consumer is the first one still registered. One being cancelled still
      // holds the turn while it has unacked messages, so they are requeued before anyone
      // else is served.
      if (consumers_[i]->cancelled()) {
        if (consumers_[i]->unacked() > 0) return nullptr;
        continue;
      }
      return consumers_[i]->try_take_credit() ? &consumers_[i] : nullptr;
    }
    return nullptr;
  }
  // Consumer priorities: the highest priority group with credit gets the message; within a
  // group consumers take turns (RabbitMQ's rabbit_queue_consumers).
  for (size_t begin = 0; begin < n;) {
    const int32_t priority = consumers_[begin]->settings().priority;
    size_t end = begin;
    while (end < n && consumers_[end]->settings().priority == priority) ++end;
    const size_t size = end - begin;
    for (size_t i = 0; i < size; ++i) {
      const size_t idx = begin + (next_consumer_ + i) % size;
      Consumer& c = *consumers_[idx];
      if (!c.cancelled() && c.try_take_credit()) {
        next_consumer_ = next_consumer_ + i + 1;
        return &consumers_[idx];
      }
    }
    begin = end;
  }
  return nullptr;
}

void ClassicQueue::check_sac_handover_locked() {
  if (sac_waiting_for_ && sac_waiting_for_->unacked() == 0) {
    sac_waiting_for_.reset();
    if (!ready_empty_locked() && !consumers_.empty()) schedule_drain_locked();
  }
}

void ClassicQueue::notify_credit() {
  std::lock_guard lock(mu_);
  if (!ready_empty_locked() && !consumers_.empty()) schedule_drain_locked();
}

// ---- acknowledgements ------------------------------------------------------------------------

void ClassicQueue::settle(std::span<const QueueEntry> entries) {
  Effects fx;
  {
    std::lock_guard lock(mu_);
    unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(entries.size()));
    counters_.ack += entries.size();
    for (const QueueEntry& e : entries) forget_locked(fx, e);
    check_sac_handover_locked();
    // Acks free consumer credit: deliver what is waiting.
    if (!ready_empty_locked() && !consumers_.empty()) schedule_drain_locked();
  }
  apply(std::move(fx));
}

void ClassicQueue::discard(std::vector<QueueEntry> entries) {
  Effects fx;
  {
    std::lock_guard lock(mu_);
    unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(entries.size()));
    check_sac_handover_locked();
    for (auto& e : entries) collect_dead(fx, e, DeathReason::kRejected);
    if (!ready_empty_locked() && !consumers_.empty()) schedule_drain_locked();
  }
  apply(std::move(fx));
}

void ClassicQueue::requeue(std::vector<QueueEntry> entries, bool redelivered,
                           const std::function<void()>& release_credit) {
  Effects fx;
  {
    std::lock_guard lock(mu_);
    unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(entries.size()));
    if (!deleted_) requeue_locked(std::move(entries), redelivered, Return::kRequeue, fx);
    // Only now, with the entries back and the lock held, is their credit free: a drain
    // cannot hand a later message to it first. Before the single-active-consumer check,
    // which reads the consumer's unacked count.
    if (release_credit) release_credit();
    if (deleted_) return;
    check_sac_handover_locked();
  }
  apply(std::move(fx));
}

void ClassicQueue::requeue_locked(std::vector<QueueEntry> entries, bool redelivered, Return how,
                                  Effects& fx) {
  {
    if ((arguments_.delivery_limit || type_.semantics().delivery_count_header) && redelivered) {
      // x-delivery-limit (Burrow's extension on classic queues): past the limit a message is
      // dead-lettered with reason delivery_limit; below it, it carries x-delivery-count, as
      // on quorum queues, where every return carries it.
      std::vector<QueueEntry> keep;
      keep.reserve(entries.size());
      for (auto& e : entries) {
        if (arguments_.delivery_limit &&
            static_cast<int64_t>(e.delivery_count) > *arguments_.delivery_limit) {
          collect_dead(fx, e, DeathReason::kDeliveryLimit);
        } else {
          e.message = with_delivery_count(e.message, e.delivery_count);
          keep.push_back(std::move(e));
        }
      }
      entries = std::move(keep);
    }
    if (type_.semantics().requeue_at_back) {
      for (auto& e : entries) {
        if (how == Return::kRequeue) {
          // Quorum queues: a requeued message goes to the back, as if published again.
          move_to_back_locked(e, fx);
        } else {
          // A gone consumer's messages go ahead of every ready one, in delivery order.
          e.priority = static_cast<uint8_t>(buckets_.size() - 1);
          e.return_order = next_return_order_++;
        }
      }
    }
    reinsert_locked(std::move(entries), redelivered);
    // A requeued message whose TTL passed meanwhile is dropped at once (it is at the head).
    expire_heads_locked(context_.clock->now_ms(), fx);
    // Requeued messages count towards the limits again (rabbit_amqqueue_process
    // requeue_and_run drops heads).
    drop_head_locked(fx);
    note_length_locked();
    arm_ttl_timer_locked();
    if (!consumers_.empty()) schedule_drain_locked();
  }
}

void ClassicQueue::return_undelivered(std::vector<QueueEntry> entries, bool counted_unacked) {
  std::lock_guard lock(mu_);
  const auto n = static_cast<uint32_t>(entries.size());
  return_undelivered_locked(std::move(entries), counted_unacked ? n : 0);
}

void ClassicQueue::return_undelivered_locked(std::vector<QueueEntry> entries,
                                             uint32_t counted_unacked) {
  unacked_ -= std::min<uint32_t>(unacked_, counted_unacked);
  if (deleted_) return;
  // They never reached a client: undo the delivery count the drain added.
  for (auto& e : entries) {
    if (e.delivery_count > 0) e.delivery_count--;
  }
  reinsert_locked(std::move(entries), /*mark_redelivered=*/false);
  arm_ttl_timer_locked();
  if (!consumers_.empty()) schedule_drain_locked();
}

// ---- management ------------------------------------------------------------------------------

uint32_t ClassicQueue::purge() {
  Effects fx;
  uint32_t n = 0;
  {
    std::lock_guard lock(mu_);
    n = static_cast<uint32_t>(ready_count_);
    for (auto& bucket : buckets_) {
      for (const QueueEntry& e : bucket) {
        release_locked(e);
        forget_locked(fx, e);
      }
      bucket.clear();
    }
    for (PackLog& pack : packs_) pack.clear();
    to_page_.clear();
    ready_count_ = 0;
    ready_bytes_ = 0;
  }
  apply(std::move(fx));
  return n;
}

Queue::Deleted ClassicQueue::mark_deleted() {
  std::lock_guard lock(mu_);
  Deleted out;
  if (deleted_) return out;
  deleted_ = true;
  out.message_count = static_cast<uint32_t>(ready_count_);
  out.consumers = std::move(consumers_);
  consumers_.clear();
  for (auto& bucket : buckets_) {
    for (const QueueEntry& e : bucket) release_locked(e);
    bucket.clear();
  }
  for (PackLog& pack : packs_) pack.clear();
  to_page_.clear();
  ready_count_ = 0;
  ready_bytes_ = 0;
  // Messages taken at enqueue but not yet handed over are lost with the queue.
  assigned_.clear();
  if (ttl_timer_) context_.timers->cancel(ttl_timer_);
  if (expiry_timer_) context_.timers->cancel(expiry_timer_);
  ttl_timer_ = expiry_timer_ = 0;
  return out;
}

bool ClassicQueue::deleted() const {
  std::lock_guard lock(mu_);
  return deleted_;
}

QueueCounters ClassicQueue::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

QueueCounts ClassicQueue::counts() const {
  std::lock_guard lock(mu_);
  return QueueCounts{static_cast<uint32_t>(ready_count_), unacked_,
                     static_cast<uint32_t>(consumers_.size())};
}

// ---- delivery --------------------------------------------------------------------------------

void ClassicQueue::end_handover_locked() {
  handing_over_ = false;
  handover_done_.notify_all();
}

void ClassicQueue::schedule_drain_locked() {
  if (drain_scheduled_) return;
  drain_scheduled_ = true;
  context_.executor->post(
      [self = shared_from_this()] { static_cast<ClassicQueue&>(*self).drain(); });
}

void ClassicQueue::drain() {
  std::vector<Pick> batch;
  std::vector<QueueEntry> run;
  Effects fx;
  std::vector<uint64_t> to_load;
  for (int pass = 0; pass < kDrainPasses; ++pass) {
    batch.clear();
    to_load.clear();
    {
      std::unique_lock lock(mu_);
      if (!deleted_) {
        batch.swap(assigned_);
        page_out_locked();
        expire_heads_locked(context_.clock->now_ms(), fx);
        while (!ready_empty_locked() && batch.size() < kDrainBatch) {
          // A paged-out head is read back after this batch is handed over.
          if (head_paged_locked(to_load)) break;
          const ConsumerPtr* c = pick_consumer_locked();
          if (c == nullptr) break;
          QueueEntry entry = pop_head_locked();
          take_for_delivery_locked(entry, **c, fx);
          batch.push_back(Pick{*c, std::move(entry)});
        }
        arm_ttl_timer_locked();
      }
      if (batch.empty() && to_load.empty()) {
        drain_scheduled_ = false;
      } else if (!batch.empty()) {
        handing_over_ = true;
        handover_thread_ = std::this_thread::get_id();
      }
    }
    apply(std::move(fx));
    fx = Effects{};
    if (batch.empty() && to_load.empty()) return;
    // Hand each consumer its consecutive run of entries in one call (one channel lock).
    for (size_t i = 0; i < batch.size();) {
      size_t j = i;
      run.clear();
      while (j < batch.size() && batch[j].consumer == batch[i].consumer) {
        run.push_back(std::move(batch[j].entry));
        ++j;
      }
      batch[i].consumer->channel().deliver(batch[i].consumer, std::move(run));
      run = {};
      i = j;
    }
    if (!batch.empty()) {
      std::lock_guard lock(mu_);
      end_handover_locked();
    }
    if (!to_load.empty()) {
      std::unique_lock lock(mu_);
      if (!deleted_ && !load_paged(lock, to_load).ok()) {
        // Logged; the next publish, ack or consumer tries again (no busy loop on a failing
        // disk).
        drain_scheduled_ = false;
        return;
      }
    }
  }
  // Still busy after kDrainPasses: let other queues run, then continue.
  context_.executor->post(
      [self = shared_from_this()] { static_cast<ClassicQueue&>(*self).drain(); });
}

}  // namespace burrow::broker
