// parse_flags: boost::program_options over PerfFlags, with PerfTest's spellings.
#include "bench/perf/flags.h"

#include <boost/program_options.hpp>
#include <iostream>
#include <vector>

#include "bench/perf/payload.h"

namespace burrow::perf {

namespace po = boost::program_options;

int parse_flags(int argc, char** argv, PerfFlags& f) {
  std::vector<std::string> msg_flags;
  std::string queue_args;
  po::options_description desc(
      "burrow-perf - an AMQP 0-9-1 load generator with PerfTest's flags\n"
      "Prints a progress line every interval on stderr and one JSON summary line on stdout;\n"
      "exits 1 when a consumer missed or saw twice a message the broker accepted.\nOptions");
  // clang-format off
  desc.add_options()
    ("help", "print this help")
    ("uri,h", po::value(&f.uri)->default_value(f.uri), "amqp://user:pass@host:port/vhost")
    ("producers,x", po::value(&f.producers)->default_value(f.producers), "producer count")
    ("consumers,y", po::value(&f.consumers)->default_value(f.consumers),
     "consumer count (default with --fanout N: N)")
    ("size,s", po::value(&f.size)->default_value(f.size),
     "message size in bytes (at least 16: producer id, sequence number, send time)")
    ("flag,f", po::value(&msg_flags)->composing(), "message flag: persistent, mandatory")
    ("confirm,c", po::value(&f.confirm)->default_value(f.confirm),
     "publisher confirm window per producer (unconfirmed publishes); 0 = no confirms")
    ("qos,q", po::value(&f.prefetch)->default_value(f.prefetch), "consumer prefetch; 0 = none")
    ("autoack,a", po::bool_switch(&f.auto_ack), "consume with automatic acknowledgement")
    ("multi-ack-every,A", po::value(&f.multi_ack)->default_value(f.multi_ack),
     "ack with multiple=true every N messages; 0 = ack each message")
    ("time,z", po::value(&f.duration_s)->default_value(f.duration_s),
     "run for this many seconds (producers stop, consumers drain)")
    ("cmessages,C", po::value(&f.count)->default_value(f.count), "messages per producer")
    ("rate,r", po::value(&f.rate)->default_value(f.rate), "msg/s per producer; 0 = unlimited")
    ("queue,u", po::value(&f.queue),
     "queue name (declared, purged, shared by all consumers); default: one server-named "
     "exclusive queue per consumer bound to exchange 'direct'")
    ("durable", po::bool_switch(&f.durable), "declare durable queues (and exchanges)")
    ("queue-args,Q", po::value(&queue_args),
     "queue arguments k=v[,k=v...] (PerfTest's -qa), e.g. x-queue-type=quorum; "
     "all-digit values are integers")
    ("backlog", po::bool_switch(&f.backlog),
     "publish everything first, then start the consumers and drain")
    ("queues", po::value(&f.queues)->default_value(0),
     "spread producers and consumers round-robin over N queues (<-u or burrow-perf>-1..N)")
    ("fanout", po::value(&f.fanout)->default_value(0),
     "N queues bound to one fanout exchange; every consumer queue gets every message")
    ("drain-timeout", po::value(&f.drain_timeout_s)->default_value(f.drain_timeout_s),
     "after producing, stop draining once no message arrived for this many seconds")
    ("no-purge", "do not purge named queues before the run")
    ("interval,i", po::value(&f.interval_s)->default_value(f.interval_s),
     "progress line interval in seconds")
    ("quiet", po::bool_switch(&f.quiet), "no progress lines");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "burrow-perf: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return -1;
  }
  for (const std::string& flag : msg_flags) {
    if (flag == "persistent") {
      f.persistent = true;
    } else if (flag == "mandatory") {
      f.mandatory = true;
    } else {
      std::cerr << "burrow-perf: unknown -f flag '" << flag << "' (persistent, mandatory)\n";
      return 2;
    }
  }
  f.purge = vm.count("no-purge") == 0;
  for (size_t start = 0; start < queue_args.size();) {
    size_t end = queue_args.find(',', start);
    if (end == std::string::npos) end = queue_args.size();
    const std::string pair = queue_args.substr(start, end - start);
    start = end + 1;
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "burrow-perf: --queue-args wants key=value pairs, got '" << pair << "'\n";
      return 2;
    }
    const std::string key = pair.substr(0, eq);
    const std::string value = pair.substr(eq + 1);
    const bool integer = !value.empty() && value.size() < 19 &&
                         value.find_first_not_of("0123456789") == std::string::npos;
    if (integer) {
      f.queue_args.set(key, static_cast<int64_t>(std::stoll(value)));
    } else {
      f.queue_args.set(key, value);
    }
  }
  if (f.fanout > 0 && vm["consumers"].defaulted()) f.consumers = f.fanout;
  auto fail = [](const char* why) {
    std::cerr << "burrow-perf: " << why << "\n";
    return 2;
  };
  if (f.producers < 0 || f.consumers < 0) return fail("-x and -y must not be negative");
  if (f.producers > 65535) return fail("at most 65535 producers (the id is 16 bits)");
  if (f.queues < 0 || f.fanout < 0) return fail("--queues and --fanout must not be negative");
  if (f.queues > 0 && f.fanout > 0) return fail("--queues and --fanout exclude each other");
  if (f.queue.empty() && f.queues == 0 && f.fanout == 0 && f.queue_args.contains("x-queue-type")) {
    return fail(
        "--queue-args x-queue-type needs named queues (-u, --queues or --fanout): the "
        "default layout declares exclusive server-named queues, which only classic "
        "queues allow");
  }
  if (f.interval_s <= 0) return fail("-i must be positive");
  if (f.size < kHeaderSize) {
    std::cerr << "burrow-perf: -s " << f.size << " raised to " << kHeaderSize
              << " bytes (producer id, sequence number, send time)\n";
    f.size = kHeaderSize;
  }
  if (!f.auto_ack && f.prefetch > 0 && f.multi_ack > f.prefetch) {
    std::cerr << "burrow-perf: warning: -A " << f.multi_ack << " > -q " << f.prefetch
              << ": consumers would stall; acking every " << f.prefetch << " instead\n";
    f.multi_ack = f.prefetch;
  }
  return 0;
}

}  // namespace burrow::perf
