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
  consumers_.push_back(std::move(consumer));
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
  if (deleted_) return;
  // Highest sequence first, so entries older than every ready one are a push_front each.
  std::sort(entries.begin(), entries.end(),
            [](const QueueEntry& a, const QueueEntry& b) { return a.seq > b.seq; });
  for (auto& e : entries) {
    if (redelivered) e.redelivered = true;
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
  size_t n = consumers_.size();
  for (size_t i = 0; i < n; ++i) {
    size_t idx = (next_consumer_ + i) % n;
    if (consumers_[idx]->try_take_credit()) {
      next_consumer_ = (idx + 1) % n;
      return &consumers_[idx];
    }
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
