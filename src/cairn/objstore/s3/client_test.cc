// S3Client against an in-process HTTP server that plays S3: requests are signed and shaped as S3
// wants them, replies and errors are read right, transient errors are retried, integrity checks
// catch what they should. (The real-server tests are in tests/integration/.)
#include "cairn/objstore/s3/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>

#include "cairn/common/base64.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/http_test_server.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::s3 {
namespace {

using ::cairn::testing::HttpTestServer;
using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class S3ClientTest : public ::testing::Test {
 protected:
  void Start(HttpTestServer::Handler handler) {
    ASSERT_OK_AND_ASSIGN(server_, HttpTestServer::Start(std::move(handler)));
    ASSERT_OK_AND_ASSIGN(http_, http::CurlHttpClient::Create({}));
    S3Settings settings;
    settings.credentials = {"AKIDEXAMPLE", "secret", ""};
    settings.region = "us-east-1";
    settings.endpoint_url = "http://127.0.0.1:" + std::to_string(server_->port());
    S3ClientOptions options;
    options.retry.max_attempts = 4;
    ASSERT_OK_AND_ASSIGN(client_, S3Client::Create(settings, http_.get(), &env_, options));
  }

  // Records each request's method and target.
  void Record(const HttpTestServer::Request& r) {
    std::lock_guard lock(mu_);
    seen_.push_back(r);
  }

  cairn::testing::FakeEnv env_;
  std::unique_ptr<HttpTestServer> server_;
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<S3Client> client_;
  std::mutex mu_;
  std::vector<HttpTestServer::Request> seen_;
};

constexpr char kNoSuchKey[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
    "<Message>The specified key does not exist.</Message><Key>k</Key>"
    "<RequestId>tx0001</RequestId></Error>";

TEST_F(S3ClientTest, PutSignsAndSendsContentMd5) {
  Start([this](HttpTestServer::Exchange& x) {
    Record(x.request());
    x.Respond(200, "", {{"ETag", "\"" + Md5Hex(x.request().body) + "\""}});
  });
  std::string data = "hello, s3";
  http::RequestBody body = http::RequestBody::FromBytes(data);
  PutOptions options;
  options.content_md5 = Md5Of(data);
  options.metadata = {{"part-size", "8388608"}};
  ASSERT_OK_AND_ASSIGN(PutResult put, client_->PutObject("bucket", "dir/a b.txt", body, options));
  EXPECT_EQ(put.etag, Md5Hex(data));
  ASSERT_EQ(seen_.size(), 1u);
  const HttpTestServer::Request& r = seen_[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/bucket/dir/a%20b.txt");
  EXPECT_EQ(r.body, data);
  EXPECT_THAT(r.Header("Authorization").value_or(""),
              StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  EXPECT_EQ(r.Header("x-amz-content-sha256").value_or(""), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(r.Header("Content-MD5").value_or(""),
            Base64Encode(std::string_view(reinterpret_cast<const char*>(Md5Of(data).data()), 16)));
  EXPECT_EQ(r.Header("x-amz-meta-part-size").value_or(""), "8388608");
}

TEST_F(S3ClientTest, PutDetectsAnEtagThatIsNotTheMd5) {
  Start([](HttpTestServer::Exchange& x) { x.Respond(200, "", {{"ETag", "\"0000\""}}); });
  http::RequestBody body = http::RequestBody::FromBytes("abc");
  PutOptions options;
  options.content_md5 = Md5Of("abc");
  EXPECT_THAT(client_->PutObject("b", "k", body, options),
              StatusIs(StatusCode::kDataLoss, HasSubstr("put s3://b/k")));
}

TEST_F(S3ClientTest, ErrorsCarryCodeAndRequestId) {
  Start([](HttpTestServer::Exchange& x) { x.Respond(404, kNoSuchKey); });
  Result<ObjectInfo> info =
      client_->GetObject("b", "k", {}, [](std::string_view) { return Status(); });
  EXPECT_THAT(info, StatusIs(StatusCode::kNotFound, HasSubstr("get s3://b/k: NoSuchKey")));
  EXPECT_EQ(info.status().detail().http_status, 404);
  EXPECT_EQ(info.status().detail().service_code, "NoSuchKey");
  EXPECT_EQ(info.status().detail().request_id, "tx0001");
  // HEAD replies have no body: the status alone decides.
  EXPECT_THAT(client_->HeadObject("b", "k"), StatusIs(StatusCode::kNotFound));
}

TEST_F(S3ClientTest, RetriesSlowDownThenSucceeds) {
  std::atomic<int> calls{0};
  Start([&](HttpTestServer::Exchange& x) {
    if (calls.fetch_add(1) < 2) {
      x.Respond(503, "<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>");
      return;
    }
    x.Respond(200, "", {{"ETag", "\"" + Md5Hex(x.request().body) + "\""}});
  });
  http::RequestBody body = http::RequestBody::FromBytes("data");
  ASSERT_OK(client_->PutObject("b", "k", body).status());
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(env_.sleeps().size(), 2u);  // backed off through the Env, not the wall clock
}

TEST_F(S3ClientTest, GivesUpWithTheLastError) {
  Start([](HttpTestServer::Exchange& x) {
    x.Respond(503, "<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>");
  });
  Status s = client_->DeleteObject("b", "k");
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, HasSubstr("gave up after 4 attempts")));
  EXPECT_EQ(s.detail().service_code, "SlowDown");
}

TEST_F(S3ClientTest, RangedGetStreamsAndChecksLength) {
  std::string object(100000, 'x');
  for (size_t i = 0; i < object.size(); ++i) object[i] = static_cast<char>('a' + i % 26);
  Start([&](HttpTestServer::Exchange& x) {
    Record(x.request());
    x.Respond(206, object.substr(1000, 5000),
              {{"Content-Range", "bytes 1000-5999/100000"}, {"ETag", "\"abc\""}});
  });
  std::string got;
  GetOptions options;
  options.range = ByteRange{1000, 5000};
  options.if_match = "abc";
  ASSERT_OK_AND_ASSIGN(ObjectInfo info, client_->GetObject("b", "k", options, [&](auto piece) {
    got.append(piece);
    return Status();
  }));
  EXPECT_EQ(got, object.substr(1000, 5000));
  EXPECT_EQ(info.size, 100000u);
  EXPECT_EQ(info.etag, "abc");
  EXPECT_EQ(seen_[0].Header("Range").value_or(""), "bytes=1000-5999");
  EXPECT_EQ(seen_[0].Header("If-Match").value_or(""), "\"abc\"");
}

TEST_F(S3ClientTest, RangedGetRefusesAWholeObjectReply) {
  Start([](HttpTestServer::Exchange& x) { x.Respond(200, std::string(100, 'z')); });
  std::string got;
  GetOptions options;
  options.range = ByteRange{10, 20};
  EXPECT_THAT(client_->GetObject("b", "k", options,
                                 [&](std::string_view piece) {
                                   got.append(piece);
                                   return Status();
                                 }),
              StatusIs(StatusCode::kDataLoss, HasSubstr("asked for bytes from 10")));
  EXPECT_EQ(got, "");  // nothing of the wrong range reached the sink
}

TEST_F(S3ClientTest, TruncatedGetIsNotSentAgain) {
  Start([](HttpTestServer::Exchange& x) {
    x.WriteHead(200, {}, 1000);
    x.Write(std::string(400, 'q'));
    x.CloseAfter();
  });
  // The bytes that came went to the sink, so the call is not sent again: the caller (the
  // transfer engine) resumes from what it has, which the code kAborted tells it to do.
  Result<ObjectInfo> info =
      client_->GetObject("b", "k", {}, [](std::string_view) { return Status(); });
  EXPECT_THAT(info, StatusIs(StatusCode::kAborted, HasSubstr("cut after 400 bytes")));
}

TEST_F(S3ClientTest, CompleteChecksTheBodyOfA200) {
  Start([](HttpTestServer::Exchange& x) {
    x.Respond(200,
              "<?xml version=\"1.0\"?>\n\n<Error><Code>InternalError</Code>"
              "<Message>We encountered an internal error.</Message></Error>");
  });
  CompletedPart parts[] = {{1, "etag1"}};
  EXPECT_THAT(client_->CompleteMultipartUpload("b", "k", "up1", parts),
              StatusIs(StatusCode::kUnavailable, HasSubstr("InternalError")));
}

TEST_F(S3ClientTest, MultipartRequestsAreShapedAsS3Wants) {
  Start([this](HttpTestServer::Exchange& x) {
    Record(x.request());
    const std::string& t = x.request().target;
    if (t.find("uploads") != std::string::npos && x.request().method == "POST") {
      x.Respond(200,
                "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                "<UploadId>up-1</UploadId></InitiateMultipartUploadResult>");
    } else if (x.request().method == "PUT") {
      x.Respond(200, "", {{"ETag", "\"" + Md5Hex(x.request().body) + "\""}});
    } else if (x.request().method == "POST") {
      x.Respond(200,
                "<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                "<ETag>\"ffff-1\"</ETag></CompleteMultipartUploadResult>");
    } else {
      x.Respond(204, "");
    }
  });
  ASSERT_OK_AND_ASSIGN(std::string upload_id, client_->CreateMultipartUpload("b", "k"));
  EXPECT_EQ(upload_id, "up-1");
  std::string part = "part one";
  http::RequestBody body = http::RequestBody::FromBytes(part);
  ASSERT_OK_AND_ASSIGN(std::string etag,
                       client_->UploadPart("b", "k", upload_id, 1, body, Md5Of(part)));
  CompletedPart parts[] = {{1, etag}};
  ASSERT_OK_AND_ASSIGN(CompleteMultipartUploadResult done,
                       client_->CompleteMultipartUpload("b", "k", upload_id, parts));
  EXPECT_EQ(done.etag, "ffff-1");
  ASSERT_OK(client_->AbortMultipartUpload("b", "k", upload_id));
  ASSERT_EQ(seen_.size(), 4u);
  EXPECT_EQ(seen_[0].target, "/b/k?uploads=");
  EXPECT_EQ(seen_[1].target, "/b/k?partNumber=1&uploadId=up-1");
  EXPECT_THAT(seen_[2].body, HasSubstr("<PartNumber>1</PartNumber>"));
  EXPECT_EQ(seen_[3].method, "DELETE");
  EXPECT_EQ(seen_[3].target, "/b/k?uploadId=up-1");
  EXPECT_THAT(client_->UploadPart("b", "k", upload_id, 10001, body, std::nullopt),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(S3ClientTest, DeleteObjectsSendsContentMd5OfTheBody) {
  Start([this](HttpTestServer::Exchange& x) {
    Record(x.request());
    x.Respond(200, "<DeleteResult><Deleted><Key>a</Key></Deleted></DeleteResult>");
  });
  ObjectIdentifier keys[] = {{"a", ""}, {"b&c", ""}};
  ASSERT_OK_AND_ASSIGN(DeleteObjectsResult result,
                       client_->DeleteObjects("b", keys, DeleteReport::kAll));
  EXPECT_EQ(result.deleted.size(), 1u);
  const HttpTestServer::Request& r = seen_[0];
  EXPECT_EQ(r.target, "/b?delete=");
  Md5Digest md5 = Md5Of(r.body);
  EXPECT_EQ(r.Header("Content-MD5").value_or(""),
            Base64Encode(std::string_view(reinterpret_cast<const char*>(md5.data()), 16)));
  EXPECT_THAT(r.body, HasSubstr("b&amp;c"));
}

TEST_F(S3ClientTest, ListObjectsAsksForUrlEncodedKeys) {
  Start([this](HttpTestServer::Exchange& x) {
    Record(x.request());
    x.Respond(200,
              "<ListBucketResult><Name>b</Name><EncodingType>url</EncodingType>"
              "<IsTruncated>true</IsTruncated><NextContinuationToken>t2</NextContinuationToken>"
              "<Contents><Key>a%20b</Key><Size>3</Size><ETag>\"e\"</ETag></Contents>"
              "</ListBucketResult>");
  });
  ListOptions options;
  options.prefix = "p/";
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page page, client_->ListObjectsV2("b", options));
  EXPECT_TRUE(page.is_truncated);
  EXPECT_EQ(page.next_continuation_token, "t2");
  ASSERT_EQ(page.contents.size(), 1u);
  EXPECT_EQ(page.contents[0].key, "a b");
  EXPECT_EQ(seen_[0].target, "/b?encoding-type=url&list-type=2&max-keys=1000&prefix=p%2F");
}

}  // namespace
}  // namespace cairn::objstore::s3
