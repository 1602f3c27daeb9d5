// S3Client against a real S3 server (Ceph RGW from scripts/object-store): every call of the
// client, odd keys, paging, multipart with the ETag checked, aborts that leave nothing behind,
// errors with their codes, and objects exchanged with the aws CLI.
//
// The server comes from the environment the object-store script prints (AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION). Without it the tests fail: they
// never skip (run them through scripts/integration-test.sh).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cairn/common/hash.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/part_size.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::s3 {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

class S3IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    S3SettingsInput input;
    for (const char* name : {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                             "AWS_DEFAULT_REGION", "AWS_REGION"}) {
      if (!Env(name).empty()) input.environment[name] = Env(name);
    }
    ASSERT_FALSE(Env("AWS_ENDPOINT_URL").empty())
        << "no S3 server: run through scripts/integration-test.sh (or eval "
           "\"$(scripts/object-store env)\")";
    ASSERT_OK_AND_ASSIGN(settings_, ResolveS3Settings(input));
    ASSERT_OK_AND_ASSIGN(http_, http::CurlHttpClient::Create({}));
    ASSERT_OK_AND_ASSIGN(client_, S3Client::Create(settings_, http_.get(), io::Env::Default()));
    bucket_ = "cairn-it-" + std::to_string(io::Env::Default()->NowUnixMicros() % 1000000000) + "-" +
              std::to_string(::testing::UnitTest::GetInstance()->random_seed());
    ASSERT_OK(client_->CreateBucket(bucket_));
  }

  void TearDown() override {
    if (client_ == nullptr) return;
    // Empty and remove the bucket, uploads included.
    Result<ListMultipartUploadsPage> uploads = client_->ListMultipartUploads(bucket_);
    if (uploads.ok()) {
      for (const auto& u : uploads->uploads) {
        client_->AbortMultipartUpload(bucket_, u.key, u.upload_id).IgnoreError();
      }
    }
    Result<ListObjectsV2Page> page = client_->ListObjectsV2(bucket_, {});
    if (page.ok()) {
      for (const auto& o : page->contents) client_->DeleteObject(bucket_, o.key).IgnoreError();
    }
    EXPECT_OK(client_->DeleteBucket(bucket_));
  }

  std::string Get(std::string_view key, const GetOptions& options = {}) {
    std::string out;
    Result<ObjectInfo> info = client_->GetObject(bucket_, key, options, [&](std::string_view p) {
      out.append(p);
      return Status();
    });
    EXPECT_OK(info.status());
    return out;
  }

  S3Settings settings_;
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<S3Client> client_;
  std::string bucket_;
};

TEST_F(S3IntegrationTest, PutHeadGetRangeWithMetadata) {
  std::string data = RandomBytes(300000, 1);
  http::RequestBody body = http::RequestBody::FromBytes(data);
  PutOptions options;
  options.content_md5 = Md5Of(data);
  options.content_type = "application/octet-stream";
  options.metadata = {{"cairn-part-size", "8388608"}};
  ASSERT_OK_AND_ASSIGN(PutResult put, client_->PutObject(bucket_, "a/b.bin", body, options));
  EXPECT_EQ(put.etag, Md5Hex(data));

  ASSERT_OK_AND_ASSIGN(ObjectInfo info, client_->HeadObject(bucket_, "a/b.bin"));
  EXPECT_EQ(info.size, data.size());
  EXPECT_EQ(info.etag, Md5Hex(data));
  EXPECT_EQ(info.metadata["cairn-part-size"], "8388608");
  EXPECT_GT(info.last_modified, 0);

  EXPECT_EQ(Get("a/b.bin"), data);
  GetOptions range;
  range.range = ByteRange{12345, 1000};
  range.if_match = info.etag;
  EXPECT_EQ(Get("a/b.bin", range), data.substr(12345, 1000));
  // A range past the end gets what there is.
  range.range = ByteRange{299990, 100};
  EXPECT_EQ(Get("a/b.bin", range), data.substr(299990));
  // If-Match pins reads to a version of the object.
  range.if_match = "00000000000000000000000000000000";
  EXPECT_THAT(client_->GetObject(bucket_, "a/b.bin", range, [](auto) { return Status(); }),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(S3IntegrationTest, OddKeysRoundTrip) {
  std::vector<std::string> keys = {"space in name",
                                   "plus+sign",
                                   "percent%25",
                                   "q?uestion",
                                   "hash#tag",
                                   "amp&er",
                                   "caf\xc3\xa9/\xe6\x97\xa5",
                                   "a//double",
                                   "tilde~"};
  for (const std::string& key : keys) {
    http::RequestBody body = http::RequestBody::FromBytes(key);
    ASSERT_OK(client_->PutObject(bucket_, key, body).status()) << key;
    EXPECT_EQ(Get(key), key);
  }
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page page, client_->ListObjectsV2(bucket_, {}));
  std::vector<std::string> listed;
  for (const auto& o : page.contents) listed.push_back(o.key);
  for (const std::string& key : keys) EXPECT_THAT(listed, Contains(key));
}

TEST_F(S3IntegrationTest, ListingPagesPrefixesAndDelimiters) {
  for (const char* key : {"d/1", "d/2", "d/3", "d/sub/4", "d/sub/5", "e/6"}) {
    http::RequestBody body = http::RequestBody::FromBytes(key);
    ASSERT_OK(client_->PutObject(bucket_, key, body).status());
  }
  ListOptions options;
  options.prefix = "d/";
  options.max_keys = 2;
  std::vector<std::string> keys;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    ASSERT_OK_AND_ASSIGN(ListObjectsV2Page page, client_->ListObjectsV2(bucket_, options));
    EXPECT_LE(page.contents.size(), 2u);
    for (const auto& o : page.contents) keys.push_back(o.key);
    if (!page.is_truncated) break;
    options.continuation_token = page.next_continuation_token;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"d/1", "d/2", "d/3", "d/sub/4", "d/sub/5"}));
  ListOptions dirs;
  dirs.prefix = "d/";
  dirs.delimiter = "/";
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page page, client_->ListObjectsV2(bucket_, dirs));
  EXPECT_EQ(page.common_prefixes, std::vector<std::string>{"d/sub/"});
  EXPECT_EQ(page.contents.size(), 3u);
}

