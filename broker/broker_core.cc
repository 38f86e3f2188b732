// BrokerCore: startup, users, vhosts, connections.
#include "broker/broker_core.h"
#include "base/status_macros.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>

#include "base/status_macros.h"
#include "broker/outbox.h"
#include "broker/persistence.h"
#include "broker/recovery.h"
#include "storage/rocksdb_store.h"

namespace burrow::broker {

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
    : options_(options), clock_(options.clock ? options.clock : &SystemClock::instance()) {}

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
  VHostPtr vhost;
  {
    std::lock_guard lock(core->mu_);
    core->users_.emplace(options.default_user, options.default_password);
    VHostContext ctx{core->workers_.get(), core->timers_.get(), core->clock_,
                     core->persistence_.get(), &core->next_queue_id_};
    vhost = std::make_shared<VHost>(options.default_vhost, ctx);
    core->vhosts_.emplace(options.default_vhost, vhost);
  }
  if (core->persistence_) {
    const TimeMs started = SystemClock::instance().now_ms();
    // After a crash every recovered message comes back redelivered, as RabbitMQ 3.10 does
    // after an unclean shutdown: a delivery marker may not have reached the disk before the
    // client had the message.
    ASSIGN_OR_RETURN(const bool crashed, core->persistence_->open_running());
    if (crashed) spdlog::warn("the broker did not stop cleanly last time; recovering");
    ASSIGN_OR_RETURN(RecoveryStats stats, recover_vhost(*core->persistence_, *vhost, crashed));
    core->next_queue_id_.store(stats.max_queue_id + 1);
    spdlog::info(
        "recovered {} exchanges, {} queues, {} bindings, {} messages, {} delayed messages in {} ms",
        stats.exchanges, stats.queues, stats.bindings, stats.messages, stats.delayed,
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
    if (!s.ok()) spdlog::error("cannot record a clean stop: {}", s.to_string());
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
  {
    std::lock_guard lock(mu_);
    auto it = users_.find(user);
    if (it == users_.end()) return access_refused("user '" + user + "' - invalid credentials");
    if (it->second != password) return access_refused("user '" + user + "' - invalid credentials");
  }
  const auto& loopback_only = options_.loopback_users;
  if (!from_loopback &&
      std::find(loopback_only.begin(), loopback_only.end(), user) != loopback_only.end()) {
    return access_refused("user '" + user + "' can only connect via localhost");
  }
  return Status();
}

Result<ConnectionPtr> BrokerCore::connect(const ConnectInfo& info) {
  ASSIGN_OR_RETURN(VHostPtr vhost, find_vhost(info.vhost));
  return std::make_shared<Connection>(*this, next_connection_id_.fetch_add(1), info.user,
                                      std::move(vhost));
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

}  // namespace burrow::broker
