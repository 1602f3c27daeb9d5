#include "cairn/manifest/signature.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cairn/common/hash.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::manifest {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

// arvados-keep.md §4.2 (sdk/go/arvados/blob_signature_test.go,
// services/api/test/unit/blob_test.rb).
constexpr char kKey[] =
    "13u9fkuccnboeewr0ne3mvapk28epf68a3bhj9q8sb4l6e4e5mkkp6nhj2mmpscgu1zze5h5enydxfe3j215024u16ij4"
    "hjaiqs5u4pzsl3nczmaoxncljkm4875xqn4xv058koz3vkptmzhyheiy6wzevzjmdvxhvcqsvr5abhl15c2d4o4jhl0s9"
    "1lojy1mtrzqqvprqcverls0xvy9vai9t1l1lvvazpuadafm71jl4mrwq2ygokee3eamvjy8qq1fvy238838enjmy5wzy2"
    "md7yvsitp5vztft6j4q866efym7e6vu5wm9fpnwjyxfldw3vbo01mgjs75rgo7qioh8z8ij7jpyp8508okhgbbex3ceei"
    "786u5rw2a9gx743dj3fgq2irk";
constexpr char kToken[] = "hocfupkn2pjhrpgp2vxv8rsku7tvtx49arbc9s4bvu7p7wxqvk";
constexpr char kV2Token[] =
    "v2/zzzzz-gj3su-077z32aux8dg2s1/3kg6k6lzmp9kj5cpkcoxie963cmvjahbt2fod9zru30k1jqdmi";
constexpr char kLocator[] = "acbd18db4cc2f85cedef654fccc4a4d8+3";
constexpr char kSignedLocator[] =
    "acbd18db4cc2f85cedef654fccc4a4d8+3+A89118b78732c33104a4d6231e8b5a5fa1e4301e3@7fffffff";
constexpr int64_t kExpiry = 0x7fffffff;
constexpr int64_t kTtl = 1209600;  // 336 h, Arvados' default BlobSigningTTL
constexpr int64_t kNow = 1700000000;

Locator Parse(std::string_view text) {
  Result<Locator> locator = Locator::Parse(text);
  EXPECT_TRUE(locator.ok()) << locator.status();
  return locator.ok() ? *locator : Locator(BlockHash::Of(""), 0);
}

TEST(SignatureTest, GoAndRubyVector) {
  Locator locator = Parse(kLocator);
  EXPECT_EQ(PermissionSignature(kKey, locator.hash(), kToken, "7fffffff", kTtl),
            "89118b78732c33104a4d6231e8b5a5fa1e4301e3");
  // The signed message, spelled out.
  EXPECT_EQ(
      HexEncode(HmacSha1(kKey,
                         "acbd18db4cc2f85cedef654fccc4a4d8@"
                         "hocfupkn2pjhrpgp2vxv8rsku7tvtx49arbc9s4bvu7p7wxqvk@7fffffff@127500")),
      "89118b78732c33104a4d6231e8b5a5fa1e4301e3");
  EXPECT_EQ(SignLocator(locator, kKey, kToken, kExpiry, kTtl).ToString(), kSignedLocator);
  EXPECT_OK(VerifySignature(Parse(kSignedLocator), kKey, kToken, kTtl, kNow));
}

TEST(SignatureTest, ComputedVectors) {
  Locator locator = Parse(kLocator);
  EXPECT_EQ(PermissionSignature(kKey, locator.hash(), kV2Token, "7fffffff", kTtl),
            "e826fde7189d064b7deb132654e0ed970ab4dc90");
  EXPECT_EQ(PermissionSignature(kKey, locator.hash(), kToken, "7fffffff", 3600),
            "6cfc0d22516953accba1b6504d693414ff8735e6");

  Locator v2 = Parse(std::string(kLocator) + "+Ae826fde7189d064b7deb132654e0ed970ab4dc90@7fffffff");
  EXPECT_OK(VerifySignature(v2, kKey, kV2Token, kTtl, kNow));
  EXPECT_EQ(SignLocator(locator, kKey, kV2Token, kExpiry, kTtl), v2);
  Locator short_ttl =
      Parse(std::string(kLocator) + "+A6cfc0d22516953accba1b6504d693414ff8735e6@7fffffff");
  EXPECT_OK(VerifySignature(short_ttl, kKey, kToken, 3600, kNow));
  EXPECT_THAT(VerifySignature(short_ttl, kKey, kToken, kTtl, kNow),
              StatusIs(StatusCode::kPermissionDenied, "invalid permission signature"));
}

