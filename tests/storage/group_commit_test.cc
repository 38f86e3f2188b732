// GroupCommitter against a scripted sink: which writes share a group, the order of callbacks,
// sticky failures, draining on destruction, and the kill points on the write path.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/group_commit.h"
#include "storage/kill_point.h"

namespace burrow::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records each group's size; can hold the writer inside write_group until released, and fail
// writes or syncs on demand. Thread-safe.
class ScriptedSink final : public GroupCommitter::Sink {
 public:
  Status write_group(const std::vector<const WriteBatch*>& batches) override {
    std::unique_lock lock(mu_);
    groups_.push_back(batches.size());
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !hold_; });
    return fail_write_;
  }
  Status sync() override {
    std::lock_guard lock(mu_);
    ++syncs_;
    return fail_sync_;
  }

  void hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
    entered_ = false;
  }
  void wait_until_writing() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  void fail_writes(Status s) {
    std::lock_guard lock(mu_);
    fail_write_ = std::move(s);
  }
  void fail_syncs(Status s) {
    std::lock_guard lock(mu_);
    fail_sync_ = std::move(s);
  }
  std::vector<size_t> groups() {
    std::lock_guard lock(mu_);
    return groups_;
  }
  int syncs() {
    std::lock_guard lock(mu_);
    return syncs_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool entered_ = false;
  Status fail_write_;
  Status fail_sync_;
  std::vector<size_t> groups_;
  int syncs_ = 0;
};

WriteBatch one_put(std::string key, size_t value_size = 10) {
  WriteBatch batch;
  batch.put(Column::kMessages, std::move(key), std::string(value_size, 'v'));
  return batch;
}

// Collects callback outcomes in completion order. Thread-safe.
class Completions {
 public:
  WriteCallback callback(int id) {
    return [this, id](Status s) {
      std::lock_guard lock(mu_);
      order_.push_back(id);
      statuses_.push_back(std::move(s));
    };
  }
  std::vector<int> order() {
    std::lock_guard lock(mu_);
    return order_;
  }
  Status status(size_t i) {
    std::lock_guard lock(mu_);
    return statuses_.at(i);
  }

 private:
  std::mutex mu_;
  std::vector<int> order_;
  std::vector<Status> statuses_;
};

class GroupCommit : public ::testing::Test {
 protected:
  void TearDown() override { disarm_kill_points(); }
  ScriptedSink sink_;
  TxnSequencer sequencer_;
  Completions done_;
};

TEST_F(GroupCommit, ASecondTransactionOfOneGroupConflictsWithTheFirstAndIsLeftOut) {
  GroupCommitter committer(sink_, sequencer_, {});
  sink_.hold();
  committer.submit(one_put("w0"), done_.callback(0));
  sink_.wait_until_writing();  // the next three queue up and form one group
  auto check_of = [&](std::string_view key) {
    auto check = std::make_shared<CommitCheck>();
    check->keys.emplace_back(CommitCheck::key_hash(Column::kAppData, key), 0);
    return check;
  };
  WriteBatch a;
  a.put(Column::kAppData, "k", "a");
  a.put(Column::kOutbox, "", "row-a");
  auto check_a = check_of("k");
  check_a->outbox_rows = 1;
  committer.submit_checked(std::move(a), check_a, done_.callback(1));
  WriteBatch b;
  b.put(Column::kAppData, "k", "b");
  committer.submit_checked(std::move(b), check_of("k"), done_.callback(2));
  WriteBatch c;
  c.put(Column::kAppData, "other", "c");
  c.put(Column::kOutbox, "", "row-c");
  auto check_c = check_of("other");
  check_c->outbox_rows = 1;
  committer.submit_checked(std::move(c), check_c, done_.callback(3));
  sink_.release();
  committer.wait_for_pending();

  EXPECT_THAT(sink_.groups(), ElementsAre(1u, 2u));  // b is not written
  EXPECT_THAT(done_.order(), ElementsAre(0, 1, 2, 3));
  EXPECT_TRUE(done_.status(1).ok());
  EXPECT_EQ(done_.status(2).code(), StatusCode::kBusy);
  EXPECT_TRUE(done_.status(3).ok());
  EXPECT_EQ(check_a->first_row_id, 1u);
  EXPECT_EQ(check_c->first_row_id, 2u);  // ids in commit order, none lost to b
  EXPECT_EQ(sequencer_.visible_version(), 1u);
}

