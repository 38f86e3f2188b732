// is_rabbit_utf8 against what xmerl_ucs:from_utf8/1 (OTP 25, RabbitMQ 3.10.8's runtime) was seen
// to accept and reject.
#include "protocol/utf8.h"

#include <string>

#include <gtest/gtest.h>

namespace burrow::protocol {
namespace {

TEST(RabbitUtf8, AcceptsWhatXmerlAccepts) {
  for (const std::string& s :
       {std::string(""), std::string("abc"), std::string("\0", 1), std::string("\xc2\x80"),
        std::string("\xc3\xa9"), std::string("\xdf\xbf"), std::string("\xe0\xa0\x80"),
        std::string("\xed\x9f\xbf"), std::string("\xed\xa0\x80"),  // surrogate
        std::string("\xee\x80\x80"), std::string("\xef\xbf\xbe"), std::string("\xef\xbf\xbf"),
        std::string("\xf0\x9f\x98\x80"), std::string("\xf4\x8f\xbf\xbf"),
        std::string("\xf4\x90\x80\x80"), std::string("\xf5\x80\x80\x80"),
        std::string("\xf7\xbf\xbf\xbf")}) {
    EXPECT_TRUE(is_rabbit_utf8(s)) << testing::PrintToString(s);
  }
}

TEST(RabbitUtf8, RejectsWhatXmerlRejects) {
  for (const std::string& s :
       {std::string("\xc0\x80"), std::string("\xc1\xbf"), std::string("\xe0\x80\x80"),
        std::string("\xf0\x80\x80\x80"), std::string("\xf8\x88\x80\x80\x80"), std::string("\xfe"),
        std::string("\xff"), std::string("\x80"), std::string("\xc3"), std::string("\xc2\xc0"),
        std::string("\xe1\x80"), std::string("ok\xff")}) {
    EXPECT_FALSE(is_rabbit_utf8(s)) << testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace burrow::protocol
