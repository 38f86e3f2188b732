// burrow::Transaction and the outbox/inbox methods of burrow::Broker: the public face of the
// transactional outbox (include/burrow/outbox.h) over storage::Transaction and broker::Outbox.
#include <future>
#include "base/logging.h"

#include <burrow/broker.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/status_macros.h"
#include "broker/broker_core.h"
#include "broker/outbox.h"
#include "client/upstream_relay.h"
#include "storage/keys.h"
#include "storage/kill_point.h"
#include "storage/record_codec.h"
#include "storage/records.pb.h"
#include "storage/transaction.h"

namespace burrow {

namespace {
spdlog::logger& logger() { return module_logger("outbox"); }
}  // namespace

namespace st = burrow::storage;

class Transaction::Impl {
 public:
  explicit Impl(broker::BrokerCore& core) : core_(core), txn_(core.store()) {}

  Status check_open() const {
    if (done_) return Status(StatusCode::kClosed, "transaction already committed or rolled back");
    return Status();
  }
  static st::ColumnId column(const ColumnFamily& cf) { return st::ColumnId::from_index(cf.id()); }

  broker::BrokerCore& core_;
  st::Transaction txn_;
  std::vector<std::shared_ptr<const st::OutboxRow>> rows_;
  bool done_ = false;
};

Transaction::Transaction(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transaction::Transaction(Transaction&&) noexcept = default;
Transaction& Transaction::operator=(Transaction&&) noexcept = default;
Transaction::~Transaction() = default;  // uncommitted writes are simply dropped

Status Transaction::get(const ColumnFamily& cf, std::string_view key, std::string& value) {
  RETURN_IF_ERROR(impl_->check_open());
  return impl_->txn_.get(Impl::column(cf), key, value);
}

Status Transaction::get_for_update(const ColumnFamily& cf, std::string_view key,
                                   std::string& value) {
  RETURN_IF_ERROR(impl_->check_open());
  return impl_->txn_.get_for_update(Impl::column(cf), key, value);
}

Status Transaction::put(const ColumnFamily& cf, std::string_view key, std::string_view value) {
  RETURN_IF_ERROR(impl_->check_open());
  impl_->txn_.put(Impl::column(cf), key, value);
  return Status();
}

Status Transaction::del(const ColumnFamily& cf, std::string_view key) {
  RETURN_IF_ERROR(impl_->check_open());
  impl_->txn_.del(Impl::column(cf), key);
  return Status();
}

Result<std::string> Transaction::publish(OutboxMessage message) {
  RETURN_IF_ERROR(impl_->check_open());
  if (message.properties.message_id && message.properties.message_id->empty()) {
    return invalid_argument("message_id must not be empty (leave it unset to generate one)");
  }
  const uint64_t max_size = impl_->core_.options().max_message_size;
  if (message.body.size() > max_size) {
    return invalid_argument(fmt::format("message size {} is larger than configured max size {}",
                                        message.body.size(), max_size));
  }
  std::string message_id;
  std::string value;
  auto row = broker::Outbox::make_row(message, st::wall_clock_ms(), message_id, value);
  impl_->txn_.add_outbox_row(std::move(value));
  impl_->rows_.push_back(std::move(row));
  return message_id;
}

void Transaction::commit_async(std::function<void(Status)> done) {
  if (Status s = impl_->check_open(); !s.ok()) {
    if (done) done(std::move(s));
    return;
  }
  impl_->done_ = true;
  broker::Outbox& outbox = impl_->core_.outbox();
  const bool has_rows = !impl_->rows_.empty();
  if (has_rows) {
    if (Status s = outbox.begin_commit(); !s.ok()) {
      if (done) done(std::move(s));
      return;
    }
  }
  std::shared_ptr<const st::CommitCheck> check = impl_->txn_.check();
  impl_->txn_.commit([&outbox, has_rows, check, rows = std::move(impl_->rows_),
                      done = std::move(done)](Status s) mutable {
    if (has_rows) outbox.end_commit(s, check->first_row_id, std::move(rows));
    if (done) done(std::move(s));
  });
}

Status Transaction::commit() {
  std::promise<Status> done;
  auto result = done.get_future();
  commit_async([&done](Status s) { done.set_value(std::move(s)); });
  return result.get();
}

void Transaction::rollback() {
  if (impl_->done_) return;
  impl_->done_ = true;
  impl_->txn_.rollback();
  impl_->rows_.clear();
}

// ---- Broker: outbox -------------------------------------------------------------------------

Result<ColumnFamily> Broker::column_family(std::string_view name) {
  ASSIGN_OR_RETURN(st::ColumnId id, core_->store().app_column(name));
  return ColumnFamily(std::string(name), id.index());
}

std::vector<std::string> Broker::column_families() const { return core_->store().app_columns(); }

Transaction Broker::begin() { return Transaction(std::make_unique<Transaction::Impl>(*core_)); }

Status Broker::add_upstream(const std::string& name, const UpstreamOptions& options) {
  if (name.empty()) {
    return invalid_argument("an upstream needs a name (\"\" is this broker)");
  }
  std::lock_guard lock(upstreams_mu_);
  if (upstreams_.count(name) != 0) {
    return precondition_failed("upstream '" + name + "' is already added");
  }
  ASSIGN_OR_RETURN(auto relay, client::UpstreamRelay::start(core_->outbox(), name, options));
  upstreams_.emplace(name, std::move(relay));
  return Status();
}

Status Broker::remove_upstream(const std::string& name) {
  // Under the lock: an add_upstream of the same name must not attach before this relay has
  // detached (its detach would release the new relay's rows).
  std::lock_guard lock(upstreams_mu_);
  auto it = upstreams_.find(name);
  if (it == upstreams_.end()) return not_found("no upstream '" + name + "'");
  upstreams_.erase(it);  // stops its thread, then detaches
  return Status();
}

Status Broker::wait_until_drained(std::chrono::milliseconds timeout) {
  return core_->outbox().wait_until_drained(timeout);
}

OutboxStats Broker::outbox_stats() const {
  OutboxStats stats = core_->outbox().stats();
  stats.inbox_processed = inbox_processed_->load(std::memory_order_relaxed);
  stats.inbox_duplicates = inbox_duplicates_->load(std::memory_order_relaxed);
  return stats;
}

std::vector<ParkedRow> Broker::parked_rows() const { return core_->outbox().parked(); }

Status Broker::retry_parked(uint64_t id) { return core_->outbox().retry_parked(id); }

Status Broker::discard_parked(uint64_t id) { return core_->outbox().discard_parked(id); }

// ---- Broker: inbox --------------------------------------------------------------------------

namespace {

// How often a handler is run again after its commit conflicted, before the delivery is
// requeued.
constexpr int kInboxConflictRetries = 16;

}  // namespace

Result<std::unique_ptr<Channel>> Broker::consume_with_inbox(std::string_view queue,
                                                            InboxHandler handler,
                                                            InboxOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel, open_channel());
  RETURN_IF_ERROR(channel->qos(options.prefetch));
  const std::string scope = options.scope.empty() ? std::string(queue) : options.scope;
  const int64_t window = core_->options().inbox_dedup_window_ms;
  Channel* ch = channel.get();
  broker::BrokerCore* core = core_.get();
  auto processed = inbox_processed_;
  auto duplicates = inbox_duplicates_;
  const bool reject_without_id = options.reject_without_message_id;
  auto on_delivery = [this, ch, core, scope, window, handler = std::move(handler), processed,
                      duplicates, reject_without_id](const Delivery& delivery) {
    const auto& id = delivery.message->properties.message_id;
    if (!id || id->empty()) {
      if (reject_without_id) {
        ch->reject(delivery.delivery_tag, false).ignore_error();
        return;
      }
    }
    const std::string key = id && !id->empty() ? st::inbox_key(scope, *id) : std::string();
    for (int attempt = 0;; ++attempt) {
      Transaction txn = begin();
      if (!key.empty()) {
        std::string seen;
        Status s = txn.impl_->txn_.get_for_update(st::Column::kInbox, key, seen);
        const auto now = static_cast<uint64_t>(core->clock().now_ms());
        if (s.ok() && !st::inbox_entry_expired(seen, now)) {
          ch->ack(delivery.delivery_tag).ignore_error();
          duplicates->fetch_add(1, std::memory_order_relaxed);
          return;
        }
      }
      Status h = handler(delivery, txn);
      if (h.ok() && !key.empty()) {
        st::InboxEntry entry;
        const auto now = static_cast<uint64_t>(core->clock().now_ms());
        entry.set_processed_at_ms(now);
        entry.set_expires_at_ms(window > 0 ? now + static_cast<uint64_t>(window) : 0);
        txn.impl_->txn_.put(st::Column::kInbox, key, st::serialize_record(entry));
      }
      if (h.ok()) h = txn.commit();
      if (h.ok()) {
        BURROW_KILL_POINT("inbox.after_commit");
        ch->ack(delivery.delivery_tag).ignore_error();
        processed->fetch_add(1, std::memory_order_relaxed);
        return;
      }
      txn.rollback();
      if (h.code() == StatusCode::kBusy && attempt < kInboxConflictRetries) continue;
      logger().warn("inbox '{}': handler failed, message requeued: {}", scope, h.to_string());
      ch->nack(delivery.delivery_tag, false, true).ignore_error();
      return;
    }
  };
  RETURN_IF_ERROR(channel->consume(queue, std::move(on_delivery)).status());
  return channel;
}

}  // namespace burrow
