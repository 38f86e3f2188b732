// Tests for the Dispatcher that runs one channel's consumer callbacks on the broker's workers:
// in order, one at a time, and never after shutdown() returns.
#include "client/dispatcher.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "broker/worker_pool.h"
#include "tests/client/client_test_util.h"

namespace burrow::client {
namespace {

using client_testing::Collector;
using client_testing::Latch;

TEST(Dispatcher, RunsEventsInPostOrderOneAtATime) {
  broker::WorkerPool pool(4);
  auto dispatcher = std::make_shared<Dispatcher>(pool);
  std::atomic<int> in_flight{0};
  std::atomic<bool> overlapped{false};
  Collector<int> ran;
  for (int i = 0; i < 1000; ++i) {
    dispatcher->post([&, i] {
      if (in_flight.fetch_add(1) != 0) overlapped = true;
      ran.add(i);
      in_flight.fetch_sub(1);
    });
  }
  ASSERT_TRUE(ran.wait_for(1000));
  std::vector<int> order = ran.items();
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[i], i);
  EXPECT_FALSE(overlapped.load());
  dispatcher->shutdown();
}

// Deliveries (queued without a function) and other events keep their relative order.
TEST(Dispatcher, DeliveriesAndOtherEventsRunInPostOrder) {
  struct Recorder final : DeliveryHandler {
    explicit Recorder(Collector<uint64_t>& out) : out(out) {}
    void on_delivery(const Delivery& d) override { out.add(d.delivery_tag); }
    Collector<uint64_t>& out;
  };
  broker::WorkerPool pool(2);
  auto dispatcher = std::make_shared<Dispatcher>(pool);
  Collector<uint64_t> ran;
  auto handler = std::make_shared<Recorder>(ran);
  for (uint64_t i = 1; i <= 3000; ++i) {
    if (i % 7 == 0) {
      dispatcher->post([&ran, i] { ran.add(i); });
    } else {
      dispatcher->post_delivery(handler, Delivery{i, false, std::make_shared<const Message>()});
    }
  }
  ASSERT_TRUE(ran.wait_for(3000));
  std::vector<uint64_t> order = ran.items();
  for (uint64_t i = 1; i <= 3000; ++i) ASSERT_EQ(order[i - 1], i);
  dispatcher->shutdown();
}

TEST(Dispatcher, EventsPostedFromSeveralThreadsAllRun) {
  broker::WorkerPool pool(2);
  auto dispatcher = std::make_shared<Dispatcher>(pool);
  Collector<int> ran;
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) dispatcher->post([&ran, t] { ran.add(t); });
    });
  }
  for (auto& t : posters) t.join();
  ASSERT_TRUE(ran.wait_for(1000));
  dispatcher->shutdown();
}

TEST(Dispatcher, ShutdownWaitsForTheRunningEvent) {
  broker::WorkerPool pool(2);
  auto dispatcher = std::make_shared<Dispatcher>(pool);
  Latch started;
  Latch release;
  std::atomic<bool> finished{false};
  dispatcher->post([&] {
    started.open();
    release.wait();
    finished = true;
  });
  ASSERT_TRUE(started.wait());
  std::thread releaser([&] {
    std::this_thread::sleep_for(client_testing::kQuietPeriod);
    release.open();
  });
  dispatcher->shutdown();
  EXPECT_TRUE(finished.load());  // shutdown returned only after the event finished
  releaser.join();
}

TEST(Dispatcher, ShutdownDropsQueuedEvents) {
  broker::WorkerPool pool(2);
  auto dispatcher = std::make_shared<Dispatcher>(pool);
  Latch started;
  Latch queued;
  std::atomic<bool> second_ran{false};
  dispatcher->post([&] {
    started.open();
    queued.wait();           // until the second event is queued behind this one
    dispatcher->shutdown();  // from inside an event: returns at once
  });
  ASSERT_TRUE(started.wait());
  dispatcher->post([&] { second_ran = true; });
  queued.open();
  dispatcher->shutdown();  // waits for the first event to finish
  EXPECT_FALSE(second_ran.load());
}

// Regression test, fixed (was: client/dispatcher.cc, Dispatcher::run): events are run in batches,
// and a shutdown() from inside an event only clears events_ -- the rest of the batch already taken
// out of it still runs. The header promises shutdown "drops queued events". Made
// deterministic by blocking the single worker until both events are queued, so they land in
// one batch.
TEST(Dispatcher, ShutdownFromInsideAnEventDropsTheRestOfItsBatch) {
  broker::WorkerPool pool(1);
  auto dispatcher = std::make_shared<Dispatcher>(pool);
  Latch pool_blocked;
  Latch unblock_pool;
  pool.post([&] {
    pool_blocked.open();
    unblock_pool.wait();
  });
  ASSERT_TRUE(pool_blocked.wait());
  std::atomic<bool> second_ran{false};
  Latch first_ran;
  dispatcher->post([&] {
    dispatcher->shutdown();
    first_ran.open();
  });
  dispatcher->post([&] { second_ran = true; });
  unblock_pool.open();
  ASSERT_TRUE(first_ran.wait());
  dispatcher->shutdown();  // waits for the running batch
  EXPECT_FALSE(second_ran.load()) << "BUG: an event queued before shutdown() ran after it";
}

TEST(Dispatcher, PostsAfterShutdownAreIgnored) {
  broker::WorkerPool pool(2);
  auto dispatcher = std::make_shared<Dispatcher>(pool);
  dispatcher->shutdown();
  std::atomic<bool> ran{false};
  dispatcher->post([&] { ran = true; });
  // Anything the pool runs afterwards would have run the event first.
  Latch pool_idle;
  pool.post([&] { pool_idle.open(); });
  ASSERT_TRUE(pool_idle.wait());
  std::this_thread::sleep_for(client_testing::kQuietPeriod);
  EXPECT_FALSE(ran.load());
}

TEST(Dispatcher, ShutdownOfAnIdleDispatcherReturnsAtOnce) {
  broker::WorkerPool pool(1);
  auto dispatcher = std::make_shared<Dispatcher>(pool);
  dispatcher->shutdown();
  dispatcher->shutdown();
}

}  // namespace
}  // namespace burrow::client
