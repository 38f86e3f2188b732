// ClientHandshake fed the broker's side as byte vectors: what it answers, what it negotiates,
// and how a refusal becomes a Status.
#include <gtest/gtest.h>

#include <variant>

#include "client/amqp/handshake.h"
#include "protocol/frame_writer.h"

namespace burrow::client::amqp {
namespace {

namespace p = protocol;

template <typename M>
std::string frame(const M& m) {
  std::string out;
  p::append_method_frame(out, 0, m);
  return out;
}

// Splits `bytes` into the methods they carry (channel-0 method frames only).
std::vector<p::Method> methods_in(std::string_view bytes) {
  std::vector<p::Method> out;
  p::FrameReader reader(0);
  while (!bytes.empty()) {
    p::Frame f;
    auto n = reader.parse(bytes, f);
    EXPECT_TRUE(n.ok() && *n > 0);
    if (!n.ok() || *n == 0) break;
    p::Method m;
    EXPECT_TRUE(p::decode_method(f.payload, m).ok());
    out.push_back(std::move(m));
    bytes.remove_prefix(*n);
  }
  return out;
}

p::ConnectionStart rabbit_start() {
  return p::ConnectionStart{0, 9, FieldTable{{"product", "RabbitMQ"}}, "AMQPLAIN PLAIN", "en_US"};
}

ConnectionOptions options() {
  ConnectionOptions o;
  o.user = "alice";
  o.password = "secret";
  o.vhost = "v1";
  o.heartbeat_s = 30;
  o.frame_max = 65536;
  o.connection_name = "test";
  return o;
}

TEST(ClientHandshake, FullExchange) {
  ClientHandshake hs(options());
  std::string out;
  hs.start(out);
  EXPECT_EQ(out, p::kProtocolHeader);

  out.clear();
  std::string in = frame(rabbit_start());
  auto used = hs.on_input(in, out);
  ASSERT_TRUE(used.ok()) << used.status().to_string();
  EXPECT_EQ(*used, in.size());
  auto replies = methods_in(out);
  ASSERT_EQ(replies.size(), 1u);
  const auto& start_ok = std::get<p::ConnectionStartOk>(replies[0]);
  EXPECT_EQ(start_ok.mechanism, "PLAIN");
  EXPECT_EQ(start_ok.response, std::string("\0alice\0secret", 13));
  EXPECT_EQ(*start_ok.client_properties.find("connection_name"), FieldValue("test"));
  const FieldTable* caps = start_ok.client_properties.find("capabilities")->get_if<FieldTable>();
  ASSERT_NE(caps, nullptr);
  EXPECT_EQ(*caps->find("authentication_failure_close"), FieldValue(true));

  out.clear();
  in = frame(p::ConnectionTune{2047, 131072, 60});
  ASSERT_TRUE(hs.on_input(in, out).ok());
  replies = methods_in(out);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(std::get<p::ConnectionTuneOk>(replies[0]), (p::ConnectionTuneOk{2047, 65536, 30}));
  EXPECT_EQ(std::get<p::ConnectionOpen>(replies[1]).virtual_host, "v1");
  EXPECT_FALSE(hs.done());

  // open-ok and the first bytes of the running connection arrive together.
  out.clear();
  in = frame(p::ConnectionOpenOk{}) + "extra";
  used = hs.on_input(in, out);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, in.size() - 5);
  EXPECT_TRUE(hs.done());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(hs.tuning().frame_max, 65536u);
  EXPECT_EQ(hs.tuning().heartbeat_s, 30);
  EXPECT_EQ(hs.tuning().channel_max, 2047);
  EXPECT_EQ(*hs.server_properties().find("product"), FieldValue("RabbitMQ"));
}

TEST(ClientHandshake, PartialFramesNeedMoreInput) {
  ClientHandshake hs(options());
  std::string out;
  std::string in = frame(rabbit_start());
  auto used = hs.on_input(std::string_view(in).substr(0, 10), out);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 0u);
  EXPECT_TRUE(out.empty());
}

TEST(ClientHandshake, NegotiatesZeroAsNoLimit) {
  EXPECT_EQ(negotiate_limit(0, 60), 60u);
  EXPECT_EQ(negotiate_limit(10, 0), 10u);
  EXPECT_EQ(negotiate_limit(10, 60), 10u);
  EXPECT_EQ(negotiate_limit(0, 0), 0u);

  ConnectionOptions o = options();
  o.heartbeat_s = 0;
  o.frame_max = 0;
  ClientHandshake hs(o);
  std::string out;
  ASSERT_TRUE(hs.on_input(frame(rabbit_start()), out).ok());
  ASSERT_TRUE(hs.on_input(frame(p::ConnectionTune{0, 131072, 60}), out).ok());
  EXPECT_EQ(hs.tuning().heartbeat_s, 60);
  EXPECT_EQ(hs.tuning().frame_max, 131072u);
  EXPECT_EQ(hs.tuning().channel_max, 0);
}

TEST(ClientHandshake, RefusedLoginIsAccessRefused) {
  ClientHandshake hs(options());
  std::string out;
  ASSERT_TRUE(hs.on_input(frame(rabbit_start()), out).ok());
  out.clear();
  auto r = hs.on_input(frame(p::ConnectionClose{403,
                                                "ACCESS_REFUSED - Login was refused using "
                                                "authentication mechanism PLAIN. For details "
                                                "see the broker logfile.",
                                                0, 0}),
                       out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAccessRefused);
  EXPECT_EQ(r.status().message(),
            "Login was refused using authentication mechanism PLAIN. For details see the broker "
            "logfile.");
  auto replies = methods_in(out);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<p::ConnectionCloseOk>(replies[0]));
}

TEST(ClientHandshake, UnknownVhostIsNotAllowed) {
  ClientHandshake hs(options());
  std::string out;
  ASSERT_TRUE(hs.on_input(frame(rabbit_start()), out).ok());
  ASSERT_TRUE(hs.on_input(frame(p::ConnectionTune{2047, 131072, 60}), out).ok());
  auto r =
      hs.on_input(frame(p::ConnectionClose{530, "NOT_ALLOWED - vhost v1 not found", 10, 40}), out);
  EXPECT_EQ(r.status(), Status(StatusCode::kNotAllowed, "vhost v1 not found"));
}

TEST(ClientHandshake, OtherProtocolHeaderIsNotImplemented) {
  ClientHandshake hs(options());
  std::string out;
  auto r = hs.on_input(std::string_view("AMQP\x00\x00\x09\x01", 8), out);
  // A broker answers a bad header with its own; here it names 0-0-9-1, which we did send, but
  // any header instead of connection.start means the broker refused us.
  EXPECT_EQ(r.status().code(), StatusCode::kNotImplemented);
}

TEST(ClientHandshake, RequiresPlain) {
  ClientHandshake hs(options());
  std::string out;
  auto r = hs.on_input(frame(p::ConnectionStart{0, 9, {}, "EXTERNAL", "en_US"}), out);
  EXPECT_EQ(r.status().code(), StatusCode::kNotImplemented);
}

TEST(ClientHandshake, UnexpectedMethodIsAnError) {
  ClientHandshake hs(options());
  std::string out;
  auto r = hs.on_input(frame(p::ConnectionOpenOk{}), out);
  EXPECT_EQ(r.status().code(), StatusCode::kUnexpectedFrame);
}

}  // namespace
}  // namespace burrow::client::amqp
