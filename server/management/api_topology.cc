// Queues, exchanges, bindings, connections, channels and consumers: listings in RabbitMQ's
// JSON shapes, and declare/delete through a broker channel opened as the calling user, so
// every AMQP rule and permission applies as it does over AMQP.
#include <algorithm>

#include "base/hash.h"
#include "broker/broker_core.h"
#include "broker/channel.h"
#include "broker/exchange.h"
#include "server/connection_registry.h"
#include "server/management/api_internal.h"
#include "server/management/op_channel.h"
#include "server/server_properties.h"

namespace burrow::server::management {

namespace {

json rate_json(double r) { return json{{"rate", r}}; }

// The name in exchange paths: "amq.default" means the default exchange "".
std::string exchange_from_path(const std::string& segment) {
  return segment == "amq.default" ? std::string() : segment;
}

// rabbit_mgmt_format:pack_binding_props: "~" for no key and no arguments, the quoted key
// otherwise, plus "~<hash>" of the arguments when there are any.
std::string properties_key(const std::string& routing_key, const FieldTable& arguments) {
  if (routing_key.empty() && arguments.empty()) return "~";
  std::string key = percent_encode(routing_key);
  // quote_plus keeps '~' as %7E so the separator is unambiguous.
  for (size_t pos = 0; (pos = key.find('~', pos)) != std::string::npos;) {
    key.replace(pos, 1, "%7E");
  }
  if (!arguments.empty()) {
    key += "~" + std::to_string(fnv1a64(to_string(arguments)) % 100000000);
  }
  return key;
}

json binding_json(const std::string& vhost, const broker::Binding& b) {
  return json{
      {"source", b.source},
      {"vhost", vhost},
      {"destination", b.destination},
      {"destination_type", b.kind == broker::DestinationKind::kQueue ? "queue" : "exchange"},
      {"routing_key", b.routing_key},
      {"arguments", field_table_json(b.arguments)},
      {"properties_key", properties_key(b.routing_key, b.arguments)}};
}

json default_exchange_json(const std::string& vhost) {
  return json{{"name", ""},
              {"vhost", vhost},
              {"type", "direct"},
              {"durable", true},
              {"auto_delete", false},
              {"internal", false},
              {"arguments", json::object()},
              {"user_who_performed_action", "rmq-internal"}};
}

// One consumer as /api/consumers and a queue's consumer_details show it.
json consumer_json(const ConnectionEntry& conn, uint16_t number, const broker::Consumer& consumer) {
  return json{{"consumer_tag", consumer.tag()},
              {"exclusive", consumer.settings().exclusive},
              {"ack_required", !consumer.no_ack()},
              {"prefetch_count", consumer.settings().prefetch},
              {"active", true},
              {"activity_status", "up"},
              {"arguments", field_table_json(consumer.settings().arguments)},
              {"queue", json{{"name", consumer.queue()->name()}, {"vhost", conn.vhost}}},
              {"channel_details", json{{"name", conn.name + " (" + std::to_string(number) + ")"},
                                       {"number", number},
                                       {"user", conn.user},
                                       {"connection_name", conn.name},
                                       {"peer_port", conn.peer_port},
                                       {"peer_host", conn.peer_host}}}};
}

bool query_flag(const HttpRequest& request, const char* name) {
  auto it = request.query.find(name);
  return it != request.query.end() && it->second == "true";
}

}  // namespace

// ---- queues ------------------------------------------------------------------------------------

json ManagementApi::Impl::queue_json(const broker::Queue& queue, bool details) {
  const broker::QueueSettings& s = queue.settings();
  const broker::QueueCounts counts = queue.counts();
  const broker::QueueCounters c = queue.counters();
  const QueueRates r = rates.rates(s.vhost + '\0' + s.name, c, SystemClock::instance().now_ms());
  json q{{"name", s.name},
         {"vhost", s.vhost},
         {"durable", s.durable},
         {"auto_delete", s.auto_delete},
         {"exclusive", s.exclusive()},
         {"arguments", field_table_json(s.arguments)},
         {"type", queue.type().name()},
         {"state", "running"},
         {"node", server_node_name()},
         {"messages", counts.ready + counts.unacked},
         {"messages_details", rate_json(0)},
         {"messages_ready", counts.ready},
         {"messages_ready_details", rate_json(0)},
         {"messages_unacknowledged", counts.unacked},
         {"messages_unacknowledged_details", rate_json(0)},
         {"consumers", counts.consumers},
         {"consumer_capacity", counts.consumers > 0 ? 1.0 : 0.0},
         {"consumer_utilisation", counts.consumers > 0 ? 1.0 : 0.0},
         {"policy", nullptr},
         {"exclusive_consumer_tag", nullptr}};
  if (c.publish + c.deliver + c.deliver_no_ack + c.get + c.get_no_ack + c.ack + c.get_empty != 0) {
    q["message_stats"] = json{
        {"publish", c.publish},
        {"publish_details", rate_json(r.publish)},
        {"deliver_get", c.deliver + c.deliver_no_ack + c.get + c.get_no_ack},
        {"deliver_get_details", rate_json(r.deliver + r.deliver_no_ack + r.get + r.get_no_ack)},
        {"deliver", c.deliver},
        {"deliver_details", rate_json(r.deliver)},
        {"deliver_no_ack", c.deliver_no_ack},
        {"deliver_no_ack_details", rate_json(r.deliver_no_ack)},
        {"get", c.get},
        {"get_details", rate_json(r.get)},
        {"get_no_ack", c.get_no_ack},
        {"get_no_ack_details", rate_json(r.get_no_ack)},
        {"get_empty", c.get_empty},
        {"redeliver", c.redeliver},
        {"redeliver_details", rate_json(r.redeliver)},
        {"ack", c.ack},
        {"ack_details", rate_json(r.ack)},
        {"dead_lettered", c.dead_lettered},
        {"dead_lettered_details", rate_json(r.dead_lettered)},
    };
  }
  if (queue.type().replicated()) {
    // rabbit_quorum_queue's and rabbit_stream_queue's type-specific items; one node is leader
    // and the only member.
    q["leader"] = server_node_name();
    q["members"] = json::array({server_node_name()});
    q["online"] = json::array({server_node_name()});
  }
  if (details) {
    json consumer_details = json::array();
    if (connections) {
      for (const auto& conn : connections->list()) {
        for (const auto& [number, channel] : conn->channels()) {
          for (const auto& consumer : channel->consumers()) {
            if (consumer->queue().get() == &queue) {
              consumer_details.push_back(consumer_json(*conn, number, *consumer));
            }
          }
        }
      }
    }
    q["consumer_details"] = consumer_details;
    q["incoming"] = json::array();
    q["deliveries"] = json::array();
  }
  return q;
}

HttpResponse ManagementApi::Impl::queues(Call& call) {
  const std::string& method = call.request.method;
  if (call.size() == 1) {
    json out = json::array();
    for (const auto& vhost : core.vhosts()) {
      if (!call.is_monitor() &&
          !core.access().check_vhost_access(call.user.name, vhost->name()).ok()) {
        continue;
      }
      for (const auto& q : vhost->queues()) out.push_back(queue_json(*q, false));
    }
    return json_response(out);
  }
  const std::string& vhost_name = call.segment(1);
  auto vhost = require_vhost(*this, call, vhost_name);
  if (call.size() == 2) {
    json out = json::array();
    for (const auto& q : vhost->queues()) out.push_back(queue_json(*q, false));
    return json_response(out);
  }
  const std::string& name = call.segment(2);
  if (call.size() == 4) {
    const std::string& action = call.segment(3);
    if (action == "get" && method == "POST") return queue_get(call, vhost_name, name);
    if (action == "contents" && method == "DELETE") return queue_purge(call, vhost_name, name);
    if (action == "bindings" && method == "GET") {
      if (!vhost->find_queue_any(name).ok()) fail(not_found_error());
      json out = json::array();
      for (const auto& b : binding_list(*vhost)) {
        if (b["destination_type"] == "queue" && b["destination"] == name) out.push_back(b);
      }
      return json_response(out);
    }
    return error_response(not_found_error());
  }
  if (call.size() != 3) return error_response(not_found_error());
  if (method == "GET") {
    auto q = vhost->find_queue_any(name);
    if (!q.ok()) fail(not_found_error());
    return json_response(queue_json(**q, true));
  }
  if (method == "PUT") {
    json body = call.body();
    broker::QueueDeclareRequest request;
    request.name = name;
    request.durable = json_bool(body, "durable", false);  // RabbitMQ's default over HTTP
    request.auto_delete = json_bool(body, "auto_delete", false);
    if (body.contains("arguments") && body["arguments"].is_object()) {
      request.arguments = json_field_table(body["arguments"]);
    }
    const bool existed = vhost->find_queue_any(name).ok();
    OpChannel op(core, call.user.name, vhost_name);
    auto result = op.channel().declare_queue(std::move(request));
    if (!result.ok()) fail(amqp_error(result.status()));
    return no_content(existed ? 204 : 201);
  }
  if (method == "DELETE") {
    if (!vhost->find_queue_any(name).ok()) fail(not_found_error());
    OpChannel op(core, call.user.name, vhost_name);
    auto result = op.channel().delete_queue(name, query_flag(call.request, "if-unused"),
                                            query_flag(call.request, "if-empty"));
    if (!result.ok()) fail(amqp_error(result.status()));
    return no_content();
  }
  return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
}

// ---- exchanges ---------------------------------------------------------------------------------

json ManagementApi::Impl::exchange_json(const broker::ExchangeSettings& x) {
  json out{{"name", x.name},
           {"vhost", x.vhost},
           {"type", x.type},
           {"durable", x.durable},
           {"auto_delete", x.auto_delete},
           {"internal", x.internal},
           {"arguments", field_table_json(x.arguments)}};
  if (x.name.starts_with("amq.")) out["user_who_performed_action"] = "rmq-internal";
  return out;
}

HttpResponse ManagementApi::Impl::exchanges(Call& call) {
  const std::string& method = call.request.method;
  auto list_vhost = [&](const broker::VHost& vhost, json& out) {
    out.push_back(default_exchange_json(vhost.name()));
    for (const auto& x : vhost.exchanges()) out.push_back(exchange_json(x));
  };
  if (call.size() == 1) {
    json out = json::array();
    for (const auto& vhost : core.vhosts()) {
      if (!call.is_monitor() &&
          !core.access().check_vhost_access(call.user.name, vhost->name()).ok()) {
        continue;
      }
      list_vhost(*vhost, out);
    }
    return json_response(out);
  }
  const std::string& vhost_name = call.segment(1);
  auto vhost = require_vhost(*this, call, vhost_name);
  if (call.size() == 2) {
    json out = json::array();
    list_vhost(*vhost, out);
    return json_response(out);
  }
  const std::string name = exchange_from_path(call.segment(2));
  if (call.size() == 4 && call.segment(3) == "publish" && method == "POST") {
    return exchange_publish(call, vhost_name, name);
  }
  if (call.size() == 5 && call.segment(3) == "bindings" && method == "GET") {
    if (!name.empty() && !vhost->find_exchange(name)) fail(not_found_error());
    const bool source = call.segment(4) == "source";
    if (!source && call.segment(4) != "destination") return error_response(not_found_error());
    json out = json::array();
    for (const auto& b : binding_list(*vhost)) {
      if (source ? b["source"] == name
                 : (b["destination_type"] == "exchange" && b["destination"] == name)) {
        out.push_back(b);
      }
    }
    return json_response(out);
  }
  if (call.size() != 3) return error_response(not_found_error());
  if (method == "GET") {
    if (name.empty()) {
      json out = default_exchange_json(vhost_name);
      out["incoming"] = json::array();
      out["outgoing"] = json::array();
      return json_response(out);
    }
    auto x = vhost->find_exchange(name);
    if (!x) fail(not_found_error());
    json out = exchange_json(*x);
    out["incoming"] = json::array();
    out["outgoing"] = json::array();
    return json_response(out);
  }
  if (method == "PUT") {
    json body = call.body();
    // RabbitMQ 3.10.8 defaults a missing type to direct and a missing durable to false.
    broker::ExchangeSettings settings;
    settings.name = name;
    settings.vhost = vhost_name;
    settings.type = body.value("type", std::string("direct"));
    settings.durable = json_bool(body, "durable", false);
    settings.auto_delete = json_bool(body, "auto_delete", false);
    settings.internal = json_bool(body, "internal", false);
    if (body.contains("arguments") && body["arguments"].is_object()) {
      settings.arguments = json_field_table(body["arguments"]);
    }
    const bool existed = vhost->find_exchange(name).has_value();
    OpChannel op(core, call.user.name, vhost_name);
    Status s = op.channel().declare_exchange(settings, false);
    if (!s.ok()) fail(amqp_error(s));
    return no_content(existed ? 204 : 201);
  }
  if (method == "DELETE") {
    if (!name.empty() && !vhost->find_exchange(name)) fail(not_found_error());
    OpChannel op(core, call.user.name, vhost_name);
    Status s = op.channel().delete_exchange(name, query_flag(call.request, "if-unused"));
    if (!s.ok()) fail(amqp_error(s));
    return no_content();
  }
  return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
}

// ---- bindings ----------------------------------------------------------------------------------

std::vector<json> ManagementApi::Impl::binding_list(const broker::VHost& vhost) {
  std::vector<json> out;
  // The default exchange's implicit bindings come first, as rabbit_binding:list/1 shows them.
  for (const auto& q : vhost.queues()) {
    out.push_back(binding_json(
        vhost.name(),
        broker::Binding{"", broker::DestinationKind::kQueue, q->name(), q->name(), {}}));
  }
  for (const auto& b : vhost.bindings()) out.push_back(binding_json(vhost.name(), b));
  return out;
}

HttpResponse ManagementApi::Impl::bindings(Call& call) {
  const std::string& method = call.request.method;
  if (call.size() == 1) {
    json out = json::array();
    for (const auto& vhost : core.vhosts()) {
      if (!call.is_monitor() &&
          !core.access().check_vhost_access(call.user.name, vhost->name()).ok()) {
        continue;
      }
      for (auto& b : binding_list(*vhost)) out.push_back(std::move(b));
    }
    return json_response(out);
  }
  const std::string& vhost_name = call.segment(1);
  auto vhost = require_vhost(*this, call, vhost_name);
  if (call.size() == 2) {
    json out = json::array();
    for (auto& b : binding_list(*vhost)) out.push_back(std::move(b));
    return json_response(out);
  }
  // /bindings/{vhost}/e/{source}/{q|e}/{destination}[/{props}]
  if ((call.size() != 6 && call.size() != 7) || call.segment(2) != "e" ||
      (call.segment(4) != "q" && call.segment(4) != "e")) {
    return error_response(not_found_error());
  }
  const std::string source = exchange_from_path(call.segment(3));
  const bool to_queue = call.segment(4) == "q";
  const std::string& destination = call.segment(5);
  if (!source.empty() && !vhost->find_exchange(source)) fail(not_found_error());
  if (to_queue ? !vhost->find_queue_any(destination).ok() : !vhost->find_exchange(destination)) {
    fail(not_found_error());
  }
  std::vector<json> matching;
  for (auto& b : binding_list(*vhost)) {
    if (b["source"] == source && b["destination"] == destination &&
        b["destination_type"] == (to_queue ? "queue" : "exchange")) {
      matching.push_back(std::move(b));
    }
  }
  if (call.size() == 6) {
    if (method == "GET") return json_response(json(matching));
    if (method != "POST") {
      return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
    }
    json body = call.body();
    const std::string routing_key = body.value("routing_key", std::string());
    FieldTable arguments;
    if (body.contains("arguments") && body["arguments"].is_object()) {
      arguments = json_field_table(body["arguments"]);
    }
    OpChannel op(core, call.user.name, vhost_name);
    Status s = to_queue ? op.channel().bind_queue(destination, source, routing_key, arguments)
                        : op.channel().bind_exchange(destination, source, routing_key, arguments);
    if (!s.ok()) fail(amqp_error(s));
    HttpResponse r = no_content(201);
    r.headers.emplace_back("Location", properties_key(routing_key, arguments));
    return r;
  }
  const std::string& props = call.segment(6);
  const json* found = nullptr;
  for (const auto& b : matching) {
    if (b["properties_key"] == props) found = &b;
  }
  if (found == nullptr) fail(not_found_error());
  if (method == "GET") return json_response(*found);
  if (method == "DELETE") {
    const std::string routing_key = (*found)["routing_key"].get<std::string>();
    const FieldTable arguments = json_field_table((*found)["arguments"]);
    OpChannel op(core, call.user.name, vhost_name);
    Status s = to_queue ? op.channel().unbind_queue(destination, source, routing_key, arguments)
                        : op.channel().unbind_exchange(destination, source, routing_key, arguments);
    if (!s.ok()) fail(amqp_error(s));
    return no_content();
  }
  return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
}

// ---- connections, channels, consumers ----------------------------------------------------------

namespace {

json connection_json(const ConnectionEntry& c) {
  json out{{"name", c.name},
           {"node", server_node_name()},
           {"type", "network"},
           {"user", c.user},
           {"vhost", c.vhost},
           {"host", c.host},
           {"port", c.port},
           {"peer_host", c.peer_host},
           {"peer_port", c.peer_port},
           {"protocol", "AMQP 0-9-1"},
           {"auth_mechanism", c.auth_mechanism},
           {"ssl", c.tls},
           {"timeout", c.heartbeat},
           {"frame_max", c.frame_max},
           {"channel_max", c.channel_max},
           {"client_properties", field_table_json(c.client_properties)},
           {"connected_at", c.connected_at},
           {"state", c.state.load(std::memory_order_relaxed) == 2   ? "blocked"
                     : c.state.load(std::memory_order_relaxed) == 1 ? "blocking"
                                                                    : "running"},
           {"channels", c.channel_count()},
           {"recv_oct", c.recv_oct.load(std::memory_order_relaxed)},
           {"send_oct", c.send_oct.load(std::memory_order_relaxed)},
           {"recv_cnt", c.recv_cnt.load(std::memory_order_relaxed)},
           {"send_cnt", c.send_cnt.load(std::memory_order_relaxed)},
           {"send_pend", 0}};
  if (const FieldValue* name = c.client_properties.find("connection_name")) {
    if (const std::string* s = name->as_string()) out["user_provided_name"] = *s;
  }
  return out;
}

json channel_json(const ConnectionEntry& c, uint16_t number, const broker::Channel& ch) {
  return json{{"name", c.name + " (" + std::to_string(number) + ")"},
              {"number", number},
              {"node", server_node_name()},
              {"user", c.user},
              {"vhost", c.vhost},
              {"transactional", ch.transactional()},
              {"confirm", ch.confirm_mode()},
              {"consumer_count", ch.consumer_count()},
              {"messages_unacknowledged", ch.unacked_count()},
              {"messages_unconfirmed", 0},
              {"messages_uncommitted", 0},
              {"acks_uncommitted", 0},
              {"prefetch_count", ch.prefetch_count()},
              {"global_prefetch_count", 0},
              {"state", "running"},
              {"connection_details",
               json{{"name", c.name}, {"peer_port", c.peer_port}, {"peer_host", c.peer_host}}}};
}

}  // namespace

json ManagementApi::Impl::connection_list(const Call& call, const std::string* vhost) {
  json out = json::array();
  if (!connections) return out;
  for (const auto& c : connections->list()) {
    // Users without monitoring see their own connections only (rabbit_mgmt_util:filter_user).
    if ((call.is_monitor() || c->user == call.user.name) && (!vhost || c->vhost == *vhost)) {
      out.push_back(connection_json(*c));
    }
  }
  return out;
}

HttpResponse ManagementApi::Impl::connections_route(Call& call) {
  auto visible = [&](const ConnectionEntry& c) {
    return call.is_monitor() || c.user == call.user.name;
  };
  if (call.size() == 1) return json_response(connection_list(call, nullptr));
  const std::string& name = call.segment(1);
  ConnectionEntryPtr entry = connections ? connections->find(name) : nullptr;
  if (!entry || !visible(*entry)) fail(not_found_error());
  if (call.size() == 3 && call.segment(2) == "channels") {
    json out = json::array();
    for (const auto& [number, ch] : entry->channels())
      out.push_back(channel_json(*entry, number, *ch));
    return json_response(out);
  }
  if (call.size() != 2) return error_response(not_found_error());
  if (call.request.method == "GET") return json_response(connection_json(*entry));
  if (call.request.method == "DELETE") {
    std::string reason = "Closed via management plugin";
    if (const std::string* r = call.request.header("x-reason")) reason = *r;
    if (entry->force_close) entry->force_close(reason);
    return no_content();
  }
  return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
}

json ManagementApi::Impl::channel_list(const std::string* vhost) {
  json out = json::array();
  if (!connections) return out;
  for (const auto& c : connections->list()) {
    if (vhost && c->vhost != *vhost) continue;
    for (const auto& [number, ch] : c->channels()) out.push_back(channel_json(*c, number, *ch));
  }
  return out;
}

HttpResponse ManagementApi::Impl::channels(Call& call) {
  if (call.size() == 1) {
    json all = channel_list(nullptr);
    json out = json::array();
    for (auto& ch : all) {
      if (call.is_monitor() || ch["user"] == call.user.name) out.push_back(std::move(ch));
    }
    return json_response(out);
  }
  if (call.size() == 2) {
    for (auto& ch : channel_list(nullptr)) {
      if (ch["name"] == call.segment(1) && (call.is_monitor() || ch["user"] == call.user.name)) {
        return json_response(ch);
      }
    }
  }
  return error_response(not_found_error());
}

HttpResponse ManagementApi::Impl::consumers(Call& call) {
  const std::string* vhost_filter = nullptr;
  if (call.size() == 2) {
    require_vhost(*this, call, call.segment(1));
    vhost_filter = &call.segment(1);
  } else if (call.size() != 1) {
    return error_response(not_found_error());
  }
  json out = json::array();
  if (!connections) return json_response(out);
  for (const auto& conn : connections->list()) {
    if (vhost_filter && conn->vhost != *vhost_filter) continue;
    if (!call.is_monitor() && conn->user != call.user.name) continue;
    for (const auto& [number, channel] : conn->channels()) {
      for (const auto& consumer : channel->consumers()) {
        out.push_back(consumer_json(*conn, number, *consumer));
      }
    }
  }
  return json_response(out);
}

}  // namespace burrow::server::management
