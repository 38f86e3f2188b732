// burrow::testing::Server: the in-process broker with a ManualClock, burrowd's AMQP listener
// and (optionally) its management API, wired as burrowd wires them.
#include <burrow/testing/server.h>

#include <fmt/format.h>

#include "base/logging.h"
#include "base/status_macros.h"
#include "broker/broker_core.h"
#include "broker/test_controls.h"
#include "server/connection_registry.h"
#include "server/management/api.h"
#include "server/management/http_server.h"
#include "server/server.h"

namespace burrow::testing {

namespace mgmt = server::management;

struct Server::Impl {
  ManualClock clock{SystemClock::instance().now_ms()};
  std::unique_ptr<Broker> broker;
  std::unique_ptr<server::Server> amqp;
  std::unique_ptr<mgmt::ManagementApi> api;
  std::unique_ptr<mgmt::HttpServer> http;
  uint16_t port = 0;
  uint16_t http_port = 0;

  broker::BrokerCore& core() { return broker->core(); }

  ~Impl() {
    if (http) http->stop();
    if (amqp) amqp->stop();
  }
};

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options) {
  RETURN_IF_ERROR(init_logging(options.log_level, ""));
  auto impl = std::make_unique<Impl>();
  Options broker_options;
  broker_options.in_memory = true;
  broker_options.clock = &impl->clock;
  ASSIGN_OR_RETURN(impl->broker, Broker::open(broker_options));
  if (options.record) impl->core().publish_log().enable(100000);
  impl->amqp = std::make_unique<server::Server>(impl->core());
  ASSIGN_OR_RETURN(impl->port, impl->amqp->listen("127.0.0.1", options.port));
  if (options.http) {
    impl->api = std::make_unique<mgmt::ManagementApi>(impl->core(), &impl->amqp->connections(),
                                                      mgmt::ApiOptions{});
    mgmt::ManagementApi* api = impl->api.get();
    impl->http = std::make_unique<mgmt::HttpServer>(
        [api](const mgmt::HttpRequest& request) { return api->handle(request); });
    ASSIGN_OR_RETURN(impl->http_port, impl->http->listen("127.0.0.1", 0));
    api->add_listener({"amqp", "127.0.0.1", impl->port});
    api->add_listener({"http", "127.0.0.1", impl->http_port});
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

std::string Server::url() const {
  return fmt::format("amqp://guest:guest@127.0.0.1:{}/", impl_->port);
}
uint16_t Server::port() const { return impl_->port; }
std::string Server::http_url() const {
  return impl_->http ? fmt::format("http://127.0.0.1:{}", impl_->http_port) : std::string();
}
Broker& Server::broker() { return *impl_->broker; }

TimeMs Server::now() const { return impl_->clock.now_ms(); }

void Server::advance(std::chrono::milliseconds delta) {
  // Cannot fail: the clock is a ManualClock and delta is checked by the core.
  Status s = impl_->core().advance_clock(delta.count());
  if (!s.ok()) ADD_FAILURE() << "advance(" << delta.count() << " ms): " << s.to_string();
}

void Server::reset() {
  // As POST /api/burrow/reset: connections first, so none races the emptying.
  impl_->amqp->connections().force_close_all("broker reset");
  impl_->amqp->connections().refuse_for(0);
  Status s = impl_->core().reset();
  if (!s.ok()) ADD_FAILURE() << "reset: " << s.to_string();
}

std::vector<PublishedMessage> Server::published() const {
  std::vector<PublishedMessage> out;
  for (const broker::PublishedRecord& r : impl_->core().publish_log().snapshot()) {
    const Message& m = r.message->message;
    out.push_back(PublishedMessage{r.vhost, r.exchange, r.routing_key, m.properties, m.body,
                                   r.queues, r.published_at});
  }
  return out;
}

void Server::clear_published() { impl_->core().publish_log().clear(); }

size_t Server::close_connections(std::string_view client) {
  return impl_->amqp->connections().force_close_all("Closed via fault injection", client);
}

void Server::refuse_connections(std::chrono::milliseconds duration) {
  impl_->amqp->connections().refuse_for(duration.count());
}
void Server::nack_publishes(uint64_t count) { impl_->core().faults().nack_publishes(count); }
void Server::delay_confirms(std::chrono::milliseconds delay) {
  impl_->core().faults().delay_confirms(delay.count());
}
void Server::drop_acks(uint64_t count) { impl_->core().faults().drop_acks(count); }
void Server::clear_faults() {
  impl_->core().faults().clear();
  impl_->amqp->connections().refuse_for(0);
}

// ---- the fixture ----

std::unique_ptr<Server>& ServerTest::instance() {
  static std::unique_ptr<Server> server;
  return server;
}

void ServerTest::start_suite_server(const ServerOptions& options) {
  auto started = Server::start(options);
  ASSERT_TRUE(started.ok()) << "burrow::testing::Server: " << started.status().to_string();
  instance() = std::move(*started);
}

void ServerTest::TearDownTestSuite() { instance().reset(); }

void ServerTest::SetUp() {
  ASSERT_NE(instance(), nullptr) << "the suite's burrow::testing::Server did not start";
  instance()->reset();
}

Server& ServerTest::server() { return *instance(); }

}  // namespace burrow::testing
