// The outbox relay: row bookkeeping, the local relay, the hooks of external relays, parked
// rows (see outbox.h).
#include "broker/outbox.h"
#include "base/logging.h"

#include <algorithm>
#include <optional>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/hash.h"
#include "base/status_macros.h"
#include "broker/broker_core.h"
#include "broker/channel.h"
#include "broker/persistence.h"
#include "storage/keys.h"
#include "storage/kill_point.h"
#include "storage/record_codec.h"
#include "storage/records.pb.h"
#include "storage/txn_sequencer.h"

namespace burrow::broker {

namespace {
spdlog::logger& logger() { return module_logger("outbox"); }
}  // namespace

namespace st = burrow::storage;

// Remembers whether the relay's last publish came back unroutable (on_return is called from
// within publish(), on the relay's own thread).
class RelaySink final : public ChannelSink {
 public:
  void on_deliver(const std::string&, uint64_t, const QueueEntry&) override {}
  void on_return(uint16_t code, std::string_view text, const StoredMessage&) override {
    returned = fmt::format("{} {}", code, text);
  }
  void on_confirm(uint64_t, bool, bool) override {}
  void on_cancel(const std::string&) override {}
  void on_error(const Status&) override {}
  std::string returned;
};

namespace {

// Rows relayed per local batch (one store write).
constexpr size_t kLocalBatch = 512;
// Save the outbox head after this many rows left the outbox.
constexpr size_t kHeadEvery = 1024;

uint64_t steady_us() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string random_message_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

std::string u64_value(uint64_t v) {
  std::string out;
  st::put_u64_be(out, v);
  return out;
}

ParkedRow parked_summary(uint64_t id, const st::OutboxRow& row) {
  ParkedRow p;
  p.id = id;
  p.destination = row.destination();
  p.exchange = row.exchange();
  p.routing_key = row.routing_key();
  p.message_id = row.properties().message_id();
  p.attempts = row.attempts();
  p.last_error = row.last_error();
  p.created_at_ms = row.created_at_ms();
  return p;
}

}  // namespace

std::chrono::milliseconds RetryPolicy::backoff(uint32_t attempts) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const int shift = static_cast<int>(std::min<uint32_t>(attempts == 0 ? 0 : attempts - 1, 30));
  const int64_t capped = std::min<int64_t>(backoff_cap.count(), backoff_base.count() << shift);
  const double jitter = 0.5 + 0.5 * std::uniform_real_distribution<double>(0, 1)(rng);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(capped) * jitter));
}

Outbox::Outbox(BrokerCore& core, uint32_t buckets)
    : core_(core), store_(core.store()), bucket_count_(buckets == 0 ? kDefaultBuckets : buckets) {}

Outbox::~Outbox() { close(); }

std::shared_ptr<const st::OutboxRow> Outbox::make_row(OutboxMessage& message,
                                                      uint64_t created_at_ms,
                                                      std::string& message_id, std::string& value) {
  BasicProperties& p = message.properties;
  if (!p.message_id) p.message_id = random_message_id();
  // Outbox messages are durable by default: the row was, so the message should be.
  if (!p.delivery_mode) p.delivery_mode = 2;
  message_id = *p.message_id;
  auto row = std::make_shared<st::OutboxRow>();
  row->set_destination(message.destination);
  row->set_exchange(message.exchange);
  row->set_routing_key(message.routing_key);
  st::encode_properties(p, *row->mutable_properties());
  row->set_body(std::move(message.body));
  row->set_created_at_ms(created_at_ms);
  row->set_mandatory(message.mandatory);
  row->set_partition_key(message.partition_key);
  value = st::serialize_record(*row);
  return row;
}

uint32_t Outbox::bucket_of(const st::OutboxRow& row, uint64_t id) const {
  const uint64_t h = row.partition_key().empty() ? id : fnv1a64(row.partition_key());
  return static_cast<uint32_t>(h % bucket_count_);
}

Outbox::Destination& Outbox::destination_locked(const std::string& name) {
  auto it = destinations_.find(name);
  if (it == destinations_.end()) {
    it = destinations_.emplace(name, Destination{}).first;
    it->second.buckets.resize(bucket_count_);
    it->second.attached = name.empty();
  }
  return it->second;
}

