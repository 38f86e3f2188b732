// Shared by the management API's source files: the request context, JSON conversions and
// the handlers' signatures. Not included outside server/management/.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <burrow/field_table.h>
#include <burrow/properties.h>

#include "broker/access_control.h"
#include "broker/base64.h"
#include "broker/queue.h"
#include "server/management/api.h"

namespace burrow::broker {
class VHost;
class Channel;
struct ExchangeSettings;
}  // namespace burrow::broker

namespace burrow::server::management {

using json = nlohmann::json;

// An error response in RabbitMQ's shape: {"error": ..., "reason": ...}.
struct ApiError {
  int status;
  std::string error;
  std::string reason;
};
HttpResponse error_response(const ApiError& e);
HttpResponse json_response(const json& body, int status = 200);
HttpResponse no_content(int status = 204);
// 404 {"error":"Object Not Found","reason":"Not Found"} (every empty 404 in RabbitMQ).
ApiError not_found_error();
// An AMQP error met while serving HTTP: 404 stays 404, 403 is 401 "Access refused.", the
// rest are 400 "bad_request" with the explanation (RabbitMQ 3.10.8, observed).
ApiError amqp_error(const Status& status);
// An error that closed the channel of a publish: 400 with "<code> <NAME> - <text>".
ApiError channel_error(const Status& status);

// One authenticated request.
struct Call {
  const HttpRequest& request;
  std::vector<std::string> segments;  // decoded path segments after "api"
  broker::User user;

  const std::string& segment(size_t i) const { return segments[i]; }
  size_t size() const { return segments.size(); }
  bool is_admin() const { return user.has_tag("administrator"); }
  bool is_monitor() const { return is_admin() || user.has_tag("monitoring"); }
  // The JSON body, or a 400 bad_request.
  json body() const;
};

using broker::base64_decode;
using broker::base64_encode;

// ---- JSON conversions ----
json field_value_json(const FieldValue& value);
json field_table_json(const FieldTable& table);
// JSON objects from definitions and request bodies become AMQP tables: integers as 'l',
// other numbers as 'd', strings as 'S', booleans, lists as arrays, objects as tables, null as
// void.
FieldValue json_field_value(const json& value);
FieldTable json_field_table(const json& object);
json properties_json(const BasicProperties& properties);
// RabbitMQ's rabbit_mgmt_format:to_amqp_table + properties parsing for publish. Errors:
// kInvalidArgument.
Result<BasicProperties> json_properties(const json& object);
// "true"/"false" strings count as booleans (rabbit_mgmt_util:parse_bool).
bool json_bool(const json& object, const char* key, bool fallback);
std::optional<int64_t> json_int(const json& value);
// Whether `s` is valid UTF-8 (payload_encoding "auto" shows such payloads as strings).
bool valid_utf8(std::string_view s);

// ---- message rates, sampled per queue (RabbitMQ's collect_statistics_interval: 5 s) ----
struct QueueRates {
  double publish = 0, deliver = 0, deliver_no_ack = 0, get = 0, get_no_ack = 0, redeliver = 0,
         ack = 0, dead_lettered = 0;
};

class RateTracker {
 public:
  // Per-second rates for `counters` of the queue named by `key`, over the interval between
  // the last two samples at least 5 s apart.
  QueueRates rates(const std::string& key, const broker::QueueCounters& counters, int64_t now_ms);
  void clear() {
    std::lock_guard lock(mu_);
    samples_.clear();
  }

 private:
  struct Sample {
    int64_t at_ms = 0;
    broker::QueueCounters counters;
    QueueRates rates;
  };
  std::mutex mu_;
  std::map<std::string, Sample> samples_;
};

struct ManagementApi::Impl {
  Impl(broker::BrokerCore& c, ConnectionRegistry* r, ApiOptions o)
      : core(c), connections(r), options(std::move(o)) {}

  broker::BrokerCore& core;
  ConnectionRegistry* connections;
  ApiOptions options;
  std::mutex listeners_mu;
  RateTracker rates;

  HttpResponse dispatch(Call& call);

  // api.cc: node-wide and access.
  HttpResponse overview(Call& call);
  HttpResponse nodes(Call& call);
  HttpResponse vhosts(Call& call);
  HttpResponse vhost_limits(Call& call);
  HttpResponse users(Call& call);
  HttpResponse permissions(Call& call);
  HttpResponse health(Call& call);
  HttpResponse aliveness(Call& call);
  json node_json();
  json vhost_json(const broker::VHost& vhost);

  // api_topology.cc
  HttpResponse queues(Call& call);
  HttpResponse exchanges(Call& call);
  HttpResponse bindings(Call& call);
  HttpResponse connections_route(Call& call);
  HttpResponse channels(Call& call);
  HttpResponse consumers(Call& call);
  json queue_json(const broker::Queue& queue, bool details);
  json exchange_json(const broker::ExchangeSettings& exchange);
  std::vector<json> binding_list(const broker::VHost& vhost);
  json channel_list(const std::string* vhost);
  // The connections `call`'s user may see, of one vhost or all.
  json connection_list(const Call& call, const std::string* vhost);

  // api_messages.cc
  HttpResponse queue_get(Call& call, const std::string& vhost, const std::string& queue);
  HttpResponse queue_purge(Call& call, const std::string& vhost, const std::string& queue);
  HttpResponse exchange_publish(Call& call, const std::string& vhost, const std::string& exchange);
  HttpResponse burrow(Call& call);
  // api_testing.cc: /api/burrow/faults and /api/burrow/published (docs/testing.md).
  HttpResponse faults(Call& call);
  HttpResponse published(Call& call);

  // definitions.cc
  HttpResponse definitions(Call& call);
  json export_definitions(const std::string* vhost);
  // Errors become 400 bad_request (or 404 vhost_not_found for an unknown vhost).
  std::optional<ApiError> import(const json& doc, const std::string* vhost);

  // metrics.cc
  HttpResponse metrics(const HttpRequest& request);

  // Checks: the vhost exists and the user may use it. Returns the vhost.
  std::shared_ptr<broker::VHost> vhost_for(Call& call, const std::string& name,
                                           std::optional<ApiError>& error);
};

// Thrown by handlers to answer with an error (caught in ManagementApi::handle).
struct ApiException {
  ApiError error;
};
[[noreturn]] inline void fail(int status, std::string error, std::string reason) {
  throw ApiException{ApiError{status, std::move(error), std::move(reason)}};
}
[[noreturn]] inline void fail(const ApiError& e) { throw ApiException{e}; }

// The vhost and permission checks every vhost-scoped handler makes.
std::shared_ptr<broker::VHost> require_vhost(ManagementApi::Impl& api, Call& call,
                                             const std::string& name);
void require_admin(const Call& call);
void require_monitor(const Call& call);

}  // namespace burrow::server::management
