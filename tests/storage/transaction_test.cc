// storage::Transaction over both twins: read-your-writes, rollback, conflicts (read-write and
// write-write) as kBusy with nothing written, outbox row ids in commit order and never reused,
// concurrent counters that end exact; and Store::reserve()/fill() ordering.
#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "storage/rocksdb_store.h"
#include "storage/store.h"
#include "storage/transaction.h"
#include "store_twins.h"
#include "temp_dir.h"

namespace burrow::storage {
namespace {

template <typename Impl>
class TransactionTest : public ::testing::Test {
 protected:
  Store& store() { return *store_; }
  ColumnId orders() { return *store_->app_column("orders"); }
  std::string read(ColumnId column, std::string_view key) {
    std::string value;
    Status s = store_->get(column, key, value);
    return s.ok() ? value : "<" + s.to_string() + ">";
  }

  Impl impl_;
  std::unique_ptr<Store> store_ = impl_.open();
};

TYPED_TEST_SUITE(TransactionTest, StoreTwins, ImplName);

TYPED_TEST(TransactionTest, CommitWritesEverythingAtOnceAndReadsSeeOwnWrites) {
  const ColumnId orders = this->orders();
  Transaction txn(this->store());
  txn.put(orders, "o1", "new");
  std::string value;
  ASSERT_TRUE(txn.get(orders, "o1", value).ok());
  EXPECT_EQ(value, "new");
  EXPECT_EQ(this->read(orders, "o1"), "<NOT_FOUND: key not found>");  // not before commit
  txn.del(orders, "o1");
  EXPECT_EQ(txn.get(orders, "o1", value).code(), StatusCode::kNotFound);
  txn.put(orders, "o2", "two");
  txn.add_outbox_row("row-a");
  ASSERT_TRUE(txn.commit_sync().ok());
  EXPECT_EQ(this->read(orders, "o1"), "<NOT_FOUND: key not found>");
  EXPECT_EQ(this->read(orders, "o2"), "two");
  EXPECT_EQ(this->read(Column::kOutbox, outbox_key(txn.first_row_id())), "row-a");
}

TYPED_TEST(TransactionTest, RollbackWritesNothing) {
  const ColumnId orders = this->orders();
  Transaction txn(this->store());
  txn.put(orders, "o1", "x");
  txn.add_outbox_row("row");
  txn.rollback();
  ASSERT_TRUE(txn.commit_sync().ok());
  EXPECT_EQ(this->read(orders, "o1"), "<NOT_FOUND: key not found>");
  std::vector<std::string> rows;
  ASSERT_TRUE(this->store()
                  .scan(Column::kOutbox, "", "",
                        [&](std::string_view k, std::string_view) {
                          rows.emplace_back(k);
                          return true;
                        })
                  .ok());
  EXPECT_TRUE(rows.empty());
}

TYPED_TEST(TransactionTest, ReadForUpdateConflictsWithALaterCommitOfTheKey) {
  const ColumnId orders = this->orders();
  Transaction setup(this->store());
  setup.put(orders, "stock", "10");
  ASSERT_TRUE(setup.commit_sync().ok());

  Transaction a(this->store());
  Transaction b(this->store());
  std::string value;
  ASSERT_TRUE(a.get_for_update(orders, "stock", value).ok());
  ASSERT_TRUE(b.get_for_update(orders, "stock", value).ok());
  a.put(orders, "stock", "9");
  b.put(orders, "stock", "8");
  b.put(orders, "other", "b");
  b.add_outbox_row("b-row");
  ASSERT_TRUE(a.commit_sync().ok());
  Status s = b.commit_sync();
  EXPECT_EQ(s.code(), StatusCode::kBusy) << s.to_string();
  EXPECT_EQ(this->read(orders, "stock"), "9");
  EXPECT_EQ(this->read(orders, "other"), "<NOT_FOUND: key not found>");  // nothing of b
}

TYPED_TEST(TransactionTest, BlindWritesOfOneKeyConflict) {
  const ColumnId orders = this->orders();
  Transaction a(this->store());
  Transaction b(this->store());
  a.put(orders, "k", "a");
  b.put(orders, "k", "b");
  ASSERT_TRUE(b.commit_sync().ok());
  EXPECT_EQ(a.commit_sync().code(), StatusCode::kBusy);
  EXPECT_EQ(this->read(orders, "k"), "b");
}

TYPED_TEST(TransactionTest, PlainGetIsNotValidatedAndDisjointKeysDoNotConflict) {
  const ColumnId orders = this->orders();
  Transaction a(this->store());
  Transaction b(this->store());
  std::string value;
  (void)a.get(orders, "x", value);
  a.put(orders, "a", "1");
  b.put(orders, "x", "2");
  ASSERT_TRUE(b.commit_sync().ok());
  EXPECT_TRUE(a.commit_sync().ok());
}

TYPED_TEST(TransactionTest, ATransactionStartedAfterACommitDoesNotConflictWithIt) {
  const ColumnId orders = this->orders();
  Transaction a(this->store());
  a.put(orders, "k", "a");
  ASSERT_TRUE(a.commit_sync().ok());
  Transaction b(this->store());
  std::string value;
  ASSERT_TRUE(b.get_for_update(orders, "k", value).ok());
  EXPECT_EQ(value, "a");
  b.put(orders, "k", "b");
  EXPECT_TRUE(b.commit_sync().ok());
}

TYPED_TEST(TransactionTest, OutboxRowIdsFollowCommitOrderAndAreNeverReused) {
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    Transaction txn(this->store());
    txn.add_outbox_row("r" + std::to_string(i) + "a");
    txn.add_outbox_row("r" + std::to_string(i) + "b");
    ASSERT_TRUE(txn.commit_sync().ok());
    EXPECT_GT(txn.first_row_id(), last);
    EXPECT_EQ(this->read(Column::kOutbox, outbox_key(txn.first_row_id() + 1)),
              "r" + std::to_string(i) + "b");
    last = txn.first_row_id() + 1;
  }
  // Drain the outbox, restart: ids continue past the last one handed out.
  WriteBatch drain;
  drain.delete_range(Column::kOutbox, outbox_key(0), outbox_key(last + 1));
  ASSERT_TRUE(this->store().write_sync(std::move(drain)).ok());
  this->store_ = this->impl_.reopen(std::move(this->store_));
  Transaction txn(this->store());
  txn.add_outbox_row("after restart");
  ASSERT_TRUE(txn.commit_sync().ok());
  EXPECT_EQ(txn.first_row_id(), last + 1);
}

TYPED_TEST(TransactionTest, ConcurrentIncrementsWithRetryEndExact) {
  const ColumnId orders = this->orders();
  constexpr int kThreads = 4;
  constexpr int kIncrements = 200;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          Transaction txn(this->store());
          std::string value;
          Status s = txn.get_for_update(orders, "counter", value);
          const int n = s.ok() ? std::stoi(value) : 0;
          txn.put(orders, "counter", std::to_string(n + 1));
          txn.add_outbox_row(std::to_string(n + 1));
          s = txn.commit_sync();
          if (s.ok()) break;
          ASSERT_EQ(s.code(), StatusCode::kBusy) << s.to_string();
          conflicts++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(this->read(orders, "counter"), std::to_string(kThreads * kIncrements));
  // One row per committed increment, and in id order the values count up: commit order.
  std::vector<int> values;
  ASSERT_TRUE(this->store()
                  .scan(Column::kOutbox, "", "",
                        [&](std::string_view, std::string_view v) {
                          values.push_back(std::stoi(std::string(v)));
                          return true;
                        })
                  .ok());
  ASSERT_EQ(values.size(), static_cast<size_t>(kThreads * kIncrements));
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], static_cast<int>(i) + 1);
}

TYPED_TEST(TransactionTest, WritesSubmittedAfterAReservationApplyAfterIt) {
  const uint64_t slot = this->store().reserve();
  std::vector<int> order;
  std::mutex mu;
  auto note = [&](int id) {
    return [&, id](Status s) {
      EXPECT_TRUE(s.ok());
      std::lock_guard lock(mu);
      order.push_back(id);
    };
  };
  WriteBatch later;
  later.del(Column::kMessages, "k");  // must land after the reserved put
  this->store().write(std::move(later), note(2));
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(order.empty());  // held behind the reservation
  }
  WriteBatch reserved;
  reserved.put(Column::kMessages, "k", "v");
  this->store().fill(slot, std::move(reserved), note(1));
  ASSERT_TRUE(this->store().flush().ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(this->read(Column::kMessages, "k"), "<NOT_FOUND: key not found>");
}

}  // namespace
}  // namespace burrow::storage
