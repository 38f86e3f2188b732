// The frame error texts, byte for byte. "Observed" texts came back from RabbitMQ 3.10.8 (Debian
// package, OTP 25) in connection.close when raw frames were sent to it; the others were printed
// by `erl` (OTP 25.2.3) with RabbitMQ's format string:
//   io_lib:format("type ~p, ~s octets = ~p: ~p", [Type, Str, Bin, Error])
// (a differential run of 9000 random cases against erl matched before these were picked).
#include "protocol/erlang_text.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/protocol/hex.h"

namespace burrow::protocol {
namespace {

TEST(ErlangText, ObservedFromRabbitMq) {
  EXPECT_EQ(frame_too_large_text(3, 4097, 4096),
            "type 3, all octets = <<>>: {frame_too_large,4097,4088}");
  EXPECT_EQ(unknown_frame_text(5, "abc"), "type 5, all octets = <<\"abc\">>: unknown_frame");
  EXPECT_EQ(unknown_frame_text(8, "x"), "type 8, all octets = <<\"x\">>: unknown_frame");
  EXPECT_EQ(unknown_frame_text(1, std::string("\x00\x3c", 2)),
            "type 1, all octets = <<0,60>>: unknown_frame");
  // A basic.ack frame whose end octet is 0: the tuple no longer fits in 80 columns.
  EXPECT_EQ(invalid_frame_end_text(1,
                                   std::string("\x00\x3c\x00\x50"
                                               "\0\0\0\0\0\0\0\0\0",
                                               13),
                                   0),
            "type 1, all octets = <<0,60,0,80,0,0,0,0,0,0,0,0,0>>: {invalid_frame_end_marker,\n" +
                std::string(55, ' ') + "0}");
}

TEST(ErlangText, PrintableBinariesAreStrings) {
  EXPECT_EQ(invalid_frame_end_text(3, "\xfd\xd7\xa6", 25),
            "type 3, all octets = <<\"\xfd\xd7\xa6\">>: {invalid_frame_end_marker,25}");
  EXPECT_EQ(unknown_frame_text(3, "a\tb\x1b\"\\"),
            "type 3, all octets = <<\"a\\tb\\e\\\"\\\\\">>: unknown_frame");
  EXPECT_EQ(
      invalid_frame_end_text(1, "\x0c\x1b\x09\x1b\x09\x09\x09\x0c\x0c\n\x08\n\x0c\x0c\x08", 91),
      "type 1, all octets = <<\"\\f\\e\\t\\e\\t\\t\\t\\f\\f\\n\\b\\n\\f\\f\\b\">>: "
      "{invalid_frame_end_marker,\n" +
          std::string(60, ' ') + "91}");
  // Only the first 16 bytes are shown.
  EXPECT_EQ(unknown_frame_text(3, "0123456789abcdefXYZ"),
            "type 3, first 16 octets = <<\"0123456789abcdef\">>: unknown_frame");
}

TEST(ErlangText, LongBinariesAndTuplesBreakLikeIoLibPretty) {
  EXPECT_EQ(
      invalid_frame_end_text(3, testing::unhex("6464 0a 0000 80 0a 01 64 ff"), 57),
      "type 3, all octets = <<100,100,10,0,0,128,10,1,100,255>>: {invalid_frame_end_marker,\n" +
          std::string(59, ' ') + "57}");
  EXPECT_EQ(invalid_frame_end_text(
                255, testing::unhex("b4f7 336f cf68 f0d3 6a91 d6e0 b4c3 83e1 39ca 9ceb 67a5"), 243),
            "type 255, first 16 octets = <<180,247,51,111,207,104,240,211,106,145,214,224,\n" +
                std::string(30, ' ') + "180,195,131,225>>: {invalid_frame_end_marker,\n" +
                std::string(50, ' ') + "243}");
  EXPECT_EQ(unknown_frame_text(255, testing::unhex("ea 31cd 32c8 c028 e1ea eb95 ba08 aa52 84")),
            "type 255, all octets = <<234,49,205,50,200,192,40,225,234,235,149,186,8,170,82,\n" +
                std::string(25, ' ') + "132>>: unknown_frame");
  EXPECT_EQ(unexpected_frame_text(65, testing::unhex("05ded39304 39e7bfe317a2f8c548f7 64f8")),
            "type 65, first 16 octets = <<5,222,211,147,4,57,231,191,227,23,162,248,197,72,\n" +
                std::string(29, ' ') + "247,100>>");
}

TEST(ErlangText, FrameTooLargeNeverBreaks) {
  EXPECT_EQ(frame_too_large_text(255, 4294967295u, 4294967295u),
            "type 255, all octets = <<>>: {frame_too_large,4294967295,4294967287}");
  // Below 8 the limit RabbitMQ prints goes negative; it never negotiates such a frame_max.
  EXPECT_EQ(frame_too_large_text(1, 9, 0), "type 1, all octets = <<>>: {frame_too_large,9,-8}");
}

TEST(ErlangText, CannotDecodeUsesTildeW) {
  EXPECT_EQ(cannot_decode_text(std::string("\0\0\0\0\0\0\0\x01\0\x07", 10)),
            "cannot decode <<0,0,0,0,0,0,0,1,0,7>>");  // observed: basic.ack with a trailing byte
  EXPECT_EQ(cannot_decode_text(""), "cannot decode <<>>");
  EXPECT_EQ(cannot_decode_text("abc"), "cannot decode <<97,98,99>>");  // ~w: never a string
  // A huge argument list renders only what a reply text can show.
  const std::string text = cannot_decode_text(std::string(1 << 20, '\xff'));
  EXPECT_GT(text.size(), 255u);
  EXPECT_LT(text.size(), 270u);
}

}  // namespace
}  // namespace burrow::protocol
