// burrowd: the standalone broker. Parses the command line, opens the broker core, listens
// for AMQP 0-9-1 (and amqps when given a certificate), prints one ready line to stdout and
// runs until SIGINT or SIGTERM.
#include <signal.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/logging.h"
#include "broker/broker_core.h"
#include "broker/test_controls.h"
#include "server/management/api.h"
#include "server/management/http_server.h"
#include "server/server.h"
#include "server/tls.h"

namespace po = boost::program_options;

namespace {

struct Flags {
  std::string bind = "127.0.0.1";
  int port = 5672;
  std::string data_dir = "./data";
  bool in_memory = false;
  std::string log_level = "info";
  int workers = 0;
  int64_t consumer_timeout_ms = 1800000;
  std::string durability = "fsync";
  bool repair = false;
  uint64_t memory_budget_mb = 0;
  int http_port = 15672;
  int https_port = -1;
  int prometheus_port = -1;
  std::string clock = "system";
  bool record = false;
  size_t record_limit = 100000;
  std::string definitions;
  std::string log_file;
  // Limits and alarms, RabbitMQ's names and defaults.
  double vm_memory_high_watermark = 0.4;
  uint64_t vm_memory_high_watermark_bytes = 0;
  uint64_t disk_free_limit = 50000000;
  size_t max_connections = 0;
  int channel_max = 2047;
  uint32_t consumer_max_per_channel = 0;
  uint64_t max_message_size = 128ull * 1024 * 1024;
  int handshake_timeout_ms = 10000;
  // amqps, named after RabbitMQ's ssl_options; on only with both cert and key.
  burrow::server::TlsOptions tls;
  int tls_port = 5671;
  bool tls_enabled() const { return !tls.cert_file.empty(); }
};

// Returns false (after printing why) when the command line is not usable.
bool parse_flags(int argc, char** argv, Flags& flags, int& exit_code) {
  po::options_description desc("burrowd - an embeddable AMQP 0-9-1 broker\nOptions");
  desc.add_options()("help,h", "print this help")(
      "port", po::value<int>(&flags.port)->default_value(flags.port),
      "AMQP port; 0 picks a free port (printed on the ready line)")(
      "bind", po::value<std::string>(&flags.bind)->default_value(flags.bind),
      "address to listen on")(
      "data-dir", po::value<std::string>(&flags.data_dir)->default_value(flags.data_dir),
      "where durable data lives")("in-memory", po::bool_switch(&flags.in_memory),
                                  "keep everything in memory; write nothing to disk")(
      "log-level", po::value<std::string>(&flags.log_level)->default_value(flags.log_level),
      "trace, debug, info, warn, error, critical or off (logs go to stderr), optionally with "
      "per-module levels: warn,storage=debug (modules: storage, broker, outbox, client, amqp, "
      "http, alarm)")("workers", po::value<int>(&flags.workers)->default_value(0),
                      "worker threads; 0 = one per CPU")(
      "consumer-timeout",
      po::value<int64_t>(&flags.consumer_timeout_ms)->default_value(flags.consumer_timeout_ms),
      "ms a delivery may stay unacknowledged before its channel is closed (406); 0 = off")(
      "durability", po::value<std::string>(&flags.durability)->default_value(flags.durability),
      "fsync: a publisher confirm survives power loss (fsyncs shared by concurrent writes); "
      "os: it survives the process being killed (no fsync, as RabbitMQ classic queues)")(
      "repair", po::bool_switch(&flags.repair),
      "open a damaged data directory anyway, salvaging what reads cleanly (may lose data)")(
      "memory-budget-mb", po::value<uint64_t>(&flags.memory_budget_mb)->default_value(0),
      "MiB of persistent message contents kept in memory; past it queues keep only an index "
      "and read contents back from disk; 0 = a quarter of physical memory")(
      "http-port", po::value<int>(&flags.http_port)->default_value(flags.http_port),
      "management HTTP API and /metrics port (RabbitMQ's 15672); 0 picks a free port, -1 "
      "turns the API off")(
      "https-port", po::value<int>(&flags.https_port)->default_value(flags.https_port),
      "serve the management API over TLS on this port too (RabbitMQ's 15671), with the "
      "--tls-* certificate; 0 picks a free port, -1 = off")(
      "prometheus-port",
      po::value<int>(&flags.prometheus_port)->default_value(flags.prometheus_port),
      "also serve /metrics alone on this port (rabbitmq_prometheus's 15692); 0 picks a free "
      "port, -1 = off (/metrics is always on the HTTP API's port)")(
      "clock", po::value<std::string>(&flags.clock)->default_value(flags.clock),
      "system, or manual: the broker's clock (TTLs, expiry, delays, consumer timeouts, outbox "
      "back-off) starts at the wall time and moves only through POST "
      "/api/burrow/clock/advance (for tests)")(
      "record", po::bool_switch(&flags.record),
      "keep a log of every published message (exchange, routing key, properties, body, "
      "queues reached) at GET /api/burrow/published, for tests")(
      "record-limit", po::value<size_t>(&flags.record_limit)->default_value(flags.record_limit),
      "with --record: keep at most this many messages, dropping the oldest")(
      "definitions", po::value<std::string>(&flags.definitions),
      "a definitions.json file (RabbitMQ's format) to load at start")(
      "log-file", po::value<std::string>(&flags.log_file),
      "also write logs to this file (appended)")(
      "vm-memory-high-watermark",
      po::value<double>(&flags.vm_memory_high_watermark)
          ->default_value(flags.vm_memory_high_watermark),
      "fraction of physical memory past which publishing connections are blocked")(
      "vm-memory-high-watermark-bytes",
      po::value<uint64_t>(&flags.vm_memory_high_watermark_bytes)->default_value(0),
      "the same as an absolute number of bytes (overrides the fraction when non-zero)")(
      "disk-free-limit",
      po::value<uint64_t>(&flags.disk_free_limit)->default_value(flags.disk_free_limit),
      "bytes of free disk the data directory must keep; below it publishers are blocked")(
      "max-connections", po::value<size_t>(&flags.max_connections)->default_value(0),
      "refuse connections beyond this many (530); 0 = no limit")(
      "channel-max", po::value<int>(&flags.channel_max)->default_value(flags.channel_max),
      "channels per connection offered in connection.tune (0 = 65535)")(
      "consumer-max-per-channel",
      po::value<uint32_t>(&flags.consumer_max_per_channel)->default_value(0),
      "consumers one channel may hold; past it basic.consume closes the connection (530, "
      "as RabbitMQ 3.12's consumer_max_per_channel); 0 = no limit")(
      "max-message-size",
      po::value<uint64_t>(&flags.max_message_size)->default_value(flags.max_message_size),
      "largest message body accepted, in bytes (at most 536870912)")(
      "handshake-timeout",
      po::value<int>(&flags.handshake_timeout_ms)->default_value(flags.handshake_timeout_ms),
      "ms a connection may take from TCP accept to connection.open")(
      "tls-cert", po::value<std::string>(&flags.tls.cert_file),
      "PEM certificate chain for amqps (with --tls-key turns the TLS listener on)")(
      "tls-key", po::value<std::string>(&flags.tls.key_file),
      "PEM private key of --tls-cert (unencrypted)")(
      "tls-ca", po::value<std::string>(&flags.tls.ca_file),
      "PEM CA certificates that client certificates are verified against")(
      "tls-verify-peer", po::bool_switch(&flags.tls.verify_peer),
      "ask amqps clients for a certificate and verify it against --tls-ca")(
      "tls-fail-if-no-peer-cert", po::bool_switch(&flags.tls.fail_if_no_peer_cert),
      "with --tls-verify-peer: refuse amqps clients that present no certificate")(
      "tls-port", po::value<int>(&flags.tls_port)->default_value(flags.tls_port),
      "amqps port; 0 picks a free port (printed on the ready line)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "burrowd: " << e.what() << "\n" << desc << "\n";
    exit_code = 2;
    return false;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    exit_code = 0;
    return false;
  }
  if (flags.clock != "system" && flags.clock != "manual") {
    std::cerr << "burrowd: --clock must be system or manual\n";
    exit_code = 2;
    return false;
  }
  if (flags.record && flags.record_limit == 0) {
    std::cerr << "burrowd: --record-limit must be positive\n";
    exit_code = 2;
    return false;
  }
  if (flags.durability != "fsync" && flags.durability != "os") {
    std::cerr << "burrowd: --durability must be fsync or os\n";
    exit_code = 2;
    return false;
  }
  if (flags.port < 0 || flags.port > 65535) {
    std::cerr << "burrowd: --port must be between 0 and 65535\n";
    exit_code = 2;
    return false;
  }
  if (flags.vm_memory_high_watermark <= 0 || flags.vm_memory_high_watermark > 1) {
    std::cerr << "burrowd: --vm-memory-high-watermark must be in (0, 1]\n";
    exit_code = 2;
    return false;
  }
  if (flags.channel_max < 0 || flags.channel_max > 65535 || flags.handshake_timeout_ms <= 0) {
    std::cerr << "burrowd: --channel-max must be 0..65535 and --handshake-timeout positive\n";
    exit_code = 2;
    return false;
  }
  if (flags.https_port >= 0 && !flags.tls_enabled()) {
    std::cerr << "burrowd: --https-port needs --tls-cert and --tls-key\n";
    exit_code = 2;
    return false;
  }
  if (flags.http_port < -1 || flags.http_port > 65535 || flags.https_port < -1 ||
      flags.https_port > 65535 || flags.prometheus_port < -1 || flags.prometheus_port > 65535) {
    std::cerr << "burrowd: --http-port, --https-port and --prometheus-port must be between -1 "
                 "and 65535\n";
    exit_code = 2;
    return false;
  }
  if (flags.tls.cert_file.empty() != flags.tls.key_file.empty()) {
    std::cerr << "burrowd: --tls-cert and --tls-key must be given together\n";
    exit_code = 2;
    return false;
  }
  if (!flags.tls_enabled() && (!flags.tls.ca_file.empty() || flags.tls.verify_peer ||
                               flags.tls.fail_if_no_peer_cert || !vm["tls-port"].defaulted())) {
    std::cerr << "burrowd: --tls-ca, --tls-verify-peer, --tls-fail-if-no-peer-cert and "
                 "--tls-port need --tls-cert and --tls-key\n";
    exit_code = 2;
    return false;
  }
  if (flags.tls.fail_if_no_peer_cert && !flags.tls.verify_peer) {
    std::cerr << "burrowd: --tls-fail-if-no-peer-cert needs --tls-verify-peer\n";
    exit_code = 2;
    return false;
  }
  if (flags.tls.verify_peer && flags.tls.ca_file.empty()) {
    std::cerr << "burrowd: --tls-verify-peer needs --tls-ca\n";
    exit_code = 2;
    return false;
  }
  if (flags.tls_port < 0 || flags.tls_port > 65535) {
    std::cerr << "burrowd: --tls-port must be between 0 and 65535\n";
    exit_code = 2;
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  int exit_code = 0;
  if (!parse_flags(argc, argv, flags, exit_code)) return exit_code;
  if (auto s = burrow::init_logging(flags.log_level, flags.log_file); !s.ok()) {
    std::cerr << "burrowd: " << s.message() << "\n";
    return 2;
  }

  // Block the stop signals in every thread; the main thread waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Checked before the data directory is touched: a bad certificate path is a usage error.
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  if (flags.tls_enabled()) {
    auto made = burrow::server::make_tls_server_context(flags.tls);
    if (!made.ok()) {
      std::cerr << "burrowd: " << made.status().message() << "\n";
      return 2;
    }
    tls_context = std::move(*made);
  }

  burrow::Options options;
  options.in_memory = flags.in_memory;
  options.data_dir = flags.data_dir;
  options.worker_threads = flags.workers;
  options.consumer_timeout_ms = flags.consumer_timeout_ms;
  options.durability =
      flags.durability == "os" ? burrow::Durability::kOs : burrow::Durability::kFsync;
  options.repair = flags.repair;
  options.memory_budget_bytes = flags.memory_budget_mb * 1024 * 1024;
  options.max_message_size = flags.max_message_size;
  options.consumer_max_per_channel = flags.consumer_max_per_channel;
  // A manual clock starts at the wall time, so timestamps stay plausible.
  burrow::ManualClock manual_clock(burrow::SystemClock::instance().now_ms());
  if (flags.clock == "manual") options.clock = &manual_clock;
  if (!options.in_memory) {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) {
      std::cerr << "burrowd: cannot create data directory " << options.data_dir << ": "
                << ec.message() << "\n";
      return 1;
    }
  }
  auto core = burrow::broker::BrokerCore::open(options);
  if (!core.ok()) {
    std::cerr << "burrowd: " << core.status().to_string() << "\n";
    return 1;
  }
  if (flags.record) (*core)->publish_log().enable(flags.record_limit);
  burrow::server::AlarmOptions alarm_options;
  alarm_options.memory_high_watermark = flags.vm_memory_high_watermark;
  alarm_options.memory_limit_bytes = flags.vm_memory_high_watermark_bytes;
  alarm_options.disk_free_limit_bytes = flags.disk_free_limit;
  if (!flags.in_memory) alarm_options.disk_path = flags.data_dir;
  burrow::server::ResourceAlarms alarms(alarm_options);
  burrow::server::ServerOptions server_options;
  server_options.alarms = &alarms;
  server_options.limits.max_connections = flags.max_connections;
  server_options.limits.channel_max = static_cast<uint16_t>(flags.channel_max);
  server_options.handshake_timeout_ms = flags.handshake_timeout_ms;
  burrow::server::Server server(**core, server_options);
  burrow::server::management::ManagementApi api(
      **core, &server.connections(),
      {.listeners = {}, .alarms = &alarms, .socket_limit = server.socket_limit()});
  alarms.start();
  if (!flags.definitions.empty()) {
    std::ifstream in(flags.definitions);
    if (!in) {
      std::cerr << "burrowd: cannot read definitions file " << flags.definitions << "\n";
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    if (auto s = api.import_definitions(text.str()); !s.ok()) {
      std::cerr << "burrowd: definitions file " << flags.definitions << ": " << s.message() << "\n";
      return 2;
    }
  }
  auto port = server.listen(flags.bind, static_cast<uint16_t>(flags.port));
  if (!port.ok()) {
    std::cerr << "burrowd: " << port.status().message() << "\n";
    return 1;
  }
  // The ready line lists every listener's URL, separated by spaces: AMQP first (harnesses
  // take the first one), then HTTP, then amqps.
  std::vector<std::string> urls{fmt::format("amqp://{}:{}", flags.bind, *port)};
  api.add_listener({"amqp", flags.bind, *port});
  burrow::server::management::HttpServer http(
      [&api](const burrow::server::management::HttpRequest& request) {
        return api.handle(request);
      });
  if (flags.http_port >= 0) {
    auto http_port = http.listen(flags.bind, static_cast<uint16_t>(flags.http_port));
    if (!http_port.ok()) {
      std::cerr << "burrowd: " << http_port.status().message() << "\n";
      return 1;
    }
    urls.push_back(fmt::format("http://{}:{}", flags.bind, *http_port));
    api.add_listener({"http", flags.bind, *http_port});
  }
  burrow::server::management::HttpServer https(
      [&api](const burrow::server::management::HttpRequest& request) {
        return api.handle(request);
      },
      tls_context);
  if (flags.https_port >= 0) {
    auto https_port = https.listen(flags.bind, static_cast<uint16_t>(flags.https_port));
    if (!https_port.ok()) {
      std::cerr << "burrowd: " << https_port.status().message() << "\n";
      return 1;
    }
    urls.push_back(fmt::format("https://{}:{}", flags.bind, *https_port));
    api.add_listener({"https", flags.bind, *https_port});
  }
  // rabbitmq_prometheus's own listener: /metrics and nothing else, no login.
  burrow::server::management::HttpServer prometheus(
      [&api](const burrow::server::management::HttpRequest& request) {
        if (request.path == "/metrics" || request.path.starts_with("/metrics/")) {
          return api.handle(request);
        }
        burrow::server::management::HttpResponse not_found;
        not_found.status = 404;
        not_found.content_type = "text/plain";
        not_found.body = "Not Found\n";
        return not_found;
      });
  if (flags.prometheus_port >= 0) {
    auto metrics_port = prometheus.listen(flags.bind, static_cast<uint16_t>(flags.prometheus_port));
    if (!metrics_port.ok()) {
      std::cerr << "burrowd: " << metrics_port.status().message() << "\n";
      return 1;
    }
    urls.push_back(fmt::format("http://{}:{}/metrics", flags.bind, *metrics_port));
    api.add_listener({"prometheus", flags.bind, *metrics_port});
  }
  if (tls_context) {
    auto tls_port =
        server.listen_tls(flags.bind, static_cast<uint16_t>(flags.tls_port), tls_context);
    if (!tls_port.ok()) {
      std::cerr << "burrowd: " << tls_port.status().message() << "\n";
      return 1;
    }
    urls.push_back(fmt::format("amqps://{}:{}", flags.bind, *tls_port));
    api.add_listener({"amqp/ssl", flags.bind, *tls_port});
  }
  std::printf("burrowd listening on %s\n", fmt::format("{}", fmt::join(urls, " ")).c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received signal {}, stopping", sig);
  prometheus.stop();
  https.stop();
  http.stop();
  server.stop();
  (*core)->shutdown();
  return 0;
}
