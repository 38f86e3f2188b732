// Kill points: parsing BURROW_KILL_AT specs, counting passes, firing once, staying silent when
// disarmed. The action is injected: a real SIGKILL is tested by rocksdb_faults_test's crashes.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/kill_point.h"

namespace burrow::storage {
namespace {

using ::testing::HasSubstr;

class KillPoint : public ::testing::Test {
 protected:
  void TearDown() override { disarm_kill_points(); }
};

TEST_F(KillPoint, ParsesANameAndAnOptionalPassCount) {
  auto plain = parse_kill_point_spec("writer.after_fsync");
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  EXPECT_EQ(plain->name, "writer.after_fsync");
  EXPECT_EQ(plain->hit, 1u);

  auto counted = parse_kill_point_spec("writer.after_wal_write:37");
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->name, "writer.after_wal_write");
  EXPECT_EQ(counted->hit, 37u);
}

TEST_F(KillPoint, EveryKnownPointParses) {
  for (std::string_view name : kKillPoints) {
    EXPECT_TRUE(parse_kill_point_spec(std::string(name) + ":2").ok()) << name;
  }
}

TEST_F(KillPoint, RefusesUnknownNamesListingTheKnownOnes) {
  auto bad = parse_kill_point_spec("writer.after_fsyncc:3");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown kill point 'writer.after_fsyncc'"));
  EXPECT_THAT(bad.status().message(), HasSubstr("writer.after_fsync"));
  EXPECT_FALSE(parse_kill_point_spec("").ok());
}

TEST_F(KillPoint, RefusesBadPassCounts) {
  for (const char* spec : {"writer.after_fsync:", "writer.after_fsync:0", "writer.after_fsync:x",
                           "writer.after_fsync:-1", "writer.after_fsync:1x",
                           "writer.after_fsync:9999999999999999999"}) {
    auto bad = parse_kill_point_spec(spec);
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << spec;
  }
}

TEST_F(KillPoint, FiresOnceOnTheNthPassOfItsPoint) {
  std::vector<std::string> fired;
  arm_kill_point(KillPointSpec{"writer.after_wal_write", 3},
                 [&](std::string_view name) { fired.emplace_back(name); });
  BURROW_KILL_POINT("writer.after_wal_write");
  BURROW_KILL_POINT("writer.before_wal_write");  // another point: not counted
  BURROW_KILL_POINT("writer.after_wal_write");
  EXPECT_TRUE(fired.empty());
  EXPECT_EQ(kill_point_hits(), 2u);
  BURROW_KILL_POINT("writer.after_wal_write");
  EXPECT_EQ(fired, (std::vector<std::string>{"writer.after_wal_write"}));
  BURROW_KILL_POINT("writer.after_wal_write");
  EXPECT_EQ(fired.size(), 1u);
}

TEST_F(KillPoint, DisarmedPointsDoNothing) {
  int fired = 0;
  arm_kill_point(KillPointSpec{"writer.after_fsync", 1}, [&](std::string_view) { ++fired; });
  disarm_kill_points();
  BURROW_KILL_POINT("writer.after_fsync");
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(kill_point_hits(), 0u);
}

TEST_F(KillPoint, ReArmingResetsTheCount) {
  int fired = 0;
  auto count = [&](std::string_view) { ++fired; };
  arm_kill_point(KillPointSpec{"writer.after_fsync", 2}, count);
  BURROW_KILL_POINT("writer.after_fsync");
  arm_kill_point(KillPointSpec{"writer.after_fsync", 2}, count);
  BURROW_KILL_POINT("writer.after_fsync");
  EXPECT_EQ(fired, 0);
  BURROW_KILL_POINT("writer.after_fsync");
  EXPECT_EQ(fired, 1);
}

TEST_F(KillPoint, UnsetEnvironmentArmsNothing) {
  // The test environment does not set BURROW_KILL_AT (the crash tests set it for a child).
  EXPECT_TRUE(arm_kill_point_from_env().ok());
  EXPECT_FALSE(kill_point_internal::g_armed.load());
}

}  // namespace
}  // namespace burrow::storage
