// FrameReader: incremental parsing and RabbitMQ 3.10.8's frame checks with its reply texts.
#include "protocol/frame.h"

#include <string>

#include <gtest/gtest.h>

#include "protocol/frame_writer.h"

namespace burrow::protocol {
namespace {

std::string frame(uint8_t type, uint16_t channel, std::string_view payload,
                  char end = static_cast<char>(kFrameEnd)) {
  std::string out;
  Writer w(out);
  w.put_u8(type);
  w.put_u16(channel);
  w.put_u32(static_cast<uint32_t>(payload.size()));
  w.put_bytes(payload);
  out.push_back(end);
  return out;
}

TEST(FrameReader, ParsesOneFrameAndReportsItsSize) {
  const std::string bytes = frame(1, 7, std::string("\x00\x3c\x00\x50payload", 11)) + "next";
  Frame f;
  auto used = FrameReader(4096).parse(bytes, f);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, bytes.size() - 4);
  EXPECT_EQ(f.type, FrameType::kMethod);
  EXPECT_EQ(f.channel, 7);
  EXPECT_EQ(f.payload, std::string_view("\x00\x3c\x00\x50payload", 11));
  EXPECT_EQ(f.payload.data(), bytes.data() + 7);  // no copy
}

TEST(FrameReader, NeedsMoreAtEverySplitPoint) {
  std::string stream;
  append_heartbeat(stream);
  stream += frame(1, 1, std::string("\x00\x14\x00\x0a\x00", 5));
  stream += frame(2, 1, std::string(14, '\0'));
  stream += frame(3, 1, "body bytes");
  stream += frame(3, 1, "");
  const FrameReader reader(4096);
  // Feed the stream in two pieces split at every offset: the reader must report 0 ("need more")
  // for every incomplete prefix and yield the same frames as in one piece.
  for (size_t split = 0; split <= stream.size(); ++split) {
    std::string buffer = stream.substr(0, split);
    size_t fed = split;
    int frames = 0;
    while (true) {
      Frame f;
      auto used = reader.parse(buffer, f);
      ASSERT_TRUE(used.ok()) << used.status().to_string();
      if (*used == 0) {
        if (fed == stream.size()) break;
        buffer += stream.substr(fed);
        fed = stream.size();
        continue;
      }
      ++frames;
      buffer.erase(0, *used);
    }
    EXPECT_EQ(frames, 5) << split;
    EXPECT_TRUE(buffer.empty()) << split;
  }
}

TEST(FrameReader, AcceptsPayloadOfExactlyFrameMax) {
  // RabbitMQ: error only when PayloadSize > FrameMax - ?EMPTY_FRAME_SIZE + ?FRAME_SIZE_FUDGE,
  // i.e. PayloadSize > FrameMax (observed: 4096 bytes of body with frame_max 4096 pass).
  const std::string bytes = frame(3, 1, std::string(4096, 'b'));
  Frame f;
  auto used = FrameReader(4096).parse(bytes, f);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 4096u + 8);
}

TEST(FrameReader, RejectsPayloadOverFrameMaxFromTheHeaderAlone) {
  // Only the 7-byte header is there: the check does not wait for the payload.
  const std::string header = frame(3, 1, std::string(4097, 'b')).substr(0, 7);
  Frame f;
  auto used = FrameReader(4096).parse(header, f);
  EXPECT_EQ(used.status().code(), StatusCode::kFrameError);
  // Observed: "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,4097,4088}".
  EXPECT_EQ(used.status().message(), "type 3, all octets = <<>>: {frame_too_large,4097,4088}");
}

TEST(FrameReader, DefaultLimitIsTheMinimumFrameSize) {
  Frame f;
  const std::string header = frame(1, 0, std::string(4097, 'x')).substr(0, 7);
  EXPECT_FALSE(FrameReader().parse(header, f).ok());
  FrameReader tuned;
  tuned.set_frame_max(131072);
  EXPECT_EQ(tuned.frame_max(), 131072u);
  auto used = tuned.parse(header, f);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 0u);
}

