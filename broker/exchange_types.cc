// Routing for the direct, fanout, topic and headers exchange types (RabbitMQ's
// rabbit_exchange_type_*.erl semantics).
#include "broker/exchange_types.h"

#include <algorithm>

#include "broker/arguments.h"

namespace burrow::broker {

// ---- direct ----------------------------------------------------------------------------

void DirectExchange::route(const RoutingInput& input, std::vector<const Destination*>& out) const {
  for (std::string_view key : input.routing_keys) {
    auto it = by_key_.find(key);
    if (it != by_key_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  }
}

void DirectExchange::index_add(const Binding& b, const Destination* d) {
  by_key_[b.routing_key].push_back(d);
}

void DirectExchange::index_remove(const Binding& b, const Destination* d) {
  auto it = by_key_.find(b.routing_key);
  if (it == by_key_.end()) return;
  std::erase(it->second, d);
  if (it->second.empty()) by_key_.erase(it);
}

// ---- fanout ----------------------------------------------------------------------------

void FanoutExchange::route(const RoutingInput&, std::vector<const Destination*>& out) const {
  out.insert(out.end(), all_.begin(), all_.end());
}

void FanoutExchange::index_add(const Binding&, const Destination* d) { all_.push_back(d); }

void FanoutExchange::index_remove(const Binding&, const Destination* d) { std::erase(all_, d); }

// ---- topic -----------------------------------------------------------------------------

struct TopicExchange::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>> children;  // literal words, '*', '#'
  std::vector<const Destination*> destinations;                     // bindings ending here
};

TopicExchange::TopicExchange(ExchangeSettings settings)
    : Exchange(std::move(settings)), root_(std::make_unique<Node>()) {}

TopicExchange::~TopicExchange() = default;

std::vector<std::string_view> split_topic_key(std::string_view key) {
  std::vector<std::string_view> words;
  if (key.empty()) return words;
  size_t start = 0;
  while (true) {
    size_t dot = key.find('.', start);
    if (dot == std::string_view::npos) {
      words.push_back(key.substr(start));
      return words;
    }
    words.push_back(key.substr(start, dot - start));
    start = dot + 1;
  }
}

void TopicExchange::index_add(const Binding& b, const Destination* d) {
  Node* node = root_.get();
  for (std::string_view word : split_topic_key(b.routing_key)) {
    auto& child = node->children[std::string(word)];
    if (!child) child = std::make_unique<Node>();
    node = child.get();
  }
  node->destinations.push_back(d);
}

void TopicExchange::index_remove(const Binding& b, const Destination* d) {
  // Walk down remembering the path, then prune nodes that became empty.
  std::vector<std::pair<Node*, std::string>> path;
  Node* node = root_.get();
  for (std::string_view word : split_topic_key(b.routing_key)) {
    auto it = node->children.find(std::string(word));
    if (it == node->children.end()) return;
    path.emplace_back(node, std::string(word));
    node = it->second.get();
  }
  std::erase(node->destinations, d);
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    Node* parent = it->first;
    Node* child = parent->children[it->second].get();
    if (!child->destinations.empty() || !child->children.empty()) break;
    parent->children.erase(it->second);
  }
}

void TopicExchange::match(const Node& node, const std::vector<std::string_view>& words, size_t i,
                          std::vector<const Destination*>& out) const {
  if (i == words.size()) out.insert(out.end(), node.destinations.begin(), node.destinations.end());
  if (auto hash = node.children.find("#"); hash != node.children.end()) {
    // '#' takes zero or more words.
    for (size_t j = i; j <= words.size(); ++j) match(*hash->second, words, j, out);
  }
  if (i == words.size()) return;
  if (auto star = node.children.find("*"); star != node.children.end()) {
    match(*star->second, words, i + 1, out);
  }
  // A literal word; a '*' or '#' in the routing key also reaches the wildcard edges here,
  // as in RabbitMQ's trie (duplicates are removed by the caller).
  if (auto lit = node.children.find(std::string(words[i])); lit != node.children.end()) {
    if (words[i] != "*" && words[i] != "#") match(*lit->second, words, i + 1, out);
  }
}

void TopicExchange::route(const RoutingInput& input, std::vector<const Destination*>& out) const {
  for (std::string_view key : input.routing_keys) {
    match(*root_, split_topic_key(key), 0, out);
  }
}

// ---- headers ---------------------------------------------------------------------------

namespace {

enum class MatchKind { kAll, kAny, kAllWithX, kAnyWithX };

MatchKind parse_x_match(const FieldTable& args) {
  const FieldValue* v = args.find("x-match");
  const std::string* s = v ? v->get_if<std::string>() : nullptr;
  if (s == nullptr) return MatchKind::kAll;  // absent, or legacy unvalidated value
  if (*s == "any") return MatchKind::kAny;
  if (*s == "all-with-x") return MatchKind::kAllWithX;
  if (*s == "any-with-x") return MatchKind::kAnyWithX;
  return MatchKind::kAll;
}

// Erlang's `==` on the values RabbitMQ decodes: numbers compare by value across integer and
// float types (1 == 1.0, a timestamp is an integer), strings and byte arrays by content;
// nested arrays and tables keep their type tags, so they compare exactly.
bool erlang_equal(const FieldValue& a, const FieldValue& b) {
  auto number = [](const FieldValue& v) -> std::optional<double> {
    if (auto t = v.get_if<Timestamp>()) return static_cast<double>(t->seconds);
    return v.as_number();
  };
  auto na = number(a), nb = number(b);
  if (na || nb) {
    if (!(na && nb)) return false;
    // Compare integers exactly when both are integers (doubles lose precision past 2^53).
    auto ia = a.as_integer(), ib = b.as_integer();
    if (ia && ib) return *ia == *ib;
    return *na == *nb;
  }
  const std::string* sa = a.as_string();
  const std::string* sb = b.as_string();
  if (sa || sb) return sa && sb && *sa == *sb;
  return a == b;
}

}  // namespace

