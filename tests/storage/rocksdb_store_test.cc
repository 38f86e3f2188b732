// The RocksDB store beyond the shared contract: data survives reopen, durability modes, group
// commit under concurrent writers, close completes pending writes, seeks from a saved head
// never step over deleted entries.
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "storage/queue_range.h"
#include "storage/record_codec.h"
#include "storage/rocksdb_store.h"
#include "temp_dir.h"

namespace burrow::storage {
namespace {

std::unique_ptr<Store> open_store(const std::string& path,
                                  Durability durability = Durability::kOs) {
  StoreOptions options;
  options.path = path;
  options.durability = durability;
  auto store = open_rocksdb_store(options);
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  return store.ok() ? std::move(*store) : nullptr;
}

std::string get(Store& store, ColumnId column, std::string_view key) {
  std::string value;
  Status s = store.get(column, key, value);
  if (s.code() == StatusCode::kNotFound) return "<missing>";
  EXPECT_TRUE(s.ok()) << s.to_string();
  return value;
}

Status put(Store& store, ColumnId column, std::string key, std::string value) {
  WriteBatch batch;
  batch.put(column, std::move(key), std::move(value));
  return store.write_sync(std::move(batch));
}

TEST(RocksDbStore, ReopenKeepsDataAndApplicationColumns) {
  testing::TempDir dir;
  ColumnId orders = Column::kAppData;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    ASSERT_TRUE(put(*store, Column::kMetadata, queue_key("/", "q1"), "queue").ok());
    ASSERT_TRUE(put(*store, Column::kMessages, message_key(1, 1), "m1").ok());
    auto id = store->app_column("orders");
    ASSERT_TRUE(id.ok());
    orders = *id;
    ASSERT_TRUE(store->app_column("payments").ok());
    ASSERT_TRUE(put(*store, orders, "o1", "paid").ok());
  }
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(get(*store, Column::kMetadata, queue_key("/", "q1")), "queue");
    EXPECT_EQ(get(*store, Column::kMessages, message_key(1, 1)), "m1");
    EXPECT_EQ(store->app_columns(), (std::vector<std::string>{"orders", "payments"}));
    auto id = store->app_column("orders");
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, orders);  // ids are stable across restarts
    EXPECT_EQ(get(*store, orders, "o1"), "paid");
    // Flushed to table files and reopened: still there.
    ASSERT_TRUE(store->flush().ok());
  }
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(get(*store, orders, "o1"), "paid");
  EXPECT_GT(store->stats().sst_bytes, 0u);
}

TEST(RocksDbStore, CreateIfMissingFalseRefusesAnEmptyDirectory) {
  testing::TempDir dir;
  StoreOptions options;
  options.path = dir.sub("nothing-here");
  options.create_if_missing = false;
  auto store = open_rocksdb_store(options);
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound) << store.status().to_string();
}

TEST(RocksDbStore, FsyncModeSyncsEveryGroupAndOsModeNever) {
  testing::TempDir dir;
  {
    auto store = open_store(dir.sub("fsync"), Durability::kFsync);
    ASSERT_TRUE(store);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(put(*store, Column::kMessages, message_key(1, i), "m").ok());
    }
    StoreStats stats = store->stats();
    EXPECT_EQ(stats.write_batches, 10u);  // one writer waiting on each write: no merging
    EXPECT_EQ(stats.fsyncs, 10u);
    EXPECT_EQ(stats.fsync_micros.count(), 10u);
    EXPECT_GT(stats.wal_bytes, 0u);
  }
  auto store = open_store(dir.sub("os"), Durability::kOs);
  ASSERT_TRUE(store);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(put(*store, Column::kMessages, message_key(1, i), "m").ok());
  }
  StoreStats stats = store->stats();
  EXPECT_EQ(stats.write_batches, 10u);
  EXPECT_EQ(stats.fsyncs, 0u);
}

