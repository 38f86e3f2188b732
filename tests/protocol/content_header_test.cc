// Content headers: the 14 basic properties in spec order, flags, continuation words, raw bytes.
#include "protocol/content_header.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/protocol/hex.h"

namespace burrow::protocol {
namespace {

BasicProperties all_properties() {
  BasicProperties p;
  p.content_type = "text/plain";
  p.content_encoding = "gzip";
  p.headers = FieldTable{{"h", 1}};
  p.delivery_mode = 2;
  p.priority = 9;
  p.correlation_id = "c";
  p.reply_to = "r";
  p.expiration = "60000";
  p.message_id = "m";
  p.timestamp = 0x0102030405060708ull;
  p.type = "t";
  p.user_id = "u";
  p.app_id = "a";
  p.cluster_id = "cl";
  return p;
}

std::string encode(const BasicProperties& p) {
  std::string out;
  Writer w(out);
  encode_properties(p, w);
  return out;
}

std::string header_payload(std::string_view properties, uint64_t body_size = 5) {
  std::string out;
  Writer w(out);
  encode_content_header(60, body_size, properties, w);
  return out;
}

TEST(ContentHeader, AllFourteenPropertiesInSpecOrder) {
  const std::string expected = testing::unhex(
      "fffc"                       // all flags but bit 1 (unused), bit 0 (continuation)
      "0a 746578742f706c61696e"    // content-type "text/plain"
      "04 677a6970"                // content-encoding "gzip"
      "00000007 0168 49 00000001"  // headers {h: 1}
      "02"                         // delivery-mode
      "09"                         // priority
      "01 63"                      // correlation-id "c"
      "01 72"                      // reply-to "r"
      "05 3630303030"              // expiration "60000"
      "01 6d"                      // message-id "m"
      "0102030405060708"           // timestamp
      "01 74"                      // type "t"
      "01 75"                      // user-id "u"
      "01 61"                      // app-id "a"
      "02 636c");                  // reserved (cluster-id) "cl"
  EXPECT_EQ(encode(all_properties()), expected);

  ContentHeader h;
  const std::string payload = header_payload(expected);
  ASSERT_TRUE(decode_content_header(payload, h).ok());
  EXPECT_EQ(h.class_id, 60);
  EXPECT_EQ(h.weight, 0);
  EXPECT_EQ(h.body_size, 5u);
  EXPECT_EQ(h.properties, all_properties());
  EXPECT_EQ(h.raw_properties, expected);
  EXPECT_EQ(h.raw_properties.data(), payload.data() + 12);  // a view into the payload
}

TEST(ContentHeader, NoProperties) {
  EXPECT_EQ(encode(BasicProperties{}), std::string(2, '\0'));
  ContentHeader h;
  h.properties.priority = 3;  // decode resets what is absent
  const std::string payload = header_payload(std::string(2, '\0'), 0);
  EXPECT_EQ(payload, std::string("\x00\x3c\x00\x00"
                                 "\0\0\0\0\0\0\0\0"
                                 "\0\0",
                                 14));
  ASSERT_TRUE(decode_content_header(payload, h).ok());
  EXPECT_EQ(h.properties, BasicProperties{});
  EXPECT_EQ(h.body_size, 0u);
}

TEST(ContentHeader, EachPropertyAlone) {
  const BasicProperties all = all_properties();
  for (int i = 0; i < 14; ++i) {
    BasicProperties p;
    switch (i) {
      case 0:
        p.content_type = all.content_type;
        break;
      case 1:
        p.content_encoding = all.content_encoding;
        break;
      case 2:
        p.headers = all.headers;
        break;
      case 3:
        p.delivery_mode = all.delivery_mode;
        break;
      case 4:
        p.priority = all.priority;
        break;
      case 5:
        p.correlation_id = all.correlation_id;
        break;
      case 6:
        p.reply_to = all.reply_to;
        break;
      case 7:
        p.expiration = all.expiration;
        break;
      case 8:
        p.message_id = all.message_id;
        break;
      case 9:
        p.timestamp = all.timestamp;
        break;
      case 10:
        p.type = all.type;
        break;
      case 11:
        p.user_id = all.user_id;
        break;
      case 12:
        p.app_id = all.app_id;
        break;
      case 13:
        p.cluster_id = all.cluster_id;
        break;
    }
    const std::string bytes = encode(p);
    EXPECT_EQ(uint8_t(bytes[0]) << 8 | uint8_t(bytes[1]), 0x8000 >> i) << i;
    Reader r(bytes);
    BasicProperties back;
    ASSERT_TRUE(decode_properties(r, back).ok()) << i;
    EXPECT_EQ(back, p) << i;
    EXPECT_EQ(r.remaining(), 0u);
  }
}

TEST(ContentHeader, IgnoresTheContinuationBitAsRabbitMQDoes) {
  // RabbitMQ 3.10.8 reads properties right after the first flags word whatever its bit 0 says
  // (observed: a continuation word is refused as trailing bytes, test_raw_protocol.py
  // ContentPropertiesTest).
  const std::string bytes(
      "\x08\x01"
      "\x07",
      3);
  Reader r(bytes);
  BasicProperties p;
  ASSERT_TRUE(decode_properties(r, p).ok());
  EXPECT_EQ(p.priority, uint8_t{7});
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ContentHeader, AContinuationWordIsTrailingBytes) {
  ContentHeader h;
  EXPECT_EQ(decode_content_header(header_payload(std::string("\x00\x01\x00\x00", 4)), h).code(),
            StatusCode::kSyntaxError);
  EXPECT_EQ(decode_content_header(header_payload(std::string("\x00\x01\x80\x00", 4)), h).code(),
            StatusCode::kSyntaxError);
}

TEST(ContentHeader, RejectsBytesAfterTheProperties) {
  // RabbitMQ's generated decode_properties/2 ends with `<<>> = R14`.
  ContentHeader h;
  EXPECT_EQ(decode_content_header(header_payload(std::string("\0\0x", 3)), h).code(),
            StatusCode::kSyntaxError);
}

TEST(ContentHeader, TruncatedAtEveryOffsetFails) {
  const std::string payload = header_payload(encode(all_properties()));
  for (size_t n = 0; n < payload.size(); ++n) {
    ContentHeader h;
    EXPECT_EQ(decode_content_header(payload.substr(0, n), h).code(), StatusCode::kSyntaxError) << n;
  }
}

TEST(ContentHeader, ForwardsRawPropertiesUnchanged) {
  const std::string properties = encode(all_properties());
  ContentHeader h;
  const std::string payload = header_payload(properties, 1u << 20);
  ASSERT_TRUE(decode_content_header(payload, h).ok());
  EXPECT_EQ(header_payload(h.raw_properties, h.body_size), payload);
}

}  // namespace
}  // namespace burrow::protocol
