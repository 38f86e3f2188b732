// BrokerCore: startup, users, vhosts, connections.
#include "broker/broker_core.h"
#include "base/logging.h"
#include "base/status_macros.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>

#include "base/status_macros.h"
#include "broker/channel.h"
#include "broker/outbox.h"
#include "broker/persistence.h"
#include "broker/recovery.h"
#include "broker/test_controls.h"
#include "storage/keys.h"
#include "storage/records.pb.h"
#include "storage/rocksdb_store.h"

namespace burrow::broker {

namespace {
spdlog::logger& logger() { return module_logger("broker"); }
}  // namespace

namespace st = burrow::storage;

namespace {

uint64_t memory_budget_bytes(const Options& options) {
  if (options.memory_budget_bytes != 0) return options.memory_budget_bytes;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return uint64_t{1} << 30;  // 1 GiB when unknown
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) / 4;
}

}  // namespace

BrokerCore::BrokerCore(const Options& options)
    : options_(options),
      clock_(options.clock ? options.clock : &SystemClock::instance()),
      faults_(std::make_unique<FaultInjector>()),
      publish_log_(std::make_unique<PublishLog>()) {}

Result<std::unique_ptr<BrokerCore>> BrokerCore::open(const Options& options) {
  // RabbitMQ's hard limit for max_message_size; queue entries keep sizes in 32 bits.
  constexpr uint64_t kMaxMessageSizeLimit = 512ull * 1024 * 1024;
  if (options.max_message_size > kMaxMessageSizeLimit) {
    return Status(StatusCode::kInvalidArgument,
                  "max_message_size " + std::to_string(options.max_message_size) +
                      " is above the limit of 536870912 bytes (512 MiB)");
  }
  std::unique_ptr<BrokerCore> core(new BrokerCore(options));
  if (options.in_memory) {
    // Nothing survives the process: the in-memory twin serves application data, and
    // durable entities and persistent messages are not written at all.
    core->store_ = storage::make_memory_store();
  } else {
    storage::StoreOptions store_options;
    store_options.path = options.data_dir;
    store_options.durability = options.durability;
    store_options.repair = options.repair;
    ASSIGN_OR_RETURN(core->store_, storage::open_rocksdb_store(store_options));
    core->persistence_ = std::make_unique<Persistence>(*core->store_, memory_budget_bytes(options));
  }
  core->workers_ = std::make_unique<WorkerPool>(options.worker_threads);
  core->manual_clock_ = dynamic_cast<ManualClock*>(core->clock_) != nullptr;
  core->timers_ = std::make_unique<TimerService>(*core->clock_, core->manual_clock_);
  core->started_at_ = SystemClock::instance().now_ms();
  core->access_ =
      std::make_unique<AccessControl>(core->persistence_ ? core->store_.get() : nullptr);
  ASSIGN_OR_RETURN(const bool has_users, core->access_->load());
  // Vhosts: the stored ones; on a fresh store (no user yet) the defaults, as a fresh RabbitMQ
  // node creates guest and "/".
  std::vector<VHostInfo> stored_vhosts;
  if (core->persistence_) {
    ASSIGN_OR_RETURN(stored_vhosts, core->load_vhosts());
  }
  for (const auto& info : stored_vhosts) {
    VHostPtr vhost = core->make_vhost(info);
    std::lock_guard lock(core->mu_);
    core->vhosts_.emplace(info.name, std::move(vhost));
  }
  if (!has_users) RETURN_IF_ERROR(core->create_defaults());
  {
    // A store written before vhosts were stored has entities in the default vhost only.
    std::lock_guard lock(core->mu_);
    if (core->vhosts_.empty()) {
      core->vhosts_.emplace(options.default_vhost,
                            core->make_vhost(VHostInfo{options.default_vhost, "", {}, ""}));
    }
  }
  if (core->persistence_) {
    const TimeMs started = SystemClock::instance().now_ms();
    // After a crash every recovered message comes back redelivered, as RabbitMQ 3.10 does
    // after an unclean shutdown: a delivery marker may not have reached the disk before the
    // client had the message.
    ASSIGN_OR_RETURN(const bool crashed, core->persistence_->open_running());
    if (crashed) logger().warn("the broker did not stop cleanly last time; recovering");
    RecoveryStats total;
    for (const VHostPtr& vhost : core->vhosts()) {
      ASSIGN_OR_RETURN(RecoveryStats stats, recover_vhost(*core->persistence_, *vhost, crashed));
      total.max_queue_id = std::max(total.max_queue_id, stats.max_queue_id);
      total.exchanges += stats.exchanges;
      total.queues += stats.queues;
      total.bindings += stats.bindings;
      total.messages += stats.messages;
      total.delayed += stats.delayed;
    }
    core->next_queue_id_.store(total.max_queue_id + 1);
    logger().info(
        "recovered {} exchanges, {} queues, {} bindings, {} messages, {} delayed messages in {} ms",
        total.exchanges, total.queues, total.bindings, total.messages, total.delayed,
        SystemClock::instance().now_ms() - started);
    core->stop_cleanly_ = true;
  }
  // After recovery: relayed rows reach recovered queues.
  core->outbox_ = std::make_unique<Outbox>(*core, options.outbox_buckets);
  RETURN_IF_ERROR(core->outbox_->open());
  return core;
}

