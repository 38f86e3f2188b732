// Messages over HTTP: get (peek with an ack mode), purge, publish, and Burrow's own
// operations: outbox parked rows and dead-letter replay.
#include <openssl/evp.h>

#include <algorithm>

#include "broker/broker_core.h"
#include "broker/outbox.h"
#include "server/connection_registry.h"
#include "server/management/api_internal.h"
#include "server/management/op_channel.h"
#include "server/resource_alarms.h"

namespace burrow::server::management {

namespace {

// RabbitMQ names every missing key: "[{key_missing,write},{key_missing,read}]".
void require_keys(const json& body, std::initializer_list<const char*> keys) {
  std::string missing;
  for (const char* key : keys) {
    if (body.contains(key)) continue;
    missing += std::string(missing.empty() ? "" : ",") + "{key_missing," + key + "}";
  }
  if (!missing.empty()) fail(400, "bad_request", "[" + missing + "]");
}

const std::string* header_string(const FieldTable& headers, std::string_view name) {
  const FieldValue* v = headers.find(name);
  return v ? v->as_string() : nullptr;
}

// Where a dead-lettered message was first published, from its x-first-death-* headers and the
// matching x-death entry's routing keys (rabbit_dead_letter).
struct FirstDeath {
  std::string exchange;
  std::string routing_key;
  std::string reason;
  std::string queue;
  bool known = false;
};

FirstDeath first_death(const broker::StoredMessage& m) {
  FirstDeath out;
  const auto& headers = m.message.properties.headers;
  if (!headers) return out;
  const std::string* exchange = header_string(*headers, "x-first-death-exchange");
  const std::string* reason = header_string(*headers, "x-first-death-reason");
  const std::string* queue = header_string(*headers, "x-first-death-queue");
  if (!exchange || !reason || !queue) return out;
  out.exchange = *exchange;
  out.reason = *reason;
  out.queue = *queue;
  out.known = true;
  out.routing_key = m.message.routing_key;
  if (const FieldValue* deaths = headers->find("x-death")) {
    if (const FieldArray* list = deaths->get_if<FieldArray>()) {
      for (const FieldValue& d : *list) {
        const FieldTable* t = d.get_if<FieldTable>();
        if (!t) continue;
        const std::string* q = header_string(*t, "queue");
        const std::string* r = header_string(*t, "reason");
        if (!q || !r || *q != *queue || *r != *reason) continue;
        if (const FieldValue* rks = t->find("routing-keys")) {
          if (const FieldArray* keys = rks->get_if<FieldArray>(); keys && !keys->empty()) {
            if (const std::string* k = (*keys)[0].as_string()) out.routing_key = *k;
          }
        }
      }
    }
  }
  return out;
}

}  // namespace

// ---- OpChannel ---------------------------------------------------------------------------------

OpChannel::OpChannel(broker::BrokerCore& core, const std::string& user, const std::string& vhost,
                     bool trusted) {
  auto connection = core.connect(broker::ConnectInfo{user, vhost, trusted});
  if (!connection.ok()) fail(amqp_error(connection.status()));
  connection_ = std::move(*connection);
  channel_ = std::make_shared<broker::Channel>(connection_, 1, this);
}

OpChannel::~OpChannel() {
  channel_->close();
  connection_->close();
}

void OpChannel::on_return(uint16_t, std::string_view, const broker::StoredMessage&) {
  std::lock_guard lock(mu_);
  returned_ = true;
}

void OpChannel::on_confirm(uint64_t seq, bool, bool ack) {
  std::lock_guard lock(mu_);
  confirmed_ = std::max(confirmed_, seq);
  if (!ack) last_ack_ = false;
  cv_.notify_all();
}

bool OpChannel::wait_confirm(uint64_t seq, bool& returned) {
  channel_->flush();
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(30), [&] { return confirmed_ >= seq; });
  returned = returned_;
  const bool ack = confirmed_ >= seq && last_ack_;
  returned_ = false;
  last_ack_ = true;
  return ack;
}

