// Field tables: every value type RabbitMQ accepts, exact bytes, nesting, 'L', and hostile input.
#include "protocol/field_table_codec.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "tests/protocol/hex.h"

namespace burrow::protocol {
namespace {

std::string encode(const FieldTable& t) {
  std::string out;
  Writer w(out);
  encode_table(t, w);
  return out;
}

Result<FieldTable> decode(std::string_view bytes, size_t* left = nullptr) {
  Reader r(bytes);
  FieldTable t;
  Status s = decode_table(r, t);
  if (left) *left = r.remaining();
  if (!s.ok()) return s;
  return t;
}

// One entry of every type, in type letter order.
FieldTable every_type() {
  return FieldTable{
      {"t", true},
      {"b", int8_t{-2}},
      {"B", uint8_t{254}},
      {"s", int16_t{-300}},
      {"u", uint16_t{65000}},
      {"I", int32_t{-70000}},
      {"i", uint32_t{4000000000u}},
      {"l", int64_t{-5000000000}},
      {"f", 1.5f},
      {"d", -2.25},
      {"D", Decimal{2, 12345}},
      {"S", std::string("long\0string", 11)},
      {"x", Bytes{std::string("\x00\xff", 2)}},
      {"A", FieldArray{int32_t{1}, std::string("two"), FieldArray{}, FieldTable{{"k", Void{}}}}},
      {"T", Timestamp{1700000000}},
      {"F", FieldTable{{"inner", false}}},
      {"V", Void{}},
  };
}

TEST(FieldTableCodec, EveryTypeHasItsExactBytes) {
  const std::string expected = testing::unhex(
      "000000a2"                                   // table size 162
      "01 74  74 01"                               // "t": bool
      "01 62  62 fe"                               // "b": int8
      "01 42  42 fe"                               // "B": uint8
      "01 73  73 fed4"                             // "s": int16
      "01 75  75 fde8"                             // "u": uint16
      "01 49  49 fffeee90"                         // "I": int32
      "01 69  69 ee6b2800"                         // "i": uint32
      "01 6c  6c fffffffed5fa0e00"                 // "l": int64
      "01 66  66 3fc00000"                         // "f": float
      "01 64  64 c002000000000000"                 // "d": double
      "01 44  44 02 00003039"                      // "D": decimal, scale then value
      "01 53  53 0000000b 6c6f6e6700737472696e67"  // "S": long string "long\0string"
      "01 78  78 00000002 00ff"                    // "x": bytes
      "01 41  41 0000001a"                         // "A": array of 26 bytes:
      "49 00000001  53 00000003 74776f"            //   int32 1, string "two",
      "41 00000000  46 00000003 016b56"            //   empty array, table {k: void}
      "01 54  54 000000006553f100"                 // "T": timestamp
      "01 46  46 00000008 05696e6e6572 7400"       // "F": table {inner: false}
      "01 56  56");                                // "V": void
  EXPECT_EQ(encode(every_type()), expected);
  auto decoded = decode(expected);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, every_type());
}

TEST(FieldTableCodec, KeepsEntryOrderAndDuplicates) {
  FieldTable t{{"z", 1}, {"a", 2}, {"z", 3}};
  auto decoded = decode(encode(t));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, t);
}

TEST(FieldTableCodec, UnsignedLongDecodesAsSignedAndReencodesAsL) {
  // RabbitMQ: parse_table(<<..., $L, Value:64/signed, ...>>) -> {Name, long, Value}.
  const std::string bytes(
      "\x00\x00\x00\x0b\x01n"
      "L\xff\xff\xff\xff\xff\xff\xff\xfe",
      15);
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded.ok());
  ASSERT_NE(decoded->find("n"), nullptr);
  EXPECT_EQ(*decoded->find("n"), FieldValue(int64_t{-2}));
  std::string reencoded = bytes;
  reencoded[6] = 'l';
  EXPECT_EQ(encode(*decoded), reencoded);
}

TEST(FieldTableCodec, AnyNonZeroBoolOctetIsTrue) {
  auto decoded =
      decode(std::string("\x00\x00\x00\x04\x01t"
                         "t\x07",
                         8));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded->find("t"), FieldValue(true));
}

TEST(FieldTableCodec, FloatsKeepTheirBits) {
  FieldTable t{{"nan", std::numeric_limits<double>::quiet_NaN()},
               {"inf", -std::numeric_limits<float>::infinity()}};
  std::string bytes = encode(t);
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(std::isnan(*decoded->find("nan")->get_if<double>()));
  EXPECT_EQ(encode(*decoded), bytes);
}

