// Rebuilding a broker from its store after a restart: durable exchanges, queues and bindings,
// then every persistent message of every durable queue, read from the queue's saved head.
#pragma once

#include <cstdint>

#include <burrow/status.h>

#include "broker/vhost.h"
#include "storage/store.h"

namespace burrow::broker {

struct RecoveryStats {
  uint64_t exchanges = 0;
  uint64_t queues = 0;
  uint64_t bindings = 0;
  uint64_t messages = 0;
  uint64_t delayed = 0;       // held by delayed-message exchanges
  uint64_t max_queue_id = 0;  // new durable queues get ids above it
};

// Recovers the entities of `vhost` from `store` into it. Messages delivered before the
// restart come back with redelivered=true and their delivery counts (every message after a
// crash: `crashed`); TTLs run from the original publish. Errors: kCorruption naming what
// could not be read, kIoError.
Result<RecoveryStats> recover_vhost(Persistence& persistence, VHost& vhost, bool crashed);

}  // namespace burrow::broker
