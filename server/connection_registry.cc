// ConnectionRegistry: the open AMQP connections, for the management API.
#include "server/connection_registry.h"

#include <chrono>

namespace burrow::server {

bool ConnectionEntry::named(std::string_view wanted) const {
  if (name == wanted) return true;
  const FieldValue* given = client_properties.find("connection_name");
  const std::string* text = given ? given->as_string() : nullptr;
  return text != nullptr && *text == wanted;
}

void ConnectionEntry::add_channel(uint16_t number, std::shared_ptr<broker::Channel> channel) {
  std::lock_guard lock(mu_);
  channels_[number] = std::move(channel);
}

bool ConnectionEntry::remove_channel(uint16_t number) {
  std::lock_guard lock(mu_);
  return channels_.erase(number) > 0;
}

std::vector<std::pair<uint16_t, std::shared_ptr<broker::Channel>>> ConnectionEntry::channels()
    const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<uint16_t, std::shared_ptr<broker::Channel>>> out;
  for (const auto& [number, weak] : channels_) {
    if (auto channel = weak.lock()) out.emplace_back(number, std::move(channel));
  }
  return out;
}

size_t ConnectionEntry::channel_count() const {
  std::lock_guard lock(mu_);
  return channels_.size();
}

void ConnectionRegistry::add(ConnectionEntryPtr entry) {
  std::lock_guard lock(mu_);
  const uint64_t id = entry->id;
  entries_[id] = std::move(entry);
}

void ConnectionRegistry::remove(uint64_t id) {
  std::lock_guard lock(mu_);
  entries_.erase(id);
}

std::vector<ConnectionEntryPtr> ConnectionRegistry::list() const {
  std::lock_guard lock(mu_);
  std::vector<ConnectionEntryPtr> out;
  out.reserve(entries_.size());
  for (const auto& [_, e] : entries_) out.push_back(e);
  return out;
}

ConnectionEntryPtr ConnectionRegistry::find(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& [_, e] : entries_) {
    if (e->name == name) return e;
  }
  return nullptr;
}

size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

namespace {
int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

size_t ConnectionRegistry::force_close_all(const std::string& reason, std::string_view name) const {
  size_t closed = 0;
  for (const auto& c : list()) {
    if (!name.empty() && !c->named(name)) continue;
    if (c->force_close) {
      c->force_close(reason);
      ++closed;
    }
  }
  return closed;
}

void ConnectionRegistry::refuse_for(int64_t ms) {
  refuse_until_ns_.store(ms > 0 ? steady_ns() + ms * 1000000 : 0, std::memory_order_relaxed);
}

int64_t ConnectionRegistry::refuse_remaining_ms() const {
  const int64_t until = refuse_until_ns_.load(std::memory_order_relaxed);
  if (until == 0) return 0;
  const int64_t left = until - steady_ns();
  return left > 0 ? (left + 999999) / 1000000 : 0;
}

}  // namespace burrow::server
