#include "cairn/manifest/external.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cairn/common/base64.h"
#include "cairn/common/hash.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::manifest {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr char kSig[] = "89118b78732c33104a4d6231e8b5a5fa1e4301e3";

ExternalObject S3(std::string key, std::string version_id = "v1", std::string etag = "") {
  return ExternalObject{ObjectStoreKind::kS3, "bucket", std::move(key), std::move(version_id),
                        std::move(etag)};
}

// ---- URLs ---------------------------------------------------------------------------------------

TEST(ExternalObjectTest, UrlForm) {
  EXPECT_EQ(S3("key").ToUrl(), "s3://bucket/key?versionId=v1");
  EXPECT_EQ(S3("dir/sub/file.txt", "", "abc").ToUrl(), "s3://bucket/dir/sub/file.txt?etag=abc");
  ExternalObject swift{ObjectStoreKind::kSwift, "container", "obj", "", "\"9bb5\""};
  EXPECT_EQ(swift.ToUrl(), "swift://container/obj?etag=%229bb5%22");
  EXPECT_EQ(S3("a b?c#d%e+f/g~h.i_j-k").ToUrl(),
            "s3://bucket/a%20b%3Fc%23d%25e%2Bf/g~h.i_j-k?versionId=v1");
  EXPECT_EQ(S3("k", "a/b=c&d").ToUrl(), "s3://bucket/k?versionId=a%2Fb%3Dc%26d");
}

TEST(ExternalObjectTest, OddKeysRoundTrip) {
  const std::vector<std::string> keys = {
      "with space",
      "question?mark",
      "hash#mark",
      "percent%41literal",
      "plus+sign",
      "caf\xc3\xa9/donn\xc3\xa9"
      "es/\xe2\x9c\x93.txt",
      std::string("nul\0byte", 8),
      "/leading/slash//double/",
      "\x01\x7f\x80\xff",
      "&=;:@!$'()*,[]",
      "..",
  };
  for (const std::string& key : keys) {
    for (ExternalObject object : {S3(key), S3(key, "", "\"etag with \xe2\x9c\x93\"")}) {
      for (ObjectStoreKind kind : {ObjectStoreKind::kS3, ObjectStoreKind::kSwift}) {
        object.kind = kind;
        ASSERT_OK(object.Validate());
        std::string url = object.ToUrl();
        ASSERT_OK_AND_ASSIGN(ExternalObject parsed, ExternalObject::ParseUrl(url));
        EXPECT_EQ(parsed, object) << url;
        EXPECT_EQ(parsed.ToUrl(), url);

        Locator locator = MakeExternalLocator(object, 7, 11);
        ASSERT_OK_AND_ASSIGN(Locator reparsed, Locator::Parse(locator.ToString()));
        EXPECT_EQ(reparsed, locator);
        ASSERT_OK_AND_ASSIGN(ExternalRange range, DecodeExternal(reparsed));
        EXPECT_EQ(range, (ExternalRange{object, 7, 11}));
      }
    }
  }
}

TEST(ExternalObjectTest, ParseUrlRejects) {
  auto expect = [](std::string_view url, std::string_view why) {
    EXPECT_THAT(ExternalObject::ParseUrl(url),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(std::string(why))))
        << url;
  };
  expect("http://bucket/key?etag=e", "scheme must be s3:// or swift://");
  expect("S3://bucket/key?etag=e", "scheme");
  expect("s3:///key?etag=e", "empty bucket");
  expect("s3://bucket", "missing /<key>");
  expect("s3://bu?cket/key?etag=e", "bucket \"bu\" is not followed by /<key>");
  expect("s3://bucket/?etag=e", "empty key");
  expect("s3://bucket/key", "must be pinned");
  expect("s3://bucket/key?", "query must be versionId=<v> or etag=<e>");
  expect("s3://bucket/key?version=1", "query must be");
  expect("s3://bucket/key?versionid=1", "query must be");
  expect("s3://bucket/key?versionId=", "empty versionId");
  expect("s3://bucket/key?etag=", "empty etag");
  expect("s3://bucket/key?versionId=1&etag=2", "exactly one of versionId and etag");
  expect("s3://bucket/a b?etag=e", "key has byte 0x20 at offset 1 that must be percent-encoded");
  expect("s3://bucket/a%2fb?etag=e", "key has escape \"%2f\" at offset 1");
  expect("s3://bucket/%41?etag=e", "key has needless escape \"%41\"");
  expect("s3://bucket/a%2Fb?etag=e", "needless escape");  // '/' is kept raw in keys
  expect("s3://bucket/a%2?etag=e", "key has a truncated escape at offset 1");
  expect("s3://bucket/a%?etag=e", "truncated escape");
  expect("s3://bucket/k?etag=a/b", "etag has byte 0x2f");  // '/' is escaped in values
  expect("s3://bucket/k?etag=%7E", "etag has needless escape");
}

