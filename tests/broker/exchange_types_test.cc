// Tests for the direct, fanout, topic and headers exchange types: their matching rules in
// isolation (RabbitMQ's rabbit_exchange_type_*.erl semantics) and through a real broker.
#include "broker/exchange_types.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/status_macros.h"
#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::declare;
using testing::drain_bodies;
using testing::publish;
using testing::TestBroker;
using testing::with_headers;

// An exchange under test whose destinations are labelled exchanges, so routing results can
// be read back as names without a broker.
class Bench {
 public:
  explicit Bench(const std::string& type)
      : x_(make_exchange(ExchangeSettings{.name = "x", .type = type})) {}

  Status bind(const std::string& dest, std::string key, FieldTable args = {}) {
    Binding b{x_->name(), DestinationKind::kExchange, dest, std::move(key), std::move(args)};
    RETURN_IF_ERROR(x_->validate_binding(b));
    x_->add_binding(b, Destination{nullptr, label(dest)});
    return Status();
  }
  bool unbind(const std::string& dest, std::string key, FieldTable args = {}) {
    return x_->remove_binding(
        Binding{x_->name(), DestinationKind::kExchange, dest, std::move(key), std::move(args)});
  }
  // The destinations matched for these routing keys (sorted, de-duplicated).
  std::vector<std::string> route(std::vector<std::string_view> keys,
                                 const FieldTable* headers = nullptr) const {
    std::vector<const Destination*> out;
    x_->route(RoutingInput{keys, headers}, out);
    std::vector<std::string> names;
    for (const Destination* d : out) names.push_back(d->exchange->name());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }
  std::vector<std::string> route_key(std::string_view key) const { return route({key}); }
  std::vector<std::string> route_headers(const FieldTable& headers) const {
    return route({""}, &headers);
  }
  // How many times each destination came back (before de-duplication).
  size_t raw_matches(std::string_view key) const {
    std::vector<std::string_view> keys{key};
    std::vector<const Destination*> out;
    x_->route(RoutingInput{keys, nullptr}, out);
    return out.size();
  }
  Exchange& exchange() { return *x_; }

 private:
  Exchange* label(const std::string& name) {
    auto& l = labels_[name];
    if (!l) l = make_exchange(ExchangeSettings{.name = name, .type = "fanout"});
    return l.get();
  }

  ExchangePtr x_;
  std::map<std::string, ExchangePtr> labels_;
};

using Names = std::vector<std::string>;

// ---- direct ------------------------------------------------------------------------------

TEST(DirectExchange, RoutesOnAnExactKey) {
  Bench x("direct");
  ASSERT_OK(x.bind("d1", "k"));
  ASSERT_OK(x.bind("d2", "k"));
  ASSERT_OK(x.bind("d3", "other"));
  EXPECT_EQ(x.route_key("k"), (Names{"d1", "d2"}));
  EXPECT_EQ(x.route_key("other"), (Names{"d3"}));
  EXPECT_EQ(x.route_key("K"), Names{});
  EXPECT_EQ(x.route_key("k.sub"), Names{});
  EXPECT_EQ(x.route_key(""), Names{});
}

TEST(DirectExchange, EmptyKeyIsAKeyLikeAnyOther) {
  Bench x("direct");
  ASSERT_OK(x.bind("d", ""));
  EXPECT_EQ(x.route_key(""), (Names{"d"}));
  EXPECT_EQ(x.route_key("k"), Names{});
}

TEST(DirectExchange, EveryRoutingKeyIsLookedUp) {
  Bench x("direct");
  ASSERT_OK(x.bind("d1", "a"));
  ASSERT_OK(x.bind("d2", "b"));
  EXPECT_EQ(x.route({"a", "b", "c"}), (Names{"d1", "d2"}));
}

TEST(DirectExchange, UnbindRemovesOnlyThatBinding) {
  Bench x("direct");
  ASSERT_OK(x.bind("d1", "k"));
  ASSERT_OK(x.bind("d2", "k"));
  EXPECT_TRUE(x.unbind("d1", "k"));
  EXPECT_FALSE(x.unbind("d1", "k"));
  EXPECT_EQ(x.route_key("k"), (Names{"d2"}));
}

