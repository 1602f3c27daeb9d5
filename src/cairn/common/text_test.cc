#include "cairn/common/text.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

TEST(QuoteForMessageTest, PrintableAndUtf8PassThrough) {
  EXPECT_EQ(QuoteForMessage("abc 123"), "\"abc 123\"");
  EXPECT_EQ(QuoteForMessage("caf\xc3\xa9 \xe6\x97\xa5"), "\"caf\xc3\xa9 \xe6\x97\xa5\"");
}

TEST(QuoteForMessageTest, EscapesQuotesControlsAndInvalidBytes) {
  EXPECT_EQ(QuoteForMessage("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteForMessage(std::string("\t\n\0\x7f", 4)), "\"\\x09\\x0a\\x00\\x7f\"");
  EXPECT_EQ(QuoteForMessage("\xff\xc3"), "\"\\xff\\xc3\"");
  EXPECT_EQ(QuoteForMessage("\xc2\x85"), "\"\\xc2\\x85\"");           // C1 control NEL
  EXPECT_EQ(QuoteForMessage("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");  // surrogate
}

TEST(QuoteForMessageTest, CutsLongText) {
  std::string quoted = QuoteForMessage(std::string(200, 'x'), 10);
  EXPECT_EQ(quoted, "\"xxxxxxxxxx\"… (200 bytes)");
  // A UTF-8 sequence cut by the limit is shown as bytes, not split silently.
  EXPECT_EQ(QuoteForMessage("ab\xc3\xa9", 3), "\"ab\\xc3\"… (4 bytes)");
}

TEST(Utf8SequenceLengthTest, Validates) {
  auto len = [](std::string_view s) {
    return Utf8SequenceLength(reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  EXPECT_EQ(len("a"), 1u);
  EXPECT_EQ(len("\xc3\xa9"), 2u);
  EXPECT_EQ(len("\xe6\x97\xa5"), 3u);
  EXPECT_EQ(len("\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(len("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(len("\xe0\x80\xaf"), 0u);      // overlong
  EXPECT_EQ(len("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(len("\xc3"), 0u);              // truncated
  EXPECT_EQ(len("\x80"), 0u);              // lone continuation
}

TEST(ParseDecimalTest, TakesOnlyAWholeUnsignedNumber) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("8388608"), 8388608u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), UINT64_MAX);
  for (const char* bad :
       {"", "-1", "+1", " 1", "1 ", "0x10", "1e3", "12a", "18446744073709551616"}) {
    EXPECT_EQ(ParseDecimal(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace cairn