TEST(SignatureTest, OtherHintsBeforeAndAfterStillVerify) {
  const std::string sig = "+A89118b78732c33104a4d6231e8b5a5fa1e4301e3@7fffffff";
  for (const std::string& text : {
           std::string(kLocator) + "+K@xyzzy" + sig,
           std::string(kLocator) + sig + "+K@xyzzy",
           std::string(kLocator) + "+K@xyzzy" + sig + "+Zfoo",
           std::string(kLocator) + "+Zfoo" + sig,
       }) {
    EXPECT_OK(VerifySignature(Parse(text), kKey, kToken, kTtl, kNow)) << text;
  }
}

TEST(SignatureTest, SizeIsNotSigned) {
  // Go TestVerifySignatureWrongSize: only the hash is signed.
  Locator wrong_size = Parse(
      "acbd18db4cc2f85cedef654fccc4a4d8+4+A89118b78732c33104a4d6231e8b5a5fa1e4301e3@7fffffff");
  EXPECT_OK(VerifySignature(wrong_size, kKey, kToken, kTtl, kNow));
}

TEST(SignatureTest, MissingSignature) {
  EXPECT_THAT(VerifySignature(Parse(kLocator), kKey, kToken, kTtl, kNow),
              StatusIs(StatusCode::kPermissionDenied, "missing permission signature"));
  EXPECT_THAT(VerifySignature(Parse(std::string(kLocator) + "+K@xyzzy"), kKey, kToken, kTtl, kNow),
              StatusIs(StatusCode::kPermissionDenied, "missing permission signature"));
}