// ---- binding bookkeeping (every type) ---------------------------------------------------

// Many bindings: a duplicate is still refused (including one that differs from another only
// in its arguments, on a headers exchange), removal by destination keeps the others and their
// routes, and a removed binding can be added again.
TEST(ExchangeBindings, ManyBindingsAddRemoveAndDuplicates) {
  Bench x("topic");
  for (int i = 0; i < 5000; ++i) {
    ASSERT_OK(x.bind("d" + std::to_string(i % 50), "k." + std::to_string(i)));
  }
  EXPECT_EQ(x.exchange().bindings().size(), 5000u);
  // Re-adding any of them is a no-op.
  Binding again{"x", DestinationKind::kExchange, "d7", "k.7", {}};
  EXPECT_FALSE(x.exchange().add_binding(again, Destination{}));
  EXPECT_EQ(x.exchange().bindings().size(), 5000u);
  // Every binding to d7 (100 of them) goes; the rest route as before.
  std::vector<Binding> removed;
  EXPECT_EQ(x.exchange().remove_bindings_to(DestinationKind::kExchange, "d7", &removed), 100u);
  ASSERT_EQ(removed.size(), 100u);
  EXPECT_EQ(removed.front().routing_key, "k.4957");  // last to first
  EXPECT_EQ(x.exchange().bindings().size(), 4900u);
  EXPECT_EQ(x.route_key("k.7"), Names{});
  EXPECT_EQ(x.route_key("k.8"), (Names{"d8"}));
  EXPECT_EQ(x.route_key("k.4999"), (Names{"d49"}));
  for (const Binding& b : x.exchange().bindings()) ASSERT_NE(b.destination, "d7");
  // Back again.
  ASSERT_OK(x.bind("d7", "k.7"));
  EXPECT_EQ(x.route_key("k.7"), (Names{"d7"}));
  EXPECT_TRUE(x.unbind("d7", "k.7"));
  EXPECT_FALSE(x.unbind("d7", "k.7"));
}

TEST(ExchangeBindings, HeadersBindingsDifferingOnlyInArgumentsAreDistinct) {
  Bench x("headers");
  ASSERT_OK(x.bind("d", "", FieldTable{{"x-match", "all"}, {"a", int32_t{1}}}));
  ASSERT_OK(x.bind("d", "", FieldTable{{"x-match", "all"}, {"a", int32_t{2}}}));
  ASSERT_OK(x.bind("d", "", FieldTable{{"x-match", "all"}, {"a", int32_t{1}}}));  // duplicate
  EXPECT_EQ(x.exchange().bindings().size(), 2u);
  EXPECT_TRUE(x.unbind("d", "", FieldTable{{"x-match", "all"}, {"a", int32_t{2}}}));
  EXPECT_FALSE(x.unbind("d", "", FieldTable{{"x-match", "all"}, {"a", int32_t{2}}}));
  EXPECT_EQ(x.route_headers(FieldTable{{"a", int32_t{1}}}), (Names{"d"}));
  EXPECT_EQ(x.route_headers(FieldTable{{"a", int32_t{2}}}), Names{});
}

TEST(DirectExchange, RoutesThroughTheBroker) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "eu"));
  ASSERT_OK(declare(*ch, "us"));
  ASSERT_OK(ch->bind_queue("eu", "amq.direct", "eu", {}));
  ASSERT_OK(ch->bind_queue("us", "amq.direct", "us", {}));
  ASSERT_OK(publish(*ch, "amq.direct", "eu", "for-eu"));
  ASSERT_OK(publish(*ch, "amq.direct", "asia", "for-nobody"));
  EXPECT_EQ(drain_bodies(*ch, "eu"), Names{"for-eu"});
  EXPECT_TRUE(drain_bodies(*ch, "us").empty());
}

// ---- fanout ------------------------------------------------------------------------------

TEST(FanoutExchange, RoutesToEveryBindingWhateverTheKey) {
  Bench x("fanout");
  ASSERT_OK(x.bind("d1", "ignored"));
  ASSERT_OK(x.bind("d2", ""));
  EXPECT_EQ(x.route_key("anything"), (Names{"d1", "d2"}));
  EXPECT_EQ(x.route_key(""), (Names{"d1", "d2"}));
  EXPECT_TRUE(x.unbind("d1", "ignored"));
  EXPECT_EQ(x.route_key("anything"), (Names{"d2"}));
}