TEST(FrameReader, FrameMaxZeroMeansNoLimitAndAHugeSizeJustWaits) {
  const std::string header("\x03\x00\x01\xff\xff\xff\xff", 7);
  Frame f;
  auto used = FrameReader(0).parse(header, f);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 0u);
}

TEST(FrameReader, RejectsBadFrameEnd) {
  // Observed on RabbitMQ 3.10.8 for a basic.ack frame ending in 0x00 instead of 0xCE.
  const std::string bytes = frame(1, 1, std::string("\x00\x3c\x00\x50\0\0\0\0\0\0\0\0\0", 13), 0);
  Frame f;
  auto used = FrameReader(131072).parse(bytes, f);
  EXPECT_EQ(used.status().code(), StatusCode::kFrameError);
  EXPECT_EQ(used.status().message(),
            "type 1, all octets = <<0,60,0,80,0,0,0,0,0,0,0,0,0>>: {invalid_frame_end_marker,\n" +
                std::string(55, ' ') + "0}");
}

TEST(FrameReader, BadFrameEndIsCheckedBeforeTheType) {
  Frame f;
  auto used = FrameReader(4096).parse(frame(5, 1, "abc", 'x'), f);
  EXPECT_EQ(used.status().message(),
            "type 5, all octets = <<\"abc\">>: {invalid_frame_end_marker,120}");
}

TEST(FrameReader, RejectsUnknownAndMalformedFrameTypes) {
  const FrameReader reader(4096);
  struct Case {
    std::string bytes;
    std::string text;
  } cases[] = {
      // Observed on RabbitMQ 3.10.8.
      {frame(5, 1, "abc"), "type 5, all octets = <<\"abc\">>: unknown_frame"},
      {frame(8, 0, "x"), "type 8, all octets = <<\"x\">>: unknown_frame"},
      {frame(1, 1, std::string("\x00\x3c", 2)), "type 1, all octets = <<0,60>>: unknown_frame"},
      // rabbit_command_assembler:analyze_frame/3 needs 14 bytes for a content header.
      {frame(2, 1, std::string(13, '\0')),
       "type 2, all octets = <<0,0,0,0,0,0,0,0,0,0,0,0,0>>: unknown_frame"},
      {frame(0, 0, ""), "type 0, all octets = <<>>: unknown_frame"},
  };
  for (const Case& c : cases) {
    Frame f;
    auto used = reader.parse(c.bytes, f);
    EXPECT_EQ(used.status().code(), StatusCode::kFrameError) << c.text;
    EXPECT_EQ(used.status().message(), c.text);
    // The frame is still described, so a server can ignore it where RabbitMQ does (a closing
    // connection) or report it differently (a frame on a channel before connection.open).
    EXPECT_EQ(static_cast<uint8_t>(f.type), static_cast<uint8_t>(c.bytes[0]));
    EXPECT_EQ(f.payload.size(), c.bytes.size() - kFrameOverhead);
  }
}

TEST(FrameReader, ShowsOnlyTheFirst16PayloadBytes) {
  Frame f;
  auto used = FrameReader(4096).parse(frame(9, 1, "0123456789abcdefTAIL"), f);
  EXPECT_EQ(used.status().message(),
            "type 9, first 16 octets = <<\"0123456789abcdef\">>: unknown_frame");
}

TEST(FrameReader, HeartbeatAndEmptyBody) {
  std::string bytes;
  append_heartbeat(bytes);
  EXPECT_EQ(bytes, std::string("\x08\x00\x00\x00\x00\x00\x00\xce", 8));
  Frame f;
  auto used = FrameReader().parse(bytes, f);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 8u);
  EXPECT_EQ(f.type, FrameType::kHeartbeat);
  EXPECT_TRUE(f.payload.empty());
}

}  // namespace
}  // namespace burrow::protocol