// Eight threads publish concurrently in fsync mode: every callback runs exactly once, each
// thread's callbacks in its own order, and the writer merges them into far fewer fsyncs.
TEST(RocksDbStore, GroupCommitMergesConcurrentWriters) {
  testing::TempDir dir;
  auto store = open_store(dir.path(), Durability::kFsync);
  ASSERT_TRUE(store);
  constexpr int kThreads = 8;
  constexpr int kWrites = 250;
  std::mutex mu;
  std::vector<std::vector<int>> order(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        WriteBatch batch;
        batch.put(Column::kMessages, message_key(t, i), std::string(100, 'b'));
        if (i > 0) batch.del(Column::kMessages, message_key(t, i - 1));  // an ack
        store->write(std::move(batch), [&, t, i](Status s) {
          if (!s.ok()) failures++;
          std::lock_guard lock(mu);
          order[t].push_back(i);
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(store->flush().ok());

  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(order[t].size(), static_cast<size_t>(kWrites)) << "thread " << t;
    for (int i = 0; i < kWrites; ++i) ASSERT_EQ(order[t][i], i) << "thread " << t;
    EXPECT_EQ(get(*store, Column::kMessages, message_key(t, kWrites - 1)), std::string(100, 'b'));
    EXPECT_EQ(get(*store, Column::kMessages, message_key(t, 0)), "<missing>");
  }
  StoreStats stats = store->stats();
  EXPECT_EQ(stats.writes, static_cast<uint64_t>(kThreads * kWrites));
  EXPECT_LT(stats.write_batches, stats.writes);
  EXPECT_EQ(stats.fsyncs, stats.write_batches);
  EXPECT_GT(stats.writes_per_batch.max(), 1u);
  std::printf(
      "[ group commit ] %llu writes in %llu groups: avg %.1f, max %llu per group; "
      "fsync avg %.0f us, p99 <= %llu us\n",
      static_cast<unsigned long long>(stats.writes),
      static_cast<unsigned long long>(stats.write_batches), stats.writes_per_batch.average(),
      static_cast<unsigned long long>(stats.writes_per_batch.max()), stats.fsync_micros.average(),
      static_cast<unsigned long long>(stats.fsync_micros.percentile(99)));
}

TEST(RocksDbStore, ClosingCompletesPendingWrites) {
  testing::TempDir dir;
  constexpr int kWrites = 2000;
  std::atomic<int> ok{0};
  {
    auto store = open_store(dir.path(), Durability::kFsync);
    ASSERT_TRUE(store);
    for (int i = 0; i < kWrites; ++i) {
      WriteBatch batch;
      batch.put(Column::kMessages, message_key(9, i), "m");
      store->write(std::move(batch), [&](Status s) {
        if (s.ok()) ok++;
      });
    }
  }  // the destructor waits for every callback
  EXPECT_EQ(ok.load(), kWrites);
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  int count = 0;
  ASSERT_TRUE(scan_queue(*store, 9, 0, 0, [&](uint64_t, std::string_view) {
                ++count;
                return true;
              }).ok());
  EXPECT_EQ(count, kWrites);
}

// The broker's delete-heavy case: 100k messages, all but the last 10 acked. A scan from the
// saved head steps over no tombstone; from the start of the range it steps over every one.
// A range delete of the acked prefix makes even a scan from the start cheap.
TEST(RocksDbStore, ScanFromTheSavedHeadSkipsNoDeletedEntries) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  constexpr uint64_t kQueue = 42;
  constexpr uint64_t kMessages = 100'000;
  constexpr uint64_t kHead = kMessages - 10;
  for (uint64_t first = 0; first < kMessages; first += 1000) {
    WriteBatch batch;
    for (uint64_t seq = first; seq < first + 1000; ++seq) {
      batch.put(Column::kMessages, message_key(kQueue, seq), "body");
    }
    ASSERT_TRUE(store->write_sync(std::move(batch)).ok());
  }
  // Neighbouring queues, so an unbounded iterator would have more to walk.
  ASSERT_TRUE(put(*store, Column::kMessages, message_key(kQueue + 1, 0), "next").ok());
  for (uint64_t first = 0; first < kHead; first += 1000) {
    WriteBatch batch;
    for (uint64_t seq = first; seq < std::min(first + 1000, kHead); ++seq) {
      batch.del(Column::kMessages, message_key(kQueue, seq));  // acks, one by one
    }
    ASSERT_TRUE(store->write_sync(std::move(batch)).ok());
  }

  auto count_from = [&](uint64_t from_seq, uint64_t& skipped) {
    const uint64_t before = store->stats().scan_skipped_entries;
    int visited = 0;
    EXPECT_TRUE(scan_queue(*store, kQueue, from_seq, 0, [&](uint64_t, std::string_view) {
                  ++visited;
                  return true;
                }).ok());
    skipped = store->stats().scan_skipped_entries - before;
    return visited;
  };

  {
    SCOPED_TRACE("memtable");
    uint64_t skipped = 0;
    EXPECT_EQ(count_from(kHead, skipped), 10);
    EXPECT_LT(skipped, 100u) << "a seek from the head must not walk the tombstones";
    EXPECT_EQ(count_from(0, skipped), 10);
    EXPECT_GE(skipped, kHead) << "from the start of the range every tombstone is stepped over";
  }
  ASSERT_TRUE(store->flush().ok());
  {
    // In table files. (From the start, what is skipped depends on whether the background
    // compaction the deletion collector triggers has dropped the tombstones yet.)
    SCOPED_TRACE("table files");
    uint64_t skipped = 0;
    EXPECT_EQ(count_from(kHead, skipped), 10);
    EXPECT_LT(skipped, 100u) << "a seek from the head must not walk the tombstones";
  }

  // Saving the head replaces the per-key tombstones' cost with one range tombstone.
  WriteBatch advance;
  advance_queue_head(advance, kQueue, kHead);
  ASSERT_TRUE(store->write_sync(std::move(advance)).ok());
  auto head = load_queue_head(*store, kQueue);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, kHead);
  uint64_t skipped = 0;
  EXPECT_EQ(count_from(0, skipped), 10);
  EXPECT_LT(skipped, 100u) << "range-deleted keys are skipped as a whole";
}