FieldTable sort_by_key(const FieldTable& table) {
  FieldTable sorted = table;
  std::stable_sort(sorted.entries().begin(), sorted.entries().end(),
                   [](const FieldEntry& x, const FieldEntry& y) { return x.name < y.name; });
  return sorted;
}

namespace {

// A binding's arguments as matching uses them: x-match parsed, the compared entries (without
// x-match, and without other x- keys unless *-with-x) sorted by key (the order RabbitMQ's
// merge-match needs).
void prepare_pattern(const FieldTable& args, bool& all, std::vector<FieldEntry>& pattern) {
  const MatchKind kind = parse_x_match(args);
  const bool with_x = kind == MatchKind::kAllWithX || kind == MatchKind::kAnyWithX;
  all = kind == MatchKind::kAll || kind == MatchKind::kAllWithX;
  pattern.clear();
  const FieldTable sorted = sort_by_key(args);
  for (const FieldEntry& e : sorted.entries()) {
    if (e.name == "x-match" || (!with_x && e.name.starts_with("x-"))) continue;
    pattern.push_back(e);
  }
}

// A message's headers sorted by key, as pointers into its table (no copy of the values).
std::vector<const FieldEntry*> sorted_entries(const FieldTable* headers) {
  std::vector<const FieldEntry*> sorted;
  if (headers == nullptr) return sorted;
  sorted.reserve(headers->entries().size());
  for (const FieldEntry& e : headers->entries()) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const FieldEntry* x, const FieldEntry* y) { return x->name < y->name; });
  return sorted;
}

// A merge over the prepared pattern and the sorted headers, clause for clause as
// rabbit_exchange_type_headers.
bool prepared_match(bool all, const std::vector<FieldEntry>& pattern,
                    const std::vector<const FieldEntry*>& data) {
  bool all_match = true;
  bool any_match = false;
  size_t p = 0, d = 0;
  while (true) {
    if (all && !all_match) return false;
    if (!all && any_match) return true;
    if (p == pattern.size()) return all ? all_match : any_match;
    if (d == data.size()) return all ? false : any_match;
    const FieldEntry& pe = pattern[p];
    const FieldEntry& de = *data[d];
    if (pe.name > de.name) {
      ++d;
    } else if (pe.name < de.name) {
      all_match = false;
      ++p;
    } else {
      if (pe.value.is<Void>() || erlang_equal(pe.value, de.value)) {
        any_match = true;
      } else {
        all_match = false;
      }
      ++p;
      ++d;
    }
  }
}

}  // namespace

bool headers_match(const FieldTable& sorted_args, const FieldTable& sorted_headers) {
  bool all = true;
  std::vector<FieldEntry> pattern;
  prepare_pattern(sorted_args, all, pattern);
  return prepared_match(all, pattern, sorted_entries(&sorted_headers));
}

Status HeadersExchange::validate_binding(const Binding& binding) const {
  const FieldValue* v = binding.arguments.find("x-match");
  if (v == nullptr) return Status();
  if (const std::string* s = v->get_if<std::string>()) {
    if (*s == "all" || *s == "any" || *s == "all-with-x" || *s == "any-with-x") return Status();
    // Erlang prints an empty binary as <<>>.
    const std::string shown = s->empty() ? "<<>>" : "<<\"" + *s + "\">>";
    return precondition_failed("Invalid x-match field value " + shown +
                               "; expected all, any, all-with-x, or any-with-x");
  }
  return precondition_failed("Invalid x-match field type " +
                             std::string(erlang_type_name(v->type())) + " (value " + to_string(*v) +
                             "); expected longstr");
}

void HeadersExchange::route(const RoutingInput& input, std::vector<const Destination*>& out) const {
  if (entries_.empty()) return;
  const std::vector<const FieldEntry*> sorted = sorted_entries(input.headers);
  for (const Prepared& e : entries_) {
    if (prepared_match(e.all, e.pattern, sorted)) out.push_back(e.destination);
  }
}

void HeadersExchange::index_add(const Binding& b, const Destination* d) {
  Prepared prepared;
  prepared.destination = d;
  prepare_pattern(b.arguments, prepared.all, prepared.pattern);
  entries_.push_back(std::move(prepared));
}

void HeadersExchange::index_remove(const Binding&, const Destination* d) {
  std::erase_if(entries_, [d](const Prepared& e) { return e.destination == d; });
}

}  // namespace burrow::broker
