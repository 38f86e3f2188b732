// ClassicQueue: ready list, consumers, drains.
#include "broker/classic_queue.h"

#include <algorithm>

#include "broker/channel.h"
#include "broker/executor.h"

namespace burrow::broker {

ClassicQueue::ClassicQueue(QueueSettings settings, Executor& executor, AutoDeleteHook on_unused)
    : Queue(std::move(settings)), executor_(executor), on_unused_(std::move(on_unused)) {}

EnqueueOutcome ClassicQueue::enqueue(StoredMessagePtr message) {
  std::lock_guard lock(mu_);
  if (deleted_) return EnqueueOutcome::kDeleted;
  ready_bytes_ += message->body_size();
  ready_.push_back(QueueEntry{next_seq_++, std::move(message), false, 0});
  if (!consumers_.empty()) schedule_drain_locked();
  return EnqueueOutcome::kAccepted;
}

Result<std::optional<QueueEntry>> ClassicQueue::get(bool no_ack, uint32_t& remaining) {
  std::lock_guard lock(mu_);
  if (deleted_) {
    return not_found("no queue '" + settings_.name + "' in vhost '" + settings_.vhost + "'");
  }
  if (ready_.empty()) {
    remaining = 0;
    return std::optional<QueueEntry>();
  }
  QueueEntry entry = std::move(ready_.front());
  ready_.pop_front();
  ready_bytes_ -= entry.message->body_size();
  entry.delivery_count++;
  if (!no_ack) unacked_++;
  remaining = static_cast<uint32_t>(ready_.size());
  return std::optional<QueueEntry>(std::move(entry));
}

Status ClassicQueue::add_consumer(ConsumerPtr consumer) {
  std::lock_guard lock(mu_);
  if (deleted_) {
    return not_found("no queue '" + settings_.name + "' in vhost '" + settings_.vhost + "'");
  }
  if (has_exclusive_consumer_ || (consumer->settings().exclusive && !consumers_.empty())) {
    return access_refused("queue '" + settings_.name + "' in vhost '" + settings_.vhost +
                          "' in exclusive use");
  }
  has_exclusive_consumer_ = consumer->settings().exclusive;
  had_consumers_ = true;
  // After every consumer of the same or higher priority: equal priorities keep arrival order.
  const int32_t priority = consumer->settings().priority;
  auto pos = std::find_if(consumers_.begin(), consumers_.end(),
                          [&](const ConsumerPtr& c) { return c->settings().priority < priority; });
  consumers_.insert(pos, std::move(consumer));
  if (!ready_.empty()) schedule_drain_locked();
  return Status();
}

void ClassicQueue::remove_consumer(const Consumer& consumer) {
  bool now_unused = false;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(consumers_.begin(), consumers_.end(),
                           [&](const ConsumerPtr& c) { return c.get() == &consumer; });
    if (it == consumers_.end()) return;
    if ((*it)->settings().exclusive) has_exclusive_consumer_ = false;
    consumers_.erase(it);
    if (next_consumer_ >= consumers_.size()) next_consumer_ = 0;
    now_unused = consumers_.empty() && settings_.auto_delete && !deleted_;
  }
  // RabbitMQ deletes an auto-delete queue when its last consumer goes (never before it had
  // one).
  if (now_unused && on_unused_) on_unused_(shared_from_this());
}

void ClassicQueue::settle(std::span<const QueueEntry> entries) {
  std::lock_guard lock(mu_);
  unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(entries.size()));
  // Acks free consumer credit: deliver what is waiting.
  if (!ready_.empty() && !consumers_.empty()) schedule_drain_locked();
}

void ClassicQueue::requeue(std::vector<QueueEntry> entries, bool redelivered) {
  std::lock_guard lock(mu_);
  unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(entries.size()));
  reinsert_locked(std::move(entries), redelivered);
}

