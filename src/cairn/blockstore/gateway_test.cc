// Gateway: external-object reads over an in-memory S3 (MemS3 behind the HttpClient interface).
#include "cairn/blockstore/gateway.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cairn/httpd/http_server.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/signature.h"
#include "cairn/objstore/mem_object_store.h"
#include "cairn/objstore/transfer/mem_s3.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::blockstore {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] = "gateway-test-blob-signing-key";
constexpr char kToken[] = "reader-token";
constexpr int64_t kTtl = 3600;
constexpr char kData[] = "0123456789abcdef";

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_.PutObjectDirect("bk", "dir/obj",
                        {.data = kData, .etag = "e1", .content_type = "", .metadata = {}});
    authenticator_.Add(kToken, Caller{.user_uuid = "u", .is_admin = false});
    GatewayOptions options;
    options.authenticator = &authenticator_;
    options.blob_signing_key = kKey;
    options.blob_signing_ttl_seconds = kTtl;
    options.http = &s3_;
    options.env = &env_;
    options.resolve = [this](manifest::ObjectStoreKind,
                             std::string_view bucket) -> Result<GatewayRemote> {
      ++resolves_;
      if (bucket != "bk") return NotFoundError("no remote holds s3 bucket " + std::string(bucket));
      return GatewayRemote{
          .name = "r",
          .endpoint = "http://s3.test",
          .region = "us-east-1",
          .credentials = {
              .access_key_id = "AKID", .secret_access_key = "very-secret", .session_token = ""}};
    };
    options.log = [](std::string_view) {};
    ASSERT_OK_AND_ASSIGN(gateway_, Gateway::Create(std::move(options)));
  }

  static manifest::Locator External(const std::string& bucket, uint64_t offset, uint64_t size,
                                    const std::string& etag = "e1") {
    manifest::ExternalObject object{.kind = manifest::ObjectStoreKind::kS3,
                                    .bucket = bucket,
                                    .key = "dir/obj",
                                    .version_id = "",
                                    .etag = etag};
    return manifest::MakeExternalLocator(object, offset, size);
  }
  manifest::Locator Signed(const manifest::Locator& l, int64_t expiry = 0) {
    if (expiry == 0) expiry = env_.NowUnixSeconds() + kTtl;
    return manifest::SignLocator(l, kKey, kToken, expiry, kTtl);
  }
  httpd::BufferedResponseWriter Get(const std::string& path, const std::string& token = kToken,
                                    const std::string& method = "GET",
                                    const std::string& range = "") {
    httpd::StringBodyReader reader("");
    httpd::ServerRequest request;
    request.method = method;
    request.target = path;
    request.path = path;
    if (!token.empty()) request.headers.Add("Authorization", "Bearer " + token);
    if (!range.empty()) request.headers.Add("Range", range);
    request.body = &reader;
    httpd::BufferedResponseWriter response;
    gateway_->Handle(request, response);
    return response;
  }

  objstore::transfer::MemS3 s3_;
  FixedTokenAuthenticator authenticator_;
  testing::FakeEnv env_;
  std::unique_ptr<Gateway> gateway_;
  int resolves_ = 0;
};

TEST_F(GatewayTest, ServesExactlyTheRange) {
  auto r = Get("/" + Signed(External("bk", 3, 7)).ToString());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "3456789");
  r = Get("/" + Signed(External("bk", 0, 16)).ToString());
  EXPECT_EQ(r.body, kData);
  EXPECT_EQ(resolves_, 2);
  r = Get("/" + Signed(External("bk", 3, 7)).ToString(), kToken, "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_length, 7u);
  EXPECT_EQ(r.body, "");
}

// A Range header reads a sub-range of the chunk (not of the object): 206 with Content-Range.
TEST_F(GatewayTest, RangeServesThatPartOfTheChunk) {
  std::vector<std::string> asked;  // the Range of each GET the store saw
  s3_.set_interceptor([&](const http::HttpRequest& q) -> std::optional<int> {
    for (const auto& [name, value] : q.headers) {
      if (name == "Range" || name == "range") asked.push_back(value);
    }
    return std::nullopt;
  });
  const std::string path = "/" + Signed(External("bk", 3, 10)).ToString();  // "3456789abc"
  auto r = Get(path, kToken, "GET", "bytes=2-5");
  EXPECT_EQ(r.status, 206) << r.body;
  EXPECT_EQ(r.body, "5678");
  EXPECT_EQ(r.content_length, 4u);
  EXPECT_EQ(r.headers.Get("Content-Range").value_or(""), "bytes 2-5/10");
  r = Get(path, kToken, "GET", "bytes=7-");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(r.headers.Get("Content-Range").value_or(""), "bytes 7-9/10");
  r = Get(path, kToken, "GET", "bytes=-2");
  EXPECT_EQ(r.body, "bc");
  r = Get(path, kToken, "GET", "bytes=8-1000");  // the end is clipped to the chunk
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "bc");
  EXPECT_EQ(r.headers.Get("Content-Range").value_or(""), "bytes 8-9/10");
  r = Get(path, kToken, "GET", "bytes=0-9");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "3456789abc");
  r = Get(path, kToken, "HEAD", "bytes=1-2");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.content_length, 2u);
  EXPECT_EQ(r.body, "");
  // The object store was asked for exactly the sub-range (object offsets), never the chunk.
  EXPECT_THAT(asked, ::testing::ElementsAre("bytes=5-8", "bytes=10-12", "bytes=11-12",
                                            "bytes=11-12", "bytes=3-12", "bytes=4-5"));
  s3_.set_interceptor(nullptr);
}