TEST(FieldTableCodec, ArraysRoundTrip) {
  FieldArray a{true, int8_t{-1}, FieldArray{FieldArray{std::string("deep")}}, Timestamp{5}};
  std::string out;
  Writer w(out);
  encode_array(a, w);
  Reader r(out);
  FieldArray back;
  ASSERT_TRUE(decode_array(r, back).ok());
  EXPECT_EQ(back, a);
  EXPECT_EQ(r.remaining(), 0u);
}

// A table nested `depth` levels deep (the outer table is level 1), alternating tables and
// arrays below it.
FieldTable nested(int depth) {
  FieldValue v = int32_t{7};
  for (int level = depth; level > 1; --level) {
    if (level % 2 == 0) {
      v = FieldTable{{"t", std::move(v)}};
    } else {
      v = FieldArray{std::move(v)};
    }
  }
  return FieldTable{{"top", std::move(v)}};
}

TEST(FieldTableCodec, AcceptsNestingUpToTheLimit) {
  const FieldTable t = nested(kMaxFieldTableDepth);
  auto decoded = decode(encode(t));
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, t);
}

TEST(FieldTableCodec, RejectsNestingBeyondTheLimit) {
  auto decoded = decode(encode(nested(kMaxFieldTableDepth + 1)));
  EXPECT_EQ(decoded.status().code(), StatusCode::kSyntaxError);
  EXPECT_EQ(decoded.status().message(), "field tables nested too deeply");

  // Deep enough to overflow the stack without the limit: 100000 empty-array wrappers.
  std::string deep;
  const int levels = 100000;
  deep.reserve(levels * 5 + 16);
  Writer w(deep);
  w.put_u32(0);
  w.put_shortstr("a");
  for (int i = 0; i < levels; ++i) {
    w.put_u8('A');
    w.put_u32(0);
  }
  for (int i = levels - 1; i >= 0; --i) {  // each array holds the rest
    const size_t at = 4 + 2 + size_t(i) * 5 + 1;
    w.patch_u32(at, static_cast<uint32_t>(deep.size() - at - 4));
  }
  w.patch_u32(0, static_cast<uint32_t>(deep.size() - 4));
  EXPECT_EQ(decode(deep).status().code(), StatusCode::kSyntaxError);
}

TEST(FieldTableCodec, RejectsUnknownTypeOctet) {
  auto decoded = decode(std::string("\x00\x00\x00\x04\x01kZ\x00", 8));
  EXPECT_EQ(decoded.status().code(), StatusCode::kSyntaxError);
  EXPECT_EQ(decoded.status().message(), "unknown field type octet 90");
}

TEST(FieldTableCodec, TruncatedInputFailsAtEveryOffset) {
  const std::string bytes = encode(every_type());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(decode(bytes.substr(0, n)).status().code(), StatusCode::kSyntaxError) << n;
  }
  // Cutting the table short inside while fixing up its size: entries end early.
  for (size_t n = 4; n < bytes.size(); ++n) {
    std::string cut = bytes.substr(0, n);
    Writer(cut).patch_u32(0, static_cast<uint32_t>(n - 4));
    auto decoded = decode(cut);
    if (decoded.ok()) {
      // Only a cut between two entries yields a valid (shorter) table.
      EXPECT_LT(decoded->size(), every_type().size()) << n;
    } else {
      EXPECT_EQ(decoded.status().code(), StatusCode::kSyntaxError) << n;
    }
  }
}

TEST(FieldTableCodec, HugeDeclaredLengthsDoNotAllocate) {
  // Under ASan, allocating what these declare would abort.
  EXPECT_FALSE(decode(std::string("\xff\xff\xff\xff", 4)).ok());
  EXPECT_FALSE(decode(std::string("\x00\x00\x00\x07\x01kS\xff\xff\xff\xff", 11)).ok());
  EXPECT_FALSE(decode(std::string("\x00\x00\x00\x07\x01kx\xff\xff\xff\xf0", 11)).ok());
  EXPECT_FALSE(decode(std::string("\x00\x00\x00\x07\x01k"
                                  "A\xff\xff\xff\xff",
                                  11))
                   .ok());
  EXPECT_FALSE(decode(std::string("\x00\x00\x00\x07\x01k"
                                  "F\x7f\xff\xff\xff",
                                  11))
                   .ok());
}

TEST(FieldTableCodec, DecodeReplacesPreviousEntriesAndStopsAtTheTable) {
  const std::string bytes = encode(FieldTable{{"a", 1}}) + "tail";
  FieldTable t{{"old", 1}};
  Reader r(bytes);
  ASSERT_TRUE(decode_table(r, t).ok());
  EXPECT_EQ(t, (FieldTable{{"a", 1}}));
  EXPECT_EQ(r.remaining(), 4u);
}

TEST(FieldTableCodec, EmptyTable) {
  EXPECT_EQ(encode(FieldTable{}), std::string(4, '\0'));
  auto decoded = decode(std::string(4, '\0'));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

}  // namespace
}  // namespace burrow::protocol
