// BrokerCore: startup, users, vhosts, connections.
#include "broker/broker_core.h"
#include "base/status_macros.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace burrow::broker {

BrokerCore::BrokerCore(const Options& options)
    : options_(options), clock_(options.clock ? options.clock : &SystemClock::instance()) {}

Result<std::unique_ptr<BrokerCore>> BrokerCore::open(const Options& options) {
  std::unique_ptr<BrokerCore> core(new BrokerCore(options));
  // The RocksDB store arrives with the durability issue; until then every broker keeps its
  // state in memory behind the same Store interface.
  core->store_ = storage::make_memory_store();
  core->workers_ = std::make_unique<WorkerPool>(options.worker_threads);
  core->manual_clock_ = dynamic_cast<ManualClock*>(core->clock_) != nullptr;
  core->timers_ = std::make_unique<TimerService>(*core->clock_, core->manual_clock_);
  {
    std::lock_guard lock(core->mu_);
    core->users_.emplace(options.default_user, options.default_password);
    VHostContext ctx{core->workers_.get(), core->timers_.get(), core->clock_};
    core->vhosts_.emplace(options.default_vhost,
                          std::make_shared<VHost>(options.default_vhost, ctx));
  }
  return core;
}

BrokerCore::~BrokerCore() { shutdown(); }

void BrokerCore::shutdown() {
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