TEST_F(GatewayTest, BadRangesAre416WithNoBytes) {
  const std::string path = "/" + Signed(External("bk", 3, 10)).ToString();
  for (const char* bad : {"bytes=10-", "bytes=10-12", "bytes=5-4", "bytes=-0", "bytes=0-1,4-5",
                          "items=0-1", "bytes=x-2", "bytes=1-y", "bytes=-", "bytes=+1-2"}) {
    auto r = Get(path, kToken, "GET", bad);
    EXPECT_EQ(r.status, 416) << bad << ": " << r.body;
    EXPECT_EQ(r.headers.Get("Content-Range").value_or(""), "bytes */10") << bad;
    EXPECT_THAT(r.body, Not(HasSubstr("3456"))) << bad;
  }
  EXPECT_EQ(resolves_, 0);  // refused before any remote is asked
  // A range is checked only after the signature: no hints to a stranger.
  EXPECT_EQ(Get("/" + External("bk", 3, 10).ToString(), kToken, "GET", "bytes=99-").status, 400);
}

TEST_F(GatewayTest, RangesStayPinnedToTheEtag) {
  const std::string path = "/" + Signed(External("bk", 0, 10)).ToString();
  s3_.PutObjectDirect(
      "bk", "dir/obj",
      {.data = "XXXXXXXXXXXXXXXX", .etag = "e2", .content_type = "", .metadata = {}});
  auto r = Get(path, kToken, "GET", "bytes=0-3");
  EXPECT_EQ(r.status, 412);
  EXPECT_THAT(r.body, Not(HasSubstr("XXXX")));
}

TEST(ParseByteRangeTest, Forms) {
  ASSERT_OK_AND_ASSIGN(ByteRange r, ParseByteRange("bytes=0-0", 1));
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 1u);
  ASSERT_OK_AND_ASSIGN(r, ParseByteRange("bytes=-100", 10));  // more than the chunk: all of it
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 10u);
  ASSERT_OK_AND_ASSIGN(r, ParseByteRange("bytes=67108863-", int64_t{64} << 20));
  EXPECT_EQ(r.offset, (uint64_t{64} << 20) - 1);
  EXPECT_EQ(r.length, 1u);
  EXPECT_THAT(ParseByteRange("bytes=0-0", 0), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(ParseByteRange("bytes=-1", 0), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(ParseByteRange("bytes=99999999999999999999999-", 10),
              StatusIs(StatusCode::kOutOfRange));
}

TEST_F(GatewayTest, RefusesMissingWrongOrExpiredSignatures) {
  EXPECT_EQ(Get("/" + External("bk", 0, 4).ToString()).status, 400);
  manifest::Locator forged = manifest::SignLocator(External("bk", 0, 4), "other-key", kToken,
                                                   env_.NowUnixSeconds() + 60, kTtl);
  EXPECT_EQ(Get("/" + forged.ToString()).status, 400);
  EXPECT_EQ(Get("/" + Signed(External("bk", 0, 4), env_.NowUnixSeconds() - 1).ToString()).status,
            401);
  EXPECT_EQ(Get("/" + Signed(External("bk", 0, 4)).ToString(), "").status, 401);
  EXPECT_EQ(Get("/" + Signed(External("bk", 0, 4)).ToString(), "unknown").status, 401);
  EXPECT_EQ(resolves_, 0);  // nothing reached a remote
}

TEST_F(GatewayTest, AnEditedLocatorFailsTheHashCheck) {
  // Same hash and signature, another offset: the derived hash no longer matches +B/+C.
  std::string text = Signed(External("bk", 0, 4)).ToString();
  size_t c = text.find("+C0");
  ASSERT_NE(c, std::string::npos);
  text.replace(c, 3, "+C8");
  auto r = Get("/" + text);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, HasSubstr("hash"));
  EXPECT_EQ(resolves_, 0);
}

