// Frame writers: method frames and content split at frame_max as RabbitMQ splits it.
#include "protocol/frame_writer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/content_header.h"

namespace burrow::protocol {
namespace {

std::vector<Frame> parse_all(std::string_view bytes, uint32_t frame_max) {
  std::vector<Frame> frames;
  const FrameReader reader(frame_max);
  while (!bytes.empty()) {
    Frame f;
    auto used = reader.parse(bytes, f);
    EXPECT_TRUE(used.ok()) << used.status().to_string();
    if (!used.ok() || *used == 0) break;
    frames.push_back(f);
    bytes.remove_prefix(*used);
  }
  return frames;
}

TEST(FrameWriter, MethodFrameBytes) {
  std::string out;
  BasicAck ack;
  ack.delivery_tag = 1;
  append_method_frame(out, 1, ack);
  // Captured from pika 1.2.0 (see pika_capture_test.cc).
  EXPECT_EQ(out, std::string(
                     "\x01\x00\x01\x00\x00\x00\x0d\x00\x3c\x00\x50\0\0\0\0\0\0\0\x01\x00\xce", 21));
  std::string via_variant;
  append_method_frame(via_variant, 1, Method(ack));
  EXPECT_EQ(via_variant, out);
}

TEST(FrameWriter, SplitsBodiesAtFrameMaxMinusEight) {
  BasicProperties props;
  props.delivery_mode = 2;
  std::string encoded;
  Writer w(encoded);
  encode_properties(props, w);
  const uint32_t frame_max = 4096;
  for (size_t size : {size_t{1}, size_t{4087}, size_t{4088}, size_t{4089}, size_t{3 * 4088},
                      size_t{3 * 4088 + 1}}) {
    std::string body(size, '\0');
    for (size_t i = 0; i < size; ++i) body[i] = static_cast<char>(i * 7);
    std::string out = "prefix";
    append_content_frames(out, 5, 60, encoded, body, frame_max);
    ASSERT_EQ(out.substr(0, 6), "prefix");
    const auto frames = parse_all(std::string_view(out).substr(6), frame_max);
    const size_t body_frames = (size + 4087) / 4088;
    ASSERT_EQ(frames.size(), 1 + body_frames) << size;
    EXPECT_EQ(frames[0].type, FrameType::kHeader);
    ContentHeader h;
    ASSERT_TRUE(decode_content_header(frames[0].payload, h).ok());
    EXPECT_EQ(h.body_size, size);
    EXPECT_EQ(h.properties, props);
    std::string joined;
    for (size_t i = 1; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].type, FrameType::kBody);
      EXPECT_EQ(frames[i].channel, 5);
      EXPECT_LE(frames[i].payload.size() + kFrameOverhead, frame_max);
      if (i + 1 < frames.size()) {
        EXPECT_EQ(frames[i].payload.size(), 4088u);
      }
      joined += frames[i].payload;
    }
    EXPECT_EQ(joined, body);
  }
}

TEST(FrameWriter, EmptyBodySendsOnlyTheHeader) {
  std::string out;
  append_content_frames(out, 1, 60, std::string(2, '\0'), "", 4096);
  EXPECT_EQ(out, std::string("\x02\x00\x01\x00\x00\x00\x0e\x00\x3c\x00\x00"
                             "\0\0\0\0\0\0\0\0"
                             "\0\0\xce",
                             22));
}

TEST(FrameWriter, FrameMaxZeroSendsOneBodyFrame) {
  std::string out;
  append_content_frames(out, 1, 60, std::string(2, '\0'), std::string(300000, 'z'), 0);
  const auto frames = parse_all(out, 0);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].payload.size(), 300000u);
}

TEST(FrameWriter, BeginAndEndFrame) {
  std::string out;
  const size_t at = begin_frame(out, FrameType::kBody, 0x0102);
  out += "abc";
  end_frame(out, at);
  EXPECT_EQ(out, std::string("\x03\x01\x02\x00\x00\x00\x03"
                             "abc\xce",
                             11));
}

}  // namespace
}  // namespace burrow::protocol
