// outbox_orders: the order flow of the microservices articles, on Burrow's transactional
// outbox. An order service saves each order and publishes `order.created` to the topic
// exchange `orders` in one transaction; an inventory service consumes the `inventory` queue
// through the inbox, reserving stock exactly once per order.
//
//   outbox_orders --data-dir DIR --orders N [--upstream amqp://USER:PASS@HOST:PORT/VHOST]
//                 [--durability fsync|os] [--no-consumer] [--rollback-every K]
//   outbox_orders --data-dir DIR --verify
//
// Locally (no --upstream) the relay enqueues each order's message on this broker, exactly
// once. With --upstream the relay publishes to that broker instead (declaring the `orders`
// topic exchange there if missing), at least once, with publisher confirms. Orders are numbered
// 1..N and the program is restartable: a rerun continues after the last committed order (the
// crash test kills it at chosen points, then reruns it). It exits when every row is relayed
// (and, locally, every message is processed) and prints one JSON line.
//
// --verify reads the store without relaying and prints what the crash test checks: how many
// orders were committed, how many inventory messages sit in the queue (and duplicates among
// them), how many orders were reserved once, more than once, or never.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include <burrow/broker.h>

#include "client/amqp/channel.h"
#include "client/amqp/connection.h"

namespace {

struct Args {
  std::string data_dir = "./data";
  int64_t orders = 1000;
  std::string upstream;
  burrow::Durability durability = burrow::Durability::kFsync;
  bool consumer = true;
  bool verify = false;
  int64_t rollback_every = 10;
};

[[noreturn]] void usage(const char* error) {
  std::fprintf(stderr,
               "outbox_orders: %s\n"
               "usage: outbox_orders --data-dir DIR --orders N [--upstream URL]\n"
               "                     [--durability fsync|os] [--no-consumer] "
               "[--rollback-every K]\n"
               "       outbox_orders --data-dir DIR --verify\n",
               error);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + std::string(arg)).c_str());
      return argv[++i];
    };
    if (arg == "--data-dir") {
      a.data_dir = value();
    } else if (arg == "--orders") {
      a.orders = std::atoll(value().c_str());
    } else if (arg == "--upstream") {
      a.upstream = value();
    } else if (arg == "--durability") {
      const std::string d = value();
      if (d != "fsync" && d != "os") usage("--durability is fsync or os");
      a.durability = d == "os" ? burrow::Durability::kOs : burrow::Durability::kFsync;
    } else if (arg == "--no-consumer") {
      a.consumer = false;
    } else if (arg == "--rollback-every") {
      a.rollback_every = std::atoll(value().c_str());
    } else if (arg == "--verify") {
      a.verify = true;
    } else {
      usage(("unknown argument " + std::string(arg)).c_str());
    }
  }
  if (a.orders < 0) usage("--orders must be >= 0");
  return a;
}

void check(const burrow::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "outbox_orders: %s: %s\n", what, s.to_string().c_str());
    std::exit(1);
  }
}
template <typename T>
T check(burrow::Result<T> r, const char* what) {
  check(r.status(), what);
  return std::move(r).value();
}

int64_t read_int(burrow::Transaction& txn, const burrow::ColumnFamily& cf, std::string_view key,
                 bool for_update) {
  std::string value;
  burrow::Status s = for_update ? txn.get_for_update(cf, key, value) : txn.get(cf, key, value);
  if (s.code() == burrow::StatusCode::kNotFound) return 0;
  check(s, "reading a counter");
  return std::atoll(value.c_str());
}

