// A connected TCP socket for the AMQP client: Boost.Asio resolves and connects, then one
// thread reads (with a timeout) while another writes, on the native descriptor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <burrow/status.h>

namespace burrow::client::amqp {

// read_some and write_all may run concurrently on two threads (one reader, one writer): they
// are plain recv/send calls on a blocking descriptor, which the kernel serialises per
// direction. shutdown() may be called from any thread. Everything else: one thread.
class TcpSocket {
 public:
  // Resolves `host` and connects to the first address that answers, with TCP_NODELAY.
  // Errors: kIoError "connect to host:port: <reason>", kTimedOut.
  static Result<std::unique_ptr<TcpSocket>> connect(const std::string& host, uint16_t port,
                                                    std::chrono::milliseconds timeout);
  ~TcpSocket();
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Writes all of `data`. Errors: kIoError (the peer is gone, or shutdown() was called).
  Status write_all(std::string_view data);
  // Reads what is available into buf, waiting at most timeout_ms (-1: forever). Returns the
  // bytes read, 0 when the timeout passed first. Errors: kClosed when the peer closed the
  // connection (or shutdown() was called), kIoError.
  Result<size_t> read_some(char* buf, size_t size, int timeout_ms);
  // Ends both directions: blocked reads return kClosed, writes fail. Idempotent.
  void shutdown();

 private:
  struct Impl;
  explicit TcpSocket(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int fd_ = -1;
};

}  // namespace burrow::client::amqp