void Outbox::add_locked(uint64_t id, std::shared_ptr<const st::OutboxRow> record, uint32_t attempts,
                        int64_t ready_at, uint64_t committed_us) {
  Destination& d = destination_locked(record->destination());
  const uint32_t b = bucket_of(*record, id);
  d.bucket_of_row[id] = b;
  auto& bucket = d.buckets[b];
  Row row{id, std::move(record), attempts, ready_at, committed_us, false};
  if (bucket.empty() || bucket.back().id < id) {
    bucket.push_back(std::move(row));
  } else {  // a retried parked row goes back to its place
    auto pos = std::lower_bound(bucket.begin(), bucket.end(), id,
                                [](const Row& r, uint64_t v) { return r.id < v; });
    bucket.insert(pos, std::move(row));
  }
  d.pending++;
  stats_.pending++;
  next_id_seen_ = std::max(next_id_seen_, id + 1);
}

Status Outbox::open() {
  std::string head_value;
  uint64_t head = 1;
  Status s = store_.get(st::Column::kMetadata, st::outbox_head_key(), head_value);
  if (s.ok() && head_value.size() == 8) {
    head = st::get_u64_be(head_value.data());
  } else if (!s.ok() && s.code() != StatusCode::kNotFound) {
    return s;
  }
  ASSIGN_OR_RETURN(const uint64_t next_id, st::load_next_row_id(store_));

  std::lock_guard lock(mu_);
  next_id_seen_ = next_id;
  saved_head_ = head;
  Status failed;
  const std::string start = st::outbox_key(head);
  RETURN_IF_ERROR(
      store_.scan(st::Column::kOutbox, st::ScanOptions{{}, start, st::kParkedOutboxPrefix, 0},
                  [&](std::string_view key, std::string_view value) {
                    auto id = st::decode_outbox_key(key);
                    auto row = std::make_shared<st::OutboxRow>();
                    if (!id || !row->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                      failed = Status(StatusCode::kCorruption, "unreadable outbox row");
                      return false;
                    }
                    const uint32_t attempts = row->attempts();
                    const auto ready_at = static_cast<int64_t>(row->next_attempt_at_ms());
                    add_locked(*id, std::move(row), attempts, ready_at, 0);
                    return true;
                  }));
  RETURN_IF_ERROR(failed);
  RETURN_IF_ERROR(
      store_.scan(st::Column::kOutbox, st::kParkedOutboxPrefix, {},
                  [&](std::string_view key, std::string_view value) {
                    auto id = st::decode_parked_outbox_key(key);
                    st::OutboxRow row;
                    if (!id || !row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                      failed = Status(StatusCode::kCorruption, "unreadable parked outbox row");
                      return false;
                    }
                    parked_.emplace(*id, parked_summary(*id, row));
                    return true;
                  }));
  RETURN_IF_ERROR(failed);
  stats_.parked = parked_.size();
  if (stats_.pending > 0 || !parked_.empty()) {
    logger().info("outbox: {} rows to relay, {} parked", stats_.pending, parked_.size());
  }

  // The local relay publishes on the default vhost as the broker itself (trusted).
  ASSIGN_OR_RETURN(connection_, core_.connect(ConnectInfo{core_.options().default_user,
                                                          core_.options().default_vhost, true}));
  sink_ = std::make_unique<RelaySink>();
  channel_ = std::make_shared<Channel>(connection_, 1, sink_.get());
  schedule_local_locked();
  return Status();
}

void Outbox::close() {
  std::unique_lock lock(mu_);
  closed_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return !local_scheduled_ && inflight_ == 0; });
}

Status Outbox::begin_commit() {
  std::lock_guard lock(mu_);
  if (closed_) return Status(StatusCode::kClosed, "the broker is closing");
  inflight_++;
  return Status();
}

void Outbox::end_commit(const Status& status, uint64_t first_id,
                        std::vector<std::shared_ptr<const st::OutboxRow>> rows) {
  const uint64_t now = steady_us();
  std::lock_guard lock(mu_);
  inflight_--;
  cv_.notify_all();
  if (!status.ok()) return;
  bool local = false;
  for (size_t i = 0; i < rows.size(); ++i) {
    local = local || rows[i]->destination().empty();
    add_locked(first_id + i, std::move(rows[i]), 0, 0, now);
  }
  stats_.committed += rows.size();
  if (local) schedule_local_locked();
  cv_.notify_all();
}

