// Key layouts (storage/keys.h): exact bytes, numeric order of big-endian fields, unambiguous
// length-prefixed names, prefix ranges.
#include <string>

#include <gtest/gtest.h>

#include "storage/keys.h"

namespace burrow::storage {
namespace {

TEST(Keys, MessageKeyIsQueueIdThenSequenceBigEndian) {
  const std::string key = message_key(0x0102030405060708, 0x1112131415161718);
  EXPECT_EQ(key, std::string("\x01\x02\x03\x04\x05\x06\x07\x08"
                             "\x11\x12\x13\x14\x15\x16\x17\x18",
                             16));
  EXPECT_EQ(message_prefix(0x0102030405060708), key.substr(0, 8));
  auto decoded = decode_message_key(key);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->queue_id, 0x0102030405060708u);
  EXPECT_EQ(decoded->seq, 0x1112131415161718u);
}

TEST(Keys, MessageKeysSortBySequenceWithinAQueueAndQueuesAreContiguous) {
  EXPECT_LT(message_key(1, 255), message_key(1, 256));
  EXPECT_LT(message_key(1, 0x7fffffffffffffff), message_key(1, 0x8000000000000000));
  EXPECT_LT(message_key(1, UINT64_MAX), message_key(2, 0));
  EXPECT_LT(message_key(1, UINT64_MAX), prefix_successor(message_prefix(1)));
  EXPECT_EQ(prefix_successor(message_prefix(1)), message_prefix(2));
}

TEST(Keys, DecodeRefusesKeysOfTheWrongSize) {
  EXPECT_FALSE(decode_message_key("short").has_value());
  EXPECT_FALSE(decode_message_key(std::string(17, 'x')).has_value());
  EXPECT_FALSE(decode_outbox_key(std::string(9, 'x')).has_value());
  EXPECT_EQ(decode_outbox_key(outbox_key(77)), 77u);
}

TEST(Keys, NamesAreLengthPrefixedSoNoTwoRecordsShareAKey) {
  // Without length prefixes ("a" + "bc") and ("ab" + "c") would collide.
  EXPECT_NE(queue_key("a", "bc"), queue_key("ab", "c"));
  EXPECT_NE(exchange_key("a", "bc"), exchange_key("ab", "c"));
  EXPECT_EQ(queue_key("/", "q"), std::string("q\x01/q"));
  EXPECT_TRUE(queue_key("/", "orders").starts_with(queue_prefix("/")));
  EXPECT_FALSE(queue_key("/x", "orders").starts_with(queue_prefix("/")));
  EXPECT_NE(binding_key("v", "src", BindingDestination::kQueue, "d", "rk", ""),
            binding_key("v", "src", BindingDestination::kExchange, "d", "rk", ""));
  EXPECT_NE(binding_key("v", "s", BindingDestination::kQueue, "d", "rk", ""),
            binding_key("v", "s", BindingDestination::kQueue, "d", "rk", "args"));
  EXPECT_TRUE(binding_key("v", "s", BindingDestination::kQueue, "d", "rk", "")
                  .starts_with(binding_source_prefix("v", "s")));
  EXPECT_NE(inbox_key("ab", "c"), inbox_key("a", "bc"));
}

TEST(Keys, LongNamesGetMultiByteLengths) {
  const std::string vhost(300, 'v');
  const std::string key = queue_key(vhost, "q");
  EXPECT_EQ(key.size(), 1u + 2u + 300u + 1u);
  EXPECT_TRUE(key.starts_with(queue_prefix(vhost)));
  EXPECT_NE(queue_key(vhost, "q"), queue_key(std::string(299, 'v'), "vq"));
}

TEST(Keys, EachMetadataKindHasItsOwnTag) {
  EXPECT_EQ(vhost_key("/")[0], 'v');
  EXPECT_EQ(user_key("guest")[0], 'u');
  EXPECT_EQ(permission_key("/", "guest")[0], 'p');
  EXPECT_EQ(exchange_key("/", "x")[0], 'x');
  EXPECT_EQ(queue_key("/", "q")[0], 'q');
  EXPECT_EQ(queue_head_key(1)[0], 'h');
  EXPECT_EQ(binding_prefix("/")[0], 'b');
  EXPECT_EQ(policy_key("/", "p")[0], 'P');
  EXPECT_EQ(metadata_prefix(MetadataKind::kQueue), "q");
  EXPECT_EQ(queue_head_key(1).size(), 9u);
}

TEST(Keys, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor("abc"), "abd");
  EXPECT_EQ(prefix_successor(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(prefix_successor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(prefix_successor(""), "");
}

TEST(Keys, BigEndianHelpersRoundTrip) {
  std::string out;
  put_u64_be(out, 0xdeadbeefcafef00d);
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0xde);
  EXPECT_EQ(get_u64_be(out.data()), 0xdeadbeefcafef00du);
}

}  // namespace
}  // namespace burrow::storage