TEST(FanoutExchange, WithoutBindingsRoutesNowhere) {
  Bench x("fanout");
  EXPECT_EQ(x.route_key("k"), Names{});
}

TEST(FanoutExchange, RoutesThroughTheBroker) {
  TestBroker b;
  auto& ch = b.open_channel();
  for (const char* q : {"q1", "q2", "q3"}) {
    ASSERT_OK(declare(*ch, q));
    ASSERT_OK(ch->bind_queue(q, "amq.fanout", q, {}));
  }
  ASSERT_OK(publish(*ch, "amq.fanout", "whatever", "all"));
  for (const char* q : {"q1", "q2", "q3"}) EXPECT_EQ(drain_bodies(*ch, q), Names{"all"}) << q;
}

// ---- topic -------------------------------------------------------------------------------

TEST(SplitTopicKey, SplitsOnEveryDot) {
  using Words = std::vector<std::string_view>;
  EXPECT_EQ(split_topic_key(""), Words{});
  EXPECT_EQ(split_topic_key("a"), (Words{"a"}));
  EXPECT_EQ(split_topic_key("a.b.c"), (Words{"a", "b", "c"}));
  EXPECT_EQ(split_topic_key("a."), (Words{"a", ""}));
  EXPECT_EQ(split_topic_key(".a"), (Words{"", "a"}));
  EXPECT_EQ(split_topic_key("a..b"), (Words{"a", "", "b"}));
  EXPECT_EQ(split_topic_key("."), (Words{"", ""}));
  EXPECT_EQ(split_topic_key(".."), (Words{"", "", ""}));
  EXPECT_EQ(split_topic_key("*.#"), (Words{"*", "#"}));
}

struct TopicRow {
  const char* pattern;
  const char* key;
  bool matches;
};

TEST(TopicExchange, MatchesRabbitMqsPatternTable) {
  const TopicRow kRows[] = {
      // '*' is exactly one word (possibly empty).
      {"a.*", "a.b", true},
      {"a.*", "a", false},
      {"a.*", "a.b.c", false},
      {"a.*", "a.", true},
      {"*", "a", true},
      {"*", "", false},
      {"*", "a.b", false},
      {"*", ".", false},
      {"*.*", ".", true},
      {"*.*", "a.", true},
      {"*.*", "a", false},
      {"a.*.b", "a..b", true},
      // '#' is zero or more words.
      {"a.#", "a", true},
      {"a.#", "a.b", true},
      {"a.#", "a.b.c", true},
      {"a.#", "b.a", false},
      {"a.#", "", false},
      {"#", "", true},
      {"#", "a", true},
      {"#", "a.b.c", true},
      {"#", ".", true},
      {"#.#", "", true},
      {"#.#", "a.b", true},
      {"#.b", "b", true},
      {"#.b", "a.b", true},
      {"#.b", "a.a.b", true},
      {"#.b", "b.a", false},
      {"a.#.b", "a.b", true},
      {"a.#.b", "a.x.b", true},
      {"a.#.b", "a.x.y.b", true},
      {"a.#.b", "a.b.b", true},
      {"a.#.b", "a.b.c", false},
      {"a.#.b", "a", false},
      {"a.#.b", "b", false},
      {"a.*.#", "a", false},
      {"a.*.#", "a.b", true},
      {"a.*.#", "a.b.c.d", true},
      {"*.#", "", false},
      {"*.#", "a", true},
      {"#.*", "", false},
      {"#.*", "a.b", true},
      // Literal words, the empty key and empty words.
      {"", "", true},
      {"", "a", false},
      {"a", "", false},
      {"a.b", "a.b", true},
      {"a.b", "a.b.", false},
      {"a", "A", false},
      {"a..b", "a..b", true},
      {"a..b", "a.b", false},
      // Wildcards in the routing key are plain words there.
      {"a.b", "a.*", false},
      {"a.*", "a.*", true},
      {"a.#", "a.#", true},
  };
  for (const TopicRow& row : kRows) {
    Bench x("topic");
    ASSERT_OK(x.bind("d", row.pattern));
    EXPECT_EQ(!x.route_key(row.key).empty(), row.matches)
        << "pattern '" << row.pattern << "' key '" << row.key << "'";
  }
}