// Go reports a short signature or a bad timestamp as "missing" at verification; Cairn rejects
// such locators earlier, when they are parsed, so they never reach VerifySignature.
TEST(SignatureTest, ShortSignatureAndBadTimestampAreRejectedByParse) {
  EXPECT_THAT(Locator::Parse(std::string(kLocator) + "+Aaaaaaaaaaaaaaaaa@7fffffff"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a permission signature")));
  EXPECT_THAT(
      Locator::Parse(std::string(kLocator) + "+A89118b78732c33104a4d6231e8b5a5fa1e4301e3@OOOOOOOl"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a permission signature")));
}

TEST(SignatureTest, WrongKeyTokenTtlOrHashIsInvalid) {
  Locator signed_locator = Parse(kSignedLocator);
  const auto kInvalid = StatusIs(StatusCode::kPermissionDenied, "invalid permission signature");
  EXPECT_THAT(VerifySignature(signed_locator, "another key", kToken, kTtl, kNow), kInvalid);
  EXPECT_THAT(VerifySignature(signed_locator, kKey, "another token", kTtl, kNow), kInvalid);
  EXPECT_THAT(VerifySignature(signed_locator, kKey, kV2Token, kTtl, kNow), kInvalid);
  EXPECT_THAT(VerifySignature(signed_locator, kKey, kToken, kTtl + 1, kNow), kInvalid);
  Locator other_hash = Parse(
      "37b51d194a7513e45b56f6524f2d51f2+3+A89118b78732c33104a4d6231e8b5a5fa1e4301e3@7fffffff");
  EXPECT_THAT(VerifySignature(other_hash, kKey, kToken, kTtl, kNow), kInvalid);
  // The expiry is signed: moving it invalidates the signature.
  Locator later =
      Parse(std::string(kLocator) + "+A89118b78732c33104a4d6231e8b5a5fa1e4301e3@7ffffffe");
  EXPECT_THAT(VerifySignature(later, kKey, kToken, kTtl, kNow), kInvalid);
}

TEST(SignatureTest, EmptyTokenIsUnauthenticated) {
  EXPECT_THAT(VerifySignature(Parse(kSignedLocator), kKey, "", kTtl, kNow),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST(SignatureTest, ExpiryBoundary) {
  Locator signed_locator = Parse(kSignedLocator);
  EXPECT_OK(VerifySignature(signed_locator, kKey, kToken, kTtl, kExpiry - 1));
  EXPECT_OK(VerifySignature(signed_locator, kKey, kToken, kTtl, kExpiry));
  EXPECT_THAT(VerifySignature(signed_locator, kKey, kToken, kTtl, kExpiry + 1),
              StatusIs(StatusCode::kUnauthenticated,
                       "expired permission signature (expired at 2038-01-19T03:14:07Z)"));
  // A forged signature is reported as invalid even when it is also expired.
  EXPECT_THAT(VerifySignature(signed_locator, "another key", kToken, kTtl, kExpiry + 1),
              StatusIs(StatusCode::kPermissionDenied, "invalid permission signature"));

  Locator old = SignLocator(Parse(kLocator), kKey, kToken, 1700000000, kTtl);
  EXPECT_EQ(old.permission()->expiry_hex, "6553f100");
  EXPECT_THAT(VerifySignature(old, kKey, kToken, kTtl, 1700000001),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("2023-11-14T22:13:20Z")));
}

TEST(SignatureTest, ExpiryHexIsSignedAsWritten) {
  // Ruby writes the expiry without zero padding; the verifier must hash that text, not %08x.
  Locator locator = Parse(kLocator);
  std::string sig = PermissionSignature(kKey, locator.hash(), kToken, "5ba5405", kTtl);
  Locator ruby = Parse(std::string(kLocator) + "+A" + sig + "@5ba5405");
  EXPECT_OK(VerifySignature(ruby, kKey, kToken, kTtl, 0x5ba5405));
  Locator padded = Parse(std::string(kLocator) + "+A" + sig + "@05ba5405");
  EXPECT_THAT(VerifySignature(padded, kKey, kToken, kTtl, 0x5ba5405),
              StatusIs(StatusCode::kPermissionDenied, "invalid permission signature"));
}

TEST(SignatureTest, SignLocatorPadsAndReplaces) {
  Locator locator =
      SignLocator(Parse(std::string(kLocator) + "+K@xyzzy"), kKey, kToken, 0x1234, kTtl);
  EXPECT_EQ(locator.permission()->expiry_hex, "00001234");
  EXPECT_EQ(locator.hints()[1], "K@xyzzy");  // the new +A goes right after the size
  EXPECT_OK(VerifySignature(locator, kKey, kToken, kTtl, 0x1234));

  Locator resigned = SignLocator(locator, kKey, kV2Token, kExpiry, kTtl);
  EXPECT_EQ(resigned.hints().size(), 2u);
  EXPECT_EQ(resigned.hints()[0][0], 'A');
  EXPECT_OK(VerifySignature(resigned, kKey, kV2Token, kTtl, kNow));
  EXPECT_THAT(VerifySignature(resigned, kKey, kToken, kTtl, kNow),
              StatusIs(StatusCode::kPermissionDenied));

  // Past what 8 hex digits hold: clamped rather than written as 9 digits no verifier accepts.
  Locator far = SignLocator(Parse(kLocator), kKey, kToken, int64_t{1} << 40, kTtl);
  EXPECT_EQ(far.permission()->expiry_hex, "ffffffff");
  EXPECT_OK(Locator::Parse(far.ToString()).status());
}

}  // namespace
}  // namespace cairn::manifest
