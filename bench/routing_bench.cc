// Routing benchmarks: a topic exchange with up to 10k bindings and a headers exchange, each
// called as the vhost calls it on every publish (Exchange::route into a reused vector). The
// exchanges stand alone, without a broker: destinations are placeholders, never followed.
// Module: broker only.
//
// Run: build/release/bin/burrow_routing_bench
//      build/release/bin/burrow_routing_bench --benchmark_filter=Topic
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <burrow/field_table.h>

#include "broker/exchange.h"
#include "broker/exchange_types.h"

namespace {

namespace br = burrow::broker;

// Binds `pattern` (or `arguments`, for headers) from `x` to placeholder destination number
// `dest`. The destination is an exchange binding whose target pointer is never followed.
void bind(br::Exchange& x, int dest, std::string pattern, burrow::FieldTable arguments = {}) {
  br::Binding b{x.name(), br::DestinationKind::kExchange, "d" + std::to_string(dest),
                std::move(pattern), std::move(arguments)};
  x.add_binding(b, br::Destination{nullptr, nullptr});
}

// `n` topic bindings shaped like a service's event keys "<domain>.<entity>.<event>":
// binding i is for domain i % 10, entity (i / 10) % 100, event i / 1000, so 10k bindings
// cover 10 x 100 x 10 keys once. In every 20th block of ten (by (i / 10) % 20) the bindings
// are "<domain>.#" (block 0) or "*.<entity>.*" (block 10) instead of exact keys, so the trie
// has wildcard branches at the first and second level on every lookup.
br::ExchangePtr topic_with_bindings(int n) {
  auto x = br::make_exchange(br::ExchangeSettings{.name = "events", .type = "topic"});
  for (int i = 0; i < n; ++i) {
    const int domain = i % 10;
    const int entity = (i / 10) % 100;
    const int event = i / 1000;
    std::string pattern;
    if ((i / 10) % 20 == 0) {
      pattern = "dom" + std::to_string(domain) + ".#";
    } else if ((i / 10) % 20 == 10) {
      pattern = "*.ent" + std::to_string(entity) + ".*";
    } else {
      pattern = "dom" + std::to_string(domain) + ".ent" + std::to_string(entity) + ".ev" +
                std::to_string(event);
    }
    bind(*x, i % 1000, std::move(pattern));
  }
  return x;
}

// Routing one key through the topic exchange. Args: bindings, and whether the key matches
// (1: "dom3.ent31.ev7", which matches the "dom3.#" bindings and, with 10k bindings, its exact one;
// 0: "other.thing.happened", which matches nothing). The counter "matched" says how many.
void BM_TopicRoute(benchmark::State& state) {
  const auto x = topic_with_bindings(static_cast<int>(state.range(0)));
  const std::string key = state.range(1) == 1 ? "dom3.ent31.ev7" : "other.thing.happened";
  const std::string_view keys[] = {key};
  std::vector<const br::Destination*> out;
  size_t matched = 0;
  for (auto _ : state) {
    out.clear();
    x->route(br::RoutingInput{keys, nullptr}, out);
    matched = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["matched"] = static_cast<double>(matched);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TopicRoute)->ArgNames({"bindings", "hit"})->ArgsProduct({{100, 1000, 10000}, {1, 0}});

// Keys of 8 words against 10k bindings with '#' in the middle ("dom3.#.ev7"): the matcher's
// backtracking case.
void BM_TopicRouteHashInTheMiddle(benchmark::State& state) {
  auto x = topic_with_bindings(10000);
  for (int d = 0; d < 10; ++d) {
    bind(*x, d, "dom" + std::to_string(d) + ".#.ev" + std::to_string(d));
  }
  const std::string key = "dom3.a.b.c.d.e.f.ev3";
  const std::string_view keys[] = {key};
  std::vector<const br::Destination*> out;
  for (auto _ : state) {
    out.clear();
    x->route(br::RoutingInput{keys, nullptr}, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["matched"] = static_cast<double>(out.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TopicRouteHashInTheMiddle);

// Adding 10k topic bindings (a topology import): bindings per second.
void BM_TopicBind10k(benchmark::State& state) {
  for (auto _ : state) {
    auto x = topic_with_bindings(10000);
    benchmark::DoNotOptimize(x.get());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
  state.SetLabel("10000 bindings per iteration");
}
BENCHMARK(BM_TopicBind10k)->Unit(benchmark::kMillisecond);

// A headers exchange with `n` bindings, each on two headers ("format", "region") with
// x-match all (arg 0) or any (arg 1); the message carries five headers and matches one
// binding's pair exactly (plus, for "any", every binding sharing one of the values).
void BM_HeadersRoute(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool any = state.range(1) == 1;
  auto x = br::make_exchange(br::ExchangeSettings{.name = "h", .type = "headers"});
  for (int i = 0; i < n; ++i) {
    bind(*x, i, "",
         burrow::FieldTable{{"x-match", any ? "any" : "all"},
                            {"format", "f" + std::to_string(i % 97)},
                            {"region", "r" + std::to_string(i)}});
  }
  const burrow::FieldTable headers{{"app", "billing"},
                                   {"format", "f5"},
                                   {"priority", int32_t{3}},
                                   {"region", "r5"},
                                   {"tenant", "acme"}};
  const std::string_view keys[] = {""};
  std::vector<const br::Destination*> out;
  for (auto _ : state) {
    out.clear();
    x->route(br::RoutingInput{keys, &headers}, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["matched"] = static_cast<double>(out.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeadersRoute)->ArgNames({"bindings", "any"})->ArgsProduct({{10, 100, 1000}, {0, 1}});

}  // namespace

BENCHMARK_MAIN();