TEST_F(S3IntegrationTest, MultipartUploadWithCheckedEtag) {
  constexpr size_t kPart = 5 << 20;  // S3: the smallest part but the last
  std::string part1 = RandomBytes(kPart, 2), part2 = RandomBytes(1 << 20, 3);
  ASSERT_OK_AND_ASSIGN(std::string upload, client_->CreateMultipartUpload(bucket_, "big"));
  std::vector<CompletedPart> parts;
  std::vector<Md5Digest> md5s;
  int number = 1;
  for (const std::string* data : {&part1, &part2}) {
    http::RequestBody body = http::RequestBody::FromBytes(*data);
    md5s.push_back(Md5Of(*data));
    ASSERT_OK_AND_ASSIGN(std::string etag,
                         client_->UploadPart(bucket_, "big", upload, number, body, md5s.back()));
    parts.push_back({number++, etag});
  }
  ASSERT_OK_AND_ASSIGN(ListPartsPage listed, client_->ListParts(bucket_, "big", upload));
  ASSERT_EQ(listed.parts.size(), 2u);
  EXPECT_EQ(listed.parts[0].size, static_cast<int64_t>(kPart));
  ASSERT_OK_AND_ASSIGN(CompleteMultipartUploadResult done,
                       client_->CompleteMultipartUpload(bucket_, "big", upload, parts));
  EXPECT_EQ(done.etag, MultipartEtag(md5s));
  EXPECT_EQ(Get("big"), part1 + part2);
}

TEST_F(S3IntegrationTest, AbortLeavesNothingBehind) {
  ASSERT_OK_AND_ASSIGN(std::string upload, client_->CreateMultipartUpload(bucket_, "aborted"));
  std::string data = RandomBytes(1 << 20, 4);
  http::RequestBody body = http::RequestBody::FromBytes(data);
  ASSERT_OK(client_->UploadPart(bucket_, "aborted", upload, 1, body, Md5Of(data)).status());
  ASSERT_OK(client_->AbortMultipartUpload(bucket_, "aborted", upload));
  ASSERT_OK_AND_ASSIGN(ListMultipartUploadsPage uploads, client_->ListMultipartUploads(bucket_));
  EXPECT_TRUE(uploads.uploads.empty());
  // RGW answers NoSuchKey here, AWS NoSuchUpload: both are kNotFound.
  EXPECT_THAT(client_->ListParts(bucket_, "aborted", upload), StatusIs(StatusCode::kNotFound));
}

TEST_F(S3IntegrationTest, BadDigestIsRejectedByTheServer) {
  std::string data = "the bytes we meant to send";
  http::RequestBody body = http::RequestBody::FromBytes(data);
  PutOptions options;
  options.content_md5 = Md5Of("other bytes");
  EXPECT_THAT(client_->PutObject(bucket_, "corrupt", body, options),
              StatusIs(StatusCode::kDataLoss, HasSubstr("BadDigest")));
  EXPECT_THAT(client_->HeadObject(bucket_, "corrupt"), StatusIs(StatusCode::kNotFound));
}

