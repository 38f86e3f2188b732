// burrow-perf: an AMQP 0-9-1 load generator with RabbitMQ PerfTest's flags, for Burrow,
// RabbitMQ or any other broker. See bench/perf/README.md.
#include <atomic>
#include <csignal>
#include <iostream>

#include "bench/perf/flags.h"
#include "bench/perf/runner.h"
#include "client/amqp/connection_options.h"

namespace {

std::atomic<bool> g_interrupted{false};

// The first Ctrl-C stops the producers and lets the consumers drain and the summary print;
// a second one ends the process at once.
extern "C" void on_sigint(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace

int main(int argc, char** argv) {
  burrow::perf::PerfFlags flags;
  if (int code = burrow::perf::parse_flags(argc, argv, flags); code != 0) {
    return code < 0 ? 0 : code;
  }
  auto options = burrow::client::amqp::parse_amqp_uri(flags.uri);
  if (!options.ok()) {
    std::cerr << "burrow-perf: --uri: " << options.status().message() << "\n";
    return 2;
  }
  std::signal(SIGINT, on_sigint);
  std::signal(SIGPIPE, SIG_IGN);
  burrow::perf::Runner runner(flags, *options);
  return runner.run(g_interrupted);
}
