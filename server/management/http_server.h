// The management HTTP listener (Boost.Beast): HTTP/1.1 with keep-alive on its own thread, so
// a slow management call (a definitions import) never holds a broker worker. Requests go to
// a handler as HttpRequest values.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <burrow/status.h>

#include "server/management/http_types.h"

namespace burrow::server::management {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
}  // namespace burrow::server::management

namespace boost::asio::ssl {
class context;
}

namespace burrow::server::management {

// Thread-safe.
class HttpServer {
 public:
  // `tls` (from server/tls.h's make_tls_server_context): serve https instead of http.
  explicit HttpServer(HttpHandler handler,
                      std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, starts the thread and accepts. Returns the bound port (0 picks one).
  // Errors: kIoError when the address cannot be bound.
  Result<uint16_t> listen(const std::string& address, uint16_t port);
  // Stops accepting, closes connections and joins the thread. Idempotent.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace burrow::server::management