TEST(RocksDbStore, QueueHeadAndRangeDeletesSurviveReopen) {
  testing::TempDir dir;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    WriteBatch batch;
    for (uint64_t seq = 0; seq < 100; ++seq) {
      batch.put(Column::kMessages, message_key(5, seq), std::to_string(seq));
      batch.put(Column::kMessages, message_key(6, seq), std::to_string(seq));
    }
    ASSERT_TRUE(store->write_sync(std::move(batch)).ok());
    WriteBatch acks;
    advance_queue_head(acks, 5, 60);
    delete_queue(acks, 6);
    ASSERT_TRUE(store->write_sync(std::move(acks)).ok());
  }
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  auto head = load_queue_head(*store, 5);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, 60u);
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(scan_queue(*store, 5, *head, 0, [&](uint64_t seq, std::string_view) {
                seqs.push_back(seq);
                return true;
              }).ok());
  ASSERT_EQ(seqs.size(), 40u);
  EXPECT_EQ(seqs.front(), 60u);
  // Nothing below the head either, even scanning from 0.
  int below = 0;
  ASSERT_TRUE(scan_queue(*store, 5, 0, 0, [&](uint64_t seq, std::string_view) {
                if (seq < 60) ++below;
                return true;
              }).ok());
  EXPECT_EQ(below, 0);
  int deleted_queue = 0;
  ASSERT_TRUE(scan_queue(*store, 6, 0, 0, [&](uint64_t, std::string_view) {
                ++deleted_queue;
                return true;
              }).ok());
  EXPECT_EQ(deleted_queue, 0);
  EXPECT_EQ(*load_queue_head(*store, 6), 0u);
}

TEST(RocksDbStore, MessageRecordsRoundTripThroughTheStore) {
  testing::TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store);
  MessageRecord record;
  record.set_exchange("amq.direct");
  record.set_routing_key("rk");
  record.mutable_properties()->set_delivery_mode(2);
  record.set_publish_time_ms(1234);
  const std::string body("\0binary body\xff", 13);
  ASSERT_TRUE(
      put(*store, Column::kMessages, message_key(1, 1), encode_message_value(record, body)).ok());
  std::string value = get(*store, Column::kMessages, message_key(1, 1));
  MessageRecord read;
  std::string_view read_body;
  ASSERT_TRUE(decode_message_value(value, read, read_body).ok());
  EXPECT_EQ(read_body, body);
  EXPECT_EQ(read.exchange(), "amq.direct");
  EXPECT_EQ(read.properties().delivery_mode(), 2u);
}

}  // namespace
}  // namespace burrow::storage
