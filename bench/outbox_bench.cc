// burrow_outbox_bench: transactional outbox throughput (docs/benchmarks.md, "Outbox").
//
//   burrow_outbox_bench --data-dir DIR [--durability os|fsync] [--txns N] [--threads T]
//                       [--window W] [--body B] [--upstream amqp://...] [--no-relay]
//
// T threads commit N transactions in all, each = 1 state write (an application column) + 1
// published message of B bytes, keeping up to W commits in flight per thread (commit_async).
// The relay runs meanwhile: to this broker (a durable queue bound to the topic exchange, never
// consumed) or, with --upstream, to that broker over AMQP with publisher confirms. Prints one
// JSON line: commit rate (from the first commit to the last commit's callback), relay rate
// (from the first commit until the outbox drained) and the commit-to-relayed latency (local:
// the enqueue + row delete is durable; upstream: the upstream's confirm).
//
// --no-relay measures commits alone: the messages go to an upstream that is never added, so
// nothing is relayed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <burrow/broker.h>

#include "client/amqp/channel.h"
#include "client/amqp/connection.h"

namespace {

struct Args {
  std::string data_dir = "/tmp/burrow-outbox-bench";
  burrow::Durability durability = burrow::Durability::kOs;
  int64_t txns = 200000;
  int threads = 2;
  int window = 256;
  size_t body = 64;
  std::string upstream;
  bool relay = true;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "burrow_outbox_bench: %s\n", what.c_str());
  std::exit(1);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + std::string(arg));
      return argv[++i];
    };
    if (arg == "--data-dir") {
      a.data_dir = value();
    } else if (arg == "--durability") {
      a.durability = value() == "fsync" ? burrow::Durability::kFsync : burrow::Durability::kOs;
    } else if (arg == "--txns") {
      a.txns = std::atoll(value().c_str());
    } else if (arg == "--threads") {
      a.threads = std::atoi(value().c_str());
    } else if (arg == "--window") {
      a.window = std::atoi(value().c_str());
    } else if (arg == "--body") {
      a.body = static_cast<size_t>(std::atoll(value().c_str()));
    } else if (arg == "--upstream") {
      a.upstream = value();
    } else if (arg == "--no-relay") {
      a.relay = false;
    } else {
      die("unknown argument " + std::string(arg));
    }
  }
  return a;
}

void check(const burrow::Status& s, const std::string& what) {
  if (!s.ok()) die(what + ": " + s.to_string());
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::string cleanup = "rm -rf '" + args.data_dir + "'";
  if (std::system(cleanup.c_str()) != 0) die("cannot clear " + args.data_dir);

  if (!args.upstream.empty()) {
    using namespace burrow::client::amqp;
    auto options = parse_amqp_uri(args.upstream);
    check(options.status(), "--upstream");
    auto conn = ClientConnection::connect(*options);
    check(conn.status(), "connecting upstream");
    auto ch = (*conn)->open_channel();
    check(ch.status(), "upstream channel");
    check((*ch)->exchange_declare("bench", "topic", ExchangeOptions{.durable = true}),
          "upstream exchange");
    check((*ch)->queue_declare("bench", QueueOptions{.durable = true}).status(), "upstream queue");
    check((*ch)->queue_purge("bench").status(), "upstream purge");
    check((*ch)->queue_bind("bench", "bench", "#"), "upstream bind");
    check((*conn)->close(), "upstream close");
  }

  burrow::Options options;
  options.data_dir = args.data_dir;
  options.durability = args.durability;
  auto opened = burrow::Broker::open(options);
  check(opened.status(), "opening the broker");
  auto broker = std::move(*opened);
  auto cf = broker->column_family("orders");
  check(cf.status(), "column family");
  auto ch = broker->open_channel();
  check(ch.status(), "channel");
  check((*ch)->declare_exchange("bench", "topic", burrow::ExchangeOptions{.durable = true}),
        "exchange");
  check((*ch)->declare_queue("bench", burrow::QueueOptions{.durable = true}).status(), "queue");
  check((*ch)->bind_queue("bench", "bench", "#"), "bind");
  std::string destination;
  if (!args.upstream.empty()) {
    destination = "upstream";
    burrow::UpstreamOptions upstream;
    upstream.url = args.upstream;
    upstream.window = 2000;
    check(broker->add_upstream(destination, upstream), "add_upstream");
  } else if (!args.relay) {
    destination = "never-added";
  }

  const std::string body(args.body, 'x');
  std::atomic<int64_t> failed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  const int64_t per_thread = args.txns / args.threads;
  for (int t = 0; t < args.threads; ++t) {
    threads.emplace_back([&, t] {
      std::mutex mu;
      std::condition_variable cv;
      int in_flight = 0;
      for (int64_t i = 0; i < per_thread; ++i) {
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return in_flight < args.window; });
          in_flight++;
        }
        const std::string key = "order-" + std::to_string(t) + "-" + std::to_string(i);
        burrow::Transaction txn = broker->begin();
        check(txn.put(*cf, key, "{\"qty\":1}"), "put");
        burrow::OutboxMessage m;
        m.exchange = "bench";
        m.routing_key = "order.created";
        m.body = body;
        m.partition_key = key;
        m.destination = destination;
        check(txn.publish(std::move(m)).status(), "publish");
        txn.commit_async([&](burrow::Status s) {
          if (!s.ok()) failed++;
          std::lock_guard lock(mu);
          in_flight--;
          cv.notify_all();
        });
      }
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight == 0; });
    });
  }
  for (auto& t : threads) t.join();
  const double commit_s = seconds_since(start);
  const int64_t committed = per_thread * args.threads;
  double relay_s = 0;
  if (args.relay) {
    check(broker->wait_until_drained(std::chrono::minutes(10)), "draining");
    relay_s = seconds_since(start);
  }
  const auto stats = broker->outbox_stats();
  std::printf(
      "{\"durability\":\"%s\",\"destination\":\"%s\",\"threads\":%d,\"window\":%d,"
      "\"body\":%zu,\"txns\":%lld,\"failed\":%lld,\"commit_s\":%.3f,\"commits_per_s\":%.0f,"
      "\"relay_s\":%.3f,\"relayed_per_s\":%.0f,\"mean_latency_ms\":%.3f,"
      "\"max_latency_ms\":%.3f}\n",
      args.durability == burrow::Durability::kOs ? "os" : "fsync",
      args.upstream.empty() ? (args.relay ? "local" : "none") : "upstream", args.threads,
      args.window, args.body, static_cast<long long>(committed),
      static_cast<long long>(failed.load()), commit_s, committed / commit_s, relay_s,
      args.relay ? static_cast<double>(stats.sent) / relay_s : 0.0,
      stats.latency_count ? static_cast<double>(stats.latency_us_sum) / stats.latency_count / 1000
                          : 0.0,
      static_cast<double>(stats.latency_us_max) / 1000);
  return failed.load() == 0 ? 0 : 1;
}