std::vector<Outbox::Claimed> Outbox::claim_locked(Destination& d, size_t max, int64_t now) {
  std::vector<Claimed> out;
  const size_t n = d.buckets.size();
  for (size_t i = 0; i < n && out.size() < max; ++i) {
    auto& bucket = d.buckets[(d.cursor + i) % n];
    for (Row& row : bucket) {
      if (out.size() >= max) break;
      if (row.claimed) continue;
      if (row.ready_at > now) break;  // backing off: holds back the rest of its bucket
      row.claimed = true;
      out.push_back(Claimed{row.id, row.record, row.attempts});
    }
  }
  d.cursor = (d.cursor + 1) % n;
  return out;
}

Outbox::Row* Outbox::find_locked(Destination& d, uint64_t id, size_t* bucket_index,
                                 size_t* position) {
  auto it = d.bucket_of_row.find(id);
  if (it == d.bucket_of_row.end()) return nullptr;
  auto& bucket = d.buckets[it->second];
  auto pos = std::lower_bound(bucket.begin(), bucket.end(), id,
                              [](const Row& r, uint64_t v) { return r.id < v; });
  if (pos == bucket.end() || pos->id != id) return nullptr;
  if (bucket_index) *bucket_index = it->second;
  if (position) *position = static_cast<size_t>(pos - bucket.begin());
  return &*pos;
}

void Outbox::remove_locked(Destination& d, uint64_t id, bool relayed) {
  size_t b = 0;
  size_t p = 0;
  if (find_locked(d, id, &b, &p) == nullptr) return;
  auto& bucket = d.buckets[b];
  auto pos = bucket.begin() + static_cast<std::ptrdiff_t>(p);
  if (relayed) {
    stats_.sent++;
    if (pos->committed_us != 0) {
      const uint64_t us = steady_us() - pos->committed_us;
      stats_.latency_count++;
      stats_.latency_us_sum += us;
      stats_.latency_us_max = std::max(stats_.latency_us_max, us);
    }
  }
  bucket.erase(pos);
  d.bucket_of_row.erase(id);
  d.pending--;
  stats_.pending--;
  removed_since_head_++;
  cv_.notify_all();
}

void Outbox::park_into(st::WriteBatch& batch, uint64_t id, const st::OutboxRow& record,
                       uint32_t attempts, const std::string& error) {
  st::OutboxRow parked = record;
  parked.set_parked(true);
  parked.set_attempts(attempts);
  parked.set_last_error(error);
  batch.del(st::Column::kOutbox, st::outbox_key(id));
  batch.put(st::Column::kOutbox, st::parked_outbox_key(id), st::serialize_record(parked));
}

void Outbox::note_parked_locked(uint64_t id, const st::OutboxRow& record, uint32_t attempts,
                                const std::string& error) {
  ParkedRow p = parked_summary(id, record);
  p.attempts = attempts;
  p.last_error = error;
  parked_[id] = std::move(p);
  stats_.parked = parked_.size();
  stats_.parked_total++;
  logger().warn("outbox: row {} parked ({} to exchange '{}'): {}", id,
                record.destination().empty() ? "local" : "upstream " + record.destination(),
                record.exchange(), error);
}

void Outbox::maybe_save_head_locked(st::WriteBatch& batch) {
  if (removed_since_head_ < kHeadEvery) return;
  removed_since_head_ = 0;
  // The lowest row that may still be at its live key once this batch is durable: rows in the
  // buckets, and rows whose move (park, delete, retry) is submitted but not yet durable.
  uint64_t head = next_id_seen_;
  for (const auto& [name, d] : destinations_) {
    for (const auto& bucket : d.buckets) {
      if (!bucket.empty()) head = std::min(head, bucket.front().id);
    }
  }
  if (!moving_.empty()) head = std::min(head, *moving_.begin());
  saved_head_ = head;
  batch.put(st::Column::kMetadata, st::outbox_head_key(), u64_value(head));
}

Outbox::Move Outbox::begin_move_locked(st::WriteBatch batch, std::vector<uint64_t> ids,
                                       const char* what) {
  for (uint64_t id : ids) moving_.insert(id);
  inflight_++;
  return Move{std::move(batch), std::move(ids), what};
}

void Outbox::submit_move(Move move) {
  // Without mu_: the memory store runs the callback inline. The callback forgets the ids once
  // their new place is durable.
  store_.write(std::move(move.batch),
               [this, ids = std::move(move.ids), what = move.what](Status s) {
                 if (!s.ok()) logger().error("outbox: {} failed: {}", what, s.to_string());
                 std::lock_guard lock(mu_);
                 for (uint64_t id : ids) moving_.erase(moving_.find(id));
                 inflight_--;
                 cv_.notify_all();
               });
}

// ---- the local relay ----------------------------------------------------------------------