TEST_F(GroupCommit, AnUnfilledReservationHoldsBackLaterWrites) {
  GroupCommitter committer(sink_, sequencer_, {});
  const uint64_t slot = committer.reserve();
  committer.submit(one_put("after"), done_.callback(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(done_.order().empty());
  committer.fill(slot, one_put("reserved"), done_.callback(0));
  committer.wait_for_pending();
  EXPECT_THAT(done_.order(), ElementsAre(0, 1));
}

TEST_F(GroupCommit, WritesQueuedDuringACommitShareTheNextGroup) {
  GroupCommitter committer(sink_, sequencer_, {});
  sink_.hold();
  committer.submit(one_put("w0"), done_.callback(0));
  sink_.wait_until_writing();  // w0 is being written alone
  for (int i = 1; i <= 9; ++i)
    committer.submit(one_put("w" + std::to_string(i)), done_.callback(i));
  sink_.release();
  committer.wait_for_pending();

  EXPECT_THAT(sink_.groups(), ElementsAre(1u, 9u));
  EXPECT_EQ(sink_.syncs(), 2);
  EXPECT_THAT(done_.order(), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
  StoreStats stats;
  committer.add_stats(stats);
  EXPECT_EQ(stats.writes, 10u);
  EXPECT_EQ(stats.write_batches, 2u);
  EXPECT_EQ(stats.writes_per_batch.max(), 9u);
  EXPECT_DOUBLE_EQ(stats.writes_per_batch.average(), 5.0);
  EXPECT_EQ(stats.fsyncs, 2u);
  EXPECT_EQ(stats.fsync_micros.count(), 2u);
  EXPECT_EQ(stats.bytes_written, 10u * 12u);
}

TEST_F(GroupCommit, GroupsStopGrowingAtTheByteLimit) {
  GroupCommitter committer(sink_, sequencer_, {.sync = true, .max_group_bytes = 100});
  sink_.hold();
  committer.submit(one_put("w0", 38), done_.callback(0));
  sink_.wait_until_writing();
  for (int i = 1; i <= 5; ++i)
    committer.submit(one_put("w" + std::to_string(i), 38), done_.callback(i));
  committer.submit(one_put("big", 500), done_.callback(6));  // larger than a group: goes alone
  sink_.release();
  committer.wait_for_pending();
  EXPECT_THAT(sink_.groups(), ElementsAre(1u, 2u, 2u, 1u, 1u));
  EXPECT_THAT(done_.order(), ElementsAre(0, 1, 2, 3, 4, 5, 6));
}

TEST_F(GroupCommit, OsDurabilityNeverSyncs) {
  GroupCommitter committer(sink_, sequencer_, {.sync = false});
  for (int i = 0; i < 5; ++i) committer.submit(one_put("w"), done_.callback(i));
  committer.wait_for_pending();
  EXPECT_EQ(sink_.syncs(), 0);
  StoreStats stats;
  committer.add_stats(stats);
  EXPECT_EQ(stats.fsyncs, 0u);
  EXPECT_EQ(stats.writes, 5u);
}

TEST_F(GroupCommit, EmptyBatchesCompleteWithoutWriting) {
  GroupCommitter committer(sink_, sequencer_, {});
  committer.submit(WriteBatch(), done_.callback(0));
  committer.wait_for_pending();
  EXPECT_TRUE(sink_.groups().empty());
  EXPECT_TRUE(done_.status(0).ok());
}

TEST_F(GroupCommit, AFailedWriteFailsItsGroupAndEveryLaterWrite) {
  GroupCommitter committer(sink_, sequencer_, {});
  committer.submit(one_put("ok"), done_.callback(0));
  committer.wait_for_pending();
  sink_.fail_writes(Status(StatusCode::kIoError, "disk full: No space left on device"));
  committer.submit(one_put("fails"), done_.callback(1));
  committer.wait_for_pending();
  sink_.fail_writes(Status());
  committer.submit(one_put("later"), done_.callback(2));
  committer.submit(WriteBatch(), done_.callback(3));
  committer.wait_for_pending();

  EXPECT_TRUE(done_.status(0).ok());
  EXPECT_EQ(done_.status(1).code(), StatusCode::kIoError);
  EXPECT_THAT(done_.status(1).message(), HasSubstr("No space left"));
  for (size_t i : {2u, 3u}) {
    EXPECT_EQ(done_.status(i).code(), StatusCode::kIoError);
    EXPECT_THAT(done_.status(i).message(), HasSubstr("earlier write failed"));
    EXPECT_THAT(done_.status(i).message(), HasSubstr("No space left"));
  }
  EXPECT_EQ(sink_.groups().size(), 2u);  // nothing written after the failure
  EXPECT_EQ(committer.error().code(), StatusCode::kIoError);
  StoreStats stats;
  committer.add_stats(stats);
  EXPECT_TRUE(stats.failed);
  EXPECT_EQ(stats.failed_writes, 3u);
}

TEST_F(GroupCommit, AFailedSyncFailsItsGroupAndEveryLaterWrite) {
  GroupCommitter committer(sink_, sequencer_, {});
  sink_.fail_syncs(Status(StatusCode::kIoError, "fsync: EIO"));
  committer.submit(one_put("a"), done_.callback(0));
  committer.wait_for_pending();
  sink_.fail_syncs(Status());
  committer.submit(one_put("b"), done_.callback(1));
  committer.wait_for_pending();
  EXPECT_THAT(done_.status(0).message(), HasSubstr("EIO"));
  EXPECT_THAT(done_.status(1).message(), HasSubstr("earlier write failed"));
  EXPECT_EQ(sink_.syncs(), 1);
}

TEST_F(GroupCommit, DestructionCompletesQueuedWrites) {
  {
    GroupCommitter committer(sink_, sequencer_, {});
    sink_.hold();
    committer.submit(one_put("w0"), done_.callback(0));
    sink_.wait_until_writing();
    for (int i = 1; i < 50; ++i) committer.submit(one_put("w"), done_.callback(i));
    sink_.release();
  }
  EXPECT_EQ(done_.order().size(), 50u);
}

TEST_F(GroupCommit, CallbacksRunOnTheWriterThread) {
  GroupCommitter committer(sink_, sequencer_, {});
  bool on_writer = false;
  committer.submit(one_put("w"), [&](Status) { on_writer = committer.on_writer_thread(); });
  committer.wait_for_pending();
  EXPECT_TRUE(on_writer);
  EXPECT_FALSE(committer.on_writer_thread());
}

// --- Kill points on the write path (the action is recorded instead of SIGKILL) ---

TEST_F(GroupCommit, KillPointsFireInWritePathOrder) {
  std::vector<std::string> fired;
  std::mutex mu;
  auto record = [&](std::string_view name) {
    std::lock_guard lock(mu);
    fired.emplace_back(name);
  };
  GroupCommitter committer(sink_, sequencer_, {});
  for (std::string_view point :
       {"writer.before_wal_write", "writer.after_wal_write", "writer.after_fsync"}) {
    arm_kill_point(KillPointSpec{std::string(point), 2}, record);
    committer.submit(one_put("a"), done_.callback(0));
    committer.wait_for_pending();  // two groups: the point is passed once per group
    committer.submit(one_put("b"), done_.callback(1));
    committer.wait_for_pending();
    EXPECT_EQ(kill_point_hits(), 2u) << point;
  }
  EXPECT_THAT(fired, ElementsAre("writer.before_wal_write", "writer.after_wal_write",
                                 "writer.after_fsync"));
}

TEST_F(GroupCommit, MidCompletionsKillPointFiresBetweenCallbacksOfOneGroup) {
  std::vector<int> done_before_kill;
  arm_kill_point(KillPointSpec{"writer.mid_completions", 1},
                 [&](std::string_view) { done_before_kill = done_.order(); });
  GroupCommitter committer(sink_, sequencer_, {});
  sink_.hold();
  committer.submit(one_put("w0"), done_.callback(0));  // a group of one: no mid point
  sink_.wait_until_writing();
  for (int i = 1; i <= 3; ++i) committer.submit(one_put("w"), done_.callback(i));
  sink_.release();
  committer.wait_for_pending();
  EXPECT_THAT(done_before_kill, ElementsAre(0, 1));  // after the first callback of {1,2,3}
  EXPECT_EQ(kill_point_hits(), 1u);                  // a fired point counts no further
}

TEST_F(GroupCommit, AfterFsyncKillPointIsNotPassedWithoutFsync) {
  arm_kill_point(KillPointSpec{"writer.after_fsync", 1}, [](std::string_view) {});
  GroupCommitter committer(sink_, sequencer_, {.sync = false});
  committer.submit(one_put("w"), done_.callback(0));
  committer.wait_for_pending();
  EXPECT_EQ(kill_point_hits(), 0u);
}

}  // namespace
}  // namespace burrow::storage
