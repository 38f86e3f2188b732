// Exchange binding bookkeeping and the type factory.
#include "broker/exchange.h"

#include <algorithm>

#include "base/hash.h"
#include "broker/exchange_types.h"

namespace burrow::broker {

Status Exchange::validate_binding(const Binding&) const { return Status(); }

uint64_t Exchange::identity_hash(const Binding& b) {
  uint64_t h = fnv1a64(b.destination, static_cast<uint64_t>(b.kind) + kFnv1aOffset);
  h = fnv1a64(std::string_view("\0", 1), h);
  h = fnv1a64(b.routing_key, h);
  if (!b.arguments.empty()) h = fnv1a64(to_string(b.arguments), h);
  return h;
}

bool Exchange::add_binding(const Binding& binding, Destination destination) {
  const uint64_t h = identity_hash(binding);
  if (hashes_.contains(h) &&
      std::find(bindings_.begin(), bindings_.end(), binding) != bindings_.end()) {
    return false;
  }
  bindings_.push_back(binding);
  destinations_.push_back(std::make_unique<Destination>(std::move(destination)));
  hashes_.insert(h);
  index_add(bindings_.back(), destinations_.back().get());
  return true;
}

bool Exchange::remove_binding(const Binding& binding) {
  const auto hash = hashes_.find(identity_hash(binding));
  if (hash == hashes_.end()) return false;
  auto it = std::find(bindings_.begin(), bindings_.end(), binding);
  if (it == bindings_.end()) return false;
  size_t i = static_cast<size_t>(it - bindings_.begin());
  index_remove(bindings_[i], destinations_[i].get());
  hashes_.erase(hash);
  bindings_.erase(it);
  destinations_.erase(destinations_.begin() + static_cast<ptrdiff_t>(i));
  return true;
}

size_t Exchange::remove_bindings_to(DestinationKind kind, std::string_view destination,
                                    std::vector<Binding>* removed_out) {
  auto matches = [&](const Binding& b) { return b.kind == kind && b.destination == destination; };
  // Reported and unindexed last to first (as they always were), then removed in one pass.
  size_t removed = 0;
  for (size_t i = bindings_.size(); i-- > 0;) {
    if (!matches(bindings_[i])) continue;
    if (removed_out != nullptr) removed_out->push_back(bindings_[i]);
    index_remove(bindings_[i], destinations_[i].get());
    hashes_.erase(hashes_.find(identity_hash(bindings_[i])));
    ++removed;
  }
  if (removed == 0) return 0;
  size_t kept = 0;
  for (size_t i = 0; i < bindings_.size(); ++i) {
    if (matches(bindings_[i])) continue;
    if (kept != i) {
      bindings_[kept] = std::move(bindings_[i]);
      destinations_[kept] = std::move(destinations_[i]);
    }
    ++kept;
  }
  bindings_.resize(kept);
  destinations_.resize(kept);
  return removed;
}

bool is_known_exchange_type(std::string_view type) {
  return type == "direct" || type == "fanout" || type == "topic" || type == "headers" ||
         type == kDelayedExchangeType;
}

ExchangePtr make_exchange(ExchangeSettings settings) {
  std::string type = settings.type;
  if (type == kDelayedExchangeType) {
    // The delayed-message exchange routes as its x-delayed-type once a message's delay is
    // over; it keeps its own type name (the vhost does the delaying).
    const FieldValue* inner = settings.arguments.find("x-delayed-type");
    const std::string* name = inner ? inner->get_if<std::string>() : nullptr;
    if (name == nullptr) return nullptr;
    type = *name;
  }
  if (type == "direct") return std::make_shared<DirectExchange>(std::move(settings));
  if (type == "fanout") return std::make_shared<FanoutExchange>(std::move(settings));
  if (type == "topic") return std::make_shared<TopicExchange>(std::move(settings));
  if (type == "headers") return std::make_shared<HeadersExchange>(std::move(settings));
  return nullptr;
}

}  // namespace burrow::broker
