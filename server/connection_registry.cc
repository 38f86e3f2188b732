// ConnectionRegistry: the open AMQP connections, for the management API.
#include "server/connection_registry.h"

namespace burrow::server {

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

}  // namespace burrow::server
