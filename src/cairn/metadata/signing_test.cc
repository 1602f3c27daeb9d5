#include "cairn/metadata/signing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/manifest/signature.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::metadata {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

const SigningKey kKey{.key = "signing-test-key", .ttl_seconds = 3600};
constexpr char kToken[] = "tokentokentokentokentokentokentokentokentokentoken";
constexpr int64_t kNow = 1'800'000'000;

std::string Block(const std::string& data) {
  return manifest::Locator(manifest::BlockHash::Of(data), data.size()).ToString();
}
std::string SignedBlock(const std::string& data, int64_t expiry = kNow + 100,
                        const std::string& token = kToken) {
  auto l = manifest::Locator(manifest::BlockHash::Of(data), data.size());
  return manifest::SignLocator(l, kKey.key, token, expiry, kKey.ttl_seconds).ToString();
}

TEST(SigningTest, AcceptsSignedRefusesOthersNamingTheBlock) {
  auto parse = [](const std::string& text) { return manifest::Manifest::Parse(text).value(); };
  EXPECT_OK(CheckManifestSignatures(parse(". " + SignedBlock("a") + " 0:1:f\n"), kKey, kToken, kNow,
                                    nullptr));
  for (const std::string& locator :
       {Block("a"), SignedBlock("a", kNow - 1), SignedBlock("a", kNow + 100, "someone-else")}) {
    Status s =
        CheckManifestSignatures(parse(". " + locator + " 0:1:f\n"), kKey, kToken, kNow, nullptr);
    EXPECT_THAT(s, StatusIs(StatusCode::kPermissionDenied,
                            HasSubstr("no valid signature for block " + Block("a"))));
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(kToken)));
  }
  // Exempt blocks (already in the collection) pass unsigned.
  EXPECT_OK(CheckManifestSignatures(parse(". " + Block("a") + " 0:1:f\n"), kKey, kToken, kNow,
                                    [](const manifest::Locator&) { return true; }));
}

TEST(SigningTest, StripThenSignRoundTrips) {
  std::string text = ". " + SignedBlock("a") + " " + SignedBlock("bc") + "+K@zzzzz 0:3:f\n";
  ASSERT_OK_AND_ASSIGN(manifest::Manifest m, manifest::Manifest::Parse(text));
  ASSERT_OK_AND_ASSIGN(std::string stored, StripSignatures(m));
  EXPECT_EQ(stored, ". " + Block("a") + " " + Block("bc") + "+K@zzzzz 0:3:f\n");
  ASSERT_OK_AND_ASSIGN(std::string resigned, SignManifestText(stored, kKey, kToken, kNow + 50));
  ASSERT_OK_AND_ASSIGN(manifest::Manifest again, manifest::Manifest::Parse(resigned));
  ASSERT_EQ(again.blocks().size(), 2u);
  for (const manifest::Locator& l : again.blocks()) {
    EXPECT_OK(manifest::VerifySignature(l, kKey.key, kToken, kKey.ttl_seconds, kNow));
  }
  EXPECT_TRUE(again.blocks()[1].FindHint('K').has_value());
}

TEST(SigningTest, OneBlockSignedTwiceIsListedOnceWhenStored) {
  std::string text =
      ". " + SignedBlock("a", kNow + 1) + " " + SignedBlock("a", kNow + 2) + " 0:1:f 1:1:g\n";
  ASSERT_OK_AND_ASSIGN(manifest::Manifest m, manifest::Manifest::Parse(text));
  ASSERT_OK_AND_ASSIGN(std::string stored, StripSignatures(m));
  EXPECT_EQ(stored, ". " + Block("a") + " 0:1:f 0:1:g\n");
}

TEST(SigningTest, EmptyManifest) {
  ASSERT_OK_AND_ASSIGN(manifest::Manifest m, manifest::Manifest::Parse(""));
  ASSERT_OK_AND_ASSIGN(std::string stored, StripSignatures(m));
  EXPECT_EQ(stored, "");
  ASSERT_OK_AND_ASSIGN(std::string signed_text, SignManifestText("", kKey, kToken, kNow));
  EXPECT_EQ(signed_text, "");
}

}  // namespace
}  // namespace cairn::metadata