// Declares the `orders` topic exchange on the upstream broker if it is missing.
void declare_upstream_exchange(const std::string& url) {
  using namespace burrow::client::amqp;
  auto options = check(parse_amqp_uri(url), "--upstream");
  auto connection = check(ClientConnection::connect(options), "connecting to the upstream");
  auto channel = check(connection->open_channel(), "opening a channel upstream");
  check(channel->exchange_declare("orders", "topic", ExchangeOptions{.durable = true}),
        "declaring exchange 'orders' upstream");
  check(connection->close(), "closing the upstream connection");
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const bool local = args.upstream.empty();
  if (!local && !args.verify) declare_upstream_exchange(args.upstream);

  burrow::Options options;
  options.data_dir = args.data_dir;
  options.durability = args.durability;
  auto broker = check(burrow::Broker::open(options), "opening the broker");
  auto orders_cf = check(broker->column_family("orders"), "column family orders");
  auto inventory_cf = check(broker->column_family("inventory"), "column family inventory");
  auto ch = check(broker->open_channel(), "opening a channel");
  check(ch->declare_exchange("orders", "topic", burrow::ExchangeOptions{.durable = true}),
        "declaring exchange orders");
  check(ch->declare_queue("inventory", burrow::QueueOptions{.durable = true}).status(),
        "declaring queue inventory");
  check(ch->bind_queue("inventory", "orders", "order.*"), "binding inventory");

  if (args.verify) {
    // Orders committed, inventory messages waiting (by order id), reservations per order.
    auto txn = broker->begin();
    const int64_t committed = read_int(txn, orders_cf, "next_order", false);
    std::map<std::string, int> queued;
    int64_t queued_total = 0;
    std::set<std::string> rolled_back_seen;
    for (;;) {
      auto got = check(ch->get("inventory", true), "basic.get");
      if (!got) break;
      queued[got->message->body]++;
      queued_total++;
      if (got->message->body.starts_with("r")) rolled_back_seen.insert(got->message->body);
    }
    int64_t duplicates = 0;
    for (const auto& [order, n] : queued) duplicates += n - 1;
    int64_t reserved_once = 0, reserved_more = 0, reserved_never = 0, rolled_back_saved = 0;
    for (int64_t i = 1; i <= committed; ++i) {
      const int64_t n = read_int(txn, inventory_cf, "reserved/" + std::to_string(i), false);
      if (n == 1) reserved_once++;
      if (n > 1) reserved_more++;
      if (n == 0) reserved_never++;
      std::string ignored;
      if (txn.get(orders_cf, "r" + std::to_string(i), ignored).ok()) rolled_back_saved++;
    }
    int64_t queued_missing = 0;
    for (int64_t i = 1; i <= committed; ++i) {
      if (queued.count(std::to_string(i)) == 0) queued_missing++;
    }
    const auto stats = broker->outbox_stats();
    std::printf(
        "{\"orders\":%lld,\"queued\":%lld,\"queued_distinct\":%zu,\"queued_duplicates\":%lld,"
        "\"queued_missing\":%lld,\"reserved_once\":%lld,\"reserved_more\":%lld,"
        "\"reserved_never\":%lld,\"rolled_back_seen\":%zu,\"rolled_back_saved\":%lld,"
        "\"pending\":%llu,\"parked\":%llu}\n",
        static_cast<long long>(committed), static_cast<long long>(queued_total), queued.size(),
        static_cast<long long>(duplicates), static_cast<long long>(queued_missing),
        static_cast<long long>(reserved_once), static_cast<long long>(reserved_more),
        static_cast<long long>(reserved_never), rolled_back_seen.size(),
        static_cast<long long>(rolled_back_saved), static_cast<unsigned long long>(stats.pending),
        static_cast<unsigned long long>(stats.parked));
    return 0;
  }

  if (!local) {
    burrow::UpstreamOptions upstream;
    upstream.url = args.upstream;
    check(broker->add_upstream("upstream", upstream), "--upstream");
  }

  // The inventory service: reserve stock for each order exactly once (the inbox drops
  // redeliveries of orders it already processed).
  std::unique_ptr<burrow::Channel> inventory;
  auto start_inventory = [&] {
    inventory =
        check(broker->consume_with_inbox(
                  "inventory",
                  [&](const burrow::Delivery& d, burrow::Transaction& txn) -> burrow::Status {
                    const std::string key = "reserved/" + d.message->body;
                    const int64_t n = read_int(txn, inventory_cf, key, true);
                    return txn.put(inventory_cf, key, std::to_string(n + 1));
                  },
                  burrow::InboxOptions{.scope = "inventory"}),
              "consuming inventory");
  };
  if (local && args.consumer) start_inventory();

  // The order service: one transaction per order (state + event), continuing after the last
  // committed order. Every rollback_every-th order first stages a cancelled order and rolls it
  // back: nothing of it may ever appear.
  const auto start = std::chrono::steady_clock::now();
  int64_t created = 0;
  for (;;) {
    auto txn = broker->begin();
    const int64_t next = read_int(txn, orders_cf, "next_order", true) + 1;
    if (next > args.orders) break;
    const std::string id = std::to_string(next);
    if (args.rollback_every > 0 && next % args.rollback_every == 0) {
      auto cancelled = broker->begin();
      check(cancelled.put(orders_cf, "r" + id, "cancelled"), "staging a cancelled order");
      check(cancelled
                .publish({.exchange = "orders",
                          .routing_key = "order.created",
                          .body = "r" + id,
                          .destination = local ? "" : "upstream"})
                .status(),
            "staging a cancelled order's event");
      cancelled.rollback();
    }
    check(txn.put(orders_cf, "order/" + id, R"({"sku":"burrow-1","qty":1})"), "saving order");
    check(txn.put(orders_cf, "next_order", id), "saving the order counter");
    burrow::OutboxMessage event;
    event.exchange = "orders";
    event.routing_key = "order.created";
    event.body = id;
    event.partition_key = "customer-" + std::to_string(next % 16);
    event.destination = local ? "" : "upstream";
    event.properties.content_type = "text/plain";
    check(txn.publish(std::move(event)).status(), "staging order.created");
    check(txn.commit(), "committing an order");
    created++;
  }

  // Done when every row is relayed and, locally, every committed order is reserved.
  auto all_reserved = [&] {
    auto txn = broker->begin();
    const int64_t committed = read_int(txn, orders_cf, "next_order", false);
    for (int64_t i = 1; i <= committed; ++i) {
      if (read_int(txn, inventory_cf, "reserved/" + std::to_string(i), false) == 0) return false;
    }
    return true;
  };
  // Redeliveries of orders already processed (after a crash) may still wait in the queue:
  // the inbox acks them without reserving again; stop only once the queue is empty with the
  // consumer gone (cancelling requeues what it had not acked yet).
  for (;;) {
    if (!broker->wait_until_drained(std::chrono::milliseconds(100)).ok()) continue;
    if (!local || !args.consumer) break;
    if (!all_reserved()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    inventory.reset();
    auto q = check(ch->declare_queue("inventory", burrow::QueueOptions{.passive = true}),
                   "checking inventory");
    if (q.message_count == 0) break;
    start_inventory();
  }
  inventory.reset();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto stats = broker->outbox_stats();
  std::printf(
      "{\"orders\":%lld,\"created\":%lld,\"relayed\":%llu,\"parked\":%llu,\"retried\":%llu,"
      "\"inbox_processed\":%llu,\"inbox_duplicates\":%llu,\"elapsed_s\":%.3f,"
      "\"mean_relay_latency_ms\":%.3f}\n",
      static_cast<long long>(args.orders), static_cast<long long>(created),
      static_cast<unsigned long long>(stats.sent), static_cast<unsigned long long>(stats.parked),
      static_cast<unsigned long long>(stats.retried),
      static_cast<unsigned long long>(stats.inbox_processed),
      static_cast<unsigned long long>(stats.inbox_duplicates), elapsed,
      stats.latency_count ? static_cast<double>(stats.latency_us_sum) / stats.latency_count / 1000
                          : 0.0);
  return 0;
}
