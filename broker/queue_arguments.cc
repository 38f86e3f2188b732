// Classic-queue argument validation, RabbitMQ 3.10's rules and error terms
// (rabbit_amqqueue:declare_args/0, rabbit_misc:check_expiry/1, rabbit_basic:parse_expiration/1).
#include "broker/queue_arguments.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

#include "base/status_macros.h"
#include "broker/arguments.h"

namespace burrow::broker {

namespace {

// rabbit_misc: 10 years in milliseconds.
constexpr int64_t kMaxExpiry = 315360000000;
constexpr int64_t kMaxPriority = 255;

// An argument error term, rendered as Erlang's ~p would print it.
using Check = std::optional<std::string>;

Check unacceptable_type(const FieldValue& v) {
  return fmt::format("{{unacceptable_type,{}}}", erlang_type_name(v.type()));
}

// check_int_arg: one of the integer types; RabbitMQ 3.10 answers with a string, which ~p
// prints in double quotes.
Check check_int(const FieldValue& v) {
  if (!v.as_integer()) {
    return fmt::format("\"expected integer, got {}\"", erlang_type_name(v.type()));
  }
  return std::nullopt;
}

Check check_non_neg_int(const FieldValue& v) {
  if (auto e = check_int(v)) return e;
  int64_t n = *v.as_integer();
  if (n < 0) return fmt::format("{{value_negative,{}}}", n);
  return std::nullopt;
}

Check check_expiry(int64_t n) {
  if (n > kMaxExpiry) return fmt::format("{{value_too_large,{}}}", n);
  if (n < 0) return fmt::format("{{value_negative,{}}}", n);
  return std::nullopt;
}

Check check_expires(const FieldValue& v) {
  if (auto e = check_int(v)) return e;
  int64_t n = *v.as_integer();
  if (n == 0) return fmt::format("{{value_zero,{}}}", n);
  return check_expiry(n);
}

Check check_message_ttl(const FieldValue& v) {
  if (auto e = check_int(v)) return e;
  return check_expiry(*v.as_integer());
}

Check check_bool(const FieldValue& v) {
  if (!v.is<bool>()) return unacceptable_type(v);
  return std::nullopt;
}

Check check_longstr(const FieldValue& v) {
  if (!v.is<std::string>()) return unacceptable_type(v);
  return std::nullopt;
}

Check check_one_of(const FieldValue& v, std::initializer_list<std::string_view> allowed,
                   std::string_view error) {
  if (auto e = check_longstr(v)) return e;
  const std::string& s = *v.get_if<std::string>();
  for (std::string_view a : allowed) {
    if (s == a) return std::nullopt;
  }
  return std::string(error);
}

// rabbit_amqqueue:check_initial_cluster_size_arg/2 (x-quorum-initial-group-size and
// x-initial-cluster-size): a positive integer.
Check check_initial_cluster_size(const FieldValue& v) {
  if (auto e = check_int(v)) return e;
  const int64_t n = *v.as_integer();
  if (n == 0) return std::string("{value_zero,0}");
  if (n < 0) return fmt::format("{{value_negative,{}}}", n);
  return std::nullopt;
}

// x-queue-leader-locator (quorum queues and streams).
Check check_leader_locator(const FieldValue& v) {
  return check_one_of(v, {"client-local", "balanced", "random", "least-leaders"},
                      "invalid_queue_locator_arg");
}

// Arguments RabbitMQ 3.10 accepts only on quorum queues or streams. (x-delivery-limit is
// one too, but Burrow supports it on classic queues; docs/rabbitmq_compatibility.md.)
constexpr std::array<std::string_view, 8> kOtherQueueTypeArgs = {
    "x-max-in-memory-length",      "x-max-in-memory-bytes",
    "x-dead-letter-strategy",      "x-max-age",
    "x-quorum-initial-group-size", "x-initial-cluster-size",
    "x-queue-leader-locator",      "x-stream-max-segment-size-bytes"};

// The arguments classic and quorum queues share, the first of rabbit_amqqueue:declare_args/0
// in its order: x-expires, x-message-ttl, the dead-letter exchange and routing key, the
// length limits.
Status parse_shared_arguments(const FieldTable& args, std::string_view resource,
                              QueueArguments& out) {
  auto fail = [&](std::string_view key, const std::string& term) {
    return precondition_failed(fmt::format("invalid arg '{}' for {}: {}", key, resource, term));
  };
  if (const FieldValue* v = args.find("x-expires")) {
    if (auto e = check_expires(*v)) return fail("x-expires", *e);
    out.expires = *v->as_integer();
  }
  if (const FieldValue* v = args.find("x-message-ttl")) {
    if (auto e = check_message_ttl(*v)) return fail("x-message-ttl", *e);
    out.message_ttl = *v->as_integer();
  }
  if (const FieldValue* v = args.find("x-dead-letter-exchange")) {
    // The type was checked before validation (check_dead_letter_exchange_type).
    if (auto e = check_longstr(*v)) return fail("x-dead-letter-exchange", *e);
    out.dead_letter_exchange = *v->get_if<std::string>();
  }
  if (const FieldValue* v = args.find("x-dead-letter-routing-key")) {
    if (auto e = check_longstr(*v)) return fail("x-dead-letter-routing-key", *e);
    if (!args.contains("x-dead-letter-exchange")) {
      return fail("x-dead-letter-routing-key", "routing_key_but_no_dlx_defined");
    }
    out.dead_letter_routing_key = *v->get_if<std::string>();
  }
  if (const FieldValue* v = args.find("x-max-length")) {
    if (auto e = check_non_neg_int(*v)) return fail("x-max-length", *e);
    out.max_length = *v->as_integer();
  }
  if (const FieldValue* v = args.find("x-max-length-bytes")) {
    if (auto e = check_non_neg_int(*v)) return fail("x-max-length-bytes", *e);
    out.max_length_bytes = *v->as_integer();
  }
  return Status();
}

}  // namespace

Result<QueueArguments> parse_queue_arguments(const FieldTable& args, std::string_view resource) {
  QueueArguments out;
  auto fail = [&](std::string_view key, const std::string& term) {
    return precondition_failed(fmt::format("invalid arg '{}' for {}: {}", key, resource, term));
  };
  // Checked in rabbit_amqqueue:declare_args/0's order, so the first error matches.
  RETURN_IF_ERROR(parse_shared_arguments(args, resource, out));
  if (const FieldValue* v = args.find("x-max-priority")) {
    if (auto e = check_non_neg_int(*v)) return fail("x-max-priority", *e);
    int64_t p = *v->as_integer();
    if (p > kMaxPriority)
      return fail("x-max-priority", fmt::format("{{max_value_exceeded,{}}}", p));
    out.max_priority = static_cast<uint8_t>(p);
  }
  if (const FieldValue* v = args.find("x-overflow")) {
    if (auto e = check_one_of(*v, {"drop-head", "reject-publish", "reject-publish-dlx"},
                              "invalid_overflow")) {
      return fail("x-overflow", *e);
    }
    const std::string& s = *v->get_if<std::string>();
    out.overflow = s == "drop-head"        ? Overflow::kDropHead
                   : s == "reject-publish" ? Overflow::kRejectPublish
                                           : Overflow::kRejectPublishDlx;
  }
  if (const FieldValue* v = args.find("x-queue-mode")) {
    if (auto e = check_longstr(*v)) return fail("x-queue-mode", *e);
    const std::string& mode = *v->get_if<std::string>();
    if (mode != "default" && mode != "lazy") {
      return fail("x-queue-mode", fmt::format("\"unsupported queue mode '{}'\"", mode));
    }
  }
  if (const FieldValue* v = args.find("x-queue-version")) {
    if (auto e = check_int(*v)) return fail("x-queue-version", *e);
    int64_t n = *v->as_integer();
    if (n != 1 && n != 2) {
      return fail("x-queue-version", fmt::format("\"unsupported queue version '{}'\"", n));
    }
  }
  if (const FieldValue* v = args.find("x-single-active-consumer")) {
    if (auto e = check_bool(*v)) return fail("x-single-active-consumer", *e);
    out.single_active_consumer = *v->get_if<bool>();
  }
  if (const FieldValue* v = args.find("x-queue-type")) {
    if (auto e = check_longstr(*v)) return fail("x-queue-type", *e);
    const std::string& type = *v->get_if<std::string>();
    if (type != "classic" && type != "quorum" && type != "stream") {
      return fail("x-queue-type", fmt::format("\"unsupported queue type '{}'\"", type));
    }
  }
  if (const FieldValue* v = args.find("x-delivery-limit")) {
    if (auto e = check_non_neg_int(*v)) return fail("x-delivery-limit", *e);
    out.delivery_limit = *v->as_integer();
  }
  for (std::string_view key : kOtherQueueTypeArgs) {
    if (args.contains(key)) {
      return precondition_failed(
          fmt::format("invalid arg '{}' for {} of queue type "
                      "rabbit_classic_queue",
                      key, resource));
    }
  }
  return out;
}

namespace {

// rabbit_quorum_queue:capabilities/0 queue_arguments (3.10.8), in that order: the keys
// compared on redeclaration.
constexpr std::array<std::string_view, 15> kQuorumKeys = {"x-dead-letter-exchange",
                                                          "x-dead-letter-routing-key",
                                                          "x-dead-letter-strategy",
                                                          "x-expires",
                                                          "x-max-length",
                                                          "x-max-length-bytes",
                                                          "x-max-in-memory-length",
                                                          "x-max-in-memory-bytes",
                                                          "x-overflow",
                                                          "x-single-active-consumer",
                                                          "x-queue-type",
                                                          "x-quorum-initial-group-size",
                                                          "x-delivery-limit",
                                                          "x-message-ttl",
                                                          "x-queue-leader-locator"};

// Keys of the other queue types that a quorum queue refuses (rabbit_amqqueue:
// check_arguments_key/4, observed on RabbitMQ 3.10.8).
constexpr std::array<std::string_view, 7> kNotQuorumKeys = {
    "x-max-priority",         "x-queue-mode", "x-queue-version",
    "x-queue-master-locator", "x-max-age",    "x-stream-max-segment-size-bytes",
    "x-initial-cluster-size"};

}  // namespace

Result<QueueArguments> parse_quorum_queue_arguments(const FieldTable& args,
                                                    std::string_view resource) {
  QueueArguments out;
  auto fail = [&](std::string_view key, const std::string& term) {
    return precondition_failed(fmt::format("invalid arg '{}' for {}: {}", key, resource, term));
  };
  // rabbit_amqqueue:declare_args/0's validators, for the keys a quorum queue takes.
  RETURN_IF_ERROR(parse_shared_arguments(args, resource, out));
  // Accepted and kept for redeclaration; Burrow keeps every message in memory or pages by
  // its memory budget, so they change nothing (RabbitMQ 3.10 ignores them too).
  for (const char* key : {"x-max-in-memory-length", "x-max-in-memory-bytes"}) {
    if (const FieldValue* v = args.find(key)) {
      if (auto e = check_non_neg_int(*v)) return fail(key, *e);
    }
  }
  if (const FieldValue* v = args.find("x-overflow")) {
    if (auto e = check_one_of(*v, {"drop-head", "reject-publish", "reject-publish-dlx"},
                              "invalid_overflow")) {
      return fail("x-overflow", *e);
    }
    // rabbit_quorum_queue:overflow/3: reject-publish-dlx is not a quorum queue strategy;
    // RabbitMQ logs a warning and drops heads.
    out.overflow = *v->get_if<std::string>() == "reject-publish" ? Overflow::kRejectPublish
                                                                 : Overflow::kDropHead;
  }
  if (const FieldValue* v = args.find("x-single-active-consumer")) {
    if (auto e = check_bool(*v)) return fail("x-single-active-consumer", *e);
    out.single_active_consumer = *v->get_if<bool>();
  }
  if (const FieldValue* v = args.find("x-queue-type")) {
    if (auto e = check_longstr(*v)) return fail("x-queue-type", *e);
  }
  if (const FieldValue* v = args.find("x-quorum-initial-group-size")) {
    if (auto e = check_initial_cluster_size(*v)) return fail("x-quorum-initial-group-size", *e);
  }
  if (const FieldValue* v = args.find("x-queue-leader-locator")) {
    if (auto e = check_leader_locator(*v)) return fail("x-queue-leader-locator", *e);
  }
  if (const FieldValue* v = args.find("x-dead-letter-strategy")) {
    if (auto e = check_one_of(*v, {"at-most-once", "at-least-once"}, "invalid_dlx_strategy")) {
      return fail("x-dead-letter-strategy", *e);
    }
    if (*v->get_if<std::string>() == "at-least-once") {
      out.dead_letter_strategy = DeadLetterStrategy::kAtLeastOnce;
    }
  }
  // RabbitMQ 3.10 does not validate x-delivery-limit: an integer is the limit (a negative
  // one dead-letters at the first return), anything else means no limit.
  if (const FieldValue* v = args.find("x-delivery-limit")) {
    if (auto n = v->as_integer()) out.delivery_limit = *n;
  }
  for (std::string_view key : kNotQuorumKeys) {
    if (args.contains(key)) {
      return precondition_failed(
          fmt::format("invalid arg '{}' for {} of queue type rabbit_quorum_queue", key, resource));
    }
  }
  return out;
}

Status check_quorum_queue_arguments_equivalent(const FieldTable& current,
                                               const FieldTable& received,
                                               std::string_view resource) {
  for (std::string_view key : kQuorumKeys) {
    Status s = assert_arg_equivalence(current, received, key, resource);
    if (!s.ok()) return s;
  }
  return Status();
}

Result<int64_t> parse_max_age(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  // list_to_integer("") raises in RabbitMQ: the channel crashes, the client sees a bare 541.
  if (digits == 0) return Status(StatusCode::kInternalError, "");
  // Ages past a million years are refused (RabbitMQ's bignums would take them); below that
  // nothing overflows.
  constexpr int64_t kMaxDays = 1'000'000 * 365;
  int64_t value = 0;
  for (size_t i = 0; i < digits; ++i) {
    value = value * 10 + (text[i] - '0');
    if (value > kMaxDays * 24 * 3600) return invalid_argument("invalid_max_age");
  }
  const std::string_view unit = text.substr(digits);
  constexpr int64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;
  int64_t scale = 0;
  if (unit == "Y") scale = 365 * kDay;
  if (unit == "M") scale = 30 * kDay;
  if (unit == "D") scale = kDay;
  if (unit == "h") scale = kHour;
  if (unit == "m") scale = kMinute;
  if (unit == "s") scale = kSecond;
  if (value <= 0 || scale == 0 || value > kMaxDays * 24 * 3600 * 1000 / scale) {
    return invalid_argument("invalid_max_age");
  }
  return value * scale;
}

namespace {

// rabbit_stream_queue:capabilities/0 queue_arguments (3.10.8): the keys a stream takes, in
// that order, compared on redeclaration.
constexpr std::array<std::string_view, 6> kStreamKeys = {"x-max-length-bytes",
                                                         "x-queue-type",
                                                         "x-max-age",
                                                         "x-stream-max-segment-size-bytes",
                                                         "x-initial-cluster-size",
                                                         "x-queue-leader-locator"};

// The other keys of rabbit_amqqueue:declare_args/0, in its order: refused on a stream.
constexpr std::array<std::string_view, 16> kNotStreamKeys = {"x-expires",
                                                             "x-message-ttl",
                                                             "x-dead-letter-exchange",
                                                             "x-dead-letter-routing-key",
                                                             "x-max-length",
                                                             "x-max-in-memory-length",
                                                             "x-max-in-memory-bytes",
                                                             "x-max-priority",
                                                             "x-overflow",
                                                             "x-queue-mode",
                                                             "x-queue-version",
                                                             "x-single-active-consumer",
                                                             "x-quorum-initial-group-size",
                                                             "x-dead-letter-strategy",
                                                             "x-queue-master-locator",
                                                             "x-delivery-limit"};

}  // namespace

Result<QueueArguments> parse_stream_queue_arguments(const FieldTable& args,
                                                    std::string_view resource) {
  QueueArguments out;
  auto fail = [&](std::string_view key, const std::string& term) {
    return precondition_failed(fmt::format("invalid arg '{}' for {}: {}", key, resource, term));
  };
  if (const FieldValue* v = args.find("x-max-length-bytes")) {
    if (auto e = check_non_neg_int(*v)) return fail("x-max-length-bytes", *e);
    out.max_length_bytes = *v->as_integer();
  }
  if (const FieldValue* v = args.find("x-queue-type")) {
    if (auto e = check_longstr(*v)) return fail("x-queue-type", *e);
  }
  if (const FieldValue* v = args.find("x-max-age")) {
    if (auto e = check_longstr(*v)) return fail("x-max-age", *e);
    Result<int64_t> age = parse_max_age(*v->get_if<std::string>());
    if (!age.ok()) {
      if (age.status().code() == StatusCode::kInternalError) return age.status();
      return fail("x-max-age", age.status().message());
    }
    out.max_age_ms = *age;
  }
  if (const FieldValue* v = args.find("x-stream-max-segment-size-bytes")) {
    if (auto e = check_non_neg_int(*v)) return fail("x-stream-max-segment-size-bytes", *e);
    out.max_segment_size_bytes = *v->as_integer();
  }
  if (const FieldValue* v = args.find("x-initial-cluster-size")) {
    if (auto e = check_initial_cluster_size(*v)) return fail("x-initial-cluster-size", *e);
  }
  if (const FieldValue* v = args.find("x-queue-leader-locator")) {
    if (auto e = check_leader_locator(*v)) return fail("x-queue-leader-locator", *e);
  }
  for (std::string_view key : kNotStreamKeys) {
    if (args.contains(key)) {
      return precondition_failed(
          fmt::format("invalid arg '{}' for {} of queue type rabbit_stream_queue", key, resource));
    }
  }
  return out;
}

Status check_stream_queue_arguments_equivalent(const FieldTable& current,
                                               const FieldTable& received,
                                               std::string_view resource) {
  for (std::string_view key : kStreamKeys) {
    Status s = assert_arg_equivalence(current, received, key, resource);
    if (!s.ok()) return s;
  }
  return Status();
}

Status check_dead_letter_exchange_type(const FieldTable& args, std::string_view resource) {
  // rabbit_channel checks the dead-letter exchange's type (rabbit_misc:r_arg/4) before the
  // arguments are validated, with its own text.
  const FieldValue* v = args.find("x-dead-letter-exchange");
  if (v == nullptr || v->is<std::string>()) return Status();
  return precondition_failed(fmt::format("invalid type '{}' for arg 'x-dead-letter-exchange' in {}",
                                         erlang_type_name(v->type()), resource));
}

Status check_queue_master_locator(const FieldTable& args) {
  // RabbitMQ 3.10.8 crashes the channel on an unknown or non-string x-queue-master-locator:
  // the client sees connection.close 541 INTERNAL_ERROR and no queue exists (observed,
  // tests/differential queue_args.master_locator_unknown_541).
  const FieldValue* v = args.find("x-queue-master-locator");
  if (v == nullptr) return Status();
  const std::string* s = v->get_if<std::string>();
  if (s && (*s == "client-local" || *s == "min-masters" || *s == "random")) return Status();
  return Status(StatusCode::kInternalError, "");
}

Status check_queue_arguments_equivalent(const FieldTable& current, const FieldTable& received,
                                        std::string_view resource) {
  // rabbit_classic_queue: the keys compared on redeclare, in order; others are ignored.
  static constexpr std::array<std::string_view, 12> kKeys = {
      "x-expires",    "x-message-ttl",      "x-dead-letter-exchange",   "x-dead-letter-routing-key",
      "x-max-length", "x-max-length-bytes", "x-max-priority",           "x-overflow",
      "x-queue-mode", "x-queue-version",    "x-single-active-consumer", "x-queue-master-locator"};
  for (std::string_view key : kKeys) {
    Status s = assert_arg_equivalence(current, received, key, resource);
    if (!s.ok()) return s;
  }
  // An absent x-queue-type equals "classic"; any other difference is reported as usual
  // (e.g. "received the value 'quorum' of type 'longstr' but current is none").
  const FieldValue* c = current.find("x-queue-type");
  const FieldValue* n = received.find("x-queue-type");
  auto is_classic = [](const FieldValue* v) {
    return v != nullptr && v->is<std::string>() && *v->get_if<std::string>() == "classic";
  };
  if ((c == nullptr && is_classic(n)) || (n == nullptr && is_classic(c))) return Status();
  return assert_arg_equivalence(current, received, "x-queue-type", resource);
}

Result<int64_t> parse_expiration(std::string_view expiration) {
  // string:to_integer/1: an optional sign and digits; the rest is "leftover".
  size_t i = 0;
  bool negative = false;
  if (i < expiration.size() && (expiration[i] == '+' || expiration[i] == '-')) {
    negative = expiration[i] == '-';
    ++i;
  }
  size_t digits_start = i;
  int64_t value = 0;
  bool overflow = false;
  while (i < expiration.size() && std::isdigit(static_cast<unsigned char>(expiration[i]))) {
    if (value > (INT64_MAX - 9) / 10) overflow = true;
    if (!overflow) value = value * 10 + (expiration[i] - '0');
    ++i;
  }
  const std::string prefix = fmt::format("invalid expiration '{}': ", expiration);
  auto fail = [&](const std::string& term) { return precondition_failed(prefix + term); };
  // `~p` of a two-element error tuple: Erlang breaks it after the comma, indented under the
  // brace, when it does not fit in 80 columns from where it starts.
  auto tuple = [&](std::string_view tag, std::string_view element) {
    std::string flat = fmt::format("{{{},{}}}", tag, element);
    if (prefix.size() + flat.size() <= 80) return flat;
    return fmt::format("{{{},\n{}{}}}", tag, std::string(prefix.size() + 1, ' '), element);
  };
  if (i == digits_start) return fail("no_integer");
  if (i != expiration.size()) {
    return fail(tuple("leftover_string", fmt::format("\"{}\"", expiration.substr(i))));
  }
  const std::string_view digits = expiration.substr(digits_start, i - digits_start);
  const std::string shown = (negative ? "-" : "") + std::string(digits);
  if (overflow || value > kMaxExpiry) {
    return fail(negative ? tuple("value_negative", shown) : tuple("value_too_large", shown));
  }
  if (negative) value = -value;
  if (value < 0) return fail(tuple("value_negative", shown));
  return value;
}

}  // namespace burrow::broker