TEST(ExternalObjectTest, Validate) {
  EXPECT_OK(S3("k").Validate());
  ExternalObject o = S3("k");
  o.bucket = "";
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("empty bucket")));
  o.bucket = "a/b";
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("'/' or '?'")));
  o.bucket = "a?b";
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("'/' or '?'")));
  EXPECT_THAT(S3("").Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("empty key")));
  EXPECT_THAT(S3("k", "", "").Validate(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("exactly one")));
  EXPECT_THAT(S3("k", "v", "e").Validate(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("exactly one")));
}

// ---- derived hash ---------------------------------------------------------------------------

TEST(ExternalLocatorTest, DerivedHashIsMd5OfTheHintText) {
  // base64url("s3://bucket/key?versionId=v1") without padding, computed with Python's
  // base64.urlsafe_b64encode; the hash is md5 of the literal text, computed two ways.
  constexpr char kB64[] = "czM6Ly9idWNrZXQva2V5P3ZlcnNpb25JZD12MQ";
  EXPECT_EQ(Base64UrlEncode("s3://bucket/key?versionId=v1"), kB64);
  const std::string text = std::string("512+B") + kB64 + "+C256";
  EXPECT_EQ(Md5Hex(text), "e5d0f00fa6d70f931b7aa7adcf4f7092");
  EXPECT_EQ(DeriveExternalHash(512, kB64, 256).hex(), "e5d0f00fa6d70f931b7aa7adcf4f7092");

  Locator locator = MakeExternalLocator(S3("key"), 256, 512);
  EXPECT_EQ(locator.ToString(),
            std::string("e5d0f00fa6d70f931b7aa7adcf4f7092+512+B") + kB64 + "+C256");
}

TEST(ExternalLocatorTest, DecodeExternal) {
  ASSERT_OK_AND_ASSIGN(Locator locator,
                       Locator::Parse("e5d0f00fa6d70f931b7aa7adcf4f7092+512+Bc"
                                      "zM6Ly9idWNrZXQva2V5P3ZlcnNpb25JZD12MQ+C256+K@xyzzy"));
  ASSERT_OK_AND_ASSIGN(ExternalRange range, DecodeExternal(locator));
  EXPECT_EQ(range, (ExternalRange{S3("key"), 256, 512}));
}

TEST(ExternalLocatorTest, TamperedLocatorsAreDetected) {
  Locator good = MakeExternalLocator(S3("key"), 256, 512);
  std::string text = good.ToString();
  auto decode = [](const std::string& t) {
    Result<Locator> locator = Locator::Parse(t);
    EXPECT_TRUE(locator.ok()) << locator.status();
    return DecodeExternal(*locator);
  };
  const std::string_view kMismatch = "hash does not match its +B/+C hints";

  // Another hash.
  std::string other_hash = text;
  other_hash[0] = other_hash[0] == '0' ? '1' : '0';
  EXPECT_THAT(decode(other_hash), StatusIs(StatusCode::kInvalidArgument, HasSubstr(kMismatch)));
  // Another range with the hash kept: the range is bound by the hash.
  EXPECT_THAT(decode(text.substr(0, text.size() - 3) + "257"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(kMismatch)));
  std::string other_size = std::string(good.hash().hex()) + "+513" + text.substr(36);
  EXPECT_THAT(decode(other_size), StatusIs(StatusCode::kInvalidArgument, HasSubstr(kMismatch)));
  // Another object with the hash kept.
  std::string other_object = std::string(good.hash().hex()) + "+512+B" +
                             Base64UrlEncode(S3("key", "v2").ToUrl()) + "+C256";
  EXPECT_THAT(decode(other_object), StatusIs(StatusCode::kInvalidArgument, HasSubstr(kMismatch)));
  // Splitting and merging must not launder an altered locator into valid chunks.
  ASSERT_OK_AND_ASSIGN(Locator tampered,
                       Locator::Parse(std::string(good.hash().hex()) + "+" +
                                      std::to_string(200 * kMiB) + text.substr(36)));
  EXPECT_THAT(SplitExternal(tampered), ::testing::ElementsAre(tampered));
  EXPECT_FALSE(MergeExternal(tampered, good).has_value());
}