TEST_F(GatewayTest, ChangedGoneOrForbiddenObjectsAreClearErrorsWithNoBytes) {
  std::string path = "/" + Signed(External("bk", 0, 4)).ToString();
  s3_.PutObjectDirect("bk", "dir/obj",
                      {.data = "XXXXXXXXXX", .etag = "e2", .content_type = "", .metadata = {}});
  auto r = Get(path);
  EXPECT_EQ(r.status, 412);
  EXPECT_THAT(r.body, HasSubstr("s3://bk/dir/obj: changed"));
  EXPECT_THAT(r.body, Not(HasSubstr("XXXX")));

  s3_.set_interceptor([](const http::HttpRequest&) -> std::optional<int> { return 403; });
  r = Get(path);
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("s3://bk/dir/obj"));
  s3_.set_interceptor(nullptr);

  manifest::ExternalObject gone{.kind = manifest::ObjectStoreKind::kS3,
                                .bucket = "bk",
                                .key = "nothing/here",
                                .version_id = "",
                                .etag = "e1"};
  r = Get("/" + Signed(manifest::MakeExternalLocator(gone, 0, 4)).ToString());
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("s3://bk/nothing/here: no longer exists"));
  EXPECT_THAT(r.body, Not(HasSubstr("very-secret")));
}

TEST_F(GatewayTest, BucketsOfNoRemoteAndLocalBlocksAreNotFound) {
  auto r = Get("/" + Signed(External("elsewhere", 0, 4)).ToString());
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("s3://elsewhere/dir/obj"));
  manifest::Locator local(manifest::BlockHash::Of("foo"), 3);
  EXPECT_EQ(Get("/" + Signed(local).ToString()).status, 404);
  EXPECT_EQ(Get("/_health/ping").status, 200);
  EXPECT_EQ(Get("/" + Signed(External("bk", 0, 4)).ToString(), kToken, "PUT").status, 405);
}

// Swift objects go through the same path, with the remote's store opened by `open_store`.
TEST_F(GatewayTest, SwiftObjectsAreServedPinnedToTheirEtag) {
  auto swift = std::make_shared<objstore::MemObjectStore>();
  ASSERT_OK(swift->CreateContainer("cont"));
  ASSERT_OK_AND_ASSIGN(objstore::WriteResult written,
                       swift->Put("cont", "a b", http::RequestBody::FromBytes(kData), {}));
  int opened = 0;
  GatewayOptions options;
  options.authenticator = &authenticator_;
  options.blob_signing_key = kKey;
  options.blob_signing_ttl_seconds = kTtl;
  options.http = &s3_;
  options.env = &env_;
  options.resolve = [](manifest::ObjectStoreKind kind,
                       std::string_view bucket) -> Result<GatewayRemote> {
    if (kind != manifest::ObjectStoreKind::kSwift || bucket != "cont") {
      return NotFoundError("no remote holds it");
    }
    return GatewayRemote{.name = "sw",
                         .kind = manifest::ObjectStoreKind::kSwift,
                         .endpoint = "http://swift.test/auth/v1.0",
                         .region = "",
                         .credentials = {.access_key_id = "acct:user",
                                         .secret_access_key = "swift-secret",
                                         .session_token = ""}};
  };
  options.open_store =
      [&](const GatewayRemote& remote) -> Result<std::shared_ptr<objstore::ObjectStore>> {
    ++opened;
    EXPECT_EQ(remote.kind, manifest::ObjectStoreKind::kSwift);
    return std::shared_ptr<objstore::ObjectStore>(swift);
  };
  options.log = [](std::string_view) {};
  ASSERT_OK_AND_ASSIGN(gateway_, Gateway::Create(std::move(options)));

  manifest::ExternalObject object{.kind = manifest::ObjectStoreKind::kSwift,
                                  .bucket = "cont",
                                  .key = "a b",
                                  .version_id = "",
                                  .etag = written.etag};
  std::string path = "/" + Signed(manifest::MakeExternalLocator(object, 2, 5)).ToString();
  auto r = Get(path);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "23456");
  EXPECT_EQ(Get(path).body, "23456");
  EXPECT_EQ(opened, 1);  // the store is kept

  // The same bucket name as an S3 locator is not this remote's.
  object.kind = manifest::ObjectStoreKind::kS3;
  EXPECT_EQ(Get("/" + Signed(manifest::MakeExternalLocator(object, 2, 5)).ToString()).status, 404);

  ASSERT_OK(
      swift->Put("cont", "a b", http::RequestBody::FromBytes("changed bytes here"), {}).status());
  r = Get(path);
  EXPECT_EQ(r.status, 412);
  EXPECT_THAT(r.body, HasSubstr("swift://cont/a b: changed"));
  EXPECT_THAT(r.body, Not(HasSubstr("changed bytes")));
  EXPECT_THAT(r.body, Not(HasSubstr("swift-secret")));
}

}  // namespace
}  // namespace cairn::blockstore
