// libFuzzer target: the connection state machine (server/amqp_connection.h, sans-I/O) fed
// arbitrary bytes after a valid handshake (PLAIN guest/guest, tune-ok, connection.open "/"),
// against a real in-memory broker core: every method handler, channel state, content
// assembly and the close paths. The first input byte picks the chunk size (1-256 bytes) the
// rest is fed in, so frames arrive split at every point. Invariants: on_input never consumes
// more than it was given, and the handshake always opens the connection (state from earlier
// inputs must not leak into later ones). The broker is reset every 1000 inputs so queues and
// exchanges the inputs declare do not pile up.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "base/logging.h"
#include "broker/broker_core.h"
#include "fuzz/fuzz_check.h"
#include "protocol/frame.h"
#include "protocol/frame_writer.h"
#include "protocol/methods.h"
#include "server/amqp_connection.h"
#include "server/output_buffer.h"

namespace {

using namespace burrow;

struct Fixture {
  std::unique_ptr<broker::BrokerCore> core;
  std::string handshake;
  uint64_t runs = 0;
};

Fixture* the_fixture = nullptr;

Fixture& fixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    the_fixture = fx;
    // Stop the broker's threads at exit, before the statics they use are destroyed.
    std::atexit([] { the_fixture->core.reset(); });
    // Every input opens and closes a connection: no log line per input.
    FUZZ_CHECK(init_logging("off").ok());
    auto core = broker::BrokerCore::open(Options{.in_memory = true, .worker_threads = 1});
    FUZZ_CHECK(core.ok());
    fx->core = std::move(*core);
    std::string& hs = fx->handshake;
    hs.append(protocol::kProtocolHeader);
    protocol::ConnectionStartOk ok;
    ok.mechanism = "PLAIN";
    ok.response = std::string("\0guest\0guest", 12);
    ok.locale = "en_US";
    protocol::append_method_frame(hs, 0, ok);
    protocol::append_method_frame(hs, 0, protocol::ConnectionTuneOk{2047, 131072, 0});
    protocol::append_method_frame(hs, 0, protocol::ConnectionOpen{"/", "", false});
    return fx;
  }();
  return *f;
}

void drain(server::OutputBuffer& out) {
  std::string bytes;
  while (out.take(bytes)) bytes.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = fixture();
  if (size == 0) return 0;
  auto out = std::make_shared<server::OutputBuffer>([] {});
  {
    server::AmqpConnection conn(*f.core, server::ServerLimits{}, server::PeerInfo{"fuzz", true},
                                out);
    std::string pending = f.handshake;
    pending.erase(0, conn.on_input(pending));
    FUZZ_CHECK(conn.is_open());
    drain(*out);
    const size_t chunk = 1 + static_cast<size_t>(data[0]);
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    while (!rest.empty() && conn.next_step() == server::NextStep::kContinue) {
      const size_t n = std::min(chunk, rest.size());
      pending.append(rest.substr(0, n));
      rest.remove_prefix(n);
      const size_t used = conn.on_input(pending);
      FUZZ_CHECK(used <= pending.size());
      pending.erase(0, used);
      drain(*out);
    }
    conn.shutdown();
    drain(*out);
  }
  if (++f.runs % 1000 == 0) (void)f.core->reset();
  return 0;
}
