// The queue types: classic, quorum and stream (RabbitMQ 3.10.8's rules), and make_queue.
#include "broker/queue_type.h"

#include <fmt/format.h>

#include "base/status_macros.h"
#include "broker/classic_queue.h"
#include "broker/queue.h"
#include "broker/stream_queue.h"

namespace burrow::broker {

namespace {

// Declaration rules shared by the replicated types (rabbit_quorum_queue:declare/2 and
// rabbit_stream_queue:declare/2): auto-delete, exclusive, durable, in that order.
Status check_replicated_properties(const QueueSettings& settings, std::string_view resource) {
  const char* refused = settings.auto_delete   ? "auto-delete"
                        : settings.exclusive() ? "exclusive-owner"
                        : !settings.durable    ? "non-durable"
                                               : nullptr;
  if (refused == nullptr) return Status();
  return precondition_failed(fmt::format("invalid property '{}' for {}", refused, resource));
}

class ClassicQueueType final : public QueueType {
 public:
  std::string_view name() const override { return "classic"; }
  std::string_view module() const override { return "rabbit_classic_queue"; }
  const Semantics& semantics() const override { return semantics_; }
  bool allows_server_named() const override { return true; }

  Result<QueueArguments> validate(const QueueSettings& settings,
                                  std::string_view resource) const override {
    RETURN_IF_ERROR(check_queue_master_locator(settings.arguments));
    return parse_queue_arguments(settings.arguments, resource);
  }

  Status check_equivalent(const FieldTable& current, const FieldTable& received,
                          std::string_view resource) const override {
    return check_queue_arguments_equivalent(current, received, resource);
  }

 private:
  const Semantics semantics_{};
};

class QuorumQueueType final : public QueueType {
 public:
  std::string_view name() const override { return "quorum"; }
  std::string_view module() const override { return "rabbit_quorum_queue"; }
  const Semantics& semantics() const override { return semantics_; }
  bool allows_server_named() const override { return false; }

  Result<QueueArguments> validate(const QueueSettings& settings,
                                  std::string_view resource) const override {
    // rabbit_amqqueue:declare/7 validates the arguments first; then rabbit_quorum_queue:
    // declare/2 checks the properties: auto-delete, exclusive, durable, in that order.
    ASSIGN_OR_RETURN(QueueArguments arguments,
                     parse_quorum_queue_arguments(settings.arguments, resource));
    RETURN_IF_ERROR(check_replicated_properties(settings, resource));
    return arguments;
  }

  Status check_equivalent(const FieldTable& current, const FieldTable& received,
                          std::string_view resource) const override {
    return check_quorum_queue_arguments_equivalent(current, received, resource);
  }

  bool replicated() const override { return true; }

  Status check_consume(std::string_view resource, const ConsumeRequest& request) const override {
    if (!request.global_prefetch) return Status();
    return not_implemented(fmt::format("{} does not support global qos", resource));
  }

  Status check_get(std::string_view resource, bool single_active) const override {
    if (!single_active) return Status();
    return resource_locked(fmt::format(
        "cannot obtain access to locked {}. basic.get operations are not supported by quorum "
        "queues with single active consumer",
        resource));
  }

  Status check_delete(std::string_view resource, bool if_unused, bool if_empty) const override {
    // rabbit_quorum_queue:delete/4: if-unused is checked first.
    const char* flag = if_unused ? "if-unused" : if_empty ? "if-empty" : nullptr;
    if (flag == nullptr) return Status();
    return not_implemented(fmt::format(
        "cannot delete {}. queue.delete operations with {} flag set are not supported by "
        "quorum queues",
        resource, flag));
  }

