// A small synchronous HTTP/1.1 client for burrowctl: plain http, basic auth, one connection
// per request, a deadline on every request. Built on Boost.Beast.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace burrow::ctl {

// Where the API lives, from a URL like "http://127.0.0.1:15672" or "http://host/prefix".
struct Endpoint {
  std::string host;
  std::string port = "80";
  std::string base_path;  // prepended to every request path; "" or "/prefix" (no trailing /)
};

// Parses "http://HOST[:PORT][/PREFIX]" (HOST may be "[v6]"). Returns nullopt and sets *error
// for anything else, https included (not supported).
std::optional<Endpoint> parse_url(std::string_view url, std::string* error);

// Percent-encodes everything but RFC 3986 unreserved characters, so a vhost "/" becomes "%2F"
// and a name may hold any byte.
std::string url_encode(std::string_view text);

struct HttpResponse {
  int status = 0;           // 0: no answer (transport_error says why)
  std::string status_text;  // e.g. "Not Found"
  std::string body;
  std::string transport_error;  // cannot resolve, connect, send or read; empty otherwise
};

// Not thread-safe; one request at a time. Every request opens its own TCP connection: an
// operator tool makes few requests, and a fresh connection never replays a non-idempotent
// POST (a dead-letter replay batch) after a keep-alive connection went stale.
class HttpClient {
 public:
  HttpClient(Endpoint endpoint, std::string user, std::string password,
             std::chrono::milliseconds timeout);

  // Sends METHOD base_path+path with basic auth; a non-empty body goes as application/json.
  // Never throws; a failure to talk to the server comes back as status 0.
  HttpResponse request(std::string_view method, const std::string& path,
                       const std::string& body = "");

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  Endpoint endpoint_;
  std::string authorization_;  // "Basic base64(user:password)"
  std::chrono::milliseconds timeout_;
};

}  // namespace burrow::ctl