BrokerCore::~BrokerCore() {
  shutdown();
  outbox_.reset();  // its relay channel goes before the topology
  // Work still queued holds queues and channels; it goes first, while the timers and the
  // store those use still exist, then the topology.
  workers_.reset();
  {
    std::lock_guard lock(mu_);
    vhosts_.clear();
    reply_channels_.clear();
  }
  // Every queue's writes were submitted by now; this one completes after them.
  if (stop_cleanly_) {
    Status s = persistence_->mark_stopped();
    if (!s.ok()) logger().error("cannot record a clean stop: {}", s.to_string());
  }
}

void BrokerCore::shutdown() {
  if (outbox_) outbox_->close();  // waits for a running relay batch
  if (timers_) timers_->stop();
  if (workers_) workers_->stop();
}

Status BrokerCore::advance_clock(int64_t ms) {
  auto* manual = dynamic_cast<ManualClock*>(clock_);
  if (manual == nullptr) return invalid_argument("the broker's clock is not a ManualClock");
  if (ms < 0) return invalid_argument("the clock cannot go back");
  // Step through every due time in order, so timers see the clock at their own due time.
  const TimeMs target = manual->now_ms() + ms;
  while (true) {
    TimeMs due = timers_->next_due();
    if (due < 0 || due > target) break;
    if (due > manual->now_ms()) manual->set(due);
    timers_->run_due();
  }
  manual->set(target);
  timers_->run_due();
  return Status();
}

Status BrokerCore::authenticate(const std::string& user, const std::string& password,
                                bool from_loopback) const {
  stats_.auth_attempts.fetch_add(1, std::memory_order_relaxed);
  Status s = access_->authenticate(user, password, from_loopback, options_.loopback_users);
  if (!s.ok()) stats_.auth_failed.fetch_add(1, std::memory_order_relaxed);
  return s;
}

Result<ConnectionPtr> BrokerCore::connect(const ConnectInfo& info) {
  ASSIGN_OR_RETURN(VHostPtr vhost, find_vhost(info.vhost));
  if (info.trusted) {
    return std::make_shared<Connection>(*this, next_connection_id_.fetch_add(1), info.user,
                                        std::move(vhost), true);
  }
  RETURN_IF_ERROR(access_->check_vhost_access(info.user, info.vhost));
  // The broker's own (trusted) connections do not count against the vhost's limit.
  RETURN_IF_ERROR(vhost->add_connection(info.user));
  return std::make_shared<Connection>(*this, next_connection_id_.fetch_add(1), info.user,
                                      std::move(vhost), false, /*counted=*/true);
}

void BrokerCore::register_reply_channel(const std::string& key, std::weak_ptr<Channel> channel) {
  std::lock_guard lock(mu_);
  reply_channels_[key] = std::move(channel);
}

void BrokerCore::unregister_reply_channel(const std::string& key) {
  std::lock_guard lock(mu_);
  reply_channels_.erase(key);
}

std::shared_ptr<Channel> BrokerCore::find_reply_channel(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = reply_channels_.find(key);
  return it == reply_channels_.end() ? nullptr : it->second.lock();
}

Result<VHostPtr> BrokerCore::find_vhost(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = vhosts_.find(name);
  if (it == vhosts_.end()) return not_allowed("vhost " + name + " not found");
  return it->second;
}

std::vector<VHostPtr> BrokerCore::vhosts() const {
  std::lock_guard lock(mu_);
  std::vector<VHostPtr> out;
  for (const auto& [_, v] : vhosts_) out.push_back(v);
  return out;
}

VHostPtr BrokerCore::make_vhost(const VHostInfo& info) {
  VHostContext ctx{workers_.get(), timers_.get(), clock_, persistence_.get(), &next_queue_id_};
  auto vhost = std::make_shared<VHost>(info.name, ctx);
  vhost->set_info(info);
  return vhost;
}

