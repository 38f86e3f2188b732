// A scripted fake broker on a raw socket: how the client reacts when the broker breaks the
// protocol (it closes the connection with 505 UNEXPECTED_FRAME and reports the error).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <variant>

#include "client/amqp/connection.h"
#include "protocol/frame_writer.h"

namespace burrow::client::amqp {
namespace {

namespace p = protocol;

// One accepted connection, read frame by frame.
class FakePeer {
 public:
  explicit FakePeer(int fd) : fd_(fd) {}
  ~FakePeer() { ::close(fd_); }

  bool read_exact(size_t n, std::string& out) {
    while (in_.size() < n) {
      char buf[4096];
      ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got <= 0) return false;
      in_.append(buf, static_cast<size_t>(got));
    }
    out = in_.substr(0, n);
    in_.erase(0, n);
    return true;
  }

  // The next method the client sent (heartbeats skipped).
  std::optional<p::Method> read_method() {
    for (;;) {
      p::Frame f;
      auto n = reader_.parse(in_, f);
      if (!n.ok()) return std::nullopt;
      if (*n == 0) {
        char buf[4096];
        ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
        if (got <= 0) return std::nullopt;
        in_.append(buf, static_cast<size_t>(got));
        continue;
      }
      std::string payload(f.payload);
      const auto type = f.type;
      in_.erase(0, *n);
      if (type != p::FrameType::kMethod) continue;
      p::Method m;
      if (!p::decode_method(payload, m).ok()) return std::nullopt;
      return m;
    }
  }

  template <typename M>
  void send(uint16_t channel, const M& m) {
    std::string out;
    p::append_method_frame(out, channel, m);
    send_raw(out);
  }
  void send_raw(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }

 private:
  int fd_;
  std::string in_;
  p::FrameReader reader_{0};
};

TEST(ClientProtocolError, BodyFrameOutOfTurnClosesWith505) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const uint16_t port = ntohs(addr.sin_port);

  p::ConnectionClose seen_close;
  std::thread broker([&] {
    FakePeer peer(::accept(listener, nullptr, nullptr));
    std::string header;
    ASSERT_TRUE(peer.read_exact(8, header));
    EXPECT_EQ(header, p::kProtocolHeader);
    peer.send(0, p::ConnectionStart{0, 9, {}, "PLAIN", "en_US"});
    ASSERT_TRUE(peer.read_method());  // start-ok
    peer.send(0, p::ConnectionTune{2047, 131072, 0});
    ASSERT_TRUE(peer.read_method());  // tune-ok
    ASSERT_TRUE(peer.read_method());  // open
    peer.send(0, p::ConnectionOpenOk{});
    ASSERT_TRUE(peer.read_method());  // channel.open
    peer.send(1, p::ChannelOpenOk{});
    std::string body;
    size_t at = p::begin_frame(body, p::FrameType::kBody, 1);
    body += "stray";
    p::end_frame(body, at);
    peer.send_raw(body);
    auto close = peer.read_method();
    ASSERT_TRUE(close);
    seen_close = std::get<p::ConnectionClose>(*close);
    peer.send(0, p::ConnectionCloseOk{});
  });

  ConnectionOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.heartbeat_s = 0;
  auto conn = ClientConnection::connect(o);
  ASSERT_TRUE(conn.ok()) << conn.status().to_string();
  auto ch = (*conn)->open_channel();
  ASSERT_TRUE(ch.ok()) << ch.status().to_string();
  broker.join();
  ::close(listener);

  EXPECT_EQ(seen_close.reply_code, 505);
  EXPECT_EQ(seen_close.reply_text.rfind("UNEXPECTED_FRAME - expected a method frame", 0), 0u)
      << seen_close.reply_text;
  // The channel learns it once the close handshake is over.
  for (int i = 0; i < 500 && (*ch)->is_open(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ((*conn)->status().code(), StatusCode::kUnexpectedFrame);
  EXPECT_EQ((*ch)->status().code(), StatusCode::kUnexpectedFrame);
}

}  // namespace
}  // namespace burrow::client::amqp
