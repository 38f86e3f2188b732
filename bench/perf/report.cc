// format_progress and format_summary.
#include "bench/perf/report.h"

#include <fmt/format.h>

namespace burrow::perf {

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string format_progress(const Progress& p) {
  std::string line = fmt::format("[{:6.1f}s] sent {:9.0f} msg/s | received {:9.0f} msg/s",
                                 p.elapsed_s, p.send_rate, p.receive_rate);
  if (p.confirms) {
    line += fmt::format(" | confirm p50/p99 {}/{} us", p.confirm_us.p50, p.confirm_us.p99);
  }
  line += fmt::format(" | latency p50/p99 {}/{} us", p.latency_us.p50, p.latency_us.p99);
  return line;
}

std::string format_summary(const Summary& s) {
  std::string out = fmt::format(
      "{{\"sent\":{},\"received\":{},\"confirmed\":{},\"nacked\":{},\"lost\":{},"
      "\"duplicated\":{},\"duration_s\":{:.3f},\"send_rate\":{:.1f},\"receive_rate\":{:.1f},"
      "\"confirm_latency_us\":{{\"p50\":{},\"p99\":{}}},\"latency_us\":{{\"p50\":{},\"p99\":{}}}",
      s.sent, s.received, s.confirmed, s.nacked, s.lost, s.duplicated, s.duration_s, s.send_rate,
      s.receive_rate, s.confirm_latency_us.p50, s.confirm_latency_us.p99, s.latency_us.p50,
      s.latency_us.p99);
  if (!s.error.empty()) out += ",\"error\":" + json_string(s.error);
  return out + "}";
}

}  // namespace burrow::perf
