#include "holomush/common/utf8.hpp"

#include <gtest/gtest.h>

namespace holomush::common {
namespace {

TEST(Utf8Test, ValidTextIsUnchanged) {
  EXPECT_EQ(SanitizeUtf8("plain"), "plain");
  EXPECT_EQ(SanitizeUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(Utf8Test, EachInvalidByteBecomesOneReplacement) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xC3"), "\xEF\xBF\xBD");                                  // truncated
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(SanitizeUtf8("\xF4\x90\x80\x80").size(), 12u);  // above U+10FFFF
}

TEST(Utf8Test, NeverThrowsOnAnyByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  auto out = SanitizeUtf8(all);
  EXPECT_EQ(SanitizeUtf8(out), out);  // the output is valid: a second pass changes nothing
}

}  // namespace
}  // namespace holomush::common