TEST(TopicExchange, ManyBindingsShareTheTrie) {
  Bench x("topic");
  ASSERT_OK(x.bind("eu-any", "orders.eu.*"));
  ASSERT_OK(x.bind("all-orders", "orders.#"));
  ASSERT_OK(x.bind("created", "*.*.created"));
  ASSERT_OK(x.bind("exact", "orders.eu.created"));
  ASSERT_OK(x.bind("everything", "#"));
  EXPECT_EQ(x.route_key("orders.eu.created"),
            (Names{"all-orders", "created", "eu-any", "everything", "exact"}));
  EXPECT_EQ(x.route_key("orders.us.created"), (Names{"all-orders", "created", "everything"}));
  EXPECT_EQ(x.route_key("orders"), (Names{"all-orders", "everything"}));
  EXPECT_EQ(x.route_key("users.eu.created"), (Names{"created", "everything"}));
}

TEST(TopicExchange, UnbindLeavesLongerPatternsOnTheSamePath) {
  Bench x("topic");
  ASSERT_OK(x.bind("short", "a.*"));
  ASSERT_OK(x.bind("long", "a.*.c"));
  ASSERT_OK(x.bind("sibling", "a.b"));
  EXPECT_TRUE(x.unbind("short", "a.*"));
  EXPECT_EQ(x.route_key("a.x"), Names{});
  EXPECT_EQ(x.route_key("a.b"), (Names{"sibling"}));
  EXPECT_EQ(x.route_key("a.x.c"), (Names{"long"}));
  EXPECT_TRUE(x.unbind("long", "a.*.c"));
  EXPECT_EQ(x.route_key("a.x.c"), Names{});
  EXPECT_EQ(x.route_key("a.b"), (Names{"sibling"}));
  EXPECT_FALSE(x.unbind("long", "a.*.c"));
}

TEST(TopicExchange, SameDestinationWithTwoPatternsIsKeptUntilBothGo) {
  Bench x("topic");
  ASSERT_OK(x.bind("d", "a.*"));
  ASSERT_OK(x.bind("d", "#"));
  EXPECT_EQ(x.route_key("a.b"), (Names{"d"}));
  EXPECT_TRUE(x.unbind("d", "#"));
  EXPECT_EQ(x.route_key("a.b"), (Names{"d"}));
  EXPECT_EQ(x.route_key("z"), Names{});
}

TEST(TopicExchange, RoutesOneCopyPerQueueThroughTheBroker) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(declare(*ch, "errors"));
  ASSERT_OK(ch->bind_queue("q", "amq.topic", "log.*", {}));
  ASSERT_OK(ch->bind_queue("q", "amq.topic", "#", {}));
  ASSERT_OK(ch->bind_queue("q", "amq.topic", "log.error", {}));
  ASSERT_OK(ch->bind_queue("errors", "amq.topic", "*.error", {}));
  ASSERT_OK(publish(*ch, "amq.topic", "log.error", "e1"));
  ASSERT_OK(publish(*ch, "amq.topic", "log.info", "i1"));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Names{"e1", "i1"}));
  EXPECT_EQ(drain_bodies(*ch, "errors"), (Names{"e1"}));
}

// ---- headers -----------------------------------------------------------------------------

bool match(const FieldTable& args, const FieldTable& headers) {
  return headers_match(sort_by_key(args), sort_by_key(headers));
}

TEST(HeadersMatch, AllNeedsEveryKeyWithAnEqualValue) {
  FieldTable args{{"x-match", "all"}, {"format", "pdf"}, {"type", "report"}};
  EXPECT_TRUE(match(args, {{"format", "pdf"}, {"type", "report"}}));
  EXPECT_TRUE(match(args, {{"type", "report"}, {"format", "pdf"}, {"extra", 1}}));
  EXPECT_FALSE(match(args, {{"format", "pdf"}, {"type", "log"}}));
  EXPECT_FALSE(match(args, {{"format", "pdf"}}));
  EXPECT_FALSE(match(args, {}));
}