// ---- get, purge, publish
// -------------------------------------------------------------------------

HttpResponse ManagementApi::Impl::queue_get(Call& call, const std::string& vhost,
                                            const std::string& queue) {
  json body = call.body();
  require_keys(body, {"ackmode", "count", "encoding"});
  const std::string ackmode = body["ackmode"].get<std::string>();
  const std::string encoding = body["encoding"].get<std::string>();
  if (encoding != "auto" && encoding != "base64") {
    fail(400, "bad_request", "Unsupported encoding. Please use auto or base64.");
  }
  if (ackmode != "ack_requeue_true" && ackmode != "ack_requeue_false" &&
      ackmode != "reject_requeue_true" && ackmode != "reject_requeue_false") {
    fail(400, "bad_request", "Unsupported ackmode " + ackmode);
  }
  const int64_t count = json_int(body["count"]).value_or(1);
  std::optional<int64_t> truncate;
  if (body.contains("truncate")) truncate = json_int(body["truncate"]);
  const bool no_ack = ackmode == "ack_requeue_false";
  json out = json::array();
  OpChannel op(core, call.user.name, vhost);
  std::vector<uint64_t> tags;
  for (int64_t i = 0; i < count; ++i) {
    bool empty = false;
    Status s = op.channel().get(queue, no_ack, [&](const std::optional<broker::GetResult>& r) {
      if (!r) {
        empty = true;
        return;
      }
      tags.push_back(r->delivery_tag);
      const broker::StoredMessage& m = *r->entry.message;
      std::string payload = m.message.body;
      if (truncate && static_cast<int64_t>(payload.size()) > *truncate) {
        payload.resize(static_cast<size_t>(*truncate));
      }
      const bool as_string = encoding == "auto" && valid_utf8(payload);
      out.push_back(json{{"payload_bytes", m.message.body.size()},
                         {"redelivered", r->entry.redelivered},
                         {"exchange", m.message.exchange},
                         {"routing_key", m.message.routing_key},
                         {"message_count", r->message_count},
                         {"properties", properties_json(m.message.properties)},
                         {"payload", as_string ? payload : base64_encode(payload)},
                         {"payload_encoding", as_string ? "string" : "base64"}});
    });
    if (!s.ok()) fail(amqp_error(s));
    if (empty) break;
  }
  // ack_requeue_true: the messages go back when the channel closes (redelivered), as in
  // RabbitMQ; the reject modes reject each one.
  if (ackmode == "reject_requeue_true" || ackmode == "reject_requeue_false") {
    for (uint64_t tag : tags) {
      (void)op.channel().reject(tag, ackmode == "reject_requeue_true");
    }
  }
  return json_response(out);
}

HttpResponse ManagementApi::Impl::queue_purge(Call& call, const std::string& vhost,
                                              const std::string& queue) {
  auto v = require_vhost(*this, call, vhost);
  if (!v->find_queue_any(queue).ok()) fail(not_found_error());
  OpChannel op(core, call.user.name, vhost);
  auto purged = op.channel().purge_queue(queue);
  if (!purged.ok()) fail(amqp_error(purged.status()));
  return no_content();
}

