// The HTTP request and response the management API works on, without Beast or sockets, so
// the API is a function from one to the other (and unit-testable without a listener).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace burrow::server::management {

struct HttpRequest {
  std::string method;                          // "GET", "PUT", ...
  std::string path;                            // the target before '?', still percent-encoded
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool from_loopback = true;

  const std::string* header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Percent-decoding of one path segment or query value ('+' is a space only in queries).
std::string percent_decode(std::string_view text, bool plus_is_space = false);
std::string percent_encode(std::string_view text);
// Splits "a=1&b=2".
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace burrow::server::management