TEST(HeadersMatch, MissingXMatchMeansAll) {
  FieldTable args{{"a", 1}, {"b", 2}};
  EXPECT_TRUE(match(args, {{"a", 1}, {"b", 2}}));
  EXPECT_FALSE(match(args, {{"a", 1}}));
}

TEST(HeadersMatch, AnyNeedsOneKeyWithAnEqualValue) {
  FieldTable args{{"x-match", "any"}, {"format", "pdf"}, {"type", "report"}};
  EXPECT_TRUE(match(args, {{"format", "pdf"}}));
  EXPECT_TRUE(match(args, {{"format", "zip"}, {"type", "report"}}));
  EXPECT_FALSE(match(args, {{"format", "zip"}, {"type", "log"}}));
  EXPECT_FALSE(match(args, {{"other", "pdf"}}));
  EXPECT_FALSE(match(args, {}));
}

TEST(HeadersMatch, VoidMeansTheHeaderIsPresent) {
  FieldTable args{{"a", Void{}}};
  EXPECT_TRUE(match(args, {{"a", "anything"}}));
  EXPECT_TRUE(match(args, {{"a", 0}}));
  EXPECT_TRUE(match(args, {{"a", Void{}}}));
  EXPECT_FALSE(match(args, {{"b", 1}}));
  EXPECT_FALSE(match(args, {}));
  FieldTable any{{"x-match", "any"}, {"a", Void{}}, {"b", 1}};
  EXPECT_TRUE(match(any, {{"a", "x"}}));
}

TEST(HeadersMatch, NumbersCompareByValueAcrossTypes) {
  EXPECT_TRUE(match({{"n", int32_t{1}}}, {{"n", 1.0}}));
  EXPECT_TRUE(match({{"n", 1.0}}, {{"n", int64_t{1}}}));
  EXPECT_TRUE(match({{"n", 1.0f}}, {{"n", uint8_t{1}}}));
  EXPECT_TRUE(match({{"n", int8_t{-1}}}, {{"n", int64_t{-1}}}));
  EXPECT_TRUE(match({{"n", uint32_t{4000000000u}}}, {{"n", int64_t{4000000000}}}));
  EXPECT_FALSE(match({{"n", int32_t{1}}}, {{"n", 1.5}}));
  EXPECT_FALSE(match({{"n", int32_t{1}}}, {{"n", int32_t{2}}}));
  // Beyond 2^53 integers still compare exactly.
  EXPECT_FALSE(match({{"n", int64_t{9007199254740993}}}, {{"n", int64_t{9007199254740992}}}));
}

TEST(HeadersMatch, TimestampsCompareAsIntegers) {
  EXPECT_TRUE(match({{"t", Timestamp{5}}}, {{"t", int64_t{5}}}));
  EXPECT_TRUE(match({{"t", Timestamp{5}}}, {{"t", Timestamp{5}}}));
  EXPECT_FALSE(match({{"t", Timestamp{5}}}, {{"t", Timestamp{6}}}));
}

TEST(HeadersMatch, StringsAndByteArraysCompareByContent) {
  EXPECT_TRUE(match({{"s", "abc"}}, {{"s", Bytes{"abc"}}}));
  EXPECT_FALSE(match({{"s", "abc"}}, {{"s", "abd"}}));
  EXPECT_FALSE(match({{"s", "1"}}, {{"s", 1}}));
}

TEST(HeadersMatch, OtherTypesCompareExactly) {
  EXPECT_TRUE(match({{"b", true}}, {{"b", true}}));
  EXPECT_FALSE(match({{"b", true}}, {{"b", false}}));
  EXPECT_FALSE(match({{"b", true}}, {{"b", 1}}));
  EXPECT_TRUE(match({{"d", Decimal{2, 150}}}, {{"d", Decimal{2, 150}}}));
  EXPECT_TRUE(match({{"t", FieldTable{{"k", 1}}}}, {{"t", FieldTable{{"k", 1}}}}));
  EXPECT_FALSE(match({{"t", FieldTable{{"k", 1}}}}, {{"t", FieldTable{{"k", 2}}}}));
}

