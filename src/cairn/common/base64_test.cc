#include "cairn/common/base64.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cairn/testing/status_matchers.h"

namespace cairn {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

struct Vector {
  const char* plain;
  const char* encoded;
};

// RFC 4648 §10.
constexpr Vector kRfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64Test, Rfc4648Vectors) {
  for (const Vector& v : kRfc4648) {
    EXPECT_EQ(Base64Encode(v.plain), v.encoded) << v.plain;
    ASSERT_OK_AND_ASSIGN(std::string decoded, Base64Decode(v.encoded));
    EXPECT_EQ(decoded, v.plain);
  }
}

TEST(Base64UrlTest, Rfc4648VectorsWithoutPadding) {
  for (const Vector& v : kRfc4648) {
    std::string unpadded(v.encoded);
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(Base64UrlEncode(v.plain), unpadded) << v.plain;
    ASSERT_OK_AND_ASSIGN(std::string from_unpadded, Base64UrlDecode(unpadded));
    EXPECT_EQ(from_unpadded, v.plain);
    // The decoder also takes the padded form.
    ASSERT_OK_AND_ASSIGN(std::string from_padded, Base64UrlDecode(v.encoded));
    EXPECT_EQ(from_padded, v.plain);
  }
}

TEST(Base64UrlTest, UsesUrlAlphabet) {
  // 0xfb 0xff 0xbf encodes to the two characters that differ between the alphabets.
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  ASSERT_OK_AND_ASSIGN(std::string decoded, Base64UrlDecode("-_-_"));
  EXPECT_EQ(decoded, bytes);
  EXPECT_THAT(Base64UrlDecode("+/+/"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'+' at position 0")));
  EXPECT_THAT(Base64Decode("-_-_"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'-' at position 0")));
}

TEST(Base64Test, AllByteValuesRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 37) {
    std::string data = all.substr(0, len) + all.substr(256 - len % 3);
    ASSERT_OK_AND_ASSIGN(std::string a, Base64Decode(Base64Encode(data)));
    EXPECT_EQ(a, data);
    ASSERT_OK_AND_ASSIGN(std::string b, Base64UrlDecode(Base64UrlEncode(data)));
    EXPECT_EQ(b, data);
  }
}

TEST(Base64Test, RejectsBadCharacterWithPosition) {
  EXPECT_THAT(Base64Decode("Zm9v*mFy"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'*' at position 4")));
  EXPECT_THAT(Base64Decode("Zm9vYm\nFy"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64Decode("Zm9vY\nFy"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("byte 0x0a at position 5")));
  EXPECT_THAT(Base64Decode("Zm=vYmFy"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'=' at position 2")));
  EXPECT_THAT(Base64UrlDecode("Zm9 "),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("byte 0x20 at position 3")));
}

TEST(Base64Test, RejectsBadLength) {
  EXPECT_THAT(Base64Decode("Zm9"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("length 3")));
  EXPECT_THAT(Base64Decode("Zg"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad length")));
  EXPECT_THAT(Base64UrlDecode("Zm9vY"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("bad length 5")));
  EXPECT_THAT(Base64UrlDecode("Zg="), StatusIs(StatusCode::kInvalidArgument, HasSubstr("length")));
}

TEST(Base64Test, RejectsMisplacedPadding) {
  EXPECT_THAT(Base64Decode("Zm9v===="), StatusIs(StatusCode::kInvalidArgument, HasSubstr("'='")));
  EXPECT_THAT(Base64Decode("Z==="), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64Decode("===="), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64UrlDecode("Zm9vYg=="), ::testing::Not(StatusIs(StatusCode::kInvalidArgument)));
  EXPECT_THAT(Base64UrlDecode("Zm9vYg="), StatusIs(StatusCode::kInvalidArgument));
}

TEST(Base64Test, RejectsNonZeroUnusedBits) {
  // "Zh==" would also decode to "f" if the low bits of 'h' were ignored.
  EXPECT_THAT(Base64Decode("Zh=="),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unused bits")));
  EXPECT_THAT(Base64UrlDecode("Zm9"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unused bits")));
  EXPECT_THAT(Base64UrlDecode("Zm8"), ::testing::Not(StatusIs(StatusCode::kInvalidArgument)));
}

}  // namespace
}  // namespace cairn
