// Exchanges: the routing functions of the broker, one subclass per exchange type.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <burrow/field_table.h>
#include <burrow/status.h>

#include "broker/binding.h"
#include "broker/queue.h"

namespace burrow::broker {

class Exchange;

struct ExchangeSettings {
  std::string name;
  std::string type;  // "direct", "fanout", "topic", "headers"
  std::string vhost;
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  FieldTable arguments;
};

// Where a binding leads, resolved to the object so routing needs no name lookups.
struct Destination {
  QueuePtr queue;                // set for DestinationKind::kQueue
  Exchange* exchange = nullptr;  // set for DestinationKind::kExchange (owned by the vhost)
};

// What routing looks at: the routing keys (the publish key plus CC/BCC) and the headers.
struct RoutingInput {
  std::span<const std::string_view> routing_keys;
  const FieldTable* headers = nullptr;  // null when the message has none
};

// Not thread-safe: the owning VHost guards every exchange with its topology lock (bindings
// change under the exclusive lock, routing runs under the shared lock).
class Exchange {
 public:
  explicit Exchange(ExchangeSettings settings) : settings_(std::move(settings)) {}
  virtual ~Exchange() = default;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const ExchangeSettings& settings() const { return settings_; }
  const std::string& name() const { return settings_.name; }
  const std::vector<Binding>& bindings() const { return bindings_; }

  // Validates a binding's arguments for this type (e.g. x-match for headers).
  // Errors: kPreconditionFailed with RabbitMQ's text.
  virtual Status validate_binding(const Binding& binding) const;

  // Adds a binding (a no-op returning false if it exists).
  bool add_binding(const Binding& binding, Destination destination);
  // Removes a binding; returns whether it existed.
  bool remove_binding(const Binding& binding);
  // Removes every binding to `destination`; returns how many (and appends them to `removed`
  // when given).
  size_t remove_bindings_to(DestinationKind kind, std::string_view destination,
                            std::vector<Binding>* removed = nullptr);

  // Appends the destinations of this exchange's own bindings that match (duplicates
  // allowed; the caller de-duplicates).
  virtual void route(const RoutingInput& input, std::vector<const Destination*>& out) const = 0;

 protected:
  // Type-specific index maintenance; `index` is the binding's position in bindings_.
  virtual void index_add(const Binding& binding, const Destination* destination) = 0;
  virtual void index_remove(const Binding& binding, const Destination* destination) = 0;

 private:
  // A hash of everything that makes a binding distinct (equal bindings, equal hashes).
  static uint64_t identity_hash(const Binding& binding);

  const ExchangeSettings settings_;
  std::vector<Binding> bindings_;
  // Parallel to bindings_; unique_ptr keeps each Destination's address stable for indexes.
  std::vector<std::unique_ptr<Destination>> destinations_;
  // The identity hashes of bindings_: a binding is searched for only if its hash is here, so
  // adding a new one does not scan every binding (10k bindings took 167 ms, quadratically).
  std::unordered_multiset<uint64_t> hashes_;
};

using ExchangePtr = std::shared_ptr<Exchange>;

// The delayed-message exchange type of RabbitMQ's rabbitmq-delayed-message-exchange plugin:
// argument x-delayed-type names the routing type; a message with header x-delay (ms) is routed
// when its delay is over.
inline constexpr std::string_view kDelayedExchangeType = "x-delayed-message";

// The exchange types a declaration may name, and a factory for them (nullptr for a
// delayed-message exchange without a valid x-delayed-type).
bool is_known_exchange_type(std::string_view type);
ExchangePtr make_exchange(ExchangeSettings settings);

}  // namespace burrow::broker
