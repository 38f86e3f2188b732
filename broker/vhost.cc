// VHost: topology bookkeeping with RabbitMQ 3.10's declaration rules, and routing.
#include "broker/vhost.h"
#include "base/logging.h"
#include "base/status_macros.h"

#include <algorithm>
#include <charconv>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/arguments.h"
#include "broker/channel.h"
#include "broker/dead_letter.h"
#include "broker/executor.h"
#include "broker/persistence.h"
#include "broker/queue_arguments.h"
#include "broker/timer_service.h"

namespace burrow::broker {

namespace {
spdlog::logger& logger() { return module_logger("broker"); }
}  // namespace

namespace {

// RabbitMQ's rabbit_misc:rs/1 rendering of a resource: "queue 'q' in vhost '/'".
std::string rs(std::string_view kind, std::string_view name, std::string_view vhost) {
  return fmt::format("{} '{}' in vhost '{}'", kind, name, vhost);
}

const char* bool_text(bool b) { return b ? "true" : "false"; }

Status inequivalent(std::string_view arg, std::string_view kind, std::string_view name,
                    std::string_view vhost, std::string_view received, std::string_view current) {
  return precondition_failed(
      fmt::format("inequivalent arg '{}' for {}: received '{}' but current "
                  "is '{}'",
                  arg, rs(kind, name, vhost), received, current));
}

constexpr std::string_view kDefaultExchangeRefusal =
    "operation not permitted on the default exchange";

}  // namespace

VHost::VHost(std::string name, VHostContext context) : name_(std::move(name)), context_(context) {
  declare_builtin_exchanges();
}

void VHost::declare_builtin_exchanges() {
  std::unique_lock lock(mu_);
  auto add = [&](std::string name, std::string type, bool internal = false) {
    ExchangeSettings s{name, std::move(type), name_, /*durable=*/true, false, internal, {}};
    exchanges_.emplace(std::move(name), make_exchange(std::move(s)));
  };
  add("amq.direct", "direct");
  add("amq.fanout", "fanout");
  add("amq.topic", "topic");
  add("amq.headers", "headers");
  add("amq.match", "headers");
  add("amq.rabbitmq.trace", "topic", /*internal=*/true);
}

// A declaration racing the vhost's deletion (its connections are being closed): refused under
// the topology lock, so nothing is stored for a vhost that is gone.
Status VHost::vhost_gone() const {
  return not_allowed(fmt::format("vhost '{}' is being deleted", name_));
}

std::string VHost::queue_not_found(std::string_view name) const {
  return "no " + rs("queue", name, name_);
}

std::string VHost::exchange_not_found(std::string_view name) const {
  return "no " + rs("exchange", name, name_);
}

Exchange* VHost::find_exchange_locked(std::string_view name) const {
  auto it = exchanges_.find(name);
  return it == exchanges_.end() ? nullptr : it->second.get();
}

// ---- exchanges ---------------------------------------------------------------------------

Status VHost::declare_exchange(const ExchangeSettings& settings, bool passive) {
  // rabbit_channel checks the type (rabbit_exchange:check_type) before anything else, even
  // for the default exchange; a passive declare does not look at the type.
  if (!passive && !is_known_exchange_type(settings.type)) {
    return command_invalid("unknown exchange type '" + settings.type + "'");
  }
  if (settings.name.empty()) return access_refused(std::string(kDefaultExchangeRefusal));
  if (passive) {
    std::shared_lock lock(mu_);
    if (!find_exchange_locked(settings.name)) {
      return not_found(exchange_not_found(settings.name));
    }
    return Status();
  }
  std::unique_lock lock(mu_);
  if (deleted()) return vhost_gone();
  if (Exchange* existing = find_exchange_locked(settings.name)) {
    const ExchangeSettings& cur = existing->settings();
    const std::string x = settings.name;
    if (cur.type != settings.type) {
      return inequivalent("type", "exchange", x, name_, settings.type, cur.type);
    }
    if (cur.durable != settings.durable) {
      return inequivalent("durable", "exchange", x, name_, bool_text(settings.durable),
                          bool_text(cur.durable));
    }
    if (cur.auto_delete != settings.auto_delete) {
      return inequivalent("auto_delete", "exchange", x, name_, bool_text(settings.auto_delete),
                          bool_text(cur.auto_delete));
    }
    if (cur.internal != settings.internal) {
      return inequivalent("internal", "exchange", x, name_, bool_text(settings.internal),
                          bool_text(cur.internal));
    }
    // Of the arguments only alternate-exchange is compared (rabbit_exchange:assert_equivalence).
    return assert_arg_equivalence(cur.arguments, settings.arguments, "alternate-exchange",
                                  rs("exchange", x, name_));
  }
  if (settings.name.starts_with("amq.")) {
    return access_refused("exchange name '" + settings.name + "' contains reserved prefix 'amq.*'");
  }
  if (settings.type == kDelayedExchangeType) {
    // rabbit_exchange_type_delayed_message:validate/1.
    const FieldValue* inner = settings.arguments.find("x-delayed-type");
    if (inner == nullptr) {
      return precondition_failed(
          "Invalid argument, 'x-delayed-type' must be an existing exchange type");
    }
    const std::string* inner_name = inner->get_if<std::string>();
    if (inner_name == nullptr || *inner_name == kDelayedExchangeType) {
      return precondition_failed(
          "Invalid argument, 'x-delayed-type' must be an existing exchange type");
    }
    // The plugin checks the type as exchange.declare does.
    if (!is_known_exchange_type(*inner_name)) {
      return command_invalid("unknown exchange type '" + *inner_name + "'");
    }
  }
  if (const FieldValue* ae = settings.arguments.find("alternate-exchange");
      ae != nullptr && !ae->is<std::string>()) {
    return precondition_failed(fmt::format("invalid type '{}' for arg 'alternate-exchange' in {}",
                                           erlang_type_name(ae->type()),
                                           rs("exchange", settings.name, name_)));
  }
  ExchangeSettings s = settings;
  s.vhost = name_;
  if (s.durable && context_.persistence != nullptr) {
    (void)context_.persistence->save_exchange(s, &pending_);
  }
  std::string name = s.name;
  exchanges_.emplace(std::move(name), make_exchange(std::move(s)));
  bump_epoch();
  if (Status saved = finish_writes(lock); !saved.ok()) {
    return internal_error("cannot store exchange: " + saved.message());
  }
  return Status();
}

Status VHost::finish_writes(std::unique_lock<std::shared_mutex>& lock) {
  PendingWrites mine = std::move(pending_);
  pending_ = PendingWrites();
  lock.unlock();
  return mine.wait();
}

void VHost::recover_exchange(ExchangeSettings settings) {
  std::unique_lock lock(mu_);
  settings.vhost = name_;
  std::string name = settings.name;
  if (ExchangePtr x = make_exchange(std::move(settings))) exchanges_[std::move(name)] = x;
  bump_epoch();
}

bool VHost::binding_durable_locked(const Binding& binding) const {
  const Exchange* source = find_exchange_locked(binding.source);
  if (source == nullptr || !source->settings().durable) return false;
  if (binding.kind == DestinationKind::kExchange) {
    const Exchange* dest = find_exchange_locked(binding.destination);
    return dest != nullptr && dest->settings().durable;
  }
  auto it = queues_.find(binding.destination);
  return it != queues_.end() && it->second->settings().durable;
}

void VHost::forget_bindings_locked(const std::vector<Binding>& removed) {
  if (context_.persistence == nullptr) return;
  for (const Binding& b : removed) {
    // Deleting a record that was never written is harmless.
    (void)context_.persistence->delete_binding(name_, b, &pending_);
  }
}

Status VHost::delete_exchange(std::string_view name, bool if_unused) {
  if (name.empty()) return access_refused(std::string(kDefaultExchangeRefusal));
  if (name.starts_with("amq.")) {
    return access_refused("deletion of system " + rs("exchange", name, name_) + " not allowed");
  }
  std::unique_lock lock(mu_);
  Exchange* x = find_exchange_locked(name);
  if (x == nullptr) return Status();  // idempotent, as RabbitMQ
  if (if_unused && !x->bindings().empty()) {
    return precondition_failed(rs("exchange", name, name_) + " in use");
  }
  remove_exchange_locked(std::string(name));
  if (Status s = finish_writes(lock); !s.ok()) {
    logger().error("cannot delete a stored exchange: {}", s.to_string());
  }
  return Status();
}

void VHost::remove_exchange_locked(const std::string& name) {
  // Bindings where it is the destination go with it; sources that were auto-delete and lose
  // their last binding go too.
  std::vector<std::string> emptied;
  std::vector<Binding> removed;
  for (auto& [xname, x] : exchanges_) {
    if (xname == name) continue;
    if (x->remove_bindings_to(DestinationKind::kExchange, name, &removed) > 0 &&
        x->bindings().empty() && x->settings().auto_delete) {
      emptied.push_back(xname);
    }
  }
  forget_bindings_locked(removed);
  if (auto it = exchanges_.find(name);
      it != exchanges_.end() && context_.persistence != nullptr && it->second->settings().durable) {
    (void)context_.persistence->delete_exchange(name_, name, &pending_);
  }
  exchanges_.erase(name);
  bump_epoch();
  for (const auto& e : emptied) delete_unused_auto_delete_locked(e);
}

void VHost::delete_unused_auto_delete_locked(const std::string& exchange) {
  Exchange* x = find_exchange_locked(exchange);
  if (x && x->settings().auto_delete && x->bindings().empty()) remove_exchange_locked(exchange);
}

// ---- queues ------------------------------------------------------------------------------

Status VHost::check_queue_access_locked(const Queue& queue, uint64_t connection_id) const {
  const QueueSettings& s = queue.settings();
  if (s.exclusive() && s.exclusive_owner != connection_id) {
    return resource_locked(
        "cannot obtain exclusive access to locked " + rs("queue", s.name, name_) +
        ". It could be originally declared on another connection or the exclusive property "
        "value does not match that of the original declaration.");
  }
  return Status();
}

Result<DeclaredQueue> VHost::declare_queue(QueueSettings settings, bool passive,
                                           uint64_t connection_id, bool server_named) {
  settings.vhost = name_;
  {
    std::shared_lock lock(mu_);
    auto it = queues_.find(settings.name);
    if (it != queues_.end() || passive) {
      if (it == queues_.end()) return not_found(queue_not_found(settings.name));
      const QueuePtr& q = it->second;
      RETURN_IF_ERROR(check_queue_access_locked(*q, connection_id));
      if (passive) {
        q->touch();
        return DeclaredQueue{q, false};
      }
      // Exclusivity is compared first and strictly (405, not 406), as RabbitMQ.
      if (settings.exclusive() != q->settings().exclusive()) {
        return resource_locked(
            "cannot obtain exclusive access to locked " + rs("queue", settings.name, name_) +
            ". It could be originally declared on another connection or the exclusive "
            "property value does not match that of the original declaration.");
      }
      const QueueSettings& cur = q->settings();
      if (cur.durable != settings.durable) {
        return inequivalent("durable", "queue", settings.name, name_, bool_text(settings.durable),
                            bool_text(cur.durable));
      }
      if (cur.auto_delete != settings.auto_delete) {
        return inequivalent("auto_delete", "queue", settings.name, name_,
                            bool_text(settings.auto_delete), bool_text(cur.auto_delete));
      }
      RETURN_IF_ERROR(q->type().check_equivalent(cur.arguments, settings.arguments,
                                                 rs("queue", settings.name, name_)));
      q->touch();
      return DeclaredQueue{q, false};
    }
  }
  if (!server_named && settings.name.starts_with("amq.")) {
    return access_refused("queue name '" + settings.name + "' contains reserved prefix 'amq.*'");
  }
  {
    // RabbitMQ checks the vhost's queue limit before the arguments; checked again below
    // under the exclusive lock, so concurrent declarations cannot overshoot it.
    std::shared_lock lock(mu_);
    RETURN_IF_ERROR(check_queue_limit_locked(settings.name));
  }
  // Validate before taking the lock: a bad argument is the declarer's error. RabbitMQ checks
  // the dead-letter exchange's type first, then the arguments.
  RETURN_IF_ERROR(
      check_dead_letter_exchange_type(settings.arguments, rs("queue", settings.name, name_)));
  const bool stored = settings.durable && context_.persistence != nullptr;
  const uint64_t queue_id = stored ? context_.next_queue_id->fetch_add(1) : 0;
  ASSIGN_OR_RETURN(QueuePtr q, make_queue(settings, queue_context(queue_id)));
  std::unique_lock lock(mu_);
  if (deleted()) return vhost_gone();
  // Another declaration may have won the race while no lock was held.
  if (auto it = queues_.find(settings.name); it != queues_.end()) {
    RETURN_IF_ERROR(check_queue_access_locked(*it->second, connection_id));
    return DeclaredQueue{it->second, false};
  }
  RETURN_IF_ERROR(check_queue_limit_locked(settings.name));
  if (stored) (void)context_.persistence->save_queue(q->settings(), queue_id, &pending_);
  queues_.emplace(settings.name, q);
  bump_epoch();
  const Status saved = finish_writes(lock);
  q->start();
  if (!saved.ok()) return internal_error("cannot store queue: " + saved.message());
  return DeclaredQueue{std::move(q), true};
}

Result<QueuePtr> VHost::recover_queue(QueueSettings settings, uint64_t queue_id) {
  settings.vhost = name_;
  ASSIGN_OR_RETURN(QueuePtr q, make_queue(settings, queue_context(queue_id)));
  {
    std::unique_lock lock(mu_);
    queues_[settings.name] = q;
    bump_epoch();
  }
  q->start();
  return q;
}

bool VHost::recover_binding(const Binding& binding) {
  std::unique_lock lock(mu_);
  Exchange* source = find_exchange_locked(binding.source);
  if (source == nullptr) return false;
  Destination dest;
  if (binding.kind == DestinationKind::kQueue) {
    auto it = queues_.find(binding.destination);
    if (it == queues_.end()) return false;
    dest.queue = it->second;
  } else {
    dest.exchange = find_exchange_locked(binding.destination);
    if (dest.exchange == nullptr) return false;
  }
  source->add_binding(binding, std::move(dest));
  bump_epoch();
  return true;
}

QueueContext VHost::queue_context(uint64_t queue_id) {
  QueueContext ctx;
  if (queue_id != 0) {
    ctx.persistence = context_.persistence;
    ctx.queue_id = queue_id;
  }
  ctx.executor = context_.executor;
  ctx.timers = context_.timers;
  ctx.clock = context_.clock;
  std::weak_ptr<VHost> weak = weak_from_this();
  ctx.delete_me = [weak](const QueuePtr& q) {
    auto self = weak.lock();
    if (!self) return;
    // Auto-delete (no consumers left) and x-expires (unused): nobody to notify, but a
    // consumer racing in is told its queue is gone.
    DeletedQueue d = self->delete_queue_object(q);
    for (const ConsumerPtr& c : d.consumers) c->channel().consumer_cancelled_by_broker(c);
  };
  ctx.dead_letter = [weak](const Queue& source, std::vector<DeadLetter> dead,
                           WriteCollector* collect) {
    if (auto self = weak.lock()) self->dead_letter(source, std::move(dead), collect);
  };
  return ctx;
}

void VHost::dead_letter(const Queue& source, std::vector<DeadLetter> dead,
                        WriteCollector* collect) {
  const QueueArguments& args = source.arguments();
  if (!args.dead_letter_exchange) return;
  DeadLetterTarget target{source.name(), *args.dead_letter_exchange,
                          args.dead_letter_routing_key ? &*args.dead_letter_routing_key : nullptr};
  const int64_t now_seconds = context_.clock->now_ms() / 1000;
  RouteResult routed;
  std::vector<std::string_view> keys;
  for (DeadLetter& d : dead) {
    DeadLetterMessage m = make_dead_letter_message(*d.message, d.reason, target, now_seconds);
    keys.assign(m.routing_keys.begin(), m.routing_keys.end());
    const auto& headers = m.message->message.properties.headers;
    RoutingInput input{keys, headers ? &*headers : nullptr};
    // A missing dead-letter exchange drops the message (rabbit_dead_letter, with_dlx).
    if (!route(*args.dead_letter_exchange, input, routed, /*allow_internal=*/true).ok()) continue;
    for (const QueuePtr& q : routed.queues) {
      // Cycles are cut unless a client rejected the message somewhere along the way.
      if (d.reason != DeathReason::kRejected && is_dead_letter_cycle(*m.message, q->name())) {
        logger().warn("message dropped: dead-letter cycle through queue '{}' in vhost '{}'",
                      q->name(), name_);
        continue;
      }
      // A refusing queue drops it (RabbitMQ's at-most-once strategy for a full target).
      (void)q->enqueue(m.message, EnqueueOptions{.collect = collect});
    }
  }
}

void VHost::delay(std::string exchange, std::vector<std::string> routing_keys,
                  StoredMessagePtr message, EnqueueOptions options, int64_t delay_ms) {
  const TimeMs due = context_.clock->now_ms() + delay_ms;
  uint64_t stored_id = 0;
  if (context_.persistence != nullptr) {
    bool durable = false;
    {
      std::shared_lock lock(mu_);
      const Exchange* x = find_exchange_locked(exchange);
      durable = x != nullptr && x->settings().durable;
    }
    if (durable) {
      stored_id = next_delayed_id_.fetch_add(1, std::memory_order_relaxed);
      context_.persistence->put_delayed(name_, stored_id, exchange, routing_keys, *message, due,
                                        options.gate, options.collect);
    }
  }
  // The confirm is settled by now (or waits only for the write above), not by the release.
  options.gate = nullptr;
  options.collect = nullptr;
  hold(std::move(exchange), std::move(routing_keys), std::move(message), std::move(options), due,
       stored_id);
}

void VHost::recover_delayed(uint64_t id, std::string exchange,
                            std::vector<std::string> routing_keys, StoredMessagePtr message,
                            TimeMs due) {
  uint64_t next = next_delayed_id_.load(std::memory_order_relaxed);
  while (next <= id && !next_delayed_id_.compare_exchange_weak(next, id + 1)) {
  }
  EnqueueOptions options;
  if (const auto& expiration = message->message.properties.expiration) {
    // Validated when it was published.
    int64_t ttl = 0;
    if (std::from_chars(expiration->data(), expiration->data() + expiration->size(), ttl).ec ==
        std::errc()) {
      options.message_ttl = ttl;
    }
  }
  hold(std::move(exchange), std::move(routing_keys), std::move(message), std::move(options), due,
       id);
}

void VHost::hold(std::string exchange, std::vector<std::string> routing_keys,
                 StoredMessagePtr message, EnqueueOptions options, TimeMs due, uint64_t stored_id) {
  std::weak_ptr<VHost> weak = weak_from_this();
  context_.timers->schedule(
      due, [weak, exchange = std::move(exchange), keys = std::move(routing_keys),
            message = std::move(message), options, stored_id] {
        auto self = weak.lock();
        if (!self) return;
        // Routed (or dropped: exchange gone) now; its record goes after the enqueues, so a
        // crash in between delivers it again rather than losing it.
        struct Forget {
          VHost& vhost;
          uint64_t id;
          ~Forget() {
            if (id != 0) vhost.context_.persistence->delete_delayed(vhost.name_, id);
          }
        } forget{*self, stored_id};
        std::vector<std::string_view> views(keys.begin(), keys.end());
        const auto& headers = message->message.properties.headers;
        RouteResult routed;
        // The release: routed past the delay (the publish itself was checked when it came in).
        if (!self->route(exchange, RoutingInput{views, headers ? &*headers : nullptr}, routed,
                         /*allow_internal=*/true, /*skip_delay=*/true)
                 .ok()) {
          return;
        }
        for (const QueuePtr& q : routed.queues) (void)q->enqueue(message, options);
      });
}

Result<QueuePtr> VHost::find_queue(std::string_view name, uint64_t connection_id) const {
  std::shared_lock lock(mu_);
  auto it = queues_.find(name);
  if (it == queues_.end()) return not_found(queue_not_found(name));
  RETURN_IF_ERROR(check_queue_access_locked(*it->second, connection_id));
  return it->second;
}

void VHost::unregister_queue_locked(const QueuePtr& queue) {
  std::vector<std::string> emptied;
  std::vector<Binding> removed;
  for (auto& [xname, x] : exchanges_) {
    if (x->remove_bindings_to(DestinationKind::kQueue, queue->name(), &removed) > 0 &&
        x->bindings().empty() && x->settings().auto_delete) {
      emptied.push_back(xname);
    }
  }
  if (queue->settings().durable) forget_bindings_locked(removed);
  if (context_.persistence != nullptr && queue->settings().durable) {
    (void)context_.persistence->delete_queue(name_, queue->name(), queue->queue_id(), &pending_);
  }
  queues_.erase(queue->name());
  bump_epoch();
  for (const auto& e : emptied) delete_unused_auto_delete_locked(e);
}

Result<DeletedQueue> VHost::delete_queue(std::string_view name, uint64_t connection_id,
                                         bool if_unused, bool if_empty) {
  QueuePtr q;
  {
    std::unique_lock lock(mu_);
    auto it = queues_.find(name);
    if (it == queues_.end()) return DeletedQueue{};
    q = it->second;
    RETURN_IF_ERROR(check_queue_access_locked(*q, connection_id));
    // Quorum queues refuse the flags whatever the queue's state (540).
    RETURN_IF_ERROR(q->type().check_delete(q->resource(), if_unused, if_empty));
    // RabbitMQ checks emptiness first, and counts only ready messages (BQ:is_empty ignores
    // pending acks).
    QueueCounts counts = q->counts();
    const bool conditions = !q->type().ignores_delete_conditions();
    if (conditions && if_empty && counts.ready > 0) {
      return precondition_failed(rs("queue", name, name_) + " not empty");
    }
    if (conditions && if_unused && counts.consumers > 0) {
      return precondition_failed(rs("queue", name, name_) + " in use");
    }
    unregister_queue_locked(q);
    if (Status s = finish_writes(lock); !s.ok()) {
      logger().error("cannot delete a stored queue: {}", s.to_string());
    }
  }
  Queue::Deleted d = q->mark_deleted();
  return DeletedQueue{d.message_count, std::move(d.consumers)};
}

DeletedQueue VHost::delete_queue_object(const QueuePtr& queue) {
  {
    std::unique_lock lock(mu_);
    auto it = queues_.find(queue->name());
    if (it == queues_.end() || it->second != queue) return {};
    unregister_queue_locked(queue);
    if (Status s = finish_writes(lock); !s.ok()) {
      logger().error("cannot delete a stored queue: {}", s.to_string());
    }
  }
  Queue::Deleted d = queue->mark_deleted();
  return DeletedQueue{d.message_count, std::move(d.consumers)};
}

std::vector<QueuePtr> VHost::queues_owned_by(uint64_t connection_id) const {
  std::shared_lock lock(mu_);
  std::vector<QueuePtr> out;
  for (const auto& [name, q] : queues_) {
    if (q->settings().exclusive_owner == connection_id) out.push_back(q);
  }
  return out;
}

size_t VHost::queue_count() const {
  std::shared_lock lock(mu_);
  return queues_.size();
}

size_t VHost::exchange_count() const {
  std::shared_lock lock(mu_);
  return exchanges_.size();
}

// ---- bindings ----------------------------------------------------------------------------

Status VHost::bind(const Binding& binding, uint64_t connection_id) {
  if (binding.source.empty() ||
      (binding.kind == DestinationKind::kExchange && binding.destination.empty())) {
    return access_refused(std::string(kDefaultExchangeRefusal));
  }
  std::unique_lock lock(mu_);
  if (deleted()) return vhost_gone();
  // The source is looked up first: with both ends missing RabbitMQ names the exchange.
  Exchange* source = find_exchange_locked(binding.source);
  if (source == nullptr) return not_found(exchange_not_found(binding.source));
  Destination dest;
  if (binding.kind == DestinationKind::kQueue) {
    auto it = queues_.find(binding.destination);
    if (it == queues_.end()) return not_found(queue_not_found(binding.destination));
    RETURN_IF_ERROR(check_queue_access_locked(*it->second, connection_id));
    dest.queue = it->second;
  } else {
    dest.exchange = find_exchange_locked(binding.destination);
    if (dest.exchange == nullptr) return not_found(exchange_not_found(binding.destination));
  }
  RETURN_IF_ERROR(source->validate_binding(binding));
  if (source->add_binding(binding, std::move(dest))) {
    if (context_.persistence != nullptr && binding_durable_locked(binding)) {
      (void)context_.persistence->save_binding(name_, binding, &pending_);
    }
    bump_epoch();
  }
  if (Status saved = finish_writes(lock); !saved.ok()) {
    return internal_error("cannot store binding: " + saved.message());
  }
  return Status();
}

Status VHost::unbind(const Binding& binding, uint64_t connection_id) {
  if (binding.source.empty() ||
      (binding.kind == DestinationKind::kExchange && binding.destination.empty())) {
    return access_refused(std::string(kDefaultExchangeRefusal));
  }
  (void)connection_id;  // RabbitMQ lets any connection unbind an exclusive queue (observed)
  std::unique_lock lock(mu_);
  // A missing binding, source or destination is not an error (rabbit_binding absent_errs_only).
  Exchange* source = find_exchange_locked(binding.source);
  if (source == nullptr) return Status();
  const bool durable = binding_durable_locked(binding);
  if (!source->remove_binding(binding)) return Status();
  if (durable) forget_bindings_locked({binding});
  bump_epoch();
  delete_unused_auto_delete_locked(binding.source);
  if (Status s = finish_writes(lock); !s.ok()) {
    logger().error("cannot delete a stored binding: {}", s.to_string());
  }
  return Status();
}

// ---- routing -----------------------------------------------------------------------------

Status VHost::route(std::string_view exchange, const RoutingInput& input, RouteResult& out,
                    bool allow_internal, bool skip_delay) const {
  out.queues.clear();
  out.cacheable = true;
  std::shared_lock lock(mu_);
  if (exchange.empty()) {
    // The default exchange: every queue is bound to it by its own name.
    for (std::string_view key : input.routing_keys) {
      auto it = queues_.find(key);
      if (it != queues_.end()) out.queues.push_back(it->second);
    }
  } else {
    Exchange* start = find_exchange_locked(exchange);
    if (start == nullptr) return not_found(exchange_not_found(exchange));
    if (start->settings().internal && !allow_internal) {
      return access_refused("cannot publish to internal " + rs("exchange", exchange, name_));
    }
    if (start->settings().type == kDelayedExchangeType && !skip_delay && input.headers) {
      // The plugin holds a message with a positive integer x-delay; it reaches no queue now.
      if (const FieldValue* d = input.headers->find("x-delay")) {
        // Erlang's timers take at most 2^32-1 ms; longer delays route at once (plugin).
        if (auto delay = d->as_integer(); delay && *delay > 0 && *delay <= 4294967295LL) {
          out.delay_ms = *delay;
          out.cacheable = false;
          return Status();
        }
      }
    }
    // Walk exchange-to-exchange bindings; each exchange is visited once per publish.
    std::vector<const Exchange*> visited;
    std::vector<const Exchange*> pending{start};
    std::vector<const Destination*> dests;
    while (!pending.empty()) {
      const Exchange* x = pending.back();
      pending.pop_back();
      if (std::find(visited.begin(), visited.end(), x) != visited.end()) continue;
      visited.push_back(x);
      if (x->settings().type == "headers") out.cacheable = false;
      dests.clear();
      x->route(input, dests);
      if (dests.empty()) {
        // The alternate exchange is used only when this exchange's own bindings route
        // nowhere.
        if (const FieldValue* ae = x->settings().arguments.find("alternate-exchange")) {
          if (const std::string* ae_name = ae->get_if<std::string>()) {
            if (Exchange* alt = find_exchange_locked(*ae_name)) pending.push_back(alt);
          }
        }
        continue;
      }
      for (const Destination* d : dests) {
        if (d->queue) {
          out.queues.push_back(d->queue);
        } else {
          pending.push_back(d->exchange);
        }
      }
    }
  }
  if (out.queues.size() > 1) {
    std::sort(out.queues.begin(), out.queues.end());
    out.queues.erase(std::unique(out.queues.begin(), out.queues.end()), out.queues.end());
  }
  return Status();
}

// ---- management ----------------------------------------------------------------------------

VHostInfo VHost::info() const {
  std::lock_guard lock(info_mu_);
  VHostInfo out = info_;
  out.name = name_;
  return out;
}

void VHost::set_info(const VHostInfo& info) {
  std::lock_guard lock(info_mu_);
  info_ = info;
}

Status VHost::add_connection(std::string_view user) {
  std::optional<int64_t> limit;
  {
    std::lock_guard lock(info_mu_);
    limit = info_.limits.max_connections;
  }
  int64_t count = connections_.load(std::memory_order_acquire);
  do {
    // rabbit_vhost_limit:is_over_connection_limit: a negative limit is no limit.
    if (limit && *limit >= 0 && count >= *limit) {
      return not_allowed(fmt::format(
          "access to vhost '{}' refused for user '{}': connection limit ({}) is reached", name_,
          user, *limit));
    }
  } while (!connections_.compare_exchange_weak(count, count + 1, std::memory_order_acq_rel));
  return Status();
}

Status VHost::check_queue_limit_locked(const std::string& queue) const {
  std::optional<int64_t> limit;
  {
    std::lock_guard lock(info_mu_);
    limit = info_.limits.max_queues;
  }
  if (!limit || *limit < 0 || static_cast<int64_t>(queues_.size()) < *limit) return Status();
  // rabbit_channel:check_vhost_queue_limit (3.10.8).
  return precondition_failed(
      fmt::format("cannot declare queue '{}': queue limit in vhost '{}' ({}) is reached", queue,
                  name_, *limit));
}

std::vector<QueuePtr> VHost::queues() const {
  std::shared_lock lock(mu_);
  std::vector<QueuePtr> out;
  out.reserve(queues_.size());
  for (const auto& [_, q] : queues_) out.push_back(q);
  std::sort(out.begin(), out.end(),
            [](const QueuePtr& a, const QueuePtr& b) { return a->name() < b->name(); });
  return out;
}

Result<QueuePtr> VHost::find_queue_any(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = queues_.find(name);
  if (it == queues_.end()) return not_found(queue_not_found(name));
  return it->second;
}

std::vector<ExchangeSettings> VHost::exchanges() const {
  std::shared_lock lock(mu_);
  std::vector<ExchangeSettings> out;
  out.reserve(exchanges_.size());
  for (const auto& [_, x] : exchanges_) out.push_back(x->settings());
  std::sort(out.begin(), out.end(),
            [](const ExchangeSettings& a, const ExchangeSettings& b) { return a.name < b.name; });
  return out;
}

std::optional<ExchangeSettings> VHost::find_exchange(std::string_view name) const {
  std::shared_lock lock(mu_);
  const Exchange* x = find_exchange_locked(name);
  if (x == nullptr) return std::nullopt;
  return x->settings();
}

std::vector<Binding> VHost::bindings() const {
  std::shared_lock lock(mu_);
  std::vector<const Exchange*> sources;
  for (const auto& [_, x] : exchanges_) sources.push_back(x.get());
  std::sort(sources.begin(), sources.end(),
            [](const Exchange* a, const Exchange* b) { return a->name() < b->name(); });
  std::vector<Binding> out;
  for (const Exchange* x : sources) {
    out.insert(out.end(), x->bindings().begin(), x->bindings().end());
  }
  return out;
}

std::vector<ConsumerPtr> VHost::delete_everything() {
  deleted_.store(true, std::memory_order_release);
  return remove_all(/*keep_builtins=*/false);
}

std::vector<ConsumerPtr> VHost::clear() { return remove_all(/*keep_builtins=*/true); }

std::vector<ConsumerPtr> VHost::remove_all(bool keep_builtins) {
  std::vector<QueuePtr> queues;
  {
    std::unique_lock lock(mu_);
    for (const auto& [_, q] : queues_) queues.push_back(q);
    for (const auto& q : queues) unregister_queue_locked(q);
    std::vector<std::string> names;
    for (const auto& [name, _] : exchanges_) {
      if (!(keep_builtins && name.starts_with("amq."))) names.push_back(name);
    }
    for (const auto& name : names) {
      if (exchanges_.count(name) != 0) remove_exchange_locked(name);
    }
    // What is left are the built-in exchanges: drop the bindings between them.
    std::vector<Binding> removed;
    for (auto& [_, x] : exchanges_) {
      for (const auto& [other, __] : exchanges_) {
        x->remove_bindings_to(DestinationKind::kExchange, other, &removed);
      }
    }
    if (!removed.empty()) {
      forget_bindings_locked(removed);
      bump_epoch();
    }
    if (Status s = finish_writes(lock); !s.ok()) {
      logger().error("cannot delete the stored entities of vhost '{}': {}", name_, s.to_string());
    }
  }
  std::vector<ConsumerPtr> consumers;
  for (const auto& q : queues) {
    Queue::Deleted d = q->mark_deleted();
    consumers.insert(consumers.end(), d.consumers.begin(), d.consumers.end());
  }
  return consumers;
}

}  // namespace burrow::broker