Result<std::vector<VHostInfo>> BrokerCore::load_vhosts() {
  std::vector<VHostInfo> out;
  Status bad;
  const std::string prefix = st::metadata_prefix(st::MetadataKind::kVhost);
  RETURN_IF_ERROR(store_->scan(
      st::Column::kMetadata, st::ScanOptions{.prefix = prefix},
      [&](std::string_view, std::string_view value) {
        st::VhostRecord r;
        if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = internal_error("a stored vhost record does not parse");
          return false;
        }
        VHostInfo info{
            r.name(), r.description(), {r.tags().begin(), r.tags().end()}, r.default_queue_type()};
        if (r.has_max_connections()) info.limits.max_connections = r.max_connections();
        if (r.has_max_queues()) info.limits.max_queues = r.max_queues();
        out.push_back(std::move(info));
        return true;
      }));
  RETURN_IF_ERROR(bad);
  return out;
}

Status BrokerCore::save_vhost(const VHostInfo& info) {
  if (!persistence_) return Status();
  st::VhostRecord r;
  r.set_name(info.name);
  r.set_description(info.description);
  for (const auto& t : info.tags) r.add_tags(t);
  r.set_default_queue_type(info.default_queue_type);
  if (info.limits.max_connections) r.set_max_connections(*info.limits.max_connections);
  if (info.limits.max_queues) r.set_max_queues(*info.limits.max_queues);
  st::WriteBatch batch;
  batch.put(st::Column::kMetadata, st::vhost_key(info.name), r.SerializeAsString());
  return store_->write_sync(std::move(batch));
}

Status BrokerCore::reset() {
  faults_->clear();
  publish_log_->clear();
  for (const VHostPtr& vhost : vhosts()) {
    if (vhost->name() == options_.default_vhost) {
      for (const ConsumerPtr& c : vhost->clear()) c->channel().consumer_cancelled_by_broker(c);
      RETURN_IF_ERROR(access_->forget_vhost(vhost->name()));
    } else {
      RETURN_IF_ERROR(delete_vhost(vhost->name()));
    }
  }
  for (const User& user : access_->users()) RETURN_IF_ERROR(access_->delete_user(user.name));
  return create_defaults();
}

Status BrokerCore::create_defaults() {
  const VHostInfo info{options_.default_vhost, "Default virtual host", {}, ""};
  ASSIGN_OR_RETURN(bool created, put_vhost(info));
  (void)created;
  User user;
  user.name = options_.default_user;
  user.password_hash = hash_password(options_.default_password);
  user.tags = {"administrator"};
  RETURN_IF_ERROR(access_->put_user(std::move(user)));
  return access_->set_permissions(
      UserPermissions{options_.default_vhost, options_.default_user, ".*", ".*", ".*"});
}

Result<bool> BrokerCore::put_vhost(const VHostInfo& info) {
  if (info.name.empty()) return invalid_argument("a vhost needs a name");
  // One writer at a time: the stored record and the live one stay the same.
  std::lock_guard write_lock(vhost_write_mu_);
  VHostInfo updated = info;
  VHostPtr existing;
  {
    std::lock_guard lock(mu_);
    if (auto it = vhosts_.find(info.name); it != vhosts_.end()) existing = it->second;
  }
  // Updating a vhost's description or tags keeps its limits (set_vhost_limits changes them).
  if (existing) updated.limits = existing->info().limits;
  RETURN_IF_ERROR(save_vhost(updated));
  if (existing) {
    existing->set_info(updated);
    return false;
  }
  std::lock_guard lock(mu_);
  vhosts_.emplace(info.name, make_vhost(updated));
  return true;
}

Status BrokerCore::set_vhost_limits(const std::string& name, const VHostLimits& limits) {
  std::lock_guard write_lock(vhost_write_mu_);
  ASSIGN_OR_RETURN(VHostPtr vhost, find_vhost(name));
  VHostInfo info = vhost->info();
  info.limits = limits;
  RETURN_IF_ERROR(save_vhost(info));
  vhost->set_info(info);
  return Status();
}

Status BrokerCore::delete_vhost(const std::string& name) {
  std::lock_guard write_lock(vhost_write_mu_);
  VHostPtr vhost;
  {
    std::lock_guard lock(mu_);
    auto it = vhosts_.find(name);
    if (it == vhosts_.end()) return not_found("vhost '" + name + "'");
    vhost = it->second;
    vhosts_.erase(it);
  }
  if (persistence_) {
    st::WriteBatch batch;
    batch.del(st::Column::kMetadata, st::vhost_key(name));
    RETURN_IF_ERROR(store_->write_sync(std::move(batch)));
  }
  RETURN_IF_ERROR(access_->forget_vhost(name));
  for (const ConsumerPtr& c : vhost->delete_everything()) {
    c->channel().consumer_cancelled_by_broker(c);
  }
  return Status();
}

}  // namespace burrow::broker
