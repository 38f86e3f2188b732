// The four AMQP exchange types: direct, fanout, topic, headers.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/exchange.h"

namespace burrow::broker {

// Routes on routing key == binding key. O(1) per key.
class DirectExchange final : public Exchange {
 public:
  using Exchange::Exchange;
  void route(const RoutingInput& input, std::vector<const Destination*>& out) const override;

 private:
  void index_add(const Binding& b, const Destination* d) override;
  void index_remove(const Binding& b, const Destination* d) override;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, std::vector<const Destination*>, Hash, std::equal_to<>> by_key_;
};

// Routes to every binding, ignoring the key.
class FanoutExchange final : public Exchange {
 public:
  using Exchange::Exchange;
  void route(const RoutingInput& input, std::vector<const Destination*>& out) const override;

 private:
  void index_add(const Binding& b, const Destination* d) override;
  void index_remove(const Binding& b, const Destination* d) override;
  std::vector<const Destination*> all_;
};

// Routes on dot-separated words: '*' matches one word, '#' zero or more. A trie of binding
// words, so matching cost follows the key, not the number of bindings.
class TopicExchange final : public Exchange {
 public:
  explicit TopicExchange(ExchangeSettings settings);
  ~TopicExchange() override;
  void route(const RoutingInput& input, std::vector<const Destination*>& out) const override;

 private:
  struct Node;
  void index_add(const Binding& b, const Destination* d) override;
  void index_remove(const Binding& b, const Destination* d) override;
  void match(const Node& node, const std::vector<std::string_view>& words, size_t i,
             std::vector<const Destination*>& out) const;
  std::unique_ptr<Node> root_;
};

// Routes on message headers against each binding's arguments (x-match all/any and the
// *-with-x variants).
class HeadersExchange final : public Exchange {
 public:
  using Exchange::Exchange;
  Status validate_binding(const Binding& binding) const override;
  void route(const RoutingInput& input, std::vector<const Destination*>& out) const override;

 private:
  void index_add(const Binding& b, const Destination* d) override;
  void index_remove(const Binding& b, const Destination* d) override;
  // A binding prepared once, at bind time: x-match parsed, the compared arguments sorted.
  struct Prepared {
    bool all = true;
    std::vector<FieldEntry> pattern;
    const Destination* destination = nullptr;
  };
  std::vector<Prepared> entries_;
};

// Whether message headers match a headers-exchange binding's arguments, both sorted by key
// (sort_by_key). Exposed for tests.
bool headers_match(const FieldTable& sorted_args, const FieldTable& sorted_headers);
// A copy of `table` with entries stably sorted by name (bytewise), as rabbit_misc does.
FieldTable sort_by_key(const FieldTable& table);
// Splits a topic key into words: "" has no words, "a." has two ("a", "").
std::vector<std::string_view> split_topic_key(std::string_view key);

}  // namespace burrow::broker
