// parse_amqp_uri: amqp://user:pass@host:port/vhost?query, as RabbitMQ's URI spec reads it.
#include "client/amqp/connection_options.h"

#include <charconv>
#include <limits>

#include "base/status_macros.h"

namespace burrow::client::amqp {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
    if (lo < 0) return invalid_argument("bad percent-encoding in '" + std::string(s) + "'");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

template <typename T>
Result<T> parse_number(std::string_view name, std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > std::numeric_limits<T>::max()) {
    return invalid_argument("bad value for " + std::string(name) + ": '" + std::string(text) + "'");
  }
  return static_cast<T>(v);
}

Status apply_query(std::string_view query, ConnectionOptions& o) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (key == "heartbeat") {
      ASSIGN_OR_RETURN(o.heartbeat_s, parse_number<uint16_t>(key, value));
    } else if (key == "frame_max") {
      ASSIGN_OR_RETURN(o.frame_max, parse_number<uint32_t>(key, value));
    } else if (key == "channel_max") {
      ASSIGN_OR_RETURN(o.channel_max, parse_number<uint16_t>(key, value));
    } else if (key == "connection_timeout") {
      ASSIGN_OR_RETURN(uint32_t ms, parse_number<uint32_t>(key, value));
      o.connect_timeout = std::chrono::milliseconds(ms);
    }
    // Other keys (auth_mechanism, TLS options, ...) are ignored, as most clients do.
  }
  return Status();
}

}  // namespace

Result<ConnectionOptions> parse_amqp_uri(std::string_view uri) {
  ConnectionOptions o;
  constexpr std::string_view kScheme = "amqp://";
  if (uri.substr(0, 8) == "amqps://") return not_implemented("amqps:// (TLS) is not supported");
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return invalid_argument("not an amqp:// URI: '" + std::string(uri) + "'");
  }
  std::string_view rest = uri.substr(kScheme.size());
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path =
      authority.size() < rest.size() ? rest.substr(authority.size() + 1) : std::string_view();

  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    ASSIGN_OR_RETURN(o.user, percent_decode(userinfo.substr(0, colon)));
    if (colon != std::string_view::npos) {
      ASSIGN_OR_RETURN(o.password, percent_decode(userinfo.substr(colon + 1)));
    }
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid_argument("unterminated [ in host");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return invalid_argument("junk after ] in host");
      port = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (!host.empty()) {
    ASSIGN_OR_RETURN(o.host, percent_decode(host));
  }
  if (!port.empty()) {
    ASSIGN_OR_RETURN(o.port, parse_number<uint16_t>("port", port));
  }
  if (path.find('/') != std::string_view::npos) {
    return invalid_argument("a vhost containing '/' must be percent-encoded (%2F)");
  }
  if (!path.empty()) {
    ASSIGN_OR_RETURN(o.vhost, percent_decode(path));
  }
  RETURN_IF_ERROR(apply_query(query, o));
  return o;
}

}  // namespace burrow::client::amqp