TEST(HeadersMatch, XKeysAreIgnoredByAllAndAny) {
  FieldTable all{{"x-match", "all"}, {"x-tenant", "a"}, {"format", "pdf"}};
  EXPECT_TRUE(match(all, {{"format", "pdf"}}));
  FieldTable any{{"x-match", "any"}, {"x-tenant", "a"}};
  EXPECT_FALSE(match(any, {{"x-tenant", "a"}}));
}

TEST(HeadersMatch, WithoutOrdinaryKeysAllMatchesEverythingAndAnyNothing) {
  EXPECT_TRUE(match({{"x-match", "all"}}, {}));
  EXPECT_TRUE(match({{"x-match", "all"}}, {{"a", 1}}));
  EXPECT_TRUE(match({}, {}));
  EXPECT_FALSE(match({{"x-match", "any"}}, {{"a", 1}}));
  EXPECT_FALSE(match({{"x-match", "any"}}, {}));
}

TEST(HeadersMatch, AllWithXComparesXKeysToo) {
  FieldTable args{{"x-match", "all-with-x"}, {"x-tenant", "a"}, {"format", "pdf"}};
  EXPECT_FALSE(match(args, {{"format", "pdf"}}));
  EXPECT_TRUE(match(args, {{"format", "pdf"}, {"x-tenant", "a"}}));
  EXPECT_FALSE(match(args, {{"format", "pdf"}, {"x-tenant", "b"}}));
  // The x-match argument itself is never looked for in the message.
  EXPECT_TRUE(match({{"x-match", "all-with-x"}, {"a", 1}}, {{"a", 1}}));
}

TEST(HeadersMatch, AnyWithXComparesXKeysToo) {
  FieldTable args{{"x-match", "any-with-x"}, {"x-tenant", "a"}};
  EXPECT_TRUE(match(args, {{"x-tenant", "a"}}));
  EXPECT_FALSE(match(args, {{"x-tenant", "b"}}));
  EXPECT_FALSE(match(args, {}));
}

TEST(HeadersMatch, UnvalidatedXMatchValuesMeanAll) {
  FieldTable args{{"x-match", "bogus"}, {"a", 1}};
  EXPECT_TRUE(match(args, {{"a", 1}}));
  EXPECT_FALSE(match(args, {{"a", 2}}));
  FieldTable typed{{"x-match", int32_t{1}}, {"a", 1}};
  EXPECT_TRUE(match(typed, {{"a", 1}}));
  EXPECT_FALSE(match(typed, {}));
}

TEST(HeadersMatch, MergesKeysOnBothSidesOfTheData) {
  FieldTable args{{"z", 3}, {"a", 1}, {"m", 2}};
  EXPECT_TRUE(match(args, {{"b", 0}, {"m", 2}, {"a", 1}, {"zz", 0}, {"z", 3}, {"0", 0}}));
  EXPECT_FALSE(match({{"z", 1}}, {{"a", 1}}));
  EXPECT_FALSE(match({{"x-match", "any"}, {"z", 1}}, {{"a", 1}}));
}

TEST(SortByKey, SortsBytewiseAndStably) {
  FieldTable t{{"b", 1}, {"a", 1}, {"b", 2}, {"B", 0}, {"\xff", 0}, {"", 0}};
  FieldTable sorted = sort_by_key(t);
  std::vector<std::string> names;
  for (const auto& e : sorted.entries()) names.push_back(e.name);
  EXPECT_EQ(names, (Names{"", "B", "a", "b", "b", "\xff"}));
  EXPECT_EQ(*sorted.entries()[3].value.get_if<int32_t>(), 1);
  EXPECT_EQ(*sorted.entries()[4].value.get_if<int32_t>(), 2);
  EXPECT_EQ(t.entries()[0].name, "b");  // the input is untouched
}

TEST(HeadersExchange, RoutesOnHeadersNotKeys) {
  Bench x("headers");
  ASSERT_OK(x.bind("pdf", "ignored", {{"x-match", "all"}, {"format", "pdf"}}));
  ASSERT_OK(x.bind("any-eu", "", {{"x-match", "any"}, {"region", "eu"}, {"lang", "fr"}}));
  FieldTable pdf_eu{{"format", "pdf"}, {"region", "eu"}};
  EXPECT_EQ(x.route_headers(pdf_eu), (Names{"any-eu", "pdf"}));
  FieldTable fr{{"lang", "fr"}};
  EXPECT_EQ(x.route_headers(fr), (Names{"any-eu"}));
  EXPECT_EQ(x.route({"ignored"}, nullptr), Names{});
}

