// Key layouts of the store's columns: encode/decode helpers so every writer and reader agrees.
// Values are the protobuf records of storage/records.proto (docs/storage_format.md draws both).
//
// kMessages: a queue's messages are one contiguous key range, in publish order, so recovery and
// paging read a queue with one seek from its saved head and an upper bound at the queue's end.
//
//     0                     8                     16
//     +---------------------+---------------------+
//     | queue id  (u64, BE) | sequence  (u64, BE) |   -> MessageRecord + body (record_codec.h)
//     +---------------------+---------------------+
//     \_ message_prefix(q) _/
//
// kOutbox: rows in the order they were written.
//
//     +---------------------+
//     | row id    (u64, BE) |                         -> OutboxRow
//     +---------------------+
//     0xff + row id (u64, BE)                         -> OutboxRow of a parked row
//
// kInbox: processed message ids per scope (a consumer or an application component).
//
//     +---------------+-------+------------------------+
//     | varint len(s) | scope | message id (to the end) |  -> InboxEntry
//     +---------------+-------+------------------------+
//
// kMetadata: a tag byte names the record kind; names are length-prefixed (varint) except the
// last, which runs to the end of the key, so "every queue of vhost V" is one prefix.
//
//     'v' vhost                                              -> VhostRecord
//     'u' user                                               -> UserRecord
//     'p' [vhost] user                                       -> PermissionRecord
//     'x' [vhost] exchange                                   -> ExchangeRecord
//     'q' [vhost] queue                                      -> QueueRecord
//     'h' queue id (u64, BE)                                 -> QueueHead
//     'd' queue id (u64, BE) sequence (u64, BE)              -> delivery count (varint)
//     'b' [vhost] [source] kind [destination] [routing key] arguments -> BindingRecord
//     'P' [vhost] policy                                     -> PolicyRecord
//     'o'                                                    -> the next outbox row id (u64, BE)
//     'O'                                                    -> outbox head: lowest live row id
//     'R'                                                    -> "running": the broker is open
//                                                               (absent after a clean stop)
//     'D' [vhost] id (u64, BE)                               -> held delayed message (value as
//                                                               kMessages, routing_keys set)
//     ([name] = varint length + bytes; kind = 'q' or 'x'; arguments = the deterministic
//      serialization of the binding's FieldTable record, empty when it has none)
//
// The store's own records (format header, application column catalog) live in RocksDB's
// "default" column family, which no Column names; the broker cannot overwrite them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace burrow::storage {

inline constexpr size_t kMessagePrefixSize = 8;
inline constexpr size_t kMessageKeySize = 16;
inline constexpr size_t kOutboxKeySize = 8;

// --- Fixed-width integers, big-endian so byte order is numeric order ---
void put_u64_be(std::string& out, uint64_t value);
// Reads 8 bytes at `p`.
uint64_t get_u64_be(const char* p);

// --- kMessages ---
struct MessageKey {
  uint64_t queue_id = 0;
  uint64_t seq = 0;
  friend bool operator==(const MessageKey&, const MessageKey&) = default;
};
std::string message_key(uint64_t queue_id, uint64_t seq);
// The 8-byte prefix shared by every message of `queue_id`.
std::string message_prefix(uint64_t queue_id);
// Every message of `queue_id` sorts in [message_prefix(q), message_prefix(q + 1)); those below
// sequence s in [message_key(q, 0), message_key(q, s)) (storage/queue_range.h uses both).
// nullopt when `key` is not a 16-byte message key.
std::optional<MessageKey> decode_message_key(std::string_view key);

// --- kOutbox ---
std::string outbox_key(uint64_t row_id);
std::optional<uint64_t> decode_outbox_key(std::string_view key);
// A parked row (relay gave up on it) is moved to 0xff + row id: after every live row, so a
// scan of live rows stops at kParkedOutboxPrefix and parked rows are one prefix.
inline constexpr std::string_view kParkedOutboxPrefix = "\xff";
std::string parked_outbox_key(uint64_t row_id);
std::optional<uint64_t> decode_parked_outbox_key(std::string_view key);
// Where the relay saves the lowest live row id, so a restart scans from there instead of over
// the tombstones of every relayed row (like a queue head).
std::string outbox_head_key();

// --- kInbox ---
std::string inbox_key(std::string_view scope, std::string_view message_id);
std::string inbox_prefix(std::string_view scope);

// --- kMetadata ---
enum class MetadataKind : char {
  kVhost = 'v',
  kUser = 'u',
  kPermission = 'p',
  kExchange = 'x',
  kQueue = 'q',
  kQueueHead = 'h',
  kDelivered = 'd',
  kBinding = 'b',
  kPolicy = 'P',
  kDelayed = 'D',
  kRunning = 'R',
  kOutboxSequence = 'o',
  kOutboxHead = 'O',
};
// The prefix of every record of one kind (e.g. all vhosts, for recovery).
std::string metadata_prefix(MetadataKind kind);

std::string vhost_key(std::string_view vhost);
std::string user_key(std::string_view user);
std::string permission_key(std::string_view vhost, std::string_view user);
std::string exchange_key(std::string_view vhost, std::string_view exchange);
std::string exchange_prefix(std::string_view vhost);  // every exchange of `vhost`
std::string queue_key(std::string_view vhost, std::string_view queue);
std::string queue_prefix(std::string_view vhost);  // every queue of `vhost`
// Where a queue's head is saved: messages of the queue below it are deleted, so recovery seeks
// to message_key(queue_id, head) instead of the start of the range.
std::string queue_head_key(uint64_t queue_id);
// Marks a persistent message of `queue_id` as delivered (and how often), so a restart brings it
// back with redelivered=true and its delivery count, as RabbitMQ does; deleted with the message.
std::string delivered_key(uint64_t queue_id, uint64_t seq);
std::string delivered_prefix(uint64_t queue_id);  // every marker of `queue_id`
// The next outbox row id to hand out (storage/txn_sequencer.h), rewritten by every commit that
// adds rows so ids are never reused, even after the outbox drained.
std::string outbox_sequence_key();
// Present while a broker has the store open; still there at the next open after a crash.
std::string running_key();
// A message held by a delayed-message exchange of `vhost` until it is due (its id is the
// vhost's hold counter); deleted when it is routed.
std::string delayed_key(std::string_view vhost, uint64_t id);
std::string delayed_prefix(std::string_view vhost);  // every held message of `vhost`

enum class BindingDestination : char { kQueue = 'q', kExchange = 'x' };
std::string binding_key(std::string_view vhost, std::string_view source, BindingDestination kind,
                        std::string_view destination, std::string_view routing_key,
                        std::string_view arguments);
std::string binding_prefix(std::string_view vhost);  // every binding of `vhost`
std::string binding_source_prefix(std::string_view vhost, std::string_view source);
std::string policy_key(std::string_view vhost, std::string_view policy);

// --- Ranges ---
// The smallest key greater than every key starting with `prefix`: the exclusive upper bound of
// a prefix range. Empty when there is none (empty prefix, or all bytes 0xff).
std::string prefix_successor(std::string_view prefix);

}  // namespace burrow::storage