HttpResponse ManagementApi::Impl::exchange_publish(Call& call, const std::string& vhost,
                                                   const std::string& exchange) {
  require_vhost(*this, call, vhost);
  json body = call.body();
  require_keys(body, {"routing_key", "properties", "payload", "payload_encoding"});
  auto properties = json_properties(body["properties"]);
  if (!properties.ok()) fail(400, "bad_request", properties.status().message());
  std::string payload = body["payload"].get<std::string>();
  const std::string payload_encoding = body["payload_encoding"].get<std::string>();
  if (payload_encoding == "base64") {
    auto decoded = base64_decode(payload);
    if (!decoded) fail(400, "bad_request", "invalid base64 payload");
    payload = std::move(*decoded);
  } else if (payload_encoding != "string") {
    fail(400, "bad_request", "Unsupported payload_encoding " + payload_encoding);
  }
  auto message = std::make_shared<broker::StoredMessage>();
  message->message.exchange = exchange;
  message->message.routing_key = body["routing_key"].get<std::string>();
  message->message.properties = std::move(*properties);
  message->message.body = std::move(payload);
  message->published_at = SystemClock::instance().now_ms();
  OpChannel op(core, call.user.name, vhost);
  if (Status s = op.channel().confirm_select(); !s.ok()) fail(amqp_error(s));
  const std::string routing_key = message->message.routing_key;
  Status s =
      op.channel().publish(exchange, routing_key, /*mandatory=*/true, false, std::move(message));
  if (!s.ok()) fail(channel_error(s));
  bool returned = false;
  if (!op.wait_confirm(1, returned)) {
    fail(400, "bad_request", "rejected Unable to publish message. Check queue limits.");
  }
  return json_response(json{{"routed", !returned}});
}

// ---- Burrow's own operations -------------------------------------------------------------------

namespace {

json parked_json(const ParkedRow& row) {
  return json{{"id", row.id},
              {"destination", row.destination},
              {"exchange", row.exchange},
              {"routing_key", row.routing_key},
              {"message_id", row.message_id},
              {"attempts", row.attempts},
              {"last_error", row.last_error},
              {"created_at", row.created_at_ms}};
}

}  // namespace

