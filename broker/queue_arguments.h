// The x-arguments of classic and quorum queues, parsed and validated as RabbitMQ 3.10's
// rabbit_amqqueue:declare_args/0 does, and the argument equivalence check on redeclare.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <burrow/field_table.h>
#include <burrow/status.h>

namespace burrow::broker {

enum class Overflow : uint8_t { kDropHead, kRejectPublish, kRejectPublishDlx };
// x-dead-letter-strategy (quorum queues).
enum class DeadLetterStrategy : uint8_t { kAtMostOnce, kAtLeastOnce };

// What a queue's arguments ask for; absent optionals are unset arguments.
struct QueueArguments {
  std::optional<int64_t> message_ttl;                  // x-message-ttl, ms
  std::optional<int64_t> expires;                      // x-expires, ms
  std::optional<int64_t> max_length;                   // x-max-length, ready messages
  std::optional<int64_t> max_length_bytes;             // x-max-length-bytes, ready body bytes
  Overflow overflow = Overflow::kDropHead;             // x-overflow
  std::optional<std::string> dead_letter_exchange;     // x-dead-letter-exchange
  std::optional<std::string> dead_letter_routing_key;  // x-dead-letter-routing-key
  std::optional<uint8_t> max_priority;                 // x-max-priority
  bool single_active_consumer = false;                 // x-single-active-consumer
  // Burrow extension with RabbitMQ's name (quorum queues only in RabbitMQ): a message
  // delivered more than this many times is dead-lettered with reason delivery_limit.
  std::optional<int64_t> delivery_limit;  // x-delivery-limit
  // Quorum queues: as declared; dead-lettering is the same either way (docs/queue_types.md).
  DeadLetterStrategy dead_letter_strategy = DeadLetterStrategy::kAtMostOnce;
  // Streams: retention by age (x-max-age, in ms) and the segment size retention works in
  // (x-stream-max-segment-size-bytes; RabbitMQ's default 500 MB when absent).
  std::optional<int64_t> max_age_ms;
  std::optional<int64_t> max_segment_size_bytes;
};

// Validates and parses `args` for a new classic queue. `resource` is "queue 'q' in vhost '/'".
// Errors: 406 "invalid arg 'x-...' for queue 'q' in vhost '/': {value_negative,-1}" (and the
// other RabbitMQ error terms), and for arguments of other queue types "invalid arg 'x-...' for
// queue 'q' in vhost '/' of queue type rabbit_classic_queue".
Result<QueueArguments> parse_queue_arguments(const FieldTable& args, std::string_view resource);

// Validates and parses `args` for a new quorum queue, as RabbitMQ 3.10.8: only the arguments a
// quorum queue takes are validated (x-delivery-limit is not: a non-integer means no limit);
// x-overflow reject-publish-dlx means drop-head. Errors: 406 as above, and for arguments of
// other queue types "invalid arg 'x-max-priority' for queue 'q' in vhost '/' of queue type
// rabbit_quorum_queue".
Result<QueueArguments> parse_quorum_queue_arguments(const FieldTable& args,
                                                    std::string_view resource);

// Validates and parses `args` for a new stream, as RabbitMQ 3.10.8: x-max-length-bytes,
// x-max-age, x-stream-max-segment-size-bytes, x-initial-cluster-size and
// x-queue-leader-locator are validated; the arguments of other types are refused ("invalid
// arg 'x-message-ttl' for queue 's' in vhost '/' of queue type rabbit_stream_queue").
// x-max-age "foo" (no leading digits) fails with a bare 541, as RabbitMQ's crash.
Result<QueueArguments> parse_stream_queue_arguments(const FieldTable& args,
                                                    std::string_view resource);
// The redeclaration check of a stream: the keys a stream takes (x-queue-type among them).
Status check_stream_queue_arguments_equivalent(const FieldTable& current,
                                               const FieldTable& received,
                                               std::string_view resource);

// A duration as x-max-age and the x-stream-offset interval write it (rabbit_amqqueue:
// check_max_age/1): digits, then one of the units Y M D h m s, e.g. "7D" or "1h"; in ms.
// Errors: kInvalidArgument "invalid_max_age" for a zero value or an unknown unit, and a bare
// kInternalError when there are no leading digits (RabbitMQ crashes on those).
Result<int64_t> parse_max_age(std::string_view text);

// rabbit_channel's check of the x-dead-letter-exchange type, made before validation. Error:
// 406 "invalid type 'long' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'".
Status check_dead_letter_exchange_type(const FieldTable& args, std::string_view resource);

// x-queue-master-locator must be client-local, min-masters or random; otherwise 541
// INTERNAL_ERROR, as RabbitMQ 3.10.8's crash looks to a client.
Status check_queue_master_locator(const FieldTable& args);

// The redeclaration check: compares RabbitMQ's fixed set of classic-queue keys in its order
// (x-queue-type absent == "classic"). Error: 406 "inequivalent arg ...".
Status check_queue_arguments_equivalent(const FieldTable& current, const FieldTable& received,
                                        std::string_view resource);
// The same for a quorum queue: the keys a quorum queue takes, x-queue-type among them (absent
// is not "quorum"). Unknown keys are ignored, as RabbitMQ does.
Status check_quorum_queue_arguments_equivalent(const FieldTable& current,
                                               const FieldTable& received,
                                               std::string_view resource);

// Parses a per-message expiration property as rabbit_basic:parse_expiration (a decimal
// integer, 0 to 10 years). Error: 406 "invalid expiration 'X': no_integer" and the like.
Result<int64_t> parse_expiration(std::string_view expiration);

}  // namespace burrow::broker
