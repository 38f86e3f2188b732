// Kill points: named places in the storage code where a crash test has the process killed
// (SIGKILL) on the N-th pass, to check recovery at exact points of the write path - the idea of
// rocksdb's test_util/sync_point.h and its TEST_KILL_RANDOM. Present in every build; a point
// costs one relaxed atomic load while nothing is armed.
//
// Arming from outside: BURROW_KILL_AT=writer.after_fsync:37 kills the process the 37th time
// the writer passes that point (":N" is optional; default 1). open_rocksdb_store() reads the
// variable once per process (arm_kill_point_from_env), so it works for burrowd and for any
// program embedding the store. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <burrow/status.h>

namespace burrow::storage {

namespace kill_point_internal {
extern std::atomic<bool> g_armed;
void hit(const char* name);
}  // namespace kill_point_internal

// Marks a kill point. `name` must be one of kKillPoints.
#define BURROW_KILL_POINT(name)                                                          \
  do {                                                                                   \
    if (::burrow::storage::kill_point_internal::g_armed.load(std::memory_order_relaxed)) \
        [[unlikely]] {                                                                   \
      ::burrow::storage::kill_point_internal::hit(name);                                 \
    }                                                                                    \
  } while (0)

// Every kill point in the code, in write-path order (storage/group_commit.cc places them):
//   writer.before_wal_write  a group is merged, nothing of it is written
//   writer.after_wal_write   the group is in the WAL (OS page cache), not fsynced
//   writer.after_fsync       the group is fsynced (fsync mode only), no callback has run
//   writer.mid_completions   between two callbacks of one group: some confirms went out
// and in the outbox relay and the inbox (broker/outbox.cc, client/):
//   relay.before_local_write  rows routed in memory, their batch (enqueue + row deletes)
//                             not submitted
//   relay.after_local_write   that batch is durable, rows not yet forgotten in memory
//   relay.after_upstream_confirm  an upstream confirmed rows, their deletes not written
//   inbox.after_commit        a handler's state and message id are committed, not acked
// and in the queues (broker/classic_queue.cc):
//   queue.before_dead_letter_write  dead letters routed in memory, their batch (the copies
//                                   in the target queues + the source's deletes) not filled
inline constexpr std::string_view kKillPoints[] = {
    "writer.before_wal_write",      "writer.after_wal_write",   "writer.after_fsync",
    "writer.mid_completions",       "relay.before_local_write", "relay.after_local_write",
    "relay.after_upstream_confirm", "inbox.after_commit",       "queue.before_dead_letter_write",
};

// The environment variable arm_kill_point_from_env() reads.
inline constexpr const char* kKillAtEnv = "BURROW_KILL_AT";

struct KillPointSpec {
  std::string name;
  uint64_t hit = 1;  // fire on this pass (1 = the first)
};

// Parses "name" or "name:N". Errors: kInvalidArgument for an unknown name (the message lists
// the known ones) or an N that is not a positive integer.
Result<KillPointSpec> parse_kill_point_spec(std::string_view text);

// What happens when the armed point fires. Default (empty): SIGKILL this process, which runs
// no destructors and flushes nothing - exactly a crash. Tests inject a recording action.
using KillAction = std::function<void(std::string_view name)>;

// Arms one kill point, replacing any armed one and resetting its pass count. It fires once.
void arm_kill_point(KillPointSpec spec, KillAction action = {});
void disarm_kill_points();
// Passes of the armed point so far (0 when none is armed).
uint64_t kill_point_hits();

// Arms from BURROW_KILL_AT, once per process (later calls return the first outcome). OK when
// the variable is unset or empty. Errors: as parse_kill_point_spec, prefixed with the variable.
Status arm_kill_point_from_env();

}  // namespace burrow::storage
