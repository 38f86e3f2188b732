// HttpClient over Boost.Beast. The operations are asynchronous only so that a deadline can
// cancel them (Beast's synchronous calls block forever on a silent server); each request runs
// its own io_context to completion.
#include "tools/burrowctl/http_client.h"

// <utility> must come before any Asio header: Boost 1.74's awaitable.hpp does not compile
// under g++ 12 in C++20 without it (as server/asio.h).
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdint>
#include <limits>

namespace burrow::ctl {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// Runs the io_context until the pending operation completes; the tcp_stream's deadline turns
// a hang into beast::error::timeout.
void run(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

}  // namespace

std::optional<Endpoint> parse_url(std::string_view url, std::string* error) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    *error = url.substr(0, 8) == "https://" ? "https is not supported; use http://"
                                            : "the URL must start with http://";
    return std::nullopt;
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Endpoint endpoint;
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    endpoint.base_path = std::string(path);
  }
  if (authority.find('@') != std::string_view::npos) {
    *error = "put credentials in --user/--password, not in the URL";
    return std::nullopt;
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "unterminated [ in the URL's host";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        *error = "unexpected text after ] in the URL";
        return std::nullopt;
      }
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) {
    *error = "the URL has no host";
    return std::nullopt;
  }
  endpoint.host = std::string(host);
  if (!port.empty()) {
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        *error = "the URL's port is not a number";
        return std::nullopt;
      }
    }
    endpoint.port = std::string(port);
  }
  return endpoint;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

HttpClient::HttpClient(Endpoint endpoint, std::string user, std::string password,
                       std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)),
      authorization_("Basic " + base64(user + ":" + password)),
      timeout_(timeout) {}

HttpResponse HttpClient::request(std::string_view method, const std::string& path,
                                 const std::string& body) {
  HttpResponse out;
  const std::string where = endpoint_.host + ":" + endpoint_.port;
  net::io_context ioc;
  beast::error_code ec;

  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(endpoint_.host, endpoint_.port, ec);
  if (ec) {
    out.transport_error = "cannot resolve " + endpoint_.host + ": " + ec.message();
    return out;
  }

  beast::tcp_stream stream(ioc);
  stream.expires_after(timeout_);
  stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run(ioc);
  if (ec) {
    out.transport_error = "cannot connect to " + where + ": " + ec.message();
    return out;
  }

  http::request<http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(endpoint_.base_path + path);
  req.version(11);
  req.set(http::field::host, endpoint_.host + ":" + endpoint_.port);
  req.set(http::field::user_agent, "burrowctl");
  req.set(http::field::authorization, authorization_);
  req.set(http::field::connection, "close");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();

  stream.expires_after(timeout_);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  run(ioc);
  if (ec) {
    out.transport_error = "cannot send to " + where + ": " + ec.message();
    return out;
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // definitions can be large
  stream.expires_after(timeout_);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  run(ioc);
  if (ec) {
    out.transport_error = "no reply from " + where + ": " + ec.message();
    return out;
  }
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.status_text = std::string(res.reason());
  out.body = std::move(res.body());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

}  // namespace burrow::ctl