void Outbox::schedule_local_locked() {
  if (local_scheduled_ || closed_ || channel_ == nullptr) return;
  local_scheduled_ = true;
  core_.executor().post([this] { run_local(); });
}

void Outbox::run_local() {
  for (;;) {
    std::vector<Claimed> rows;
    {
      std::lock_guard lock(mu_);
      Destination& d = destination_locked("");
      if (!closed_) rows = claim_locked(d, kLocalBatch, core_.clock().now_ms());
      if (rows.empty()) {
        local_scheduled_ = false;
        cv_.notify_all();
        return;
      }
    }
    relay_local(rows);
  }
}

void Outbox::relay_local(const std::vector<Claimed>& rows) {
  // Everything the queues write for these publishes joins `collect`; the reservation keeps
  // the queues' later writes (deliveries, acks) behind this batch in the store's order.
  WriteCollector collect;
  const uint64_t slot = store_.reserve();
  channel_->set_write_collector(&collect);
  std::vector<uint64_t> relayed;
  std::vector<uint64_t> refused;
  std::vector<std::pair<size_t, std::string>> parked;  // index in rows, error
  for (size_t i = 0; i < rows.size(); ++i) {
    const st::OutboxRow& row = *rows[i].record;
    auto message = std::make_shared<StoredMessage>();
    message->message.exchange = row.exchange();
    message->message.routing_key = row.routing_key();
    Status s = st::decode_properties(row.properties(), message->message.properties);
    message->message.body = row.body();
    message->published_at = core_.clock().now_ms();
    sink_->returned.clear();
    if (s.ok()) {
      s = channel_->publish(row.exchange(), row.routing_key(), row.mandatory(), false,
                            std::move(message));
    }
    const Channel::PublishOutcome& outcome = channel_->last_publish();
    if (!s.ok()) {
      parked.emplace_back(i, s.to_string());
    } else if (outcome.delivered || outcome.delayed) {
      // Enqueued (or held by a delayed-message exchange, whose mandatory publish comes back
      // NO_ROUTE as with the plugin, but is delivered later): relayed.
      relayed.push_back(rows[i].id);
      collect.batch.del(st::Column::kOutbox, st::outbox_key(rows[i].id));
    } else if (outcome.rejected) {
      // Every queue refused it (x-overflow reject-publish): tried again after a back-off.
      refused.push_back(rows[i].id);
    } else if (!sink_->returned.empty()) {
      parked.emplace_back(i, sink_->returned);
    } else {
      relayed.push_back(rows[i].id);  // not mandatory: dropped, as a publish would be
      collect.batch.del(st::Column::kOutbox, st::outbox_key(rows[i].id));
    }
  }
  channel_->set_write_collector(nullptr);
  for (const auto& [i, error] : parked) {
    park_into(collect.batch, rows[i].id, *rows[i].record, rows[i].attempts, error);
  }
  {
    std::lock_guard lock(mu_);
    maybe_save_head_locked(collect.batch);
  }
  {
    std::lock_guard lock(mu_);
    inflight_++;
  }
  BURROW_KILL_POINT("relay.before_local_write");
  store_.fill(slot, std::move(collect.batch),
              [this, on_written = std::move(collect.on_written), rows, relayed = std::move(relayed),
               refused = std::move(refused), parked = std::move(parked)](Status s) {
                for (const auto& done : on_written) done(s);
                BURROW_KILL_POINT("relay.after_local_write");
                std::unique_lock lock(mu_);
                inflight_--;
                cv_.notify_all();
                if (!s.ok()) {
                  // The store refuses writes from now on; the rows stay (claimed) in the
                  // outbox and are relayed after a restart.
                  logger().error("outbox: relaying {} rows failed: {}", rows.size(), s.to_string());
                  return;
                }
                Destination& d = destination_locked("");
                for (uint64_t id : relayed) remove_locked(d, id, true);
                for (const auto& [i, error] : parked) {
                  remove_locked(d, rows[i].id, false);
                  note_parked_locked(rows[i].id, *rows[i].record, rows[i].attempts, error);
                }
                if (refused.empty()) return;
                auto move = failed_locked(d, "", refused,
                                          "every queue refused it (x-overflow reject-publish)");
                lock.unlock();
                if (move) submit_move(std::move(*move));
              });
}

// ---- external relays ----------------------------------------------------------------------

void Outbox::attach(const std::string& destination, RetryPolicy policy) {
  std::lock_guard lock(mu_);
  Destination& d = destination_locked(destination);
  d.attached = true;
  d.policy = policy;
}

