#include "cairn/http/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cairn/testing/status_matchers.h"

namespace cairn::http {
namespace {

using ::cairn::testing::StatusIs;

TEST(HttpStatusToStatusTest, SuccessIsOk) {
  EXPECT_OK(HttpStatusToStatus(200, "x"));
  EXPECT_OK(HttpStatusToStatus(204, "x"));
  EXPECT_OK(HttpStatusToStatus(206, "x"));
}

TEST(HttpStatusToStatusTest, CodesFollowRetryMeaning) {
  const struct {
    int http;
    StatusCode code;
  } cases[] = {
      {400, StatusCode::kInvalidArgument},
      {401, StatusCode::kUnauthenticated},
      {403, StatusCode::kPermissionDenied},
      {404, StatusCode::kNotFound},
      {405, StatusCode::kUnimplemented},
      {408, StatusCode::kUnavailable},
      {409, StatusCode::kAborted},
      {410, StatusCode::kNotFound},
      {411, StatusCode::kInvalidArgument},
      {412, StatusCode::kFailedPrecondition},
      {413, StatusCode::kResourceExhausted},
      {416, StatusCode::kOutOfRange},
      {422, StatusCode::kInvalidArgument},
      {429, StatusCode::kUnavailable},
      {500, StatusCode::kUnavailable},
      {501, StatusCode::kUnimplemented},
      {502, StatusCode::kUnavailable},
      {503, StatusCode::kUnavailable},
      {504, StatusCode::kUnavailable},
      {507, StatusCode::kResourceExhausted},
      {599, StatusCode::kUnavailable},
      {418, StatusCode::kFailedPrecondition},
      {301, StatusCode::kFailedPrecondition},
      {304, StatusCode::kFailedPrecondition},
      {100, StatusCode::kFailedPrecondition},
      {0, StatusCode::kUnknown},
      {700, StatusCode::kUnknown},
  };
  for (const auto& c : cases) {
    Status status = HttpStatusToStatus(c.http, "GET s3://b/k");
    EXPECT_EQ(status.code(), c.code) << c.http;
    EXPECT_EQ(status.detail().http_status, c.http);
  }
}

TEST(HttpStatusToStatusTest, MessagePutsContextFirst) {
  Status status = HttpStatusToStatus(503, "upload part 3 of s3://b/k");
  EXPECT_EQ(status.message(), "upload part 3 of s3://b/k: Service Unavailable");
  EXPECT_EQ(status.ToString(),
            "UNAVAILABLE: upload part 3 of s3://b/k: Service Unavailable (HTTP 503)");
  EXPECT_EQ(HttpStatusToStatus(599, "x").message(), "x: HTTP status 599");
}

TEST(RedactUrlTest, DropsUserInfoQueryAndFragment) {
  EXPECT_EQ(RedactUrl("http://h:9000/b/k"), "http://h:9000/b/k");
  EXPECT_EQ(RedactUrl("https://h/b/k?X-Amz-Signature=abc&x=1"), "https://h/b/k");
  EXPECT_EQ(RedactUrl("https://user:pw@h/b/k"), "https://h/b/k");
  EXPECT_EQ(RedactUrl("https://user:pw@h"), "https://h");
  EXPECT_EQ(RedactUrl("https://h/p#frag"), "https://h/p");
  // '@' and '/' inside the query are not user info or path.
  EXPECT_EQ(RedactUrl("http://h?u=a@b/c"), "http://h");
  EXPECT_EQ(RedactUrl("http://h/a@b"), "http://h/a@b");
  EXPECT_EQ(RedactUrl(""), "");
}

TEST(HttpHeadersTest, LookupIgnoresCase) {
  HttpHeaders headers;
  headers.Add("Content-Length", "5");
  headers.Add("x-amz-request-id", "R1");
  headers.Add("X-Amz-Request-Id", "R2");
  EXPECT_EQ(headers.Get("content-length").value_or(""), "5");
  EXPECT_EQ(headers.Get("CONTENT-LENGTH").value_or(""), "5");
  EXPECT_EQ(headers.Get("X-AMZ-REQUEST-ID").value_or(""), "R1");  // the first one
  EXPECT_FALSE(headers.Get("Content-Lengt").has_value());
  EXPECT_FALSE(headers.Has("etag"));
  EXPECT_EQ(headers.entries().size(), 3u);
}

TEST(RequestBodyTest, KindsLengthsAndRewinding) {
  RequestBody none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.length(), 0);
  EXPECT_TRUE(none.rewindable());
  EXPECT_OK(none.Rewind());

  RequestBody bytes = RequestBody::FromBytes("hello");
  EXPECT_TRUE(bytes.is_bytes());
  EXPECT_EQ(bytes.length(), 5);
  EXPECT_TRUE(bytes.rewindable());
  EXPECT_OK(bytes.Rewind());

  auto source = [](std::span<char>) -> Result<size_t> { return size_t{0}; };
  RequestBody pipe = RequestBody::FromSource(source, RequestBody::kUnknownLength);
  EXPECT_TRUE(pipe.is_stream());
  EXPECT_EQ(pipe.length(), RequestBody::kUnknownLength);
  EXPECT_FALSE(pipe.rewindable());
  EXPECT_THAT(pipe.Rewind(), StatusIs(StatusCode::kFailedPrecondition));

  int rewinds = 0;
  RequestBody file = RequestBody::FromSource(source, 42, [&rewinds] {
    ++rewinds;
    return Status::OK();
  });
  EXPECT_EQ(file.length(), 42);
  EXPECT_TRUE(file.rewindable());
  EXPECT_OK(file.Rewind());
  EXPECT_EQ(rewinds, 1);
}

TEST(ResponseBodyTest, Modes) {
  ResponseBody collect = ResponseBody::Collect(100);
  EXPECT_FALSE(collect.streamed());
  EXPECT_EQ(collect.max_bytes(), 100u);
  ResponseBody stream = ResponseBody::Stream([](std::string_view) { return Status::OK(); });
  EXPECT_TRUE(stream.streamed());
  EXPECT_FALSE(static_cast<bool>(stream.on_headers()));
}

}  // namespace
}  // namespace cairn::http
