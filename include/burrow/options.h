// Options for opening a broker (Broker::open) and for running burrowd.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace burrow {

class Clock;

// How durable a publisher confirm is.
enum class Durability : uint8_t {
  // A confirm means the message survives power loss: writes are fsync'ed, many writes share
  // one fsync (group commit). Costs latency under a single publisher waiting on each confirm.
  kFsync,
  // A confirm means the message is in the OS's page cache: it survives the process being
  // killed, not a power cut. RabbitMQ classic queues give this guarantee.
  kOs,
};

struct Options {
  // Where the store lives. Default: "./data". Ignored when in_memory is true.
  std::string data_dir = "./data";

  // Keep everything in memory: nothing is written to disk and nothing survives the process.
  // Default: false. For tests and throw-away brokers; starts fastest.
  bool in_memory = false;

  // Default: kFsync (a confirm survives power loss).
  Durability durability = Durability::kFsync;

  // Open a damaged store anyway, salvaging what reads cleanly (damaged files are moved to
  // <data_dir>/lost and what was dropped is logged). Confirmed messages may be lost. Default:
  // false: a damaged store refuses to open and names the damaged file.
  bool repair = false;

  // Broker worker threads, which run queue deliveries, consumer callbacks and (in burrowd)
  // the network I/O. Default: 0 = one per hardware thread.
  int worker_threads = 0;

  // The time source for TTLs, expiry and delays. Default: nullptr = the system clock.
  // Not owned; must outlive the broker. Use a ManualClock to drive time from a test.
  Clock* clock = nullptr;

  // The user and vhost created on first start, as RabbitMQ's defaults. Default: guest/guest
  // on "/".
  std::string default_user = "guest";
  std::string default_password = "guest";
  std::string default_vhost = "/";

  // Users that may connect only from a loopback address (RabbitMQ's loopback_users).
  // Default: {"guest"} - a well-known password must not open the broker to the network.
  std::vector<std::string> loopback_users = {"guest"};

  // How long a consumer may hold a delivery without acknowledging it before its channel is
  // closed with 406 PRECONDITION_FAILED (RabbitMQ's consumer_timeout). Default: 30 minutes;
  // 0 disables the check.
  int64_t consumer_timeout_ms = 1800000;

  // Memory for the contents of ready persistent messages in durable queues. Past it, a
  // queue keeps a newly stored message only as a small index entry (about 50 bytes) and
  // reads the contents back from the store in batches when consumers reach them, so a
  // backlog larger than memory costs the budget plus the index. Transient messages are not
  // paged. Default: 0 = a quarter of physical memory. UINT64_MAX = no paging.
  uint64_t memory_budget_bytes = 0;

  // Largest message body accepted (RabbitMQ's max_message_size; at most 512 MiB, its hard
  // limit). Default: 128 MiB; a larger publish fails with 406 PRECONDITION_FAILED.
  uint64_t max_message_size = 128ull * 1024 * 1024;

  // Most consumers one channel may hold (RabbitMQ 3.12's consumer_max_per_channel; 3.10 has
  // no such limit). A consume past it fails with 530 NOT_ALLOWED "reached maximum (N) of
  // consumers per channel", which closes an AMQP connection. Default: 0 = no limit.
  uint32_t consumer_max_per_channel = 0;

  // Transactional outbox (include/burrow/outbox.h): rows hash by partition key into this
  // many buckets per destination; each bucket is relayed in commit order. Default: 64.
  uint32_t outbox_buckets = 64;

  // How long the inbox remembers a processed message_id: a redelivery or duplicate within
  // the window is acked without running the handler. Default: 24 hours.
  int64_t inbox_dedup_window_ms = 24ll * 3600 * 1000;
};

}  // namespace burrow
