// ManagementApi: authentication, routing, and the node-wide resources (overview, nodes,
// vhosts, users, permissions, health checks). Handlers report errors by throwing
// ApiException (within this module only; handle() turns it into RabbitMQ's error body).
#include "server/management/api.h"
#include "base/logging.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "base/reply.h"
#include "broker/broker_core.h"
#include "broker/channel.h"
#include "server/connection_registry.h"
#include "server/management/api_internal.h"
#include "server/management/static_files.h"
#include "server/process_stats.h"
#include "server/resource_alarms.h"
#include "server/server_properties.h"

namespace burrow::server::management {

namespace {
spdlog::logger& logger() { return module_logger("http"); }
}  // namespace

namespace {

constexpr std::string_view kRabbitVersion = "3.10.8";
constexpr std::string_view kBurrowVersion = "0.6.0";
const std::vector<std::string> kManagementTags = {"administrator", "monitoring", "policymaker",
                                                  "management"};

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const size_t slash = path.find('/');
    out.push_back(percent_decode(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

HttpResponse unauthorized(std::string error, std::string reason, bool challenge) {
  HttpResponse r = error_response(ApiError{401, std::move(error), std::move(reason)});
  if (challenge) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"RabbitMQ Management\"");
  return r;
}

std::vector<std::string> tags_of(const json& value) {
  std::vector<std::string> tags;
  if (value.is_array()) {
    for (const auto& t : value) {
      if (t.is_string()) tags.push_back(t.get<std::string>());
    }
  } else if (value.is_string()) {
    std::string text = value.get<std::string>();
    size_t start = 0;
    while (start <= text.size()) {
      size_t comma = text.find(',', start);
      std::string tag =
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      tag.erase(0, tag.find_first_not_of(' '));
      tag.erase(tag.find_last_not_of(' ') + 1);
      if (!tag.empty()) tags.push_back(tag);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return tags;
}

}  // namespace

// ---- responses ---------------------------------------------------------------------------

HttpResponse error_response(const ApiError& e) {
  return json_response(json{{"error", e.error}, {"reason", e.reason}}, e.status);
}

HttpResponse json_response(const json& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse no_content(int status) {
  HttpResponse r;
  r.status = status;
  return r;
}

ApiError not_found_error() { return ApiError{404, "Object Not Found", "Not Found"}; }

ApiError amqp_error(const Status& status) {
  // As rabbit_mgmt_util: a 404 stays a 404, an access refusal is a 401 that names nothing,
  // anything else is a 400 with the explanation alone (observed on RabbitMQ 3.10.8).
  if (status.code() == StatusCode::kNotFound) return ApiError{404, "not_found", status.message()};
  if (status.code() == StatusCode::kAccessRefused) {
    return ApiError{401, "not_authorised", "Access refused."};
  }
  return ApiError{400, "bad_request", status.message()};
}

ApiError channel_error(const Status& status) {
  // Errors that closed the management's own channel (publish) keep the close text.
  const Reply reply = reply_for(status);
  return ApiError{400, "bad_request", std::to_string(reply.code) + " " + reply.text};
}

json Call::body() const {
  if (request.body.empty()) return json::object();
  try {
    json doc = json::parse(request.body);
    if (!doc.is_object() && !doc.is_array()) fail(400, "bad_request", "not_json");
    return doc;
  } catch (const json::parse_error&) {
    fail(400, "bad_request", "failed_to_parse_json");
  }
}

void require_admin(const Call& call) {
  if (!call.is_admin()) fail(401, "not_authorised", "Not administrator user");
}

void require_monitor(const Call& call) {
  if (!call.is_monitor()) fail(401, "not_authorised", "Not monitor user");
}

std::shared_ptr<broker::VHost> require_vhost(ManagementApi::Impl& api, Call& call,
                                             const std::string& name) {
  auto vhost = api.core.find_vhost(name);
  if (!vhost.ok()) fail(not_found_error());
  if (!call.is_admin() && !api.core.access().check_vhost_access(call.user.name, name).ok()) {
    fail(401, "not_authorised", "User not authorised to access virtual host");
  }
  return *vhost;
}

// ---- the API -----------------------------------------------------------------------------

ManagementApi::ManagementApi(broker::BrokerCore& core, ConnectionRegistry* connections,
                             ApiOptions options)
    : impl_(std::make_unique<Impl>(core, connections, std::move(options))) {}

ManagementApi::~ManagementApi() = default;

void ManagementApi::add_listener(ListenerInfo listener) {
  std::lock_guard lock(impl_->listeners_mu);
  impl_->options.listeners.push_back(std::move(listener));
}

HttpResponse ManagementApi::handle(const HttpRequest& request) {
  if (request.path == "/metrics" || request.path.starts_with("/metrics/")) {
    return impl_->metrics(request);
  }
  // The dashboard's own files need no login (as RabbitMQ's UI); the /api calls it makes do.
  if (request.method == "GET") {
    if (const StaticFile* file = find_static_file(request.path)) {
      HttpResponse r;
      r.body = std::string(file->body);
      r.content_type = std::string(file->content_type);
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      r.headers.emplace_back("Content-Security-Policy", "default-src 'self'");
      return r;
    }
  }
  std::vector<std::string> segments = split_path(request.path);
  if (segments.empty() || segments[0] != "api") return error_response(not_found_error());
  segments.erase(segments.begin());

  // HTTP basic authentication against Burrow's users (rabbit_mgmt_util:is_authorized).
  const std::string* auth = request.header("authorization");
  if (auth == nullptr || !auth->starts_with("Basic ")) {
    HttpResponse r = unauthorized("not_authorized", "Login failed", true);
    return r;
  }
  auto decoded = base64_decode(std::string_view(*auth).substr(6));
  const size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) return unauthorized("not_authorized", "Login failed", true);
  const std::string name = decoded->substr(0, colon);
  const std::string password = decoded->substr(colon + 1);
  Status login = impl_->core.authenticate(name, password, request.from_loopback);
  if (!login.ok()) {
    logger().warn("HTTP access denied: {}", login.message());
    if (login.message().find("can only connect via localhost") != std::string::npos) {
      return unauthorized("not_authorised", "User can only log in via localhost", false);
    }
    return unauthorized("not_authorized", "Login failed", true);
  }
  auto user = impl_->core.access().find_user(name);
  if (!user) return unauthorized("not_authorized", "Login failed", true);
  const bool management = std::any_of(kManagementTags.begin(), kManagementTags.end(),
                                      [&](const std::string& t) { return user->has_tag(t); });
  if (!management) return unauthorized("not_authorised", "Not management user", false);

  Call call{request, std::move(segments), std::move(*user)};
  try {
    return impl_->dispatch(call);
  } catch (const ApiException& e) {
    return error_response(e.error);
  } catch (const json::exception& e) {
    return error_response(ApiError{400, "bad_request", e.what()});
  }
}

HttpResponse ManagementApi::Impl::dispatch(Call& call) {
  if (call.size() == 0) return error_response(not_found_error());
  const std::string& head = call.segment(0);
  const std::string& method = call.request.method;
  if (head == "overview" && call.size() == 1) return overview(call);
  if (head == "cluster-name" && call.size() == 1) {
    return json_response(json{{"name", server_node_name()}});
  }
  if (head == "extensions" && call.size() == 1) return json_response(json::array());
  if (head == "whoami" && call.size() == 1) {
    return json_response(json{{"name", call.user.name}, {"tags", call.user.tags}});
  }
  if (head == "nodes") return nodes(call);
  if (head == "vhosts") return vhosts(call);
  if (head == "vhost-limits") return vhost_limits(call);
  if (head == "users") return users(call);
  if (head == "permissions") return permissions(call);
  if (head == "queues") return queues(call);
  if (head == "exchanges") return exchanges(call);
  if (head == "bindings") return bindings(call);
  if (head == "connections") return connections_route(call);
  if (head == "channels") return channels(call);
  if (head == "consumers") return consumers(call);
  if (head == "definitions" || head == "all-configuration") return definitions(call);
  if (head == "health") return health(call);
  if (head == "aliveness-test") return aliveness(call);
  if (head == "burrow") return burrow(call);
  (void)method;
  return error_response(not_found_error());
}

// ---- overview and nodes ----------------------------------------------------------------------

json ManagementApi::Impl::node_json() {
  struct rlimit files {};
  ::getrlimit(RLIMIT_NOFILE, &files);
  const uint64_t disk_free =
      disk_free_bytes(core.options().in_memory ? "." : core.options().data_dir).value_or(0);
  const uint64_t mem_used = resident_memory_bytes();
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const uint64_t total_memory =
      pages > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
  const size_t sockets = connections ? connections->size() : 0;
  ResourceAlarms* alarms = options.alarms;
  return json{
      {"name", server_node_name()},
      {"type", "disc"},
      {"running", true},
      {"os_pid", std::to_string(::getpid())},
      {"mem_used", mem_used},
      {"mem_limit", alarms ? alarms->memory_limit()
                           : static_cast<uint64_t>(static_cast<double>(total_memory) * 0.4)},
      {"mem_alarm", alarms != nullptr && alarms->memory_alarm()},
      {"disk_free", disk_free},
      {"disk_free_limit", alarms ? alarms->disk_free_limit() : 50000000},
      {"disk_free_alarm", alarms != nullptr && alarms->disk_alarm()},
      {"fd_used", sockets + 16},
      {"fd_total", static_cast<uint64_t>(files.rlim_cur)},
      {"sockets_used", sockets},
      {"sockets_total", options.socket_limit != 0 ? static_cast<uint64_t>(options.socket_limit)
                                                  : static_cast<uint64_t>(files.rlim_cur)},
      {"proc_used", core.workers().thread_count()},
      {"proc_total", core.workers().thread_count()},
      {"processors", ::sysconf(_SC_NPROCESSORS_ONLN)},
      {"uptime", SystemClock::instance().now_ms() - core.started_at()},
      {"run_queue", 0},
      {"rates_mode", "basic"},
      {"partitions", json::array()},
      {"being_drained", false},
      {"applications", json::array({json{{"name", "burrow"},
                                         {"description", "Burrow message broker"},
                                         {"version", std::string(kBurrowVersion)}}})},
      {"auth_mechanisms", json::array({json{{"name", "PLAIN"}, {"enabled", true}},
                                       json{{"name", "AMQPLAIN"}, {"enabled", true}}})},
      {"exchange_types", json::array({json{{"name", "direct"}, {"enabled", true}},
                                      json{{"name", "fanout"}, {"enabled", true}},
                                      json{{"name", "topic"}, {"enabled", true}},
                                      json{{"name", "headers"}, {"enabled", true}},
                                      json{{"name", "x-delayed-message"}, {"enabled", true}}})},
      {"enabled_plugins", json::array({"rabbitmq_management", "rabbitmq_prometheus"})},
  };
}

HttpResponse ManagementApi::Impl::nodes(Call& call) {
  require_monitor(call);
  json node = node_json();
  if (call.size() == 1) return json_response(json::array({node}));
  if (call.size() == 2 && call.segment(1) == node["name"].get<std::string>()) {
    return json_response(node);
  }
  return error_response(not_found_error());
}

HttpResponse ManagementApi::Impl::overview(Call& call) {
  uint64_t ready = 0, unacked = 0, queue_count = 0, exchange_count = 0, consumer_count = 0;
  broker::QueueCounters totals;
  QueueRates rate_totals;
  const int64_t now = SystemClock::instance().now_ms();
  for (const auto& vhost : core.vhosts()) {
    if (!call.is_monitor() &&
        !core.access().check_vhost_access(call.user.name, vhost->name()).ok()) {
      continue;
    }
    exchange_count += vhost->exchange_count() + 1;  // + the default exchange
    for (const auto& q : vhost->queues()) {
      const broker::QueueCounts c = q->counts();
      ready += c.ready;
      unacked += c.unacked;
      consumer_count += c.consumers;
      ++queue_count;
      const broker::QueueCounters counters = q->counters();
      const QueueRates r = rates.rates(vhost->name() + '\0' + q->name(), counters, now);
      totals.publish += counters.publish;
      totals.deliver += counters.deliver;
      totals.deliver_no_ack += counters.deliver_no_ack;
      totals.get += counters.get;
      totals.get_no_ack += counters.get_no_ack;
      totals.redeliver += counters.redeliver;
      totals.ack += counters.ack;
      rate_totals.publish += r.publish;
      rate_totals.deliver += r.deliver + r.deliver_no_ack;
      rate_totals.ack += r.ack;
      rate_totals.get += r.get + r.get_no_ack;
      rate_totals.redeliver += r.redeliver;
    }
  }
  const size_t connection_count = connections ? connections->size() : 0;
  size_t channel_count = 0;
  if (connections) {
    for (const auto& c : connections->list()) channel_count += c->channel_count();
  }
  json listeners = json::array();
  {
    std::lock_guard lock(listeners_mu);
    for (const auto& l : options.listeners) {
      listeners.push_back(json{{"node", server_node_name()},
                               {"protocol", l.protocol},
                               {"ip_address", l.ip_address},
                               {"port", l.port},
                               {"socket_opts", json::array()}});
    }
  }
  auto rate = [](double r) { return json{{"rate", r}}; };
  json message_stats = json::object();
  if (totals.publish + totals.deliver + totals.deliver_no_ack + totals.get + totals.get_no_ack +
          totals.ack !=
      0) {
    message_stats = json{
        {"publish", totals.publish},
        {"publish_details", rate(rate_totals.publish)},
        {"deliver_get", totals.deliver + totals.deliver_no_ack + totals.get + totals.get_no_ack},
        {"deliver_get_details", rate(rate_totals.deliver + rate_totals.get)},
        {"deliver", totals.deliver},
        {"deliver_no_ack", totals.deliver_no_ack},
        {"get", totals.get},
        {"get_no_ack", totals.get_no_ack},
        {"redeliver", totals.redeliver},
        {"redeliver_details", rate(rate_totals.redeliver)},
        {"ack", totals.ack},
        {"ack_details", rate(rate_totals.ack)},
    };
  }
  json object_totals{{"queues", queue_count},
                     {"exchanges", exchange_count},
                     {"connections", connection_count},
                     {"channels", channel_count}};
  if (call.is_monitor()) object_totals["consumers"] = consumer_count;
  return json_response(json{
      {"management_version", std::string(kRabbitVersion)},
      {"rates_mode", "basic"},
      {"sample_retention_policies",
       json{{"global", {600, 3600, 28800, 86400}}, {"basic", {600, 3600}}, {"detailed", {600}}}},
      {"exchange_types", node_json()["exchange_types"]},
      {"product_version", std::string(kBurrowVersion)},
      {"product_name", "Burrow"},
      {"rabbitmq_version", std::string(kRabbitVersion)},
      {"cluster_name", server_node_name()},
      {"erlang_version", "none (Burrow is C++)"},
      {"erlang_full_version", "none"},
      {"disable_stats", false},
      {"enable_queue_totals", true},
      {"message_stats", message_stats},
      {"churn_rates", json::object()},
      {"queue_totals", json{{"messages", ready + unacked},
                            {"messages_details", rate(0)},
                            {"messages_ready", ready},
                            {"messages_ready_details", rate(0)},
                            {"messages_unacknowledged", unacked},
                            {"messages_unacknowledged_details", rate(0)}}},
      {"object_totals", object_totals},
      {"statistics_db_event_queue", 0},
      {"node", server_node_name()},
      {"listeners", listeners},
      {"contexts", json::array()},
  });
}

// ---- vhosts ------------------------------------------------------------------------------------

json ManagementApi::Impl::vhost_json(const broker::VHost& vhost) {
  const broker::VHostInfo info = vhost.info();
  uint64_t ready = 0, unacked = 0;
  for (const auto& q : vhost.queues()) {
    const auto c = q->counts();
    ready += c.ready;
    unacked += c.unacked;
  }
  return json{
      {"name", info.name},
      {"description", info.description},
      {"tags", info.tags},
      {"default_queue_type", info.default_queue_type.empty() ? "classic" : info.default_queue_type},
      {"metadata", json{{"description", info.description}, {"tags", info.tags}}},
      {"tracing", false},
      {"cluster_state", json{{server_node_name(), "running"}}},
      {"messages", ready + unacked},
      {"messages_ready", ready},
      {"messages_unacknowledged", unacked}};
}

HttpResponse ManagementApi::Impl::vhosts(Call& call) {
  const std::string& method = call.request.method;
  if (call.size() == 1) {
    json out = json::array();
    for (const auto& v : core.vhosts()) {
      if (call.is_admin() || core.access().check_vhost_access(call.user.name, v->name()).ok()) {
        out.push_back(vhost_json(*v));
      }
    }
    return json_response(out);
  }
  const std::string& name = call.segment(1);
  if (call.size() == 3 && call.segment(2) == "permissions" && method == "GET") {
    require_admin(call);
    if (!core.find_vhost(name).ok()) fail(not_found_error());
    json out = json::array();
    for (const auto& p : core.access().permissions()) {
      if (p.vhost == name) {
        out.push_back(json{{"user", p.user},
                           {"vhost", p.vhost},
                           {"configure", p.configure},
                           {"write", p.write},
                           {"read", p.read}});
      }
    }
    return json_response(out);
  }
  if (call.size() == 3 && call.segment(2) == "connections" && method == "GET") {
    require_vhost(*this, call, name);
    return json_response(connection_list(call, &name));
  }
  if (call.size() != 2) return error_response(not_found_error());
  if (method == "GET") {
    require_admin(call);
    auto vhost = core.find_vhost(name);
    if (!vhost.ok()) fail(not_found_error());
    return json_response(vhost_json(**vhost));
  }
  if (method == "PUT") {
    require_admin(call);
    json body = call.body();
    broker::VHostInfo info{name, body.value("description", std::string()),
                           tags_of(body.contains("tags") ? body["tags"] : json()),
                           body.value("default_queue_type", std::string())};
    auto created = core.put_vhost(info);
    if (!created.ok()) fail(400, "bad_request", created.status().message());
    if (*created) {
      // RabbitMQ grants the creating user full permissions on a new vhost.
      (void)core.access().set_permissions(
          broker::UserPermissions{name, call.user.name, ".*", ".*", ".*"});
    }
    return no_content(*created ? 201 : 204);
  }
  if (method == "DELETE") {
    require_admin(call);
    Status s = core.delete_vhost(name);
    if (s.code() == StatusCode::kNotFound) fail(not_found_error());
    if (!s.ok()) fail(400, "bad_request", s.message());
    if (connections) {
      for (const auto& c : connections->list()) {
        if (c->vhost == name && c->force_close) c->force_close("vhost '" + name + "' is deleted");
      }
    }
    return no_content();
  }
  return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
}

// ---- vhost limits (rabbitmqctl set_vhost_limits) -----------------------------------------------

namespace {

json limits_json(const broker::VHostInfo& info) {
  json value = json::object();
  if (info.limits.max_connections) value["max-connections"] = *info.limits.max_connections;
  if (info.limits.max_queues) value["max-queues"] = *info.limits.max_queues;
  return json{{"vhost", info.name}, {"value", value}};
}

// How RabbitMQ's validation message prints the value it refused (Erlang terms).
std::string erlang_term(const json& value) {
  if (value.is_string()) return "<<\"" + value.get<std::string>() + "\">>";
  return value.dump();
}

}  // namespace

HttpResponse ManagementApi::Impl::vhost_limits(Call& call) {
  const std::string& method = call.request.method;
  if (method == "GET" && call.size() <= 2) {
    require_monitor(call);
    json out = json::array();
    for (const auto& v : core.vhosts()) {
      if (call.size() == 2 && v->name() != call.segment(1)) continue;
      const broker::VHostInfo info = v->info();
      if (!info.limits.empty()) out.push_back(limits_json(info));
    }
    if (call.size() == 2 && !core.find_vhost(call.segment(1)).ok()) fail(not_found_error());
    return json_response(out);
  }
  if (call.size() != 3) return error_response(not_found_error());
  if (method != "PUT" && method != "DELETE") {
    return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
  }
  require_admin(call);
  const std::string& name = call.segment(1);
  const std::string& limit = call.segment(2);
  auto vhost = core.find_vhost(name);
  if (!vhost.ok()) fail(not_found_error());
  broker::VHostLimits limits = (*vhost)->info().limits;
  std::optional<int64_t>* slot = limit == "max-connections" ? &limits.max_connections
                                 : limit == "max-queues"    ? &limits.max_queues
                                                            : nullptr;
  if (method == "DELETE") {
    // Clearing a limit that is not set (or has no such name) is not an error in RabbitMQ.
    if (slot == nullptr || !slot->has_value()) return no_content();
    slot->reset();
  } else {
    json body = call.body();
    if (!body.is_object() || !body.contains("value")) {
      fail(400, "bad_request", "[{key_missing,value}]");
    }
    const json& value = body["value"];
    if (slot == nullptr) {
      fail(400, "bad_request",
           "Validation failed\n\nUnrecognised terms [{<<\"" + limit + "\">>," + erlang_term(value) +
               "}] in limits\n");
    }
    if (!value.is_number_integer()) {
      fail(400, "bad_request",
           "Validation failed\n\n" + limit + " should be a number, actually was " +
               erlang_term(value) + "\n");
    }
    *slot = value.get<int64_t>();
  }
  Status s = core.set_vhost_limits(name, limits);
  if (s.code() == StatusCode::kNotFound) fail(not_found_error());
  if (!s.ok()) fail(400, "bad_request", s.message());
  return no_content();
}

// ---- users and permissions ---------------------------------------------------------------------

namespace {

json user_json(const broker::User& u) {
  return json{{"name", u.name},
              {"password_hash", u.password_hash},
              {"hashing_algorithm", u.hashing_algorithm},
              {"tags", u.tags},
              {"limits", json::object()}};
}

json permission_json(const broker::UserPermissions& p) {
  return json{{"user", p.user},
              {"vhost", p.vhost},
              {"configure", p.configure},
              {"write", p.write},
              {"read", p.read}};
}

}  // namespace

HttpResponse ManagementApi::Impl::users(Call& call) {
  require_admin(call);
  const std::string& method = call.request.method;
  if (call.size() == 1) {
    json out = json::array();
    for (const auto& u : core.access().users()) out.push_back(user_json(u));
    return json_response(out);
  }
  const std::string& name = call.segment(1);
  if (call.size() == 3 && call.segment(2) == "permissions") {
    if (!core.access().find_user(name)) fail(not_found_error());
    json out = json::array();
    for (const auto& p : core.access().permissions()) {
      if (p.user == name) out.push_back(permission_json(p));
    }
    return json_response(out);
  }
  if (call.size() != 2) return error_response(not_found_error());
  if (method == "GET") {
    auto u = core.access().find_user(name);
    if (!u) fail(not_found_error());
    return json_response(user_json(*u));
  }
  if (method == "PUT") {
    json body = call.body();
    if (!body.contains("tags")) fail(400, "bad_request", "tags_not_present");
    broker::User user;
    user.name = name;
    user.tags = tags_of(body["tags"]);
    const auto existing = core.access().find_user(name);
    if (body.contains("password") && body["password"].is_string()) {
      user.password_hash = broker::hash_password(body["password"].get<std::string>());
    } else if (body.contains("password_hash") && body["password_hash"].is_string()) {
      user.password_hash = body["password_hash"].get<std::string>();
      user.hashing_algorithm = body.value("hashing_algorithm", std::string(broker::kSha256Hashing));
    } else if (existing) {
      user.password_hash = existing->password_hash;
      user.hashing_algorithm = existing->hashing_algorithm;
    } else {
      fail(400, "bad_request", "[{key_missing,password}]");
    }
    Status s = core.access().put_user(std::move(user));
    if (!s.ok()) fail(400, "bad_request", s.message());
    return no_content(existing ? 204 : 201);
  }
  if (method == "DELETE") {
    Status s = core.access().delete_user(name);
    if (s.code() == StatusCode::kNotFound) fail(not_found_error());
    if (!s.ok()) fail(400, "bad_request", s.message());
    if (connections) {
      for (const auto& c : connections->list()) {
        if (c->user == name && c->force_close) c->force_close("user '" + name + "' is deleted");
      }
    }
    return no_content();
  }
  return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
}

HttpResponse ManagementApi::Impl::permissions(Call& call) {
  require_admin(call);
  const std::string& method = call.request.method;
  if (call.size() == 1) {
    json out = json::array();
    for (const auto& p : core.access().permissions()) out.push_back(permission_json(p));
    return json_response(out);
  }
  if (call.size() != 3) return error_response(not_found_error());
  const std::string& vhost = call.segment(1);
  const std::string& user = call.segment(2);
  if (method == "GET") {
    auto p = core.access().find_permissions(vhost, user);
    if (!p) fail(not_found_error());
    return json_response(permission_json(*p));
  }
  if (method == "PUT") {
    json body = call.body();
    std::string missing;
    for (const char* key : {"configure", "write", "read"}) {
      if (!body.contains(key)) {
        missing += std::string(missing.empty() ? "" : ",") + "{key_missing," + key + "}";
      }
    }
    if (!missing.empty()) fail(400, "bad_request", "[" + missing + "]");
    if (!core.find_vhost(vhost).ok() || !core.access().find_user(user)) {
      fail(400, "bad_request", "vhost_or_user_not_found");
    }
    const bool existed = core.access().find_permissions(vhost, user).has_value();
    Status s = core.access().set_permissions(
        broker::UserPermissions{vhost, user, body["configure"].get<std::string>(),
                                body["write"].get<std::string>(), body["read"].get<std::string>()});
    if (!s.ok()) fail(400, "bad_request", s.message());
    return no_content(existed ? 204 : 201);
  }
  if (method == "DELETE") {
    Status s = core.access().clear_permissions(vhost, user);
    if (s.code() == StatusCode::kNotFound) fail(not_found_error());
    if (!s.ok()) fail(400, "bad_request", s.message());
    return no_content();
  }
  return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
}

// ---- health ------------------------------------------------------------------------------------

HttpResponse ManagementApi::Impl::health(Call& call) {
  if (call.size() == 3 && call.segment(1) == "checks") {
    const std::string& check = call.segment(2);
    if (check == "alarms" || check == "local-alarms") {
      // rabbit_mgmt_wm_health_check_alarms: 503 with the alarms in effect.
      json alarms = json::array();
      if (options.alarms && options.alarms->memory_alarm()) {
        alarms.push_back(json{{"resource", "memory"}, {"node", server_node_name()}});
      }
      if (options.alarms && options.alarms->disk_alarm()) {
        alarms.push_back(json{{"resource", "disk"}, {"node", server_node_name()}});
      }
      if (alarms.empty()) return json_response(json{{"status", "ok"}});
      return json_response(json{{"status", "failed"},
                                {"reason", "There are alarms in effect in the cluster"},
                                {"alarms", alarms}},
                           503);
    }
    if (check == "virtual-hosts" || check == "node-is-quorum-critical" ||
        check == "node-is-mirror-sync-critical") {
      return json_response(json{{"status", "ok"}});
    }
  }
  return error_response(not_found_error());
}

HttpResponse ManagementApi::Impl::aliveness(Call& call) {
  if (call.size() != 2) return error_response(not_found_error());
  const std::string& name = call.segment(1);
  require_vhost(*this, call, name);
  // Declares aliveness-test, publishes "test_message" to it and gets it back
  // (rabbit_mgmt_wm_aliveness_test).
  HttpRequest put;
  put.method = "PUT";
  put.body = R"({"durable":false,"auto_delete":false})";
  Call declare{put, {"queues", name, "aliveness-test"}, call.user};
  HttpResponse r = queues(declare);
  if (r.status >= 300) {
    return json_response(json{{"status", "failed"}, {"reason", r.body}}, 503);
  }
  HttpRequest publish;
  publish.method = "POST";
  publish.body =
      R"({"routing_key":"aliveness-test","payload":"test_message","payload_encoding":"string","properties":{}})";
  Call pub{publish, {"exchanges", name, "", "publish"}, call.user};
  r = exchange_publish(pub, name, "");
  HttpRequest get;
  get.method = "POST";
  get.body = R"({"count":1,"ackmode":"ack_requeue_false","encoding":"auto"})";
  Call g{get, {"queues", name, "aliveness-test", "get"}, call.user};
  r = queue_get(g, name, "aliveness-test");
  json got = json::parse(r.body, nullptr, false);
  if (r.status == 200 && got.is_array() && got.size() == 1 && got[0]["payload"] == "test_message") {
    return json_response(json{{"status", "ok"}});
  }
  return json_response(json{{"status", "failed"}, {"reason", "aliveness test failed"}}, 503);
}

// ---- rates
// ---------------------------------------------------------------------------------------

QueueRates RateTracker::rates(const std::string& key, const broker::QueueCounters& counters,
                              int64_t now_ms) {
  std::lock_guard lock(mu_);
  // Deleted queues leave their samples behind: start over rather than grow without bound.
  if (samples_.size() > 100000) samples_.clear();
  auto [it, inserted] = samples_.try_emplace(key);
  Sample& s = it->second;
  if (inserted) {
    s.at_ms = now_ms;
    s.counters = counters;
    return s.rates;
  }
  const int64_t elapsed = now_ms - s.at_ms;
  if (elapsed >= 5000) {
    auto per_second = [&](uint64_t now_value, uint64_t then_value) {
      return now_value >= then_value ? static_cast<double>(now_value - then_value) * 1000.0 /
                                           static_cast<double>(elapsed)
                                     : 0.0;
    };
    s.rates.publish = per_second(counters.publish, s.counters.publish);
    s.rates.deliver = per_second(counters.deliver, s.counters.deliver);
    s.rates.deliver_no_ack = per_second(counters.deliver_no_ack, s.counters.deliver_no_ack);
    s.rates.get = per_second(counters.get, s.counters.get);
    s.rates.get_no_ack = per_second(counters.get_no_ack, s.counters.get_no_ack);
    s.rates.redeliver = per_second(counters.redeliver, s.counters.redeliver);
    s.rates.ack = per_second(counters.ack, s.counters.ack);
    s.rates.dead_lettered = per_second(counters.dead_lettered, s.counters.dead_lettered);
    s.at_ms = now_ms;
    s.counters = counters;
  }
  return s.rates;
}

}  // namespace burrow::server::management