TEST(HeadersExchange, BindingWithoutArgumentsMatchesEveryMessage) {
  Bench x("headers");
  ASSERT_OK(x.bind("all", ""));
  EXPECT_EQ(x.route({""}, nullptr), (Names{"all"}));
  FieldTable h{{"a", 1}};
  EXPECT_EQ(x.route_headers(h), (Names{"all"}));
}

TEST(HeadersExchange, AcceptsTheFourXMatchValues) {
  Bench x("headers");
  int i = 0;
  for (const char* v : {"all", "any", "all-with-x", "any-with-x"}) {
    EXPECT_OK(x.bind("d" + std::to_string(i++), "", {{"x-match", v}}));
  }
}

TEST(HeadersExchange, RefusesAnUnknownXMatchValue) {
  Bench x("headers");
  Status s = x.bind("d", "", {{"x-match", "some"}});
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(),
            "Invalid x-match field value <<\"some\">>; expected all, any, all-with-x, or "
            "any-with-x");
}

// Regression test, fixed (was: broker/exchange_types.cc, HeadersExchange::validate_binding, the
// non-string branch): RabbitMQ's text is "Invalid x-match field type ~p (value ~p); expected
// longstr" with the AMQP type name and the value, e.g. "Invalid x-match field type signedint (value
// 1); expected longstr". Burrow prints only the value: "Invalid x-match field type 1; expected
// longstr".
TEST(HeadersExchange, RefusesANonStringXMatchWithRabbitMqsText) {
  Bench x("headers");
  Status s = x.bind("d", "", {{"x-match", int32_t{1}}});
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "Invalid x-match field type signedint (value 1); expected longstr")
      << "BUG: RabbitMQ names the AMQP type and the value";
}

TEST(HeadersExchange, InvalidBindingIsRefusedThroughTheBroker) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  Status s = ch->bind_queue("q", "amq.headers", "", {{"x-match", "nope"}});
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  // The refused binding routes nothing.
  ASSERT_OK(publish(*ch, "amq.headers", "", "m", with_headers({{"a", 1}})));
  EXPECT_TRUE(drain_bodies(*ch, "q").empty());
}

TEST(HeadersExchange, RoutesEachMessageOnItsOwnHeadersThroughTheBroker) {
  // Same exchange and routing key, different headers: routing must not be cached by key.
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "pdf"));
  ASSERT_OK(declare(*ch, "zip"));
  ASSERT_OK(ch->bind_queue("pdf", "amq.match", "", {{"format", "pdf"}}));
  ASSERT_OK(ch->bind_queue("zip", "amq.match", "", {{"format", "zip"}}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(publish(*ch, "amq.match", "same-key", "p" + std::to_string(i),
                      with_headers({{"format", "pdf"}})));
    ASSERT_OK(publish(*ch, "amq.match", "same-key", "z" + std::to_string(i),
                      with_headers({{"format", "zip"}})));
  }
  ASSERT_OK(publish(*ch, "amq.match", "same-key", "none"));
  EXPECT_EQ(drain_bodies(*ch, "pdf"), (Names{"p0", "p1", "p2"}));
  EXPECT_EQ(drain_bodies(*ch, "zip"), (Names{"z0", "z1", "z2"}));
}

TEST(HeadersExchange, NumericHeaderMatchesAcrossTypesThroughTheBroker) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->bind_queue("q", "amq.headers", "", {{"x-match", "all"}, {"n", int32_t{1}}}));
  ASSERT_OK(publish(*ch, "amq.headers", "", "double", with_headers({{"n", 1.0}})));
  ASSERT_OK(publish(*ch, "amq.headers", "", "long", with_headers({{"n", int64_t{1}}})));
  ASSERT_OK(publish(*ch, "amq.headers", "", "two", with_headers({{"n", 2}})));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Names{"double", "long"}));
}

}  // namespace
}  // namespace burrow::broker
