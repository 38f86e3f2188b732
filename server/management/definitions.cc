// Definitions: RabbitMQ's definitions.json, exported from and imported into the broker
// (rabbit_mgmt_wm_definitions). Import runs as the broker itself (RabbitMQ imports as an
// internal user): users and permissions are overwritten, conflicting queues and exchanges are
// left as they are and reported in the log.
#include <set>
#include "base/logging.h"

#include <spdlog/spdlog.h>

#include "broker/broker_core.h"
#include "broker/exchange.h"
#include "server/management/api_internal.h"
#include "server/management/op_channel.h"

namespace burrow::server::management {

namespace {
spdlog::logger& logger() { return module_logger("http"); }
}  // namespace

namespace {

constexpr const char* kVersion = "3.10.8";

}  // namespace

json ManagementApi::Impl::export_definitions(const std::string* only_vhost) {
  json queues = json::array(), exchanges = json::array(), bindings = json::array();
  json parameters = json::array();
  for (const auto& vhost : core.vhosts()) {
    if (only_vhost && vhost->name() != *only_vhost) continue;
    // Vhost limits are runtime parameters of component "vhost-limits" in RabbitMQ's export.
    if (const broker::VHostLimits limits = vhost->info().limits; !limits.empty()) {
      json value = json::object();
      if (limits.max_connections) value["max-connections"] = *limits.max_connections;
      if (limits.max_queues) value["max-queues"] = *limits.max_queues;
      parameters.push_back(json{{"value", value},
                                {"vhost", vhost->name()},
                                {"component", "vhost-limits"},
                                {"name", "limits"}});
    }
    std::set<std::string> skipped_queues;
    for (const auto& q : vhost->queues()) {
      const auto& s = q->settings();
      if (s.exclusive()) {
        skipped_queues.insert(s.name);
        continue;
      }
      json j{{"name", s.name},
             {"vhost", s.vhost},
             {"durable", s.durable},
             {"auto_delete", s.auto_delete},
             {"arguments", field_table_json(s.arguments)}};
      if (only_vhost) j.erase("vhost");
      queues.push_back(std::move(j));
    }
    for (const auto& x : vhost->exchanges()) {
      if (x.name.empty() || x.name.starts_with("amq.")) continue;
      json j{{"name", x.name},
             {"vhost", x.vhost},
             {"type", x.type},
             {"durable", x.durable},
             {"auto_delete", x.auto_delete},
             {"internal", x.internal},
             {"arguments", field_table_json(x.arguments)}};
      if (only_vhost) j.erase("vhost");
      exchanges.push_back(std::move(j));
    }
    for (const auto& b : vhost->bindings()) {
      if (b.source.empty()) continue;
      const bool to_queue = b.kind == broker::DestinationKind::kQueue;
      if (to_queue && skipped_queues.count(b.destination) != 0) continue;
      json j{{"source", b.source},           {"vhost", vhost->name()},
             {"destination", b.destination}, {"destination_type", to_queue ? "queue" : "exchange"},
             {"routing_key", b.routing_key}, {"arguments", field_table_json(b.arguments)}};
      if (only_vhost) j.erase("vhost");
      bindings.push_back(std::move(j));
    }
  }
  json doc{
      {"rabbit_version", kVersion}, {"rabbitmq_version", kVersion}, {"product_name", "Burrow"},
      {"product_version", "0.6.0"}, {"parameters", parameters},     {"policies", json::array()},
      {"queues", queues},           {"exchanges", exchanges},       {"bindings", bindings}};
  if (!only_vhost) {
    json users = json::array(), vhosts = json::array(), permissions = json::array();
    for (const auto& u : core.access().users()) {
      users.push_back(json{{"name", u.name},
                           {"password_hash", u.password_hash},
                           {"hashing_algorithm", u.hashing_algorithm},
                           {"tags", u.tags},
                           {"limits", json::object()}});
    }
    for (const auto& v : core.vhosts()) {
      const auto info = v->info();
      vhosts.push_back(
          json{{"name", info.name},
               {"description", info.description},
               {"tags", info.tags},
               {"metadata", json{{"description", info.description}, {"tags", info.tags}}}});
    }
    for (const auto& p : core.access().permissions()) {
      permissions.push_back(json{{"user", p.user},
                                 {"vhost", p.vhost},
                                 {"configure", p.configure},
                                 {"write", p.write},
                                 {"read", p.read}});
    }
    doc["users"] = users;
    doc["vhosts"] = vhosts;
    doc["permissions"] = permissions;
    doc["topic_permissions"] = json::array();
    doc["global_parameters"] = json::array();
  }
  return doc;
}

std::optional<ApiError> ManagementApi::Impl::import(const json& doc,
                                                    const std::string* only_vhost) {
  if (!doc.is_object()) return ApiError{400, "bad_request", "failed_to_parse_json"};
  if (only_vhost && !core.find_vhost(*only_vhost).ok()) {
    return ApiError{404, "vhost_not_found", "vhost_not_found"};
  }
  auto list = [&](const char* key) -> const json& {
    static const json kEmpty = json::array();
    auto it = doc.find(key);
    return it != doc.end() && it->is_array() ? *it : kEmpty;
  };
  if (!only_vhost) {
    for (const auto& u : list("users")) {
      broker::User user;
      user.name = u.value("name", std::string());
      user.password_hash = u.value("password_hash", std::string());
      // Definitions without an algorithm are RabbitMQ's old MD5 hashes.
      user.hashing_algorithm = u.value("hashing_algorithm", std::string(broker::kMd5Hashing));
      if (u.contains("tags")) {
        const json& tags = u["tags"];
        if (tags.is_array()) {
          for (const auto& t : tags) user.tags.push_back(t.get<std::string>());
        } else if (tags.is_string()) {
          std::string text = tags.get<std::string>();
          for (size_t start = 0; start < text.size();) {
            size_t comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            if (comma > start) user.tags.push_back(text.substr(start, comma - start));
            start = comma + 1;
          }
        }
      }
      if (Status s = core.access().put_user(std::move(user)); !s.ok()) {
        return ApiError{400, "bad_request", s.message()};
      }
    }
    for (const auto& v : list("vhosts")) {
      broker::VHostInfo info;
      info.name = v.value("name", std::string());
      info.description = v.value("description", std::string());
      auto created = core.put_vhost(info);
      if (!created.ok()) return ApiError{400, "bad_request", created.status().message()};
    }
    for (const auto& p : list("permissions")) {
      broker::UserPermissions perm{p.value("vhost", std::string()), p.value("user", std::string()),
                                   p.value("configure", std::string()),
                                   p.value("write", std::string()), p.value("read", std::string())};
      if (Status s = core.access().set_permissions(perm); !s.ok()) {
        return ApiError{400, "bad_request", s.message()};
      }
    }
  }
  auto vhost_of = [&](const json& object) {
    return only_vhost ? *only_vhost : object.value("vhost", std::string("/"));
  };
  auto channel_for = [&](const std::string& vhost) -> std::unique_ptr<OpChannel> {
    if (!core.find_vhost(vhost).ok()) return nullptr;
    return std::make_unique<OpChannel>(core, core.options().default_user, vhost, /*trusted=*/true);
  };
  // Parameters come before queues, as RabbitMQ imports them: a max-queues limit applies.
  for (const auto& p : list("parameters")) {
    if (!p.is_object() || p.value("component", std::string()) != "vhost-limits") continue;
    auto vhost = core.find_vhost(vhost_of(p));
    const auto value = p.find("value");
    if (!vhost.ok() || value == p.end() || !value->is_object()) continue;
    broker::VHostLimits limits;
    for (const auto& [key, limit] : value->items()) {
      if (!limit.is_number_integer()) continue;
      if (key == "max-connections") limits.max_connections = limit.get<int64_t>();
      if (key == "max-queues") limits.max_queues = limit.get<int64_t>();
    }
    if (Status s = core.set_vhost_limits((*vhost)->name(), limits); !s.ok()) {
      return ApiError{400, "bad_request", s.message()};
    }
  }
  for (const auto& x : list("exchanges")) {
    auto op = channel_for(vhost_of(x));
    if (!op) continue;
    broker::ExchangeSettings settings;
    settings.name = x.value("name", std::string());
    settings.vhost = vhost_of(x);
    settings.type = x.value("type", std::string("direct"));
    settings.durable = json_bool(x, "durable", true);
    settings.auto_delete = json_bool(x, "auto_delete", false);
    settings.internal = json_bool(x, "internal", false);
    if (x.contains("arguments")) settings.arguments = json_field_table(x["arguments"]);
    if (Status s = op->channel().declare_exchange(settings, false); !s.ok()) {
      logger().warn("definitions: exchange '{}' skipped: {}", settings.name, s.message());
    }
  }
  for (const auto& q : list("queues")) {
    auto op = channel_for(vhost_of(q));
    if (!op) continue;
    broker::QueueDeclareRequest request;
    request.name = q.value("name", std::string());
    request.durable = json_bool(q, "durable", true);
    request.auto_delete = json_bool(q, "auto_delete", false);
    if (q.contains("arguments")) request.arguments = json_field_table(q["arguments"]);
    const std::string name = request.name;
    if (auto r = op->channel().declare_queue(std::move(request)); !r.ok()) {
      logger().warn("definitions: queue '{}' skipped: {}", name, r.status().message());
    }
  }
  for (const auto& b : list("bindings")) {
    auto op = channel_for(vhost_of(b));
    if (!op) continue;
    const std::string source = b.value("source", std::string());
    const std::string destination = b.value("destination", std::string());
    const std::string routing_key = b.value("routing_key", std::string());
    FieldTable arguments;
    if (b.contains("arguments")) arguments = json_field_table(b["arguments"]);
    Status s = b.value("destination_type", std::string("queue")) == "exchange"
                   ? op->channel().bind_exchange(destination, source, routing_key, arguments)
                   : op->channel().bind_queue(destination, source, routing_key, arguments);
    if (!s.ok()) {
      logger().warn("definitions: binding {} -> {} skipped: {}", source, destination, s.message());
    }
  }
  return std::nullopt;
}

HttpResponse ManagementApi::Impl::definitions(Call& call) {
  require_admin(call);
  const std::string* vhost = call.size() == 2 ? &call.segment(1) : nullptr;
  if (call.size() > 2) return error_response(not_found_error());
  if (vhost && !core.find_vhost(*vhost).ok()) fail(not_found_error());
  if (call.request.method == "GET") {
    HttpResponse r = json_response(export_definitions(vhost));
    if (auto it = call.request.query.find("download"); it != call.request.query.end()) {
      r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + it->second + "\"");
    }
    return r;
  }
  if (call.request.method == "POST") {
    json doc;
    try {
      doc = json::parse(call.request.body);
    } catch (const json::parse_error&) {
      fail(400, "bad_request", "failed_to_parse_json");
    }
    if (auto error = import(doc, vhost)) fail(*error);
    return no_content();
  }
  return error_response(ApiError{405, "method_not_allowed", "Method Not Allowed"});
}

Status ManagementApi::import_definitions(const std::string& json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return invalid_argument(std::string("definitions are not JSON: ") + e.what());
  }
  try {
    if (auto error = impl_->import(doc, nullptr)) return invalid_argument(error->reason);
  } catch (const ApiException& e) {
    return invalid_argument(e.error.reason);
  } catch (const json::exception& e) {
    return invalid_argument(e.what());
  }
  return Status();
}

}  // namespace burrow::server::management