void Outbox::detach(const std::string& destination) {
  std::lock_guard lock(mu_);
  Destination& d = destination_locked(destination);
  d.attached = false;
  for (auto& bucket : d.buckets) {
    for (Row& row : bucket) row.claimed = false;
  }
  cv_.notify_all();
}

std::vector<RelayRow> Outbox::claim(const std::string& destination, size_t max,
                                    std::chrono::milliseconds wait) {
  std::vector<Claimed> claimed;
  {
    std::unique_lock lock(mu_);
    auto try_claim = [&] {
      if (closed_) return woken_;  // waits out `wait`: a stopped broker has nothing to relay
      Destination& d = destination_locked(destination);
      if (!d.attached) return woken_;
      claimed = claim_locked(d, max, core_.clock().now_ms());
      return !claimed.empty() || woken_;
    };
    cv_.wait_for(lock, wait, try_claim);
    woken_ = false;
  }
  std::vector<RelayRow> out;
  out.reserve(claimed.size());
  for (const Claimed& c : claimed) {
    const st::OutboxRow& row = *c.record;
    RelayRow r;
    r.id = c.id;
    r.exchange = row.exchange();
    r.routing_key = row.routing_key();
    if (Status s = st::decode_properties(row.properties(), r.properties); !s.ok()) {
      logger().error("outbox: row {} has unreadable properties: {}", c.id, s.to_string());
    }
    FieldTable& headers =
        r.properties.headers ? *r.properties.headers : r.properties.headers.emplace();
    headers.set("x-outbox-seq", FieldValue(static_cast<int64_t>(c.id)));
    headers.set("x-outbox-created-at", FieldValue(static_cast<int64_t>(row.created_at_ms())));
    r.body = row.body();
    r.mandatory = row.mandatory();
    r.attempts = c.attempts;
    out.push_back(std::move(r));
  }
  return out;
}

void Outbox::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void Outbox::sent(const std::string& destination, const std::vector<uint64_t>& ids) {
  st::WriteBatch batch;
  Move move;
  {
    std::lock_guard lock(mu_);
    Destination& d = destination_locked(destination);
    for (uint64_t id : ids) {
      remove_locked(d, id, true);
      batch.del(st::Column::kOutbox, st::outbox_key(id));
    }
    maybe_save_head_locked(batch);
    move = begin_move_locked(std::move(batch), ids, "deleting relayed rows");
  }
  submit_move(std::move(move));
}

void Outbox::failed(const std::string& destination, const std::vector<uint64_t>& ids,
                    const std::string& error) {
  std::optional<Move> move;
  {
    std::lock_guard lock(mu_);
    move = failed_locked(destination_locked(destination), destination, ids, error);
  }
  if (move) submit_move(std::move(*move));
}

std::optional<Outbox::Move> Outbox::failed_locked(Destination& d, const std::string& destination,
                                                  const std::vector<uint64_t>& ids,
                                                  const std::string& error) {
  st::WriteBatch batch;
  std::vector<uint64_t> moved;
  const int64_t now = core_.clock().now_ms();
  int64_t earliest = INT64_MAX;
  for (uint64_t id : ids) {
    Row* row = find_locked(d, id, nullptr, nullptr);
    if (row == nullptr) continue;
    const uint32_t attempts = row->attempts + 1;
    if (attempts >= d.policy.max_attempts) {
      auto record = row->record;
      park_into(batch, id, *record, attempts, error);
      moved.push_back(id);
      remove_locked(d, id, false);
      note_parked_locked(id, *record, attempts, error);
      continue;
    }
    stats_.retried++;
    row->attempts = attempts;
    row->ready_at = now + d.policy.backoff(attempts).count();
    row->claimed = false;
    earliest = std::min(earliest, row->ready_at);
    auto updated = std::make_shared<st::OutboxRow>(*row->record);
    updated->set_attempts(attempts);
    updated->set_next_attempt_at_ms(static_cast<uint64_t>(row->ready_at));
    updated->set_last_error(error);
    batch.put(st::Column::kOutbox, st::outbox_key(id), st::serialize_record(*updated));
    row->record = std::move(updated);
  }
  // External relays look again by themselves; the local relay is woken when the row is due.
  if (destination.empty() && earliest != INT64_MAX && !closed_) {
    core_.timers().schedule(earliest, [this] {
      std::lock_guard lock(mu_);
      schedule_local_locked();
    });
  }
  cv_.notify_all();
  if (batch.empty()) return std::nullopt;
  return begin_move_locked(std::move(batch), std::move(moved), "recording a failed attempt");
}

