// TcpSocket: Asio for name resolution and a connect with a deadline; recv/send/poll on the
// descriptor afterwards, so the reader and writer threads need no shared Asio state.
#include "client/amqp/socket.h"

// <utility> before any Boost.Asio header: Boost 1.74's awaitable.hpp does not compile under
// g++ 12 in C++20 without it.
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace burrow::client::amqp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct TcpSocket::Impl {
  asio::io_context io;
  tcp::socket socket{io};
};

TcpSocket::TcpSocket(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), fd_(impl_->socket.native_handle()) {}

TcpSocket::~TcpSocket() {
  boost::system::error_code ec;
  impl_->socket.close(ec);
}

Result<std::unique_ptr<TcpSocket>> TcpSocket::connect(const std::string& host, uint16_t port,
                                                      std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  const std::string where = host + ":" + std::to_string(port);
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return Status(StatusCode::kIoError, "resolve " + where + ": " + ec.message());

  bool done = false;
  asio::async_connect(impl->socket, endpoints,
                      [&](const boost::system::error_code& e, const tcp::endpoint&) {
                        ec = e;
                        done = true;
                      });
  impl->io.run_for(timeout);
  if (!done) {
    return Status(StatusCode::kTimedOut, "connect to " + where + ": no answer within " +
                                             std::to_string(timeout.count()) + " ms");
  }
  if (ec) return Status(StatusCode::kIoError, "connect to " + where + ": " + ec.message());
  impl->socket.set_option(tcp::no_delay(true), ec);
  // Asio made the descriptor non-blocking for async_connect; our threads want blocking I/O.
  impl->socket.native_non_blocking(false, ec);
  if (ec) return Status(StatusCode::kIoError, "connect to " + where + ": " + ec.message());
  return std::unique_ptr<TcpSocket>(new TcpSocket(std::move(impl)));
}

Status TcpSocket::write_all(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(StatusCode::kIoError, std::string("socket write: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

Result<size_t> TcpSocket::read_some(char* buf, size_t size, int timeout_ms) {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Status(StatusCode::kIoError, std::string("socket poll: ") + std::strerror(errno));
    }
    if (ready == 0) return size_t{0};
    ssize_t n = ::recv(fd_, buf, size, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return Status(StatusCode::kClosed, "the broker closed the socket");
    if (errno == EINTR || errno == EAGAIN) continue;
    return Status(StatusCode::kIoError, std::string("socket read: ") + std::strerror(errno));
  }
}

void TcpSocket::shutdown() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace burrow::client::amqp
