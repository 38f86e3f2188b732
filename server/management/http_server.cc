// HttpServer: Beast sessions on one io_context thread. Each session reads a request (bodies up
// to 64 MiB, for definitions), calls the handler, writes the response, and keeps the
// connection while the client asks for keep-alive.
#include "server/management/http_server.h"
#include "base/logging.h"

#include <cctype>
#include <chrono>
#include <optional>
#include <thread>

#include "server/asio_ssl.h"

#include <spdlog/spdlog.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace burrow::server::management {

namespace {
spdlog::logger& logger() { return module_logger("http"); }
}  // namespace

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr uint64_t kBodyLimit = 64ull * 1024 * 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(120);

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// What the server keeps of a session, to end it at stop().
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // On the server's thread: ends the session (pending operations complete as aborted).
  virtual void shut() = 0;
};

// Stream is beast::tcp_stream (http) or beast::ssl_stream<beast::tcp_stream> (https).
template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <typename... Args>
  Session(HttpHandler handler, Args&&... stream_args)
      : stream_(std::forward<Args>(stream_args)...), handler_(std::move(handler)) {}

  void start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  logger().info("HTTPS handshake failed: {}", ec.message());
                                  self->close();
                                  return;
                                }
                                self->read();
                              });
    } else {
      read();
    }
  }

  void shut() override {
    beast::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

 private:
  tcp::socket& socket() { return beast::get_lowest_layer(stream_).socket(); }

  void read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      close();
      return;
    }
    if (ec) {
      // A malformed request or a body over the limit: answer 400/413 and close.
      HttpResponse response;
      response.status = ec == http::error::body_limit ? 413 : 400;
      response.body = R"({"error":"bad_request","reason":")" + ec.message() + "\"}";
      write(std::move(response), false);
      return;
    }
    auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    const size_t q = target.find('?');
    request.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) request.query = parse_query(target.substr(q + 1));
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    request.body = std::move(req.body());
    boost::system::error_code ep_ec;
    auto remote = socket().remote_endpoint(ep_ec);
    request.from_loopback = !ep_ec && remote.address().is_loopback();
    const bool keep_alive = req.keep_alive();
    HttpResponse response;
    try {
      response = handler_(request);
    } catch (const std::exception& e) {
      logger().error("management API: {} {} failed: {}", request.method, request.path, e.what());
      response.status = 500;
      response.body = R"({"error":"internal_error","reason":"internal error"})";
    }
    write(std::move(response), keep_alive);
  }

  void write(HttpResponse response, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<http::status>(response.status));
    res->set(http::field::server, "Burrow");
    if (!response.body.empty() || response.status != 204) {
      res->set(http::field::content_type, response.content_type);
    }
    res->set(http::field::cache_control, "no-cache");
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
          if (ec || !keep_alive) {
            self->close();
            return;
          }
          self->read();
        });
  }

  void close() {
    beast::error_code ec;
    socket().shutdown(tcp::socket::shutdown_send, ec);
    socket().close(ec);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpHandler handler_;
};

}  // namespace

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    if (!key.empty()) out[std::move(key)] = std::move(value);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(HttpHandler h, std::shared_ptr<ssl::context> t) : handler(std::move(h)), tls(std::move(t)) {}

  void start_session(tcp::socket socket) {
    std::erase_if(sessions, [](const auto& w) { return w.expired(); });
    if (tls) {
      auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          handler, std::move(socket), *tls);
      sessions.push_back(session);
      session->start();
    } else {
      auto session = std::make_shared<Session<beast::tcp_stream>>(handler, std::move(socket));
      sessions.push_back(session);
      session->start();
    }
  }

  void accept() {
    acceptor->async_accept(asio::make_strand(ioc),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                             if (ec == asio::error::operation_aborted || self->stopping) return;
                             if (!ec) {
                               self->start_session(std::move(socket));
                               self->accept();
                               return;
                             }
                             // Out of descriptors (EMFILE) and the like: the connection stays
                             // in the backlog, so accepting again at once would spin. Back
                             // off as the AMQP listener does.
                             self->retry.expires_after(std::chrono::milliseconds(100));
                             self->retry.async_wait([self](beast::error_code wait_ec) {
                               if (!wait_ec && !self->stopping) self->accept();
                             });
                           });
  }

  HttpHandler handler;
  std::shared_ptr<ssl::context> tls;  // null: plain HTTP
  asio::io_context ioc{1};
  std::optional<tcp::acceptor> acceptor;
  asio::steady_timer retry{ioc};                     // the accept back-off
  std::vector<std::weak_ptr<SessionBase>> sessions;  // the server thread's only
  bool stopping = false;                             // the server thread's only
  std::thread thread;
  bool stopped = false;
};

HttpServer::HttpServer(HttpHandler handler, std::shared_ptr<boost::asio::ssl::context> tls)
    : impl_(std::make_shared<Impl>(std::move(handler), std::move(tls))) {}

HttpServer::~HttpServer() { stop(); }

Result<uint16_t> HttpServer::listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Status(StatusCode::kInvalidArgument, "invalid bind address '" + address + "'");
  tcp::endpoint endpoint(addr, port);
  impl_->acceptor.emplace(asio::make_strand(impl_->ioc));
  auto& acceptor = *impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->acceptor.reset();
    return Status(StatusCode::kIoError, "cannot listen for HTTP on " + address + ":" +
                                            std::to_string(port) + ": " + ec.message());
  }
  const uint16_t bound = acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_] { impl->ioc.run(); });
  return bound;
}

void HttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (!impl_->thread.joinable()) return;
  // Close the acceptor and every session on the server's thread; their operations complete
  // as aborted, nothing re-arms, and run() returns once no work is left.
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->stopping = true;
    beast::error_code ec;
    if (impl->acceptor) impl->acceptor->close(ec);
    impl->retry.cancel();
    for (auto& weak : impl->sessions) {
      if (auto session = weak.lock()) session->shut();
    }
  });
  impl_->thread.join();
}

}  // namespace burrow::server::management