TEST_F(S3IntegrationTest, CopyAndBatchDelete) {
  std::string data = RandomBytes(70000, 5);
  http::RequestBody body = http::RequestBody::FromBytes(data);
  ASSERT_OK(client_->PutObject(bucket_, "src", body).status());
  ASSERT_OK_AND_ASSIGN(CopyResult copy, client_->CopyObject(bucket_, "src", bucket_, "dst x"));
  EXPECT_EQ(copy.etag, Md5Hex(data));
  EXPECT_EQ(Get("dst x"), data);
  ObjectIdentifier objects[] = {{"src", ""}, {"dst x", ""}, {"never-existed", ""}};
  ASSERT_OK_AND_ASSIGN(DeleteObjectsResult result,
                       client_->DeleteObjects(bucket_, objects, DeleteReport::kAll));
  EXPECT_TRUE(result.errors.empty());
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page page, client_->ListObjectsV2(bucket_, {}));
  EXPECT_TRUE(page.contents.empty());
}

TEST_F(S3IntegrationTest, ErrorsHaveCodesAndRequestIds) {
  Result<ObjectInfo> missing =
      client_->GetObject(bucket_, "missing", {}, [](std::string_view) { return Status(); });
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound, HasSubstr("NoSuchKey")));
  EXPECT_EQ(missing.status().detail().http_status, 404);
  EXPECT_FALSE(missing.status().detail().request_id.empty());
  EXPECT_THAT(client_->ListObjectsV2("cairn-no-such-bucket-xyz", {}),
              StatusIs(StatusCode::kNotFound, HasSubstr("NoSuchBucket")));

  S3Settings wrong = settings_;
  wrong.credentials.secret_access_key = "not-the-secret";
  ASSERT_OK_AND_ASSIGN(auto bad, S3Client::Create(wrong, http_.get(), io::Env::Default()));
  Status denied = bad->HeadObject(bucket_, "x").status();
  EXPECT_THAT(denied, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(denied.ToString(), Not(HasSubstr("not-the-secret")));
}

// Objects written by Cairn read back with the aws CLI, and the reverse: the script
// (scripts/integration-test.sh) checks what this test leaves, and this test reads what it wrote.
TEST_F(S3IntegrationTest, ExchangesObjectsWithTheAwsCli) {
  std::string dir = Env("CAIRN_IT_AWS_DIR");
  ASSERT_FALSE(dir.empty()) << "CAIRN_IT_AWS_DIR not set: run through scripts/integration-test.sh";
  // aws -> cairn: the script uploaded this file with `aws s3 cp` to bucket CAIRN_IT_AWS_BUCKET.
  std::string aws_bucket = Env("CAIRN_IT_AWS_BUCKET");
  ASSERT_OK_AND_ASSIGN(auto file, io::Env::Default()->ReadFile(dir + "/from-aws.bin"));
  std::string got;
  ASSERT_OK(client_
                ->GetObject(aws_bucket, "from-aws.bin", {},
                            [&](std::string_view p) {
                              got.append(p);
                              return Status();
                            })
                .status());
  EXPECT_EQ(Md5Hex(got), Md5Hex(file->data()));
  // cairn -> aws: a multipart object the script downloads with `aws s3 cp` and compares.
  std::string data = RandomBytes((6 << 20) + 12345, 6);
  ASSERT_OK(io::Env::Default()->WriteFileAtomically(dir + "/from-cairn.expected", data));
  ASSERT_OK_AND_ASSIGN(std::string upload,
                       client_->CreateMultipartUpload(aws_bucket, "from-cairn.bin"));
  std::string first = data.substr(0, 5 << 20), rest = data.substr(5 << 20);
  http::RequestBody b1 = http::RequestBody::FromBytes(first),
                    b2 = http::RequestBody::FromBytes(rest);
  ASSERT_OK_AND_ASSIGN(std::string e1, client_->UploadPart(aws_bucket, "from-cairn.bin", upload, 1,
                                                           b1, Md5Of(first)));
  ASSERT_OK_AND_ASSIGN(std::string e2, client_->UploadPart(aws_bucket, "from-cairn.bin", upload, 2,
                                                           b2, Md5Of(rest)));
  CompletedPart parts[] = {{1, e1}, {2, e2}};
  ASSERT_OK(client_->CompleteMultipartUpload(aws_bucket, "from-cairn.bin", upload, parts).status());
}

}  // namespace
}  // namespace cairn::objstore::s3