TEST(ExternalLocatorTest, DecodeExternalNeedsBothHintsOnce) {
  ASSERT_OK_AND_ASSIGN(Locator plain, Locator::Parse("acbd18db4cc2f85cedef654fccc4a4d8+3"));
  EXPECT_THAT(DecodeExternal(plain),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no +B hint")));
  Locator no_c = MakeExternalLocator(S3("key"), 0, 3);
  no_c.RemoveHints('C');
  EXPECT_THAT(DecodeExternal(no_c),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no +C hint")));
  Locator two_c = MakeExternalLocator(S3("key"), 0, 3);
  ASSERT_OK(two_c.AddHint("C0"));
  EXPECT_THAT(DecodeExternal(two_c),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("more than one +C hint")));
  Locator two_b = MakeExternalLocator(S3("key"), 0, 3);
  ASSERT_OK(two_b.AddHint(std::string(two_b.FindHint('B').value()).insert(0, "B")));
  EXPECT_THAT(DecodeExternal(two_b),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("more than one +B hint")));
}

TEST(ExternalLocatorTest, RangePastTwoToThe64IsRejected) {
  std::string b64 = Base64UrlEncode(S3("key").ToUrl());
  uint64_t offset = UINT64_MAX - 9;
  std::string text = std::string(DeriveExternalHash(10, b64, offset).hex()) + "+10+B" + b64 + "+C" +
                     std::to_string(offset);
  ASSERT_OK_AND_ASSIGN(Locator locator, Locator::Parse(text));
  EXPECT_THAT(DecodeExternal(locator),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("past 2^64")));
  // The last byte of the 2^64 space is fine.
  Locator last = MakeExternalLocator(S3("key"), UINT64_MAX - 10, 10);
  EXPECT_OK(DecodeExternal(last));
}

// ---- split and merge ------------------------------------------------------------------------

TEST(ExternalLocatorTest, Split150MiBInto64And64And22) {
  const uint64_t offset = 1000;
  Locator whole = MakeExternalLocator(S3("big object.bin"), offset, 150 * kMiB);
  ASSERT_OK(whole.AddHint("K@xyzzy"));
  Locator signed_whole = whole;
  signed_whole.SetPermission(PermissionHint{kSig, "7fffffff"});

  std::vector<Locator> chunks = SplitExternal(signed_whole);
  ASSERT_EQ(chunks.size(), 3u);
  const uint64_t sizes[] = {64 * kMiB, 64 * kMiB, 22 * kMiB};
  const uint64_t offsets[] = {offset, offset + 64 * kMiB, offset + 128 * kMiB};
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(chunks[i].size(), sizes[i]);
    EXPECT_LE(chunks[i].size(), kMaxBlockSize);
    EXPECT_FALSE(chunks[i].permission().has_value());  // it signed the whole's hash
    EXPECT_EQ(chunks[i].FindHint('K'), "@xyzzy");
    EXPECT_EQ(chunks[i].FindHint('B'), whole.FindHint('B'));
    EXPECT_EQ(chunks[i].FindHint('C'), std::to_string(offsets[i]));
    ASSERT_OK_AND_ASSIGN(ExternalRange range, DecodeExternal(chunks[i]));
    EXPECT_EQ(range.offset, offsets[i]);
    EXPECT_EQ(range.size, sizes[i]);
    ASSERT_OK_AND_ASSIGN(Locator reparsed, Locator::Parse(chunks[i].ToString()));
    EXPECT_EQ(reparsed, chunks[i]);
  }
  // Same hint layout as the whole: B, C, K.
  EXPECT_EQ(chunks[1].hints()[0][0], 'B');
  EXPECT_EQ(chunks[1].hints()[1], "C" + std::to_string(offset + 64 * kMiB));
  EXPECT_EQ(chunks[1].hints()[2], "K@xyzzy");

  std::optional<Locator> first_two = MergeExternal(chunks[0], chunks[1]);
  ASSERT_TRUE(first_two.has_value());
  EXPECT_EQ(first_two->size(), 128 * kMiB);
  std::optional<Locator> all = MergeExternal(*first_two, chunks[2]);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, whole);
  EXPECT_EQ(all->ToString(), whole.ToString());
  // Merging in the other grouping gives the same.
  std::optional<Locator> last_two = MergeExternal(chunks[1], chunks[2]);
  ASSERT_TRUE(last_two.has_value());
  EXPECT_EQ(MergeExternal(chunks[0], *last_two), whole);
}