void ClassicQueue::return_undelivered(std::vector<QueueEntry> entries, bool counted_unacked) {
  std::lock_guard lock(mu_);
  if (counted_unacked) {
    unacked_ -= std::min<uint32_t>(unacked_, static_cast<uint32_t>(entries.size()));
  }
  // They never reached a client: undo the delivery count the drain added.
  for (auto& e : entries) {
    if (e.delivery_count > 0) e.delivery_count--;
  }
  reinsert_locked(std::move(entries), /*mark_redelivered=*/false);
}

void ClassicQueue::reinsert_locked(std::vector<QueueEntry> entries, bool mark_redelivered) {
  if (deleted_) return;
  // Highest sequence first, so entries older than every ready one are a push_front each.
  std::sort(entries.begin(), entries.end(),
            [](const QueueEntry& a, const QueueEntry& b) { return a.seq > b.seq; });
  for (auto& e : entries) {
    if (mark_redelivered) e.redelivered = true;
    ready_bytes_ += e.message->body_size();
    insert_ready_locked(std::move(e));
  }
  if (!consumers_.empty()) schedule_drain_locked();
}

void ClassicQueue::insert_ready_locked(QueueEntry entry) {
  if (ready_.empty() || entry.seq < ready_.front().seq) {
    ready_.push_front(std::move(entry));
    return;
  }
  auto pos = std::lower_bound(ready_.begin(), ready_.end(), entry.seq,
                              [](const QueueEntry& e, uint64_t seq) { return e.seq < seq; });
  ready_.insert(pos, std::move(entry));
}

void ClassicQueue::notify_credit() {
  std::lock_guard lock(mu_);
  if (!ready_.empty() && !consumers_.empty()) schedule_drain_locked();
}

uint32_t ClassicQueue::purge() {
  std::lock_guard lock(mu_);
  auto n = static_cast<uint32_t>(ready_.size());
  ready_.clear();
  ready_bytes_ = 0;
  return n;
}

Queue::Deleted ClassicQueue::mark_deleted() {
  std::lock_guard lock(mu_);
  Deleted out;
  if (deleted_) return out;
  deleted_ = true;
  out.message_count = static_cast<uint32_t>(ready_.size());
  out.consumers = std::move(consumers_);
  consumers_.clear();
  ready_.clear();
  ready_bytes_ = 0;
  return out;
}

bool ClassicQueue::deleted() const {
  std::lock_guard lock(mu_);
  return deleted_;
}

QueueCounts ClassicQueue::counts() const {
  std::lock_guard lock(mu_);
  return QueueCounts{static_cast<uint32_t>(ready_.size()), unacked_,
                     static_cast<uint32_t>(consumers_.size())};
}

void ClassicQueue::schedule_drain_locked() {
  if (drain_scheduled_) return;
  drain_scheduled_ = true;
  executor_.post([self = shared_from_this()] { static_cast<ClassicQueue&>(*self).drain(); });
}

const ConsumerPtr* ClassicQueue::pick_consumer_locked() {
  // Consumer priorities: the highest priority group with credit gets the message; within a
  // group consumers take turns (RabbitMQ's rabbit_queue_consumers).
  const size_t n = consumers_.size();
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

void ClassicQueue::drain() {
  struct Pick {
    ConsumerPtr consumer;
    QueueEntry entry;
  };
  std::vector<Pick> batch;
  std::vector<QueueEntry> run;
  for (int pass = 0; pass < kDrainPasses; ++pass) {
    batch.clear();
    {
      std::lock_guard lock(mu_);
      while (!deleted_ && !ready_.empty() && batch.size() < kDrainBatch) {
        const ConsumerPtr* c = pick_consumer_locked();
        if (c == nullptr) break;
        QueueEntry entry = std::move(ready_.front());
        ready_.pop_front();
        ready_bytes_ -= entry.message->body_size();
        entry.delivery_count++;
        if (!(*c)->no_ack()) unacked_++;
        batch.push_back(Pick{*c, std::move(entry)});
      }
      if (batch.empty()) {
        drain_scheduled_ = false;
        return;
      }
    }
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
  }
  // Still busy after kDrainPasses: let other queues run, then continue.
  executor_.post([self = shared_from_this()] { static_cast<ClassicQueue&>(*self).drain(); });
}

}  // namespace burrow::broker