void Outbox::park(const std::string& destination, uint64_t id, const std::string& error) {
  st::WriteBatch batch;
  Move move;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    Destination& d = destination_locked(destination);
    Row* row = find_locked(d, id, nullptr, nullptr);
    if (row == nullptr) return;
    auto record = row->record;
    const uint32_t attempts = row->attempts;
    park_into(batch, id, *record, attempts, error);
    remove_locked(d, id, false);
    note_parked_locked(id, *record, attempts, error);
    move = begin_move_locked(std::move(batch), {id}, "parking a row");
  }
  submit_move(std::move(move));
}

void Outbox::release(const std::string& destination, const std::vector<uint64_t>& ids) {
  std::lock_guard lock(mu_);
  Destination& d = destination_locked(destination);
  for (uint64_t id : ids) {
    if (Row* row = find_locked(d, id, nullptr, nullptr)) row->claimed = false;
  }
  cv_.notify_all();
}

// ---- operators ----------------------------------------------------------------------------

std::vector<ParkedRow> Outbox::parked() const {
  std::lock_guard lock(mu_);
  std::vector<ParkedRow> out;
  out.reserve(parked_.size());
  for (const auto& [id, row] : parked_) out.push_back(row);
  return out;
}

Status Outbox::retry_parked(uint64_t id) {
  // While its write is pending the row counts in the saved head (moving_), so no head is saved
  // above it.
  ASSIGN_OR_RETURN(ParkedRow claimed, take_parked(id, /*moving=*/true));
  auto restore = [&](Status s) { return put_back_parked(id, std::move(claimed), true, s); };
  std::string value;
  Status s = store_.get(st::Column::kOutbox, st::parked_outbox_key(id), value);
  if (!s.ok()) return restore(s);
  auto row = std::make_shared<st::OutboxRow>();
  if (!row->ParseFromString(value)) {
    return restore(Status(StatusCode::kCorruption, "unreadable parked outbox row"));
  }
  row->set_parked(false);
  row->set_attempts(0);
  row->set_next_attempt_at_ms(0);
  row->clear_last_error();
  st::WriteBatch batch;
  batch.del(st::Column::kOutbox, st::parked_outbox_key(id));
  batch.put(st::Column::kOutbox, st::outbox_key(id), st::serialize_record(*row));
  {
    // A row below the saved head would not be loaded by the next open: lower the head.
    std::lock_guard lock(mu_);
    if (id < saved_head_) {
      saved_head_ = id;
      batch.put(st::Column::kMetadata, st::outbox_head_key(), u64_value(id));
    }
  }
  if (Status w = store_.write_sync(std::move(batch)); !w.ok()) return restore(w);
  std::lock_guard lock(mu_);
  moving_.erase(moving_.find(id));
  const bool local = row->destination().empty();
  add_locked(id, std::move(row), 0, 0, steady_us());
  if (local) schedule_local_locked();
  cv_.notify_all();
  return Status();
}

Status Outbox::discard_parked(uint64_t id) {
  ASSIGN_OR_RETURN(ParkedRow claimed, take_parked(id, /*moving=*/false));
  st::WriteBatch batch;
  batch.del(st::Column::kOutbox, st::parked_outbox_key(id));
  Status s = store_.write_sync(std::move(batch));
  if (!s.ok()) return put_back_parked(id, std::move(claimed), false, s);
  return Status();
}

Result<ParkedRow> Outbox::take_parked(uint64_t id, bool moving) {
  std::lock_guard lock(mu_);
  auto it = parked_.find(id);
  if (it == parked_.end()) return not_found("no parked outbox row " + std::to_string(id));
  ParkedRow row = std::move(it->second);
  parked_.erase(it);
  stats_.parked = parked_.size();
  if (moving) moving_.insert(id);
  return row;
}

Status Outbox::put_back_parked(uint64_t id, ParkedRow row, bool moving, Status why) {
  std::lock_guard lock(mu_);
  parked_.emplace(id, std::move(row));
  stats_.parked = parked_.size();
  if (moving) moving_.erase(moving_.find(id));
  return why;
}

OutboxStats Outbox::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status Outbox::wait_until_drained(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return stats_.pending == 0; })) {
    return Status(StatusCode::kTimedOut,
                  fmt::format("outbox not drained after {} ms: {} rows pending", timeout.count(),
                              stats_.pending));
  }
  return Status();
}

}  // namespace burrow::broker
