// Test-double controls over HTTP (docs/testing.md): fault injection and the log of published
// messages (burrowd --record). Both are Burrow's own; RabbitMQ has no counterpart.
#include "broker/broker_core.h"
#include "broker/test_controls.h"
#include "server/connection_registry.h"
#include "server/management/api_internal.h"

namespace burrow::server::management {

namespace {

// A non-negative integer field of a fault request, or a 400 naming it.
int64_t count_field(const json& body, const char* key) {
  if (!body.contains(key)) fail(400, "bad_request", std::string("[{key_missing,") + key + "}]");
  auto n = json_int(body[key]);
  if (!n || *n < 0) fail(400, "bad_request", std::string(key) + " must be a non-negative integer");
  return *n;
}

}  // namespace

// GET the active faults; POST one ({"fault": kind, ...}); DELETE clears them all.
HttpResponse ManagementApi::Impl::faults(Call& call) {
  require_admin(call);
  const std::string& method = call.request.method;
  broker::FaultInjector& injector = core.faults();
  if (method == "GET") {
    return json_response(
        json{{"refuse_connections_ms", connections ? connections->refuse_remaining_ms() : 0},
             {"nack_publishes", injector.pending_nack_publishes()},
             {"delay_confirms_ms", injector.confirm_delay_ms()},
             {"drop_acks", injector.pending_drop_acks()}});
  }
  if (method == "DELETE") {
    injector.clear();
    if (connections) connections->refuse_for(0);
    return no_content();
  }
  if (method != "POST") return error_response(not_found_error());
  json body = call.body();
  if (!body.is_object() || !body.contains("fault") || !body["fault"].is_string()) {
    fail(400, "bad_request", "[{key_missing,fault}]");
  }
  const std::string kind = body["fault"].get<std::string>();
  if (kind == "close_connections") {
    std::string client;
    if (body.contains("client")) {
      if (!body["client"].is_string()) fail(400, "bad_request", "client must be a string");
      client = body["client"].get<std::string>();
    }
    const size_t closed =
        connections ? connections->force_close_all("Closed via fault injection", client) : 0;
    return json_response(json{{"closed", closed}});
  }
  if (kind == "refuse_connections") {
    if (connections == nullptr) fail(400, "bad_request", "no AMQP listener");
    connections->refuse_for(count_field(body, "ms"));
  } else if (kind == "nack_publishes") {
    injector.nack_publishes(static_cast<uint64_t>(count_field(body, "count")));
  } else if (kind == "delay_confirms") {
    injector.delay_confirms(count_field(body, "ms"));
  } else if (kind == "drop_acks") {
    injector.drop_acks(static_cast<uint64_t>(count_field(body, "count")));
  } else {
    fail(400, "bad_request",
         "unknown fault " + kind +
             " (close_connections, refuse_connections, nack_publishes, delay_confirms, "
             "drop_acks)");
  }
  return no_content();
}

// GET the published-message log, oldest first, optionally filtered by vhost, exchange and
// routing_key; DELETE empties it.
HttpResponse ManagementApi::Impl::published(Call& call) {
  require_admin(call);
  broker::PublishLog& log = core.publish_log();
  if (!log.enabled()) fail(400, "bad_request", "recording is off: start burrowd with --record");
  const std::string& method = call.request.method;
  if (method == "DELETE") {
    log.clear();
    return no_content();
  }
  if (method != "GET") return error_response(not_found_error());
  auto filter = [&](const char* key) -> const std::string* {
    auto it = call.request.query.find(key);
    return it == call.request.query.end() ? nullptr : &it->second;
  };
  const std::string* vhost = filter("vhost");
  const std::string* exchange = filter("exchange");
  const std::string* routing_key = filter("routing_key");
  json out = json::array();
  for (const broker::PublishedRecord& r : log.snapshot()) {
    if ((vhost && r.vhost != *vhost) || (exchange && r.exchange != *exchange) ||
        (routing_key && r.routing_key != *routing_key)) {
      continue;
    }
    const Message& m = r.message->message;
    const bool as_string = valid_utf8(m.body);
    out.push_back(json{{"sequence", r.sequence},
                       {"published_at", r.published_at},
                       {"vhost", r.vhost},
                       {"exchange", r.exchange},
                       {"routing_key", r.routing_key},
                       {"properties", properties_json(m.properties)},
                       {"payload", as_string ? m.body : base64_encode(m.body)},
                       {"payload_encoding", as_string ? "string" : "base64"},
                       {"payload_bytes", m.body.size()},
                       {"queues", r.queues},
                       {"delayed", r.delayed}});
  }
  return json_response(out);
}

}  // namespace burrow::server::management
