// CommandAssembler: methods with and without content, bodies in one or many frames, and the
// out-of-turn frames a broker must never send.
#include <gtest/gtest.h>

#include <variant>

#include "client/amqp/command_assembler.h"
#include "protocol/frame_writer.h"

namespace burrow::client::amqp {
namespace {

namespace p = protocol;

// Frames of `bytes`, which must outlive the returned views.
std::vector<p::Frame> frames_of(const std::string& bytes) {
  std::vector<p::Frame> out;
  p::FrameReader reader(0);
  std::string_view rest = bytes;
  while (!rest.empty()) {
    p::Frame f;
    auto n = reader.parse(rest, f);
    EXPECT_TRUE(n.ok() && *n > 0);
    if (!n.ok() || *n == 0) break;
    out.push_back(f);
    rest.remove_prefix(*n);
  }
  return out;
}

std::string deliver_bytes(std::string_view body, uint32_t frame_max) {
  std::string out;
  p::append_method_frame(out, 1, p::BasicDeliver{"ctag", 7, true, "ex", "rk"});
  BasicProperties props;
  props.content_type = "text/plain";
  std::string encoded;
  p::Writer w(encoded);
  p::encode_properties(props, w);
  p::append_content_frames(out, 1, 60, encoded, body, frame_max);
  return out;
}

TEST(CommandAssembler, MethodWithoutContentCompletesAtOnce) {
  std::string bytes;
  p::append_method_frame(bytes, 1, p::BasicAck{5, true});
  CommandAssembler a;
  auto frames = frames_of(bytes);
  auto done = a.feed(frames[0]);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  EXPECT_EQ(std::get<p::BasicAck>(a.command().method), (p::BasicAck{5, true}));
  EXPECT_FALSE(a.command().has_content);
}

TEST(CommandAssembler, SingleFrameBodyIsNotCopied) {
  std::string bytes = deliver_bytes("hello", 4096);
  auto frames = frames_of(bytes);
  ASSERT_EQ(frames.size(), 3u);
  CommandAssembler a;
  EXPECT_FALSE(*a.feed(frames[0]));
  EXPECT_FALSE(*a.feed(frames[1]));
  EXPECT_TRUE(*a.feed(frames[2]));
  const Command& c = a.command();
  EXPECT_EQ(c.body, "hello");
  EXPECT_EQ(c.body.data(), frames[2].payload.data());
  EXPECT_EQ(c.header.properties.content_type, "text/plain");
  EXPECT_EQ(std::get<p::BasicDeliver>(c.method).delivery_tag, 7u);
}

TEST(CommandAssembler, BodyAcrossFramesIsJoined) {
  std::string body(10000, 'x');
  body[9999] = 'y';
  std::string bytes = deliver_bytes(body, 4096);
  auto frames = frames_of(bytes);
  ASSERT_EQ(frames.size(), 5u);  // method, header, 3 body frames
  CommandAssembler a;
  for (size_t i = 0; i + 1 < frames.size(); ++i) EXPECT_FALSE(*a.feed(frames[i]));
  EXPECT_TRUE(*a.feed(frames.back()));
  EXPECT_EQ(a.command().body, body);
  // The assembler is ready for the next command.
  std::string ack;
  p::append_method_frame(ack, 1, p::BasicAck{1, false});
  EXPECT_TRUE(*a.feed(frames_of(ack)[0]));
}

TEST(CommandAssembler, EmptyBodyCompletesAtTheHeader) {
  std::string bytes = deliver_bytes("", 4096);
  auto frames = frames_of(bytes);
  ASSERT_EQ(frames.size(), 2u);
  CommandAssembler a;
  EXPECT_FALSE(*a.feed(frames[0]));
  EXPECT_TRUE(*a.feed(frames[1]));
  EXPECT_TRUE(a.command().body.empty());
}

TEST(CommandAssembler, MethodInsteadOfHeaderIsUnexpected) {
  std::string bytes = deliver_bytes("hello", 4096);
  auto frames = frames_of(bytes);
  CommandAssembler a;
  EXPECT_FALSE(*a.feed(frames[0]));
  auto r = a.feed(frames[0]);
  EXPECT_EQ(r.status().code(), StatusCode::kUnexpectedFrame);
}

TEST(CommandAssembler, BodyWithoutMethodIsUnexpected) {
  std::string bytes = deliver_bytes("hello", 4096);
  auto frames = frames_of(bytes);
  CommandAssembler a;
  EXPECT_EQ(a.feed(frames[2]).status().code(), StatusCode::kUnexpectedFrame);
  EXPECT_EQ(a.feed(frames[1]).status().code(), StatusCode::kUnexpectedFrame);
}

TEST(CommandAssembler, OverlongBodyIsUnexpected) {
  std::string bytes = deliver_bytes("hello", 4096);
  auto frames = frames_of(bytes);
  std::string longer;
  size_t at = p::begin_frame(longer, p::FrameType::kBody, 1);
  longer += "hello!";
  p::end_frame(longer, at);
  CommandAssembler a;
  EXPECT_FALSE(*a.feed(frames[0]));
  EXPECT_FALSE(*a.feed(frames[1]));
  EXPECT_EQ(a.feed(frames_of(longer)[0]).status().code(), StatusCode::kUnexpectedFrame);
}

}  // namespace
}  // namespace burrow::client::amqp