TEST(ExternalLocatorTest, SplitExactMultipleAndSmallChunks) {
  Locator whole = MakeExternalLocator(S3("k"), 0, 128 * kMiB);
  std::vector<Locator> chunks = SplitExternal(whole);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].size(), 64 * kMiB);

  Locator ten = MakeExternalLocator(S3("k"), 5, 10);
  chunks = SplitExternal(ten, 3);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[3].size(), 1u);
  EXPECT_EQ(chunks[3].FindHint('C'), "14");
  Locator merged = chunks[0];
  for (size_t i = 1; i < chunks.size(); ++i) {
    std::optional<Locator> next = MergeExternal(merged, chunks[i]);
    ASSERT_TRUE(next.has_value()) << i;
    merged = *next;
  }
  EXPECT_EQ(merged, ten);
}

TEST(ExternalLocatorTest, SplitLeavesOthersUnchanged) {
  Locator small = MakeExternalLocator(S3("k"), 0, kMaxBlockSize);
  EXPECT_THAT(SplitExternal(small), ::testing::ElementsAre(small));
  Locator empty = MakeExternalLocator(S3("k"), 0, 0);
  EXPECT_THAT(SplitExternal(empty, 1), ::testing::ElementsAre(empty));
  Locator big = MakeExternalLocator(S3("k"), 0, 100);
  EXPECT_THAT(SplitExternal(big, 0), ::testing::ElementsAre(big));
  ASSERT_OK_AND_ASSIGN(Locator plain, Locator::Parse("acbd18db4cc2f85cedef654fccc4a4d8+3"));
  EXPECT_THAT(SplitExternal(plain, 1), ::testing::ElementsAre(plain));
}

TEST(ExternalLocatorTest, MergeRefusesWhatDoesNotContinue) {
  Locator a = MakeExternalLocator(S3("k"), 0, 10);
  Locator b = MakeExternalLocator(S3("k"), 10, 5);
  ASSERT_TRUE(MergeExternal(a, b).has_value());
  EXPECT_EQ(*MergeExternal(a, b), MakeExternalLocator(S3("k"), 0, 15));
  EXPECT_FALSE(MergeExternal(b, a).has_value());                                    // wrong order
  EXPECT_FALSE(MergeExternal(a, MakeExternalLocator(S3("k"), 11, 5)).has_value());  // gap
  EXPECT_FALSE(MergeExternal(a, MakeExternalLocator(S3("k"), 9, 5)).has_value());   // overlap
  EXPECT_FALSE(MergeExternal(a, MakeExternalLocator(S3("j"), 10, 5)).has_value());  // other key
  EXPECT_FALSE(
      MergeExternal(a, MakeExternalLocator(S3("k", "v2"), 10, 5)).has_value());  // other version
  ASSERT_OK_AND_ASSIGN(Locator plain, Locator::Parse("acbd18db4cc2f85cedef654fccc4a4d8+3"));
  EXPECT_FALSE(MergeExternal(plain, plain).has_value());

  // Other hints must agree; +A does not count and is dropped.
  Locator ak = a;
  ASSERT_OK(ak.AddHint("K@xyzzy"));
  EXPECT_FALSE(MergeExternal(ak, b).has_value());
  Locator bk = b;
  ASSERT_OK(bk.AddHint("K@xyzzy"));
  bk.SetPermission(PermissionHint{kSig, "7fffffff"});
  ak.SetPermission(PermissionHint{kSig, "7ffffff0"});
  std::optional<Locator> merged = MergeExternal(ak, bk);
  ASSERT_TRUE(merged.has_value());
  EXPECT_FALSE(merged->permission().has_value());
  EXPECT_EQ(merged->FindHint('K'), "@xyzzy");
  EXPECT_OK(DecodeExternal(*merged));
}

}  // namespace
}  // namespace cairn::manifest