HttpResponse ManagementApi::Impl::burrow(Call& call) {
  const std::string& method = call.request.method;
  // /api/burrow/outbox/parked[/{id}[/retry]]
  if (call.size() >= 3 && call.segment(1) == "outbox" && call.segment(2) == "parked") {
    require_admin(call);
    if (call.size() == 3 && method == "GET") {
      json out = json::array();
      for (const auto& row : core.outbox().parked()) out.push_back(parked_json(row));
      return json_response(out);
    }
    if (call.size() < 4) return error_response(not_found_error());
    auto id = json_int(json(call.segment(3)));
    if (!id || *id < 0) fail(not_found_error());
    Status s;
    if (call.size() == 5 && call.segment(4) == "retry" && method == "POST") {
      s = core.outbox().retry_parked(static_cast<uint64_t>(*id));
    } else if (call.size() == 4 && method == "DELETE") {
      s = core.outbox().discard_parked(static_cast<uint64_t>(*id));
    } else {
      return error_response(not_found_error());
    }
    if (s.code() == StatusCode::kNotFound) fail(not_found_error());
    if (!s.ok()) fail(400, "bad_request", s.message());
    return no_content();
  }
  if (call.size() == 3 && call.segment(1) == "outbox" && call.segment(2) == "stats" &&
      method == "GET") {
    const OutboxStats st = core.outbox().stats();
    return json_response(json{{"pending", st.pending},
                              {"parked", st.parked},
                              {"committed", st.committed},
                              {"sent", st.sent},
                              {"retried", st.retried},
                              {"inbox_processed", st.inbox_processed},
                              {"inbox_duplicates", st.inbox_duplicates}});
  }
  if (call.size() == 2 && call.segment(1) == "faults") return faults(call);
  if (call.size() == 2 && call.segment(1) == "published") return published(call);
  // /api/burrow/reset: the broker back to its initial state, so a test suite can reuse one
  // burrowd: every connection closed (320 CONNECTION_FORCED - broker reset), every
  // non-default vhost, user, queue, message, exchange and binding gone, guest and "/" as at
  // first start.
  if (call.size() == 2 && call.segment(1) == "reset" && method == "POST") {
    require_admin(call);
    if (connections) {
      connections->force_close_all("broker reset");
      connections->refuse_for(0);
    }
    if (Status s = core.reset(); !s.ok()) fail(400, "bad_request", s.message());
    rates.clear();
    return no_content();
  }
  // /api/burrow/clock[/advance]: the broker's clock; a manual one (burrowd --clock manual)
  // moves only when told, firing every timer that falls due, in due order, before answering.
  if (call.size() >= 2 && call.segment(1) == "clock") {
    auto clock_json = [&] {
      return json{{"mode", core.manual_clock() ? "manual" : "system"},
                  {"now_ms", core.clock().now_ms()}};
    };
    if (call.size() == 2 && method == "GET") return json_response(clock_json());
    if (call.size() == 3 && call.segment(2) == "advance" && method == "POST") {
      require_admin(call);
      json body = call.body();
      if (!body.contains("ms")) fail(400, "bad_request", "[{key_missing,ms}]");
      auto ms = json_int(body["ms"]);
      if (!ms || *ms < 0) fail(400, "bad_request", "ms must be a non-negative integer");
      if (!core.manual_clock()) {
        fail(400, "bad_request",
             "the broker's clock is the system clock (start burrowd with "
             "--clock manual)");
      }
      if (Status s = core.advance_clock(*ms); !s.ok()) fail(400, "bad_request", s.message());
      return json_response(clock_json());
    }
    return error_response(not_found_error());
  }
  // /api/burrow/alarms: the memory and disk limits, adjustable at run time as with
  // rabbitmqctl set_vm_memory_high_watermark [absolute] and set_disk_free_limit.
  if (call.size() == 2 && call.segment(1) == "alarms") {
    ResourceAlarms* alarms = options.alarms;
    if (alarms == nullptr) fail(not_found_error());
    if (method == "PUT") {
      require_admin(call);
      json body = call.body();
      if (body.contains("vm_memory_high_watermark")) {
        const json& w = body["vm_memory_high_watermark"];
        if (w.is_object() && w.contains("absolute")) {
          auto bytes = json_int(w["absolute"]);
          if (!bytes || *bytes < 0) fail(400, "bad_request", "absolute must be a byte count");
          alarms->set_memory_limit(static_cast<uint64_t>(*bytes));
        } else if (w.is_number()) {
          alarms->set_memory_watermark(w.get<double>());
        } else {
          fail(400, "bad_request",
               "vm_memory_high_watermark must be a fraction or "
               "{\"absolute\": bytes}");
        }
      }
      if (body.contains("disk_free_limit")) {
        auto bytes = json_int(body["disk_free_limit"]);
        if (!bytes || *bytes < 0) fail(400, "bad_request", "disk_free_limit must be a byte count");
        alarms->set_disk_free_limit(static_cast<uint64_t>(*bytes));
      }
    } else if (method != "GET") {
      return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
    }
    return json_response(json{{"memory_alarm", alarms->memory_alarm()},
                              {"disk_alarm", alarms->disk_alarm()},
                              {"memory_used", alarms->memory_used()},
                              {"memory_limit", alarms->memory_limit()},
                              {"disk_free", alarms->disk_free()},
                              {"disk_free_limit", alarms->disk_free_limit()}});
  }
  // /api/burrow/queues/{vhost}/{queue}/replay
  if (call.size() == 5 && call.segment(1) == "queues" && call.segment(4) == "replay" &&
      method == "POST") {
    const std::string& vhost_name = call.segment(2);
    const std::string& queue_name = call.segment(3);
    auto vhost = require_vhost(*this, call, vhost_name);
    auto queue = vhost->find_queue_any(queue_name);
    if (!queue.ok()) fail(not_found_error());
    json body = call.body();
    const int64_t count =
        std::clamp<int64_t>(json_int(body.value("count", json(500))).value_or(500), 0, 10000);
    const int64_t offset =
        std::max<int64_t>(json_int(body.value("offset", json(0))).value_or(0), 0);
    const bool dry_run = json_bool(body, "dry_run", false);
    std::optional<std::pair<std::string, std::optional<std::string>>> target;
    if (body.contains("target") && body["target"].is_object()) {
      const json& t = body["target"];
      if (!t.contains("exchange") || !t["exchange"].is_string()) {
        fail(400, "bad_request", "[{key_missing,exchange}]");
      }
      std::optional<std::string> rk;
      if (t.contains("routing_key") && t["routing_key"].is_string()) {
        rk = t["routing_key"].get<std::string>();
      }
      target.emplace(t["exchange"].get<std::string>(), rk);
    }
    std::string filter_reason, filter_queue;
    if (body.contains("filter") && body["filter"].is_object()) {
      filter_reason = body["filter"].value("reason", std::string());
      filter_queue = body["filter"].value("queue", std::string());
    }

    OpChannel op(core, call.user.name, vhost_name);
    if (!dry_run) {
      if (Status s = op.channel().confirm_select(); !s.ok()) fail(amqp_error(s));
    }
    struct Taken {
      uint64_t tag;
      broker::StoredMessagePtr message;
      FirstDeath death;
    };
    std::vector<Taken> taken;
    // Read past `offset` messages (skipped by earlier calls), then up to `count` more.
    int64_t examined = 0;
    uint64_t skipped = 0;
    std::vector<Taken> candidates;
    while (static_cast<int64_t>(candidates.size()) + static_cast<int64_t>(skipped) < count) {
      bool empty = false;
      Status s =
          op.channel().get(queue_name, false, [&](const std::optional<broker::GetResult>& r) {
            if (!r) {
              empty = true;
              return;
            }
            taken.push_back(
                Taken{r->delivery_tag, r->entry.message, first_death(*r->entry.message)});
          });
      if (!s.ok()) fail(amqp_error(s));
      if (empty) break;
      if (examined++ < offset) continue;
      Taken& t = taken.back();
      const bool matches = (filter_reason.empty() || t.death.reason == filter_reason) &&
                           (filter_queue.empty() || t.death.queue == filter_queue) &&
                           (target.has_value() || t.death.known);
      if (matches) {
        candidates.push_back(t);
      } else {
        ++skipped;
      }
    }
    json messages = json::array();
    uint64_t moved = 0, failed = 0;
    uint64_t seq = 0;
    for (const Taken& t : candidates) {
      const std::string exchange = target ? target->first : t.death.exchange;
      const std::string routing_key =
          target && target->second ? *target->second : t.death.routing_key;
      // Where it was first published (its current exchange is the dead-letter exchange).
      json entry{
          {"exchange", t.death.known ? t.death.exchange : t.message->message.exchange},
          {"routing_key", t.death.known ? t.death.routing_key : t.message->message.routing_key},
          {"reason", t.death.reason},
          {"queue", t.death.queue},
          {"target_exchange", exchange},
          {"target_routing_key", routing_key}};
      if (dry_run) {
        messages.push_back(std::move(entry));
        ++moved;
        continue;
      }
      auto copy = std::make_shared<broker::StoredMessage>();
      copy->message = t.message->message;
      copy->message.exchange = exchange;
      copy->message.routing_key = routing_key;
      copy->published_at = SystemClock::instance().now_ms();
      Status s = op.channel().publish(exchange, routing_key, true, false, std::move(copy));
      if (!s.ok()) fail(amqp_error(s));  // the channel closes: everything taken is requeued
      bool returned = false;
      if (op.wait_confirm(++seq, returned) && !returned) {
        (void)op.channel().ack(t.tag, false);
        messages.push_back(std::move(entry));
        ++moved;
      } else {
        ++failed;
      }
    }
    // Every message read and not moved goes back to its place when the channel closes
    // (marked redelivered); the ones still ready now are those after the read position.
    const uint64_t remaining = (*queue)->counts().ready;
    return json_response(json{{"moved", moved},
                              {"skipped", skipped},
                              {"failed", failed},
                              {"remaining", remaining},
                              {"dry_run", dry_run},
                              {"messages", messages}});
  }
  return error_response(not_found_error());
}

}  // namespace burrow::server::management
