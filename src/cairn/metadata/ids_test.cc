#include "cairn/metadata/ids.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "cairn/testing/status_matchers.h"

namespace cairn::metadata {
namespace {

using ::cairn::testing::StatusIs;

TEST(IdsTest, TokensAreAlphanumericAndDistinct) {
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 200; ++i) {
    std::string t = RandomAlphanumeric(kTokenLength);
    ASSERT_EQ(t.size(), 50u);
    EXPECT_THAT(t, ::testing::MatchesRegex("[a-z0-9]+"));
    seen.insert(t);
    chars.insert(t.begin(), t.end());
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(chars.size(), 36u);  // 10,000 draws reach every character
}

TEST(IdsTest, Uuids) {
  std::string uuid = NewUuid("zzzzz", kCollectionType);
  EXPECT_THAT(uuid, ::testing::MatchesRegex("zzzzz-4zz18-[a-z0-9]{15}"));
  EXPECT_TRUE(IsUuidOfType(uuid, kCollectionType));
  EXPECT_FALSE(IsUuidOfType(uuid, kUserType));
  EXPECT_FALSE(IsUuidOfType("zzzzz-4zz18-ABCDEFGHIJKLMNO", kCollectionType));
  EXPECT_FALSE(IsUuidOfType("zzzzz-4zz18-short", kCollectionType));
  EXPECT_TRUE(IsValidClusterId("cairn"));
  EXPECT_FALSE(IsValidClusterId("Cairn"));
  EXPECT_FALSE(IsValidClusterId("cairn1"));
}

TEST(IdsTest, TimesRoundTrip) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTime(1'795'835'414'123'456), "2026-11-28T03:10:14.123456Z");
  for (int64_t t : {int64_t{0}, int64_t{1'795'835'414'123'456}, int64_t{1'700'000'000'000'001}}) {
    ASSERT_OK_AND_ASSIGN(int64_t back, ParseTime(FormatTime(t)));
    EXPECT_EQ(back, t);
  }
  ASSERT_OK_AND_ASSIGN(int64_t plain, ParseTime("2026-11-22T03:10:14Z"));
  EXPECT_EQ(plain, 1'795'317'014'000'000);
  ASSERT_OK_AND_ASSIGN(int64_t offset, ParseTime("2026-11-22T05:10:14.5+02:00"));
  EXPECT_EQ(offset, 1'795'317'014'500'000);
  for (const char* bad : {"", "2026-11-22", "2026-11-22T03:10:14", "2026-13-22T03:10:14Z",
                          "2026-11-22T03:10:14.Z", "2026-11-22T03:10:14Zjunk", "yesterday"}) {
    EXPECT_THAT(ParseTime(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace cairn::metadata
