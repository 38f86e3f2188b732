// Channel: RabbitMQ 3.10's channel semantics over the vhost and its queues.
#include "broker/channel.h"
#include "base/status_macros.h"

#include <algorithm>

#include <fmt/format.h>

#include "broker/arguments.h"
#include "broker/broker_core.h"
#include "broker/names.h"
#include "broker/persistence.h"
#include "broker/test_controls.h"

namespace burrow::broker {

namespace {

constexpr size_t kRouteCacheLimit = 4096;

// The routing keys of a publish: its key plus the CC and BCC headers' keys (arrays of long
// strings), as RabbitMQ's rabbit_basic:header_routes.
void collect_routing_keys(std::string_view routing_key, const FieldTable* headers,
                          std::vector<std::string_view>& keys) {
  keys.clear();
  keys.push_back(routing_key);
  if (headers == nullptr) return;
  for (const char* name : {"CC", "BCC"}) {
    const FieldValue* v = headers->find(name);
    if (v == nullptr) continue;
    if (const FieldArray* arr = v->get_if<FieldArray>()) {
      for (const FieldValue& k : *arr) {
        if (const std::string* s = k.get_if<std::string>()) keys.push_back(*s);
      }
    }
  }
}

bool has_cc_or_bcc(const FieldTable* headers) {
  return headers != nullptr && (headers->contains("CC") || headers->contains("BCC"));
}

}  // namespace

Channel::Channel(ConnectionPtr connection, uint16_t number, ChannelSink* sink)
    : connection_(std::move(connection)),
      number_(number),
      sink_(sink),
      vhost_(*connection_->vhost()),
      ack_timeout_(connection_->core().options().consumer_timeout_ms) {}

Channel::~Channel() = default;

// ---- permissions -------------------------------------------------------------------------

Status Channel::authorize(Permission permission, std::string_view kind, std::string_view name) {
  if (connection_->trusted()) return Status();
  // RabbitMQ checks the default exchange as "amq.default" (rabbit_access_control).
  if (kind == "exchange" && name.empty()) name = "amq.default";
  AccessControl& access = connection_->core().access();
  const uint64_t epoch = access.epoch();
  if (epoch != granted_epoch_) {
    granted_.clear();
    last_published_to_.clear();
    granted_epoch_ = epoch;
  }
  // The publish path: the same exchange as last time costs one string compare.
  const bool publish = permission == Permission::kWrite && kind == "exchange";
  if (publish && !last_published_to_.empty() &&
      name == std::string_view(last_published_to_).substr(1)) {
    return Status();
  }
  scratch_grant_.clear();
  scratch_grant_.push_back(static_cast<char>(permission));
  scratch_grant_.push_back(kind[0]);
  scratch_grant_.append(name);
  if (granted_.contains(scratch_grant_)) {
    if (publish) last_published_to_ = "=" + std::string(name);
    return Status();
  }
  RETURN_IF_ERROR(access.check(connection_->user(), vhost_.name(), permission, kind, name));
  if (granted_.size() >= kRouteCacheLimit) granted_.clear();
  granted_.insert(scratch_grant_);
  if (publish) last_published_to_ = "=" + std::string(name);  // "=" marks it set ("" is valid)
  return Status();
}

// ---- topology --------------------------------------------------------------------------

Status Channel::declare_exchange(const ExchangeSettings& settings, bool passive) {
  RETURN_IF_ERROR(check_open());
  // rabbit_channel: configure on the exchange; creating one with an alternate exchange also
  // needs read on it and write on the alternate.
  if (!passive && !settings.name.empty()) {
    RETURN_IF_ERROR(authorize(Permission::kConfigure, "exchange", settings.name));
    if (!vhost_.find_exchange(settings.name)) {
      if (const FieldValue* ae = settings.arguments.find("alternate-exchange")) {
        if (const std::string* name = ae->get_if<std::string>()) {
          RETURN_IF_ERROR(authorize(Permission::kRead, "exchange", settings.name));
          RETURN_IF_ERROR(authorize(Permission::kWrite, "exchange", *name));
        }
      }
    }
  }
  return vhost_.declare_exchange(settings, passive);
}

Status Channel::delete_exchange(std::string_view name, bool if_unused) {
  RETURN_IF_ERROR(check_open());
  if (!name.empty()) RETURN_IF_ERROR(authorize(Permission::kConfigure, "exchange", name));
  return vhost_.delete_exchange(name, if_unused);
}

Status Channel::bind_exchange(std::string_view destination, std::string_view source,
                              std::string_view routing_key, const FieldTable& arguments) {
  RETURN_IF_ERROR(authorize_binding("exchange", destination, source));
  return vhost_.bind(Binding{std::string(source), DestinationKind::kExchange,
                             std::string(destination), std::string(routing_key), arguments},
                     connection_->id());
}

Status Channel::unbind_exchange(std::string_view destination, std::string_view source,
                                std::string_view routing_key, const FieldTable& arguments) {
  RETURN_IF_ERROR(authorize_binding("exchange", destination, source));
  return vhost_.unbind(Binding{std::string(source), DestinationKind::kExchange,
                               std::string(destination), std::string(routing_key), arguments},
                       connection_->id());
}

// rabbit_channel:binding_action: write on the destination, read on the source; the default
// exchange is refused as such (by the vhost) before any permission is looked at.
Status Channel::authorize_binding(std::string_view kind, std::string_view destination,
                                  std::string_view source) {
  if (source.empty() || (kind == "exchange" && destination.empty())) return Status();
  RETURN_IF_ERROR(authorize(Permission::kWrite, kind, destination));
  return authorize(Permission::kRead, "exchange", source);
}

std::string Channel::queue_name_or_last(std::string_view name) const {
  return name.empty() ? last_queue_ : std::string(name);
}

Result<QueuePtr> Channel::resolve_queue(std::string_view name) {
  if (name.empty()) {
    if (last_queue_.empty()) return not_found("no previously declared queue");
    name = last_queue_;
  }
  return vhost_.find_queue(name, connection_->id());
}

Result<QueueDeclareResult> Channel::declare_queue(QueueDeclareRequest request) {
  RETURN_IF_ERROR(check_open());
  // RabbitMQ strips CR and LF from queue names.
  std::erase_if(request.name, [](char c) { return c == '\r' || c == '\n'; });
  // The direct reply-to pseudo-queue always "exists" with one consumer (rabbit_channel).
  if (request.name == kReplyToQueue) return QueueDeclareResult{request.name, 0, 1};
  bool server_named = false;
  // A passive declare of "" looks for a queue named "" (no last-queue shortcut), as RabbitMQ.
  if (request.name.empty() && !request.passive) {
    // rabbit_channel: a type that names its queues itself refuses, before anything else.
    auto type = queue_type_for(request.arguments, "");
    if (type.ok() && !(*type)->allows_server_named()) {
      return precondition_failed(
          fmt::format("Cannot declare a server-named queue for type {}", (*type)->module()));
    }
    request.name = generate_name("amq.gen-");
    server_named = true;
  }
  if (!request.passive) {
    RETURN_IF_ERROR(authorize(Permission::kConfigure, "queue", request.name));
    // Creating a queue with a dead-letter exchange needs read on it and write on the DLX.
    if (const FieldValue* dlx = request.arguments.find("x-dead-letter-exchange")) {
      const std::string* dlx_name = dlx->get_if<std::string>();
      if (dlx_name != nullptr && !vhost_.find_queue_any(request.name).ok()) {
        RETURN_IF_ERROR(authorize(Permission::kRead, "queue", request.name));
        RETURN_IF_ERROR(authorize(Permission::kWrite, "exchange", *dlx_name));
      }
    }
  }
  QueueSettings settings;
  settings.name = request.name;
  // An exclusive queue is never durable (RabbitMQ: Durable andalso not Exclusive).
  settings.durable = request.durable && !request.exclusive;
  settings.auto_delete = request.auto_delete;
  settings.exclusive_owner = request.exclusive ? connection_->id() : 0;
  settings.arguments = std::move(request.arguments);
  ASSIGN_OR_RETURN(
      DeclaredQueue declared,
      vhost_.declare_queue(std::move(settings), request.passive, connection_->id(), server_named));
  last_queue_ = declared.queue->name();
  QueueCounts counts = declared.queue->counts();
  if (!declared.queue->type().declare_ok_counts_consumers()) counts.consumers = 0;
  return QueueDeclareResult{declared.queue->name(), counts.ready, counts.consumers};
}

Status Channel::bind_queue(std::string_view queue, std::string_view exchange,
                           std::string_view routing_key, const FieldTable& arguments) {
  std::string name = queue_name_or_last(queue);
  if (name.empty()) return not_found("no previously declared queue");
  // An empty routing key with an empty queue name means "the last queue's name".
  std::string key = (queue.empty() && routing_key.empty()) ? name : std::string(routing_key);
  RETURN_IF_ERROR(authorize_binding("queue", name, exchange));
  return vhost_.bind(Binding{std::string(exchange), DestinationKind::kQueue, std::move(name),
                             std::move(key), arguments},
                     connection_->id());
}

Status Channel::unbind_queue(std::string_view queue, std::string_view exchange,
                             std::string_view routing_key, const FieldTable& arguments) {
  std::string name = queue_name_or_last(queue);
  if (name.empty()) return not_found("no previously declared queue");
  std::string key = (queue.empty() && routing_key.empty()) ? name : std::string(routing_key);
  RETURN_IF_ERROR(authorize_binding("queue", name, exchange));
  return vhost_.unbind(Binding{std::string(exchange), DestinationKind::kQueue, std::move(name),
                               std::move(key), arguments},
                       connection_->id());
}

Result<uint32_t> Channel::purge_queue(std::string_view queue) {
  RETURN_IF_ERROR(check_open());
  if (std::string name = queue_name_or_last(queue); !name.empty()) {
    RETURN_IF_ERROR(authorize(Permission::kRead, "queue", name));
  }
  ASSIGN_OR_RETURN(QueuePtr q, resolve_queue(queue));
  RETURN_IF_ERROR(q->type().check_purge(q->resource()));
  return q->purge();
}

Result<uint32_t> Channel::delete_queue(std::string_view queue, bool if_unused, bool if_empty,
                                       const std::function<void(uint32_t)>& on_ok) {
  std::string name = queue_name_or_last(queue);
  if (name.empty()) return not_found("no previously declared queue");
  RETURN_IF_ERROR(authorize(Permission::kConfigure, "queue", name));
  ASSIGN_OR_RETURN(DeletedQueue deleted,
                   vhost_.delete_queue(name, connection_->id(), if_unused, if_empty));
  // delete-ok first, then the cancel notifications (RabbitMQ's queue process tells the
  // consumers' channels after the deleting channel has answered).
  if (on_ok) on_ok(deleted.message_count);
  for (const ConsumerPtr& c : deleted.consumers) c->channel().consumer_cancelled_by_broker(c);
  return deleted.message_count;
}

// ---- publishing ------------------------------------------------------------------------

Status Channel::route(std::string_view exchange, std::string_view routing_key,
                      const StoredMessage& message, const RouteResult*& result) {
  const FieldTable* headers =
      message.message.properties.headers ? &*message.message.properties.headers : nullptr;
  const bool cc = has_cc_or_bcc(headers);
  if (!cc) {
    uint64_t epoch = vhost_.epoch();
    if (epoch != route_cache_epoch_) {
      route_cache_.clear();
      route_cache_epoch_ = epoch;
    }
    scratch_key_.exchange.assign(exchange);
    scratch_key_.routing_key.assign(routing_key);
    if (auto it = route_cache_.find(scratch_key_); it != route_cache_.end()) {
      result = &it->second;
      return Status();
    }
  }
  std::vector<std::string_view> keys;
  collect_routing_keys(routing_key, headers, keys);
  RETURN_IF_ERROR(vhost_.route(exchange, RoutingInput{keys, headers}, scratch_route_));
  if (!cc && scratch_route_.cacheable) {
    if (route_cache_.size() >= kRouteCacheLimit) route_cache_.clear();
    auto [it, inserted] = route_cache_.emplace(scratch_key_, scratch_route_);
    result = &it->second;
  } else {
    result = &scratch_route_;
  }
  return Status();
}

Status Channel::check_message_size(uint64_t size) const {
  const uint64_t max_size = connection_->core().options().max_message_size;
  if (size <= max_size) return Status();
  return precondition_failed(
      fmt::format("message size {} is larger than configured max size {}", size, max_size));
}

Status Channel::publish(std::string_view exchange, std::string_view routing_key, bool mandatory,
                        bool immediate, StoredMessagePtr message) {
  RETURN_IF_ERROR(check_open());
  if (immediate) return not_implemented("immediate=true");
  RETURN_IF_ERROR(check_message_size(message->body_size()));
  // Every check comes before the confirm sequence number is taken, so a refused publish
  // leaves no hole in the confirms (RabbitMQ numbers only accepted publishes).
  RETURN_IF_ERROR(authorize(Permission::kWrite, "exchange", exchange));
  const RouteResult* result = nullptr;
  RETURN_IF_ERROR(route(exchange, routing_key, *message, result));
  ASSIGN_OR_RETURN(message, with_reply_address(std::move(message)));
  ASSIGN_OR_RETURN(EnqueueOptions options, check_properties(*message));
  message = without_bcc(std::move(message));
  if (exchange.empty() && routing_key.starts_with(kReplyToPrefix)) {
    // A reply goes straight to the requesting channel; as far as routing goes it reached no
    // queue, so a mandatory reply also comes back as NO_ROUTE (RabbitMQ 3.10, observed).
    if (auto requester =
            connection_->core().find_reply_channel(routing_key.substr(kReplyToPrefix.size()))) {
      requester->deliver_reply(message);
    }
  }
  if (tx_mode_) {
    // Routed now so a missing exchange fails at publish time, as in RabbitMQ; delivered at
    // commit.
    tx_publishes_.push_back(TxPublish{std::string(exchange), std::string(routing_key), mandatory,
                                      std::move(message), options});
    return Status();
  }
  const uint64_t seq = confirm_mode_ ? confirms_.next() : 0;
  if (seq != 0 && connection_->core().faults().take_nack_publish()) {
    // Fault injection (test double): the publish is dropped and nacked.
    confirms_.resolve(seq, false);
    return Status();
  }
  enqueue_routed(*result, exchange, routing_key, mandatory, message, options, seq);
  if (++unreported_publishes_ >= 64) report_publishes();
  return Status();
}

Status Channel::check_publish_target(std::string_view exchange) {
  RETURN_IF_ERROR(authorize(Permission::kWrite, "exchange", exchange));
  RouteResult ignored;
  return vhost_.route(exchange, RoutingInput{}, ignored);
}

Status Channel::publish_batch(std::string_view exchange, std::string_view routing_key,
                              bool mandatory, std::span<const StoredMessagePtr> messages,
                              size_t& published) {
  published = 0;
  RETURN_IF_ERROR(check_open());
  if (messages.empty()) return Status();
  for (const StoredMessagePtr& m : messages) RETURN_IF_ERROR(check_message_size(m->body_size()));
  RETURN_IF_ERROR(authorize(Permission::kWrite, "exchange", exchange));
  const StoredMessage& first = *messages.front();
  const RouteResult* result = nullptr;
  RETURN_IF_ERROR(route(exchange, routing_key, first, result));
  ASSIGN_OR_RETURN(EnqueueOptions options, check_properties(first));
  const BasicProperties& props = first.message.properties;
  // What publish() does per message beyond routing and enqueueing (transactions, confirms,
  // direct reply-to, BCC, delayed exchanges, the publish log) takes the one-by-one path.
  const bool plain = !tx_mode_ && !confirm_mode_ && result->delay_ms == 0 &&
                     !connection_->core().publish_log().enabled() &&
                     !(props.reply_to && *props.reply_to == kReplyToQueue) &&
                     !(exchange.empty() && routing_key.starts_with(kReplyToPrefix)) &&
                     !(props.headers && props.headers->contains("BCC"));
  if (!plain) {
    for (const StoredMessagePtr& m : messages) {
      RETURN_IF_ERROR(publish(exchange, routing_key, mandatory, false, m));
      ++published;
    }
    return Status();
  }
  options.collect = collect_;
  const size_t n = messages.size();
  std::vector<EnqueueOutcome> outcomes(n);
  // Per message: bit 0 = a queue took it, bit 1 = a queue refused it.
  std::vector<uint8_t> reached(n, 0);
  for (const QueuePtr& q : result->queues) {
    q->enqueue_batch(messages, options, outcomes);
    for (size_t i = 0; i < n; ++i) {
      if (outcomes[i] == EnqueueOutcome::kAccepted) reached[i] |= 1;
      if (outcomes[i] == EnqueueOutcome::kRejected) reached[i] |= 2;
    }
  }
  last_publish_ = PublishOutcome{(reached.back() & 1) != 0, (reached.back() & 2) != 0, false};
  if (mandatory) {
    for (size_t i = 0; i < n; ++i) {
      if (reached[i] == 0) sink_->on_return(312, "NO_ROUTE", *messages[i]);
    }
  }
  published = n;
  unreported_publishes_ += static_cast<uint32_t>(n);
  if (unreported_publishes_ >= 64) report_publishes();
  return Status();
}

void Channel::report_publishes() {
  if (unreported_publishes_ == 0) return;
  connection_->core().stats().messages_published.fetch_add(unreported_publishes_,
                                                           std::memory_order_relaxed);
  unreported_publishes_ = 0;
}

void Channel::enqueue_routed(const RouteResult& result, std::string_view exchange,
                             std::string_view routing_key, bool mandatory,
                             const StoredMessagePtr& message, const EnqueueOptions& options,
                             uint64_t seq) {
  // A persistent message is confirmed once every durable queue that took it has it on disk
  // (the gate counts the store writes), and so is any message a quorum queue took (it stores
  // every message); anything else is confirmed at once.
  std::shared_ptr<ConfirmGate> gate;
  EnqueueOptions opts = options;
  opts.collect = collect_;
  auto stored = [&] {
    return message->persistent() ||
           std::any_of(result.queues.begin(), result.queues.end(),
                       [](const QueuePtr& q) { return q->type().semantics().store_every_message; });
  };
  if (seq != 0 && connection_->core().persistence() != nullptr && stored()) {
    std::weak_ptr<Channel> weak = weak_from_this();
    gate = std::make_shared<ConfirmGate>([weak, seq](bool ok) {
      if (auto self = weak.lock()) {
        self->confirms_.resolve(seq, ok);
        self->flush();
      }
    });
    opts.gate = gate;
  }
  if (result.delay_ms > 0) {
    // A delayed-message exchange holds it (stored when the exchange is durable: the gate
    // waits for that write); like the plugin, the publish itself reaches no queue, so a
    // mandatory publish comes back NO_ROUTE (docs/rabbitmq_compatibility.md).
    std::vector<std::string> keys;
    {
      std::vector<std::string_view> views;
      const auto& headers = message->message.properties.headers;
      collect_routing_keys(routing_key, headers ? &*headers : nullptr, views);
      keys.assign(views.begin(), views.end());
      for (const std::string& k : message->bcc_keys) keys.push_back(k);
    }
    vhost_.delay(std::string(exchange), std::move(keys), message, opts, result.delay_ms);
  }
  bool rejected = false;
  bool delivered = false;
  PublishLog& log = connection_->core().publish_log();
  const bool recording = log.enabled();
  std::vector<std::string> reached;  // for the log only
  for (const QueuePtr& q : result.queues) {
    switch (q->enqueue(message, opts)) {
      case EnqueueOutcome::kAccepted:
        delivered = true;
        if (recording) reached.push_back(q->name());
        break;
      case EnqueueOutcome::kRejected:
        rejected = true;
        break;
      case EnqueueOutcome::kDeleted:
        break;
    }
  }
  last_publish_ = PublishOutcome{delivered, rejected, result.delay_ms > 0};
  if (recording) {
    record_publish(log, result.delay_ms > 0, exchange, routing_key, message, std::move(reached));
  }
  // basic.return goes out before the confirm, as RabbitMQ does.
  if (!delivered && !rejected && mandatory) sink_->on_return(312, "NO_ROUTE", *message);
  if (gate) {
    if (rejected) {
      gate->add();
      gate->done(false);
    }
    gate->seal();
  } else if (seq != 0) {
    confirms_.resolve(seq, !rejected);
  }
}

Result<StoredMessagePtr> Channel::with_reply_address(StoredMessagePtr message) {
  const auto& reply_to = message->message.properties.reply_to;
  if (!reply_to || *reply_to != kReplyToQueue) return message;
  std::string key;
  {
    std::lock_guard lock(mu_);
    if (reply_tag_.empty()) return precondition_failed("fast reply consumer does not exist");
    key = reply_key_;
  }
  auto copy = std::make_shared<StoredMessage>(*message);
  copy->message.properties.reply_to = std::string(kReplyToPrefix) + key;
  copy->wire_properties.clear();
  return StoredMessagePtr(std::move(copy));
}

StoredMessagePtr Channel::without_bcc(StoredMessagePtr message) {
  // BCC keys route the message but are removed before any queue sees it
  // (rabbit_basic:strip_bcc_header).
  const auto& headers = message->message.properties.headers;
  if (!headers || !headers->contains("BCC")) return message;
  auto copy = std::make_shared<StoredMessage>(*message);
  if (const FieldValue* bcc = headers->find("BCC")) {
    if (const FieldArray* keys = bcc->get_if<FieldArray>()) {
      for (const FieldValue& k : *keys) {
        if (const std::string* s = k.get_if<std::string>()) copy->bcc_keys.push_back(*s);
      }
    }
  }
  copy->message.properties.headers->erase("BCC");
  copy->wire_properties.clear();
  return copy;
}

Result<EnqueueOptions> Channel::check_properties(const StoredMessage& message) const {
  // rabbit_channel:check_user_id_header: a user_id must name the authenticated user.
  const BasicProperties& props = message.message.properties;
  if (props.user_id && *props.user_id != connection_->user()) {
    return precondition_failed(
        fmt::format("user_id property set to '{}' but authenticated user was '{}'", *props.user_id,
                    connection_->user()));
  }
  // rabbit_channel:check_expiration_header.
  EnqueueOptions options;
  if (props.expiration) {
    ASSIGN_OR_RETURN(int64_t ttl, parse_expiration(*props.expiration));
    options.message_ttl = ttl;
  }
  // rabbit_basic:header_routes: CC and BCC must be arrays (their non-string elements are
  // ignored).
  if (props.headers) {
    for (const char* name : {"CC", "BCC"}) {
      const FieldValue* v = props.headers->find(name);
      if (v != nullptr && !v->is<FieldArray>()) {
        return precondition_failed(
            fmt::format("invalid message: {{unacceptable_type_in_header,\"{}\",{}}}", name,
                        erlang_type_name(v->type())));
      }
    }
  }
  return options;
}

Status Channel::confirm_select() {
  if (tx_mode_) return precondition_failed("cannot switch from tx to confirm mode");
  confirm_mode_ = true;
  return Status();
}

void Channel::flush() {
  if (!confirm_mode_) return;
  // Under the delivery lock: confirms may be flushed from the store's writer thread too, and
  // must reach the sink in order and never after close().
  std::lock_guard lock(mu_);
  if (closed_) return;
  confirms_.flush(
      [this](uint64_t seq, bool multiple, bool ack) { sink_->on_confirm(seq, multiple, ack); });
}

// ---- consuming -------------------------------------------------------------------------

Result<std::string> Channel::consume_replies(ConsumeRequest request,
                                             const std::function<void(const std::string&)>& on_ok) {
  std::string tag = request.tag.empty() ? generate_name("amq.ctag-") : std::move(request.tag);
  std::lock_guard lock(mu_);
  if (consumers_.contains(tag) || tag == reply_tag_) {
    return not_allowed("attempt to reuse consumer tag '" + tag + "'");
  }
  if (!reply_tag_.empty()) return precondition_failed("reply consumer already set");
  if (!request.no_ack) return precondition_failed("reply consumer cannot acknowledge");
  reply_tag_ = tag;
  reply_key_ = generate_name("");
  connection_->core().register_reply_channel(reply_key_, weak_from_this());
  if (on_ok) on_ok(tag);
  return tag;
}

void Channel::deliver_reply(const StoredMessagePtr& message) {
  std::lock_guard lock(mu_);
  if (closed_ || reply_tag_.empty()) return;
  // RabbitMQ hands replies over without taking a delivery tag from the channel's counter
  // (observed: every reply carries the channel's next tag).
  QueueEntry entry;
  entry.message = message;
  sink_->on_deliver(reply_tag_, next_delivery_tag_, entry);
}

Status Channel::check_consumer_limit(const std::string& tag) const {
  const uint32_t max = connection_->core().options().consumer_max_per_channel;
  if (max == 0) return Status();
  std::lock_guard lock(mu_);
  // As RabbitMQ 3.12's rabbit_channel: checked first, unless the tag is in use (that is the
  // tag-reuse error).
  if (consumers_.size() < max || (!tag.empty() && consumers_.contains(tag))) return Status();
  return not_allowed(fmt::format("reached maximum ({}) of consumers per channel", max));
}

Result<std::string> Channel::consume(ConsumeRequest request,
                                     const std::function<void(const std::string&)>& on_ok) {
  RETURN_IF_ERROR(check_open());
  RETURN_IF_ERROR(check_consumer_limit(request.tag));
  if (request.queue == kReplyToQueue) return consume_replies(std::move(request), on_ok);
  if (std::string name = queue_name_or_last(request.queue); !name.empty()) {
    RETURN_IF_ERROR(authorize(Permission::kRead, "queue", name));
  }
  ASSIGN_OR_RETURN(QueuePtr queue, resolve_queue(request.queue));
  RETURN_IF_ERROR(queue->type().check_consume(
      queue->resource(), QueueType::ConsumeRequest{.global_prefetch = credit_.limit() > 0,
                                                   .prefetch = consumer_prefetch_,
                                                   .no_ack = request.no_ack}));
  ConsumerSettings settings;
  settings.tag = request.tag.empty() ? generate_name("amq.ctag-") : std::move(request.tag);
  settings.no_ack = request.no_ack;
  settings.exclusive = request.exclusive;
  settings.prefetch = consumer_prefetch_;
  if (const FieldValue* p = request.arguments.find("x-priority")) {
    auto v = p->as_integer();
    if (!v) {
      return precondition_failed(fmt::format(
          "invalid arg 'x-priority' for queue '{}' in vhost '{}': \"expected integer, got {}\"",
          queue->name(), vhost_.name(), erlang_type_name(p->type())));
    }
    settings.priority = static_cast<int32_t>(*v);
  }
  settings.arguments = std::move(request.arguments);
  std::string tag = settings.tag;
  // A stream's consumers ignore the channel's global prefetch: they take from a limit that
  // is never set.
  ChannelCredit* credit = queue->type().global_prefetch_applies() ? &credit_ : &no_global_limit_;
  auto consumer =
      std::make_shared<Consumer>(std::move(settings), shared_from_this(), queue, credit);
  std::lock_guard lock(mu_);
  if (closed_) return Status(StatusCode::kClosed, "channel is closed");
  if (consumers_.contains(tag)) {
    return not_allowed("attempt to reuse consumer tag '" + tag + "'");
  }
  // Registered with the queue under the delivery lock (channel -> queue), so no delivery can
  // reach the sink before on_ok has run.
  RETURN_IF_ERROR(queue->add_consumer(consumer));
  consumers_.emplace(tag, consumer);
  if (on_ok) on_ok(tag);
  return tag;
}

Status Channel::cancel(const std::string& tag, const std::function<void()>& on_ok) {
  ConsumerPtr consumer;
  {
    std::lock_guard lock(mu_);
    if (!reply_tag_.empty() && tag == reply_tag_) {
      connection_->core().unregister_reply_channel(reply_key_);
      reply_tag_.clear();
      reply_key_.clear();
    }
    auto it = consumers_.find(tag);
    if (it != consumers_.end()) {
      consumer = std::move(it->second);
      consumers_.erase(it);
      consumer->mark_cancelled();
    }
    if (on_ok) on_ok();
  }
  if (consumer) consumer->queue()->remove_consumer(*consumer);
  return Status();
}

Status Channel::get(std::string_view queue, bool no_ack,
                    const std::function<void(const std::optional<GetResult>&)>& on_result) {
  RETURN_IF_ERROR(check_open());
  if (std::string name = queue_name_or_last(queue); !name.empty()) {
    RETURN_IF_ERROR(authorize(Permission::kRead, "queue", name));
  }
  ASSIGN_OR_RETURN(QueuePtr q, resolve_queue(queue));
  RETURN_IF_ERROR(q->type().check_get(q->resource(), q->arguments().single_active_consumer));
  uint32_t remaining = 0;
  ASSIGN_OR_RETURN(std::optional<QueueEntry> entry, q->get(no_ack, remaining));
  std::lock_guard lock(mu_);
  if (!entry) {
    on_result(std::nullopt);
    return Status();
  }
  GetResult result{next_delivery_tag_++, remaining, std::move(*entry)};
  on_result(result);
  if (!no_ack) {
    credit_.acquire();
    const TimeMs now = connection_->core().clock().now_ms();
    unacked_.push_back(
        Unacked{result.delivery_tag, std::move(q), nullptr, std::move(result.entry), now});
    arm_ack_timer_locked(now + ack_timeout_);
  }
  return Status();
}

Status Channel::qos(uint32_t prefetch_size, uint16_t prefetch_count, bool global) {
  RETURN_IF_ERROR(check_open());
  if (prefetch_size != 0) {
    return not_implemented(fmt::format("prefetch_size!=0 ({})", prefetch_size));
  }
  prefetch_flag_.store(prefetch_count, std::memory_order_relaxed);
  if (global) {
    credit_.set_limit(prefetch_count);
  } else {
    consumer_prefetch_ = prefetch_count;
  }
  notify_queues_of_credit();
  return Status();
}

void Channel::notify_queues_of_credit() {
  std::vector<QueuePtr> queues;
  {
    std::lock_guard lock(mu_);
    for (const auto& [tag, c] : consumers_) queues.push_back(c->queue());
  }
  for (const QueuePtr& q : queues) q->notify_credit();
}

void Channel::deliver(const ConsumerPtr& consumer, std::vector<QueueEntry> entries) {
  {
    std::lock_guard lock(mu_);
    if (!closed_ && !consumer->cancelled()) {
      const std::string& tag = consumer->tag();
      const TimeMs now = connection_->core().clock().now_ms();
      for (QueueEntry& e : entries) {
        uint64_t delivery_tag = next_delivery_tag_++;
        sink_->on_deliver(tag, delivery_tag, e);
        if (!consumer->no_ack()) {
          unacked_.push_back(Unacked{delivery_tag, consumer->queue(), consumer, std::move(e), now});
        }
      }
      if (!consumer->no_ack()) arm_ack_timer_locked(now + ack_timeout_);
      return;
    }
  }
  // The consumer went away while these were on their way: they were never delivered.
  consumer->release_credit(static_cast<uint32_t>(entries.size()));
  consumer->queue()->return_undelivered(std::move(entries), !consumer->no_ack());
}

void Channel::arm_ack_timer_locked(TimeMs due) {
  if (ack_timeout_ <= 0 || ack_timer_ != 0 || closed_) return;
  std::weak_ptr<Channel> weak = weak_from_this();
  ack_timer_ = connection_->core().timers().schedule(due, [weak] {
    if (auto self = weak.lock()) self->on_ack_timer();
  });
}

void Channel::on_ack_timer() {
  {
    std::lock_guard lock(mu_);
    ack_timer_ = 0;
    if (closed_ || unacked_.empty()) return;
    // The oldest delivery still unacknowledged decides (RabbitMQ checks the head of its
    // unacked queue).
    TimeMs oldest = unacked_.front().delivered_at;
    for (const Unacked& u : unacked_) oldest = std::min(oldest, u.delivered_at);
    const TimeMs due = oldest + ack_timeout_;
    if (connection_->core().clock().now_ms() < due) {
      arm_ack_timer_locked(due);
      return;
    }
  }
  sink_->on_error(precondition_failed(fmt::format(
      "delivery acknowledgement on channel {} timed out. Timeout value used: {} ms. This "
      "timeout value can be configured, see consumers doc guide to learn more",
      number_, ack_timeout_)));
}

void Channel::record_publish(PublishLog& log, bool delayed, std::string_view exchange,
                             std::string_view routing_key, const StoredMessagePtr& message,
                             std::vector<std::string> queues) {
  PublishedRecord record;
  record.published_at = connection_->core().clock().now_ms();
  record.vhost = vhost_.name();
  record.exchange = exchange;
  record.routing_key = routing_key;
  record.message = message;
  record.delayed = delayed;
  record.queues = std::move(queues);
  log.add(std::move(record));
}

void Channel::consumer_cancelled_by_broker(const ConsumerPtr& consumer) {
  std::lock_guard lock(mu_);
  consumer->mark_cancelled();
  auto it = consumers_.find(consumer->tag());
  if (it == consumers_.end() || it->second != consumer) return;
  consumers_.erase(it);
  if (!closed_) sink_->on_cancel(consumer->tag());
}

// ---- acknowledgements ------------------------------------------------------------------

Result<std::vector<Channel::Unacked>> Channel::take_unacked(uint64_t tag, bool multiple) {
  std::lock_guard lock(mu_);
  std::vector<Unacked> out;
  if (multiple && tag == 0) {
    out.assign(std::make_move_iterator(unacked_.begin()), std::make_move_iterator(unacked_.end()));
    unacked_.clear();
    return out;
  }
  auto it = std::lower_bound(unacked_.begin(), unacked_.end(), tag,
                             [](const Unacked& u, uint64_t t) { return u.tag < t; });
  if (it == unacked_.end() || it->tag != tag) {
    return precondition_failed(fmt::format("unknown delivery tag {}", tag));
  }
  if (multiple) {
    auto end = it + 1;
    out.assign(std::make_move_iterator(unacked_.begin()), std::make_move_iterator(end));
    unacked_.erase(unacked_.begin(), end);
  } else {
    out.push_back(std::move(*it));
    unacked_.erase(it);
  }
  return out;
}

void Channel::settle(std::vector<Unacked> entries, Settle how) {
  if (entries.empty()) return;
  // Channel-wide credit freed here may unblock consumers of other queues too (RabbitMQ's
  // limiter unblocks every queue of the channel).
  const bool wake_all = credit_.limit() != 0;
  // Group by queue (entries from one queue are usually adjacent) and by consumer for credit.
  std::vector<QueueEntry> run;
  for (size_t i = 0; i < entries.size();) {
    const QueuePtr& queue = entries[i].queue;
    run.clear();
    size_t j = i;
    for (; j < entries.size() && entries[j].queue == queue; ++j) {
      run.push_back(std::move(entries[j].entry));
    }
    // The credit entries [i, j) held.
    auto release_credit = [this, &entries, i, j] {
      for (size_t k = i; k < j; ++k) {
        if (entries[k].consumer) {
          entries[k].consumer->release_credit(1);
        } else {
          credit_.release(1);
        }
      }
    };
    if (how == Settle::kRequeue) {
      // Freed by the queue once the entries are back in it (see Queue::requeue).
      queue->requeue(std::move(run), /*redelivered=*/true, release_credit);
      run = {};
    } else if (how == Settle::kDiscard) {
      release_credit();
      queue->discard(std::move(run));
      run = {};
    } else {
      release_credit();
      queue->settle(run);
    }
    i = j;
  }
  if (wake_all) notify_queues_of_credit();
}

Status Channel::settle_tags(uint64_t tag, bool multiple, Settle how) {
  RETURN_IF_ERROR(check_open());
  ASSIGN_OR_RETURN(std::vector<Unacked> entries, take_unacked(tag, multiple));
  if (how != Settle::kAck) RETURN_IF_ERROR(check_returnable(entries, how));
  if (how == Settle::kAck) {
    // Fault injection (test double): acks the broker "never received" requeue their
    // messages, as when a consumer dies before its ack arrives.
    FaultInjector& faults = connection_->core().faults();
    if (faults.pending_drop_acks() > 0) {
      const uint64_t dropped = faults.take_drop_acks(entries.size());
      if (dropped > 0) {
        std::vector<Unacked> lost(std::make_move_iterator(entries.begin()),
                                  std::make_move_iterator(entries.begin() + dropped));
        entries.erase(entries.begin(), entries.begin() + dropped);
        settle(std::move(lost), Settle::kRequeue);
      }
    }
  }
  if (tx_mode_) {
    tx_settles_.push_back(TxSettle{std::move(entries), how});
    return Status();
  }
  settle(std::move(entries), how);
  return Status();
}

Status Channel::ack(uint64_t delivery_tag, bool multiple) {
  return settle_tags(delivery_tag, multiple, Settle::kAck);
}

Status Channel::nack(uint64_t delivery_tag, bool multiple, bool requeue) {
  return settle_tags(delivery_tag, multiple, requeue ? Settle::kRequeue : Settle::kDiscard);
}

Status Channel::reject(uint64_t delivery_tag, bool requeue) {
  return settle_tags(delivery_tag, false, requeue ? Settle::kRequeue : Settle::kDiscard);
}

Status Channel::recover(bool requeue) {
  RETURN_IF_ERROR(check_open());
  if (!requeue) return not_implemented("requeue=false");
  ASSIGN_OR_RETURN(std::vector<Unacked> entries, take_unacked(0, true));
  // RabbitMQ 3.10.8 crashes on a stream's requeue: the client sees a bare 541.
  if (!check_returnable(entries, Settle::kRequeue).ok()) {
    return Status(StatusCode::kInternalError, "");
  }
  settle(std::move(entries), Settle::kRequeue);
  return Status();
}

Status Channel::check_returnable(std::vector<Unacked>& entries, Settle how) {
  // Asked once per run of entries from one queue (they are usually adjacent): no queue's
  // resource text is built per nacked message.
  Status refused;
  const Queue* checked = nullptr;
  for (const Unacked& u : entries) {
    if (u.queue.get() == checked) continue;
    checked = u.queue.get();
    refused = u.queue->type().check_return(u.queue->resource());
    if (!refused.ok()) break;
  }
  if (refused.ok()) return refused;
  std::vector<Unacked> kept, acked;
  for (Unacked& u : entries) {
    (u.queue->type().check_return(u.queue->resource()).ok() ? kept : acked).push_back(std::move(u));
  }
  // A stream refuses nack/reject/recover (the connection closes): its deliveries give their
  // credit back as an ack would (a stream keeps its messages either way); the others are
  // settled as asked, so no other queue's message is lost with the connection.
  entries.clear();
  settle(std::move(acked), Settle::kAck);
  settle(std::move(kept), how);
  return refused;
}

// ---- transactions ----------------------------------------------------------------------

Status Channel::tx_select() {
  if (confirm_mode_) return precondition_failed("cannot switch from confirm to tx mode");
  tx_mode_ = true;
  tx_flag_.store(true, std::memory_order_relaxed);
  return Status();
}

Result<bool> Channel::tx_commit() {
  if (!tx_mode_) return precondition_failed("channel is not transactional");
  std::vector<TxPublish> publishes = std::move(tx_publishes_);
  std::vector<TxSettle> settles = std::move(tx_settles_);
  tx_publishes_.clear();
  tx_settles_.clear();
  bool reached_queues = false;
  for (TxPublish& p : publishes) {
    // The exchange was checked at publish time; one deleted since then routes nowhere.
    const RouteResult* result = nullptr;
    if (!route(p.exchange, p.routing_key, *p.message, result).ok()) continue;
    enqueue_routed(*result, p.exchange, p.routing_key, p.mandatory, p.message, p.options, 0);
    reached_queues = reached_queues || last_publish_.delivered || last_publish_.rejected;
  }
  for (TxSettle& s : settles) settle(std::move(s.entries), s.how);
  return reached_queues;
}

Status Channel::tx_rollback() {
  if (!tx_mode_) return precondition_failed("channel is not transactional");
  tx_publishes_.clear();
  std::lock_guard lock(mu_);
  // Acked tags become unacked again.
  for (TxSettle& s : tx_settles_) {
    for (Unacked& u : s.entries) {
      auto pos = std::lower_bound(unacked_.begin(), unacked_.end(), u.tag,
                                  [](const Unacked& x, uint64_t t) { return x.tag < t; });
      unacked_.insert(pos, std::move(u));
    }
  }
  tx_settles_.clear();
  return Status();
}

// ---- lifecycle -------------------------------------------------------------------------

Status Channel::check_open() const {
  if (closed_flag_.load(std::memory_order_acquire)) {
    return Status(StatusCode::kClosed, "channel is closed");
  }
  return Status();
}

void Channel::close() {
  report_publishes();
  std::vector<ConsumerPtr> consumers;
  std::vector<Unacked> unacked;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    closed_flag_.store(true, std::memory_order_release);
    // Not marked cancelled yet: a single active consumer keeps its turn until detach()
    // below has requeued its messages (closed_ already turns deliveries away).
    for (auto& [tag, c] : consumers_) consumers.push_back(std::move(c));
    consumers_.clear();
    unacked.assign(std::make_move_iterator(unacked_.begin()),
                   std::make_move_iterator(unacked_.end()));
    unacked_.clear();
    if (ack_timer_ != 0) connection_->core().timers().cancel(ack_timer_);
    ack_timer_ = 0;
    if (!reply_key_.empty()) connection_->core().unregister_reply_channel(reply_key_);
    reply_tag_.clear();
    reply_key_.clear();
  }
  for (TxSettle& s : tx_settles_) {
    for (Unacked& u : s.entries) unacked.push_back(std::move(u));
  }
  tx_settles_.clear();
  tx_publishes_.clear();
  // Each queue the channel touched loses the channel's consumers and gets its unacked
  // messages back (redelivered) in one step, as RabbitMQ's queue process handles a channel
  // going down; an auto-delete queue may go with its last consumer, messages and all.
  std::vector<QueuePtr> queues;
  for (const Unacked& u : unacked) queues.push_back(u.queue);
  for (const ConsumerPtr& c : consumers) queues.push_back(c->queue());
  std::sort(queues.begin(), queues.end());
  queues.erase(std::unique(queues.begin(), queues.end()), queues.end());
  // The channel's deliveries no longer hold their consumers' credit.
  for (const Unacked& u : unacked) {
    if (u.consumer) u.consumer->release_credit(1);
  }
  std::vector<const Consumer*> detached;
  std::vector<QueueEntry> entries;
  for (const QueuePtr& q : queues) {
    detached.clear();
    entries.clear();
    for (const ConsumerPtr& c : consumers) {
      if (c->queue() == q) detached.push_back(c.get());
    }
    for (Unacked& u : unacked) {
      if (u.queue == q) entries.push_back(std::move(u.entry));
    }
    q->detach(detached, std::move(entries));
    entries = {};
  }
  for (const ConsumerPtr& c : consumers) c->mark_cancelled();
}

size_t Channel::unacked_count() const {
  std::lock_guard lock(mu_);
  return unacked_.size();
}

size_t Channel::consumer_count() const {
  std::lock_guard lock(mu_);
  return consumers_.size();
}

std::vector<ConsumerPtr> Channel::consumers() const {
  std::lock_guard lock(mu_);
  std::vector<ConsumerPtr> out;
  out.reserve(consumers_.size());
  for (const auto& [_, c] : consumers_) out.push_back(c);
  return out;
}

}  // namespace burrow::broker