 private:
  const Semantics semantics_{.store_every_message = true,
                             .requeue_at_back = true,
                             .delivery_count_header = true,
                             .soft_length_limit = true};
};

// Streams (rabbit_stream_queue, 3.10.8): an append-only log; consumers need a prefetch and
// manual acks, and read from an offset of their choosing (x-stream-offset).
class StreamQueueType final : public QueueType {
 public:
  std::string_view name() const override { return "stream"; }
  std::string_view module() const override { return "rabbit_stream_queue"; }
  const Semantics& semantics() const override { return semantics_; }
  bool allows_server_named() const override { return false; }
  bool declare_ok_counts_consumers() const override { return false; }
  bool replicated() const override { return true; }
  bool global_prefetch_applies() const override { return false; }
  bool ignores_delete_conditions() const override { return true; }

  Result<QueueArguments> validate(const QueueSettings& settings,
                                  std::string_view resource) const override {
    ASSIGN_OR_RETURN(QueueArguments arguments,
                     parse_stream_queue_arguments(settings.arguments, resource));
    RETURN_IF_ERROR(check_replicated_properties(settings, resource));
    // rabbit_stream_queue's ?MAX_STREAM_MAX_SEGMENT_SIZE.
    if (arguments.max_segment_size_bytes.value_or(0) > 3'000'000'000) {
      return precondition_failed("Exceeded max value for x-stream-max-segment-size-bytes");
    }
    return arguments;
  }

  Status check_equivalent(const FieldTable& current, const FieldTable& received,
                          std::string_view resource) const override {
    return check_stream_queue_arguments_equivalent(current, received, resource);
  }

  Status check_consume(std::string_view resource, const ConsumeRequest& request) const override {
    // rabbit_stream_queue:consume/3, as RabbitMQ 3.10.8 answers: the consumer's own prefetch
    // first, then no-ack; a global prefetch is accepted and ignored.
    if (request.prefetch == 0) {
      return precondition_failed(
          fmt::format("consumer prefetch count is not set for '{}'", resource));
    }
    if (request.no_ack) {
      return not_implemented(
          fmt::format("automatic acknowledgement not supported by stream queues {}", resource));
    }
    return Status();
  }

  Status check_get(std::string_view resource, bool /*single_active*/) const override {
    return not_implemented(fmt::format("basic.get not supported by stream queues {}", resource));
  }

  Status check_return(std::string_view resource) const override {
    return not_implemented(
        fmt::format("basic.nack and basic.reject not supported by stream queues {}", resource));
  }

  Status check_purge(std::string_view resource) const override {
    return not_implemented(fmt::format("queue.purge not supported by stream queues {}", resource));
  }

 private:
  // Only store_every_message applies (the stream engine keeps every message in its log);
  // the rest are the FIFO engine's.
  const Semantics semantics_{.store_every_message = true};
};

}  // namespace

const QueueType& classic_queue_type() {
  static const ClassicQueueType type;
  return type;
}

const QueueType& quorum_queue_type() {
  static const QuorumQueueType type;
  return type;
}

const QueueType& stream_queue_type() {
  static const StreamQueueType type;
  return type;
}

Result<const QueueType*> queue_type_for(const FieldTable& arguments,
                                        std::string_view /*resource*/) {
  const FieldValue* v = arguments.find("x-queue-type");
  const std::string* name = v != nullptr ? v->get_if<std::string>() : nullptr;
  if (name != nullptr && *name == "quorum") return &quorum_queue_type();
  if (name != nullptr && *name == "stream") return &stream_queue_type();
  // Absent or "classic"; anything else fails the classic validation with RabbitMQ's text.
  return &classic_queue_type();
}

Result<QueuePtr> make_queue(QueueSettings settings, QueueContext context) {
  const std::string resource =
      fmt::format("queue '{}' in vhost '{}'", settings.name, settings.vhost);
  ASSIGN_OR_RETURN(const QueueType* type, queue_type_for(settings.arguments, resource));
  ASSIGN_OR_RETURN(QueueArguments arguments, type->validate(settings, resource));
  if (type == &stream_queue_type()) {
    return QueuePtr(std::make_shared<StreamQueue>(std::move(settings), std::move(arguments), *type,
                                                  std::move(context)));
  }
  return QueuePtr(std::make_shared<ClassicQueue>(std::move(settings), std::move(arguments), *type,
                                                 std::move(context)));
}

}  // namespace burrow::broker
