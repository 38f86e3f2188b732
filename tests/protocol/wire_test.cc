// Reader/Writer primitives: big-endian layout, bounds checks, no allocation from a hostile length.
#include "protocol/wire.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/protocol/hex.h"

namespace burrow::protocol {
namespace {

TEST(Writer, WritesBigEndian) {
  std::string out;
  Writer w(out);
  w.put_u8(0x01);
  w.put_u16(0x0203);
  w.put_u32(0x04050607);
  w.put_u64(0x08090a0b0c0d0e0full);
  w.put_shortstr("ab");
  w.put_longstr(std::string("\0c", 2));
  EXPECT_EQ(out, testing::unhex("01 0203 04050607 08090a0b0c0d0e0f 02 6162 00000002 0063"));
}

TEST(Reader, ReadsWhatWriterWrote) {
  std::string out;
  Writer w(out);
  w.put_u8(0xfe);
  w.put_u16(0xfedc);
  w.put_u32(0xfedcba98);
  w.put_u64(0xfedcba9876543210ull);
  w.put_shortstr(std::string(255, 's'));
  w.put_longstr(std::string(70000, 'l'));
  Reader r(out);
  uint8_t a = 0;
  uint16_t b = 0;
  uint32_t c = 0;
  uint64_t d = 0;
  std::string e, f;
  ASSERT_TRUE(r.read_u8(a).ok());
  ASSERT_TRUE(r.read_u16(b).ok());
  ASSERT_TRUE(r.read_u32(c).ok());
  ASSERT_TRUE(r.read_u64(d).ok());
  ASSERT_TRUE(r.read_shortstr(e).ok());
  ASSERT_TRUE(r.read_longstr(f).ok());
  EXPECT_EQ(a, 0xfe);
  EXPECT_EQ(b, 0xfedc);
  EXPECT_EQ(c, 0xfedcba98u);
  EXPECT_EQ(d, 0xfedcba9876543210ull);
  EXPECT_EQ(e, std::string(255, 's'));
  EXPECT_EQ(f, std::string(70000, 'l'));
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Reader, UnderflowIsSyntaxErrorAndLeavesReaderAtEnd) {
  const std::string bytes("\x00\x01\x02", 3);
  Reader r(bytes);
  uint32_t v = 0;
  Status s = r.read_u32(v);
  EXPECT_EQ(s.code(), StatusCode::kSyntaxError);
  EXPECT_TRUE(is_truncated(s));
  EXPECT_EQ(r.remaining(), 0u);
  uint8_t octet = 0;
  EXPECT_FALSE(r.read_u8(octet).ok());
}

TEST(Reader, HugeDeclaredLengthsFailWithoutAllocating) {
  // A long string claiming 4 GB, followed by 3 bytes. The check happens before any copy; under
  // ASan a 4 GB allocation would abort the test.
  const std::string longstr = testing::unhex("ffffffff 616263");
  Reader r(longstr);
  std::string s;
  EXPECT_TRUE(is_truncated(r.read_longstr(s)));
  EXPECT_TRUE(s.empty());

  const std::string shortstr = testing::unhex("ff 616263");
  Reader r2(shortstr);
  EXPECT_TRUE(is_truncated(r2.read_shortstr(s)));

  Reader r3(shortstr);
  std::string_view view;
  EXPECT_TRUE(is_truncated(r3.read_bytes(5, view)));
  Reader r4(shortstr);
  EXPECT_TRUE(is_truncated(r4.skip(size_t{1} << 40)));
}

TEST(Reader, BytesAndSkipAreViews) {
  const std::string bytes = "hello world";
  Reader r(bytes);
  std::string_view v;
  ASSERT_TRUE(r.skip(6).ok());
  ASSERT_TRUE(r.read_bytes(5, v).ok());
  EXPECT_EQ(v, "world");
  EXPECT_EQ(v.data(), bytes.data() + 6);
}

TEST(Writer, PatchU32) {
  std::string out = "xxxxyy";
  Writer w(out);
  w.patch_u32(1, 0x01020304);
  EXPECT_EQ(out, "x\x01\x02\x03\x04y");
}

}  // namespace
}  // namespace burrow::protocol
