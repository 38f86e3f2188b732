// The slow path of BURROW_KILL_POINT: counts passes of the armed point and fires its action.
#include "storage/kill_point.h"

#include <csignal>
#include <cstdlib>
#include <mutex>

#include <unistd.h>

#include "base/thread_annotations.h"

namespace burrow::storage {
namespace kill_point_internal {

std::atomic<bool> g_armed{false};

namespace {

struct Armed {
  std::mutex mu;
  KillPointSpec spec GUARDED_BY(mu);
  KillAction action GUARDED_BY(mu);
  uint64_t hits GUARDED_BY(mu) = 0;
  bool fired GUARDED_BY(mu) = false;
};

Armed& armed() {
  static Armed* a = new Armed();  // never destroyed: kill points may run during exit
  return *a;
}

[[noreturn]] void kill_self(std::string_view name) {
  // Leave a trace for the crash test's log; write(2) is safe here, stdio may hold locks.
  std::string line = "burrow: kill point ";
  line.append(name);
  line.append(" fired, sending SIGKILL\n");
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
  ::kill(::getpid(), SIGKILL);
  std::abort();  // not reached
}

}  // namespace

void hit(const char* name) {
  KillAction action;
  std::string fired_name;
  {
    Armed& a = armed();
    std::lock_guard lock(a.mu);
    if (a.fired || a.spec.name != name) return;
    if (++a.hits < a.spec.hit) return;
    a.fired = true;
    action = a.action;
    fired_name = a.spec.name;
  }
  if (action) {
    action(fired_name);
  } else {
    kill_self(fired_name);
  }
}

}  // namespace kill_point_internal

Result<KillPointSpec> parse_kill_point_spec(std::string_view text) {
  KillPointSpec spec;
  std::string_view name = text;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    name = text.substr(0, colon);
    std::string_view count = text.substr(colon + 1);
    uint64_t n = 0;
    bool ok = !count.empty() && count.size() <= 18;
    for (char c : count) {
      if (c < '0' || c > '9') ok = false;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!ok || n == 0) {
      return invalid_argument("kill point pass count '" + std::string(count) +
                              "' is not a positive integer (expected name or name:N)");
    }
    spec.hit = n;
  }
  for (std::string_view known : kKillPoints) {
    if (name == known) {
      spec.name = std::string(name);
      return spec;
    }
  }
  std::string message = "unknown kill point '" + std::string(name) + "'; known:";
  for (std::string_view known : kKillPoints) {
    message += ' ';
    message += known;
  }
  return invalid_argument(std::move(message));
}

void arm_kill_point(KillPointSpec spec, KillAction action) {
  auto& a = kill_point_internal::armed();
  {
    std::lock_guard lock(a.mu);
    a.spec = std::move(spec);
    a.action = std::move(action);
    a.hits = 0;
    a.fired = false;
  }
  kill_point_internal::g_armed.store(true, std::memory_order_release);
}

void disarm_kill_points() {
  kill_point_internal::g_armed.store(false, std::memory_order_release);
  auto& a = kill_point_internal::armed();
  std::lock_guard lock(a.mu);
  a.spec = KillPointSpec{};
  a.action = nullptr;
  a.hits = 0;
  a.fired = false;
}

uint64_t kill_point_hits() {
  auto& a = kill_point_internal::armed();
  std::lock_guard lock(a.mu);
  return a.hits;
}

Status arm_kill_point_from_env() {
  static const Status result = [] {
    const char* value = std::getenv(kKillAtEnv);
    if (value == nullptr || *value == '\0') return Status();
    auto spec = parse_kill_point_spec(value);
    if (!spec.ok()) {
      return invalid_argument(std::string(kKillAtEnv) + ": " + spec.status().message());
    }
    arm_kill_point(std::move(*spec));
    return Status();
  }();
  return result;
}

}  // namespace burrow::storage
