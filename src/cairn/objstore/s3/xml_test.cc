#include "cairn/objstore/s3/xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::s3 {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Unix seconds of a UTC civil time, computed by the C library as an independent reference.
int64_t Utc(int year, int month, int day, int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

// ---------------------------------------------------------------------------------------------
// Error bodies. The examples are those of the S3 API reference (ErrorResponses,
// CompleteMultipartUpload, DeleteObjects); the RGW ones are as RGW 16 writes them.

constexpr std::string_view kAwsNoSuchKey = R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource> 
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>)";

TEST(ParseErrorTest, AwsNoSuchKeyExample) {
  S3Error error = ParseError(kAwsNoSuchKey);
  EXPECT_EQ(error.code, "NoSuchKey");
  EXPECT_EQ(error.message, "The resource you requested does not exist");
  EXPECT_EQ(error.resource, "/mybucket/myfoto.jpg");
  EXPECT_EQ(error.request_id, "4442587FB7D0A2F9");
  EXPECT_EQ(error.host_id, "");
  EXPECT_EQ(error.body_excerpt, "");
}

TEST(ParseErrorTest, AwsAccessDeniedExampleOfCompleteMultipartUpload) {
  S3Error error = ParseError(R"(<?xml version="1.0" encoding="UTF-8"?>
            <Error>
              <Code>AccessDenied</Code>
             <Message>Access Denied</Message>
             <RequestId>656c76696e6727732072657175657374</RequestId>
             <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>
            </Error>)");
  EXPECT_EQ(error.code, "AccessDenied");
  EXPECT_EQ(error.message, "Access Denied");
  EXPECT_EQ(error.request_id, "656c76696e6727732072657175657374");
  EXPECT_EQ(error.host_id, "Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==");
}

TEST(ParseErrorTest, RgwEmptyMessageAndExtraFields) {
  S3Error error = ParseError(
      R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message/>)"
      R"(<BucketName>cairn</BucketName><Key>a/b</Key>)"
      R"(<RequestId>tx00000a1b2c3d4e5f60718-0065a1b2c3-1234-default</RequestId>)"
      R"(<HostId>1234-default-default</HostId><Extra><Nested>x</Nested></Extra></Error>)");
  EXPECT_EQ(error.code, "NoSuchKey");
  EXPECT_EQ(error.message, "");
  EXPECT_EQ(error.bucket_name, "cairn");
  EXPECT_EQ(error.key, "a/b");
  EXPECT_EQ(error.request_id, "tx00000a1b2c3d4e5f60718-0065a1b2c3-1234-default");
  EXPECT_EQ(error.host_id, "1234-default-default");
}

TEST(ParseErrorTest, NamespacedAndPrefixedElements) {
  S3Error error = ParseError(
      R"(<s3:Error xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Code>SlowDown</s3:Code>)"
      R"(<s3:Message>Please reduce your request rate.</s3:Message><s3:UploadId>u1</s3:UploadId>)"
      R"(</s3:Error>)");
  EXPECT_EQ(error.code, "SlowDown");
  EXPECT_EQ(error.message, "Please reduce your request rate.");
  EXPECT_EQ(error.upload_id, "u1");
}

TEST(ParseErrorTest, SignatureDoesNotMatchCarriesWhatTheServerSigned) {
  S3Error error = ParseError(
      "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does "
      "not match the signature you provided.</Message><StringToSign>AWS4-HMAC-SHA256\n"
      "20130524T000000Z</StringToSign><CanonicalRequest>GET\n/test.txt\n</CanonicalRequest>"
      "</Error>");
  EXPECT_EQ(error.code, "SignatureDoesNotMatch");
  EXPECT_EQ(error.string_to_sign, "AWS4-HMAC-SHA256\n20130524T000000Z");
  EXPECT_EQ(error.canonical_request, "GET\n/test.txt\n");
}

TEST(ParseErrorTest, ErrorResponseWrapper) {
  S3Error error = ParseError(
      "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error>"
      "<RequestId>r-1</RequestId></ErrorResponse>");
  EXPECT_EQ(error.code, "AccessDenied");
  EXPECT_EQ(error.message, "no");
  EXPECT_EQ(error.request_id, "r-1");
}

TEST(ParseErrorTest, HtmlPageFromAProxyGivesItsText) {
  // nginx's 502 page: <hr> is not closed, so this is not well-formed XML.
  S3Error error = ParseError(
      "<html>\r\n<head><title>502 Bad Gateway</title><style>body{color:red}</style></head>\r\n"
      "<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
      "</body>\r\n</html>\r\n");
  EXPECT_EQ(error.code, "");
  EXPECT_THAT(error.body_excerpt, StartsWith("502 Bad Gateway 502 Bad Gateway"));
  EXPECT_THAT(error.body_excerpt, Not(HasSubstr("color")));
  EXPECT_THAT(error.body_excerpt, Not(HasSubstr("\r")));
}

TEST(ParseErrorTest, PlainTextAndEmptyBodies) {
  EXPECT_EQ(ParseError("Service Unavailable\n").body_excerpt, "Service Unavailable");
  S3Error empty = ParseError("");
  EXPECT_EQ(empty.code, "");
  EXPECT_EQ(empty.body_excerpt, "");
  EXPECT_EQ(ParseError("   \n").body_excerpt, "");
}

TEST(ParseErrorTest, TruncatedErrorStillGivesTheFieldsBeforeTheCut) {
  S3Error error = ParseError("<Error><Code>SlowDown</Code><RequestId>r9</RequestId><Mess");
  EXPECT_EQ(error.code, "SlowDown");
  EXPECT_EQ(error.request_id, "r9");
}

TEST(ParseErrorTest, ExcerptIsBoundedAndClean) {
  std::string body = "<html><body><p>";
  for (int i = 0; i < 10000; ++i) body += "bad\x01gateway\xff ";
  body += "</p></body></html>";
  S3Error error = ParseError(body);
  EXPECT_LE(error.body_excerpt.size(), 210u);
  EXPECT_THAT(error.body_excerpt, StartsWith("bad gateway? bad"));
  EXPECT_THAT(error.body_excerpt, HasSubstr("…"));
}

TEST(ParseErrorTest, DeeplyNestedBodyDoesNotExhaustTheStack) {
  std::string body;
  for (int i = 0; i < 200000; ++i) body += "<a>";
  body += "deep";
  S3Error error = ParseError(body);
  EXPECT_EQ(error.body_excerpt, "deep");
}

// ---------------------------------------------------------------------------------------------
// S3ErrorToStatus

S3Error Coded(std::string code, std::string message = "") {
  S3Error error;
  error.code = std::move(code);
  error.message = std::move(message);
  return error;
}

TEST(S3ErrorToStatusTest, MessageAndDetail) {
  Status status = S3ErrorToStatus(404, ParseError(kAwsNoSuchKey), "get s3://mybucket/myfoto.jpg");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "get s3://mybucket/myfoto.jpg: NoSuchKey: The resource you requested does not exist");
  EXPECT_EQ(status.detail().http_status, 404);
  EXPECT_EQ(status.detail().service_code, "NoSuchKey");
  EXPECT_EQ(status.detail().request_id, "4442587FB7D0A2F9");
  EXPECT_THAT(status.ToString(), HasSubstr("(HTTP 404, NoSuchKey, request id 4442587FB7D0A2F9)"));
}

TEST(S3ErrorToStatusTest, EmptyMessageAndEmptyBody) {
  EXPECT_EQ(S3ErrorToStatus(404, Coded("NoSuchKey"), "list parts").message(),
            "list parts: NoSuchKey");
  // A HEAD reply has no body: the HTTP status decides.
  Status head = S3ErrorToStatus(404, ParseError(""), "stat s3://b/k");
  EXPECT_EQ(head.code(), StatusCode::kNotFound);
  EXPECT_EQ(head.message(), "stat s3://b/k: HTTP 404");
  EXPECT_EQ(S3ErrorToStatus(503, S3Error(), "").message(), "HTTP 503");
}

TEST(S3ErrorToStatusTest, NonS3BodyUsesItsExcerpt) {
  Status status = S3ErrorToStatus(
      502, ParseError("<html><head><title>502 Bad Gateway</title></head></html>"), "put s3://b/k");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "put s3://b/k: HTTP 502: 502 Bad Gateway");
  EXPECT_EQ(status.detail().service_code, "");
}

TEST(S3ErrorToStatusTest, ServerTextIsCleanedAndBounded) {
  Status status = S3ErrorToStatus(
      500, Coded("InternalError", "line 1\n\tline 2\x1b[31m" + std::string(5000, 'x')), "ctx");
  EXPECT_THAT(status.message(), StartsWith("ctx: InternalError: line 1 line 2 [31mxxx"));
  EXPECT_LT(status.message().size(), 600u);
}

TEST(S3ErrorToStatusTest, RedirectNamesTheEndpoint) {
  S3Error error = ParseError(
      "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must "
      "be addressed using the specified endpoint.</Message>"
      "<Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint></Error>");
  Status status = S3ErrorToStatus(301, error, "list s3://b");
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("(endpoint b.s3.eu-west-1.amazonaws.com)"));
}

struct CodeCase {
  int http_status;
  std::string_view s3_code;
  StatusCode want;
};

TEST(S3ErrorToStatusTest, CodesByRetryMeaning) {
  const CodeCase kCases[] = {
      {503, "SlowDown", StatusCode::kUnavailable},
      {503, "ServiceUnavailable", StatusCode::kUnavailable},
      {500, "InternalError", StatusCode::kUnavailable},
      {400, "RequestTimeout", StatusCode::kUnavailable},
      {400, "IncompleteBody", StatusCode::kUnavailable},
      {409, "OperationAborted", StatusCode::kAborted},
      {404, "NoSuchKey", StatusCode::kNotFound},
      {404, "NoSuchBucket", StatusCode::kNotFound},
      {404, "NoSuchUpload", StatusCode::kNotFound},
      {404, "NoSuchVersion", StatusCode::kNotFound},
      {403, "AccessDenied", StatusCode::kPermissionDenied},
      {403, "SignatureDoesNotMatch", StatusCode::kPermissionDenied},
      {403, "InvalidAccessKeyId", StatusCode::kPermissionDenied},
      {400, "ExpiredToken", StatusCode::kUnauthenticated},
      {403, "RequestTimeTooSkewed", StatusCode::kFailedPrecondition},
      {412, "PreconditionFailed", StatusCode::kFailedPrecondition},
      {409, "BucketNotEmpty", StatusCode::kFailedPrecondition},
      {403, "InvalidObjectState", StatusCode::kFailedPrecondition},
      {400, "BadDigest", StatusCode::kDataLoss},
      {400, "InvalidDigest", StatusCode::kDataLoss},
      {400, "XAmzContentSHA256Mismatch", StatusCode::kDataLoss},
      {400, "EntityTooSmall", StatusCode::kInvalidArgument},
      {400, "EntityTooLarge", StatusCode::kInvalidArgument},
      {400, "InvalidPart", StatusCode::kInvalidArgument},
      {400, "InvalidPartOrder", StatusCode::kInvalidArgument},
      {400, "InvalidArgument", StatusCode::kInvalidArgument},
      {400, "MalformedXML", StatusCode::kInvalidArgument},
      {409, "BucketAlreadyOwnedByYou", StatusCode::kAlreadyExists},
      {409, "BucketAlreadyExists", StatusCode::kAlreadyExists},
      {416, "InvalidRange", StatusCode::kOutOfRange},
      {403, "QuotaExceeded", StatusCode::kResourceExhausted},
      {501, "NotImplemented", StatusCode::kUnimplemented},
      // A known code wins over the status it came with: the 200-with-<Error> replies.
      {200, "InternalError", StatusCode::kUnavailable},
      {200, "SlowDown", StatusCode::kUnavailable},
      {200, "NoSuchUpload", StatusCode::kNotFound},
      // Unknown or missing codes: the HTTP status decides.
      {200, "SomethingNew", StatusCode::kUnknown},
      {500, "SomethingNew", StatusCode::kUnavailable},
      {502, "", StatusCode::kUnavailable},
      {504, "", StatusCode::kUnavailable},
      {429, "", StatusCode::kUnavailable},
      {408, "", StatusCode::kUnavailable},
      {401, "", StatusCode::kUnauthenticated},
      {403, "", StatusCode::kPermissionDenied},
      {404, "", StatusCode::kNotFound},
      {409, "", StatusCode::kAborted},
      {412, "", StatusCode::kFailedPrecondition},
      {416, "", StatusCode::kOutOfRange},
      {400, "", StatusCode::kInvalidArgument},
      {405, "SomethingNew", StatusCode::kInvalidArgument},
      {301, "", StatusCode::kFailedPrecondition},
      {307, "", StatusCode::kUnavailable},
  };
  for (const CodeCase& c : kCases) {
    Status status = S3ErrorToStatus(c.http_status, Coded(std::string(c.s3_code)), "ctx");
    EXPECT_EQ(status.code(), c.want) << c.http_status << " " << c.s3_code;
    EXPECT_EQ(status.detail().http_status, c.http_status);
    EXPECT_EQ(status.detail().service_code, c.s3_code);
  }
}

// RGW 16 answers ListParts on an aborted upload with NoSuchKey where AWS says NoSuchUpload; both
// must mean "the upload is gone".
TEST(S3ErrorToStatusTest, RgwListPartsOnAbortedUploadIsNotFound) {
  Status status = S3ErrorToStatus(
      404,
      ParseError("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                 "<Message></Message><BucketName>b</BucketName><RequestId>tx1</RequestId>"
                 "<HostId>h</HostId></Error>"),
      "list parts of s3://b/k");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "list parts of s3://b/k: NoSuchKey");
}

// ---------------------------------------------------------------------------------------------
// Timestamps

TEST(ParseS3TimestampTest, Iso8601Forms) {
  const int64_t t = Utc(2009, 10, 12, 17, 50, 30);
  ASSERT_OK_AND_ASSIGN(int64_t millis, ParseS3Timestamp("2009-10-12T17:50:30.000Z"));
  EXPECT_EQ(millis, t);
  ASSERT_OK_AND_ASSIGN(int64_t plain, ParseS3Timestamp("2009-10-12T17:50:30Z"));
  EXPECT_EQ(plain, t);
  ASSERT_OK_AND_ASSIGN(int64_t nanos, ParseS3Timestamp("2009-10-12T17:50:30.999999999Z"));
  EXPECT_EQ(nanos, t);  // the fraction is dropped, not rounded
  ASSERT_OK_AND_ASSIGN(int64_t no_zone, ParseS3Timestamp("2009-10-12T17:50:30"));
  EXPECT_EQ(no_zone, t);
  ASSERT_OK_AND_ASSIGN(int64_t zero_offset, ParseS3Timestamp("2019-12-11T23:32:47+00:00"));
  EXPECT_EQ(zero_offset, Utc(2019, 12, 11, 23, 32, 47));
  ASSERT_OK_AND_ASSIGN(int64_t east, ParseS3Timestamp("2009-10-12T19:50:30+02:00"));
  EXPECT_EQ(east, t);
  ASSERT_OK_AND_ASSIGN(int64_t west, ParseS3Timestamp("2009-10-12T12:20:30-0530"));
  EXPECT_EQ(west, t);
  ASSERT_OK_AND_ASSIGN(int64_t lower, ParseS3Timestamp("2009-10-12t17:50:30z"));
  EXPECT_EQ(lower, t);
  ASSERT_OK_AND_ASSIGN(int64_t epoch, ParseS3Timestamp("1970-01-01T00:00:00Z"));
  EXPECT_EQ(epoch, 0);
  ASSERT_OK_AND_ASSIGN(int64_t before, ParseS3Timestamp("1969-12-31T23:59:59Z"));
  EXPECT_EQ(before, -1);
  ASSERT_OK_AND_ASSIGN(int64_t leap_day, ParseS3Timestamp("2000-02-29T00:00:00Z"));
  EXPECT_EQ(leap_day, 951782400);
  ASSERT_OK_AND_ASSIGN(int64_t last, ParseS3Timestamp("9999-12-31T23:59:59Z"));
  EXPECT_EQ(last, 253402300799);
}

TEST(ParseS3TimestampTest, Rfc1123) {
  ASSERT_OK_AND_ASSIGN(int64_t t, ParseS3Timestamp("Wed, 27 Jan 2010 03:02:03 GMT"));
  EXPECT_EQ(t, Utc(2010, 1, 27, 3, 2, 3));
  ASSERT_OK_AND_ASSIGN(int64_t one_digit_day, ParseS3Timestamp("Mon, 1 Nov 2010 20:34:56 GMT"));
  EXPECT_EQ(one_digit_day, Utc(2010, 11, 1, 20, 34, 56));
}

TEST(ParseS3TimestampTest, AgreesWithTimegmOverFourCenturies) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    int year = 1601 + static_cast<int>(rng() % 800);
    int month = 1 + static_cast<int>(rng() % 12);
    int day = 1 + static_cast<int>(rng() % 28);
    int hour = static_cast<int>(rng() % 24), minute = static_cast<int>(rng() % 60);
    int second = static_cast<int>(rng() % 60);
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.123Z", year, month, day, hour,
                  minute, second);
    ASSERT_OK_AND_ASSIGN(int64_t t, ParseS3Timestamp(text));
    ASSERT_EQ(t, Utc(year, month, day, hour, minute, second)) << text;
  }
}

TEST(ParseS3TimestampTest, RejectsWhatIsNotATimestamp) {
  for (std::string_view bad :
       {"", "yesterday", "2009-10-12", "2009-10-12T17:50Z", "2009-13-12T17:50:30Z",
        "2009-00-12T17:50:30Z", "2021-02-29T00:00:00Z", "2009-04-31T00:00:00Z",
        "2009-10-12T24:00:00Z", "2009-10-12T17:60:30Z", "2009-10-12T17:50:30.Z",
        "2009-10-12T17:50:30Zjunk", "2009-10-12T17:50:30+2", "0000-01-01T00:00:00Z",
        "2009-10-12 17:50:30Z", "Wed, 27 Jan 2010 03:02:03 UTC", "Xyz, 27 Jan 2010 03:02:03 GMT",
        "Wed, 27 Foo 2010 03:02:03 GMT", "Wed, 30 Feb 2010 03:02:03 GMT"}) {
    EXPECT_THAT(ParseS3Timestamp(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// ListObjectsV2: the S3 API reference's examples, then RGW's and the corner cases.

TEST(ParseListObjectsV2Test, AwsMaxKeysPrefixStartAfterExample) {
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page page, ParseListObjectsV2(R"(
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>quotes</Name>
  <Prefix>E</Prefix>
  <StartAfter>ExampleGuide.pdf</StartAfter>
  <KeyCount>1</KeyCount>
  <MaxKeys>3</MaxKeys>
  <IsTruncated>false</IsTruncated>
  <Contents>
    <Key>ExampleObject.txt</Key>
    <LastModified>2013-09-17T18:07:53.000Z</LastModified>
    <ETag>"599bab3ed2c697f1d26842727561fd94"</ETag>
    <Size>857</Size>
    <StorageClass>REDUCED_REDUNDANCY</StorageClass>
  </Contents>
</ListBucketResult>)"));
  EXPECT_EQ(page.bucket, "quotes");
  EXPECT_EQ(page.prefix, "E");
  EXPECT_EQ(page.start_after, "ExampleGuide.pdf");
  EXPECT_EQ(page.key_count, 1);
  EXPECT_FALSE(page.is_truncated);
  ASSERT_EQ(page.contents.size(), 1u);
  const ObjectSummary& object = page.contents[0];
  EXPECT_EQ(object.key, "ExampleObject.txt");
  EXPECT_EQ(object.last_modified.text, "2013-09-17T18:07:53.000Z");
  EXPECT_EQ(object.last_modified.unix_seconds, Utc(2013, 9, 17, 18, 7, 53));
  EXPECT_EQ(object.etag, "599bab3ed2c697f1d26842727561fd94");
  EXPECT_EQ(object.size, 857);
  EXPECT_EQ(object.storage_class, "REDUCED_REDUNDANCY");
  EXPECT_TRUE(page.common_prefixes.empty());
}

TEST(ParseListObjectsV2Test, AwsPrefixAndDelimiterExamples) {
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page top, ParseListObjectsV2(R"(
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>example-bucket</Name>
  <Prefix></Prefix>
  <KeyCount>2</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>false</IsTruncated>
  <Contents>
    <Key>sample.jpg</Key>
    <LastModified>2011-02-26T01:56:20.000Z</LastModified>
    <ETag>"bf1d737a4d46a19f3bced6905cc8b902"</ETag>
    <Size>142863</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <CommonPrefixes>
    <Prefix>photos/</Prefix>
  </CommonPrefixes>
</ListBucketResult>)"));
  EXPECT_EQ(top.delimiter, "/");
  EXPECT_EQ(top.prefix, "");
  ASSERT_EQ(top.contents.size(), 1u);
  EXPECT_EQ(top.contents[0].key, "sample.jpg");
  EXPECT_EQ(top.contents[0].size, 142863);
  EXPECT_THAT(top.common_prefixes, ElementsAre("photos/"));

  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page nested, ParseListObjectsV2(R"(
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>example-bucket</Name>
  <Prefix>photos/2006/</Prefix>
  <KeyCount>2</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>false</IsTruncated>

  <CommonPrefixes>
    <Prefix>photos/2006/February/</Prefix>
  </CommonPrefixes>
  <CommonPrefixes>
    <Prefix>photos/2006/January/</Prefix>
  </CommonPrefixes>
</ListBucketResult>)"));
  EXPECT_EQ(nested.prefix, "photos/2006/");
  EXPECT_TRUE(nested.contents.empty());
  EXPECT_THAT(nested.common_prefixes, ElementsAre("photos/2006/February/", "photos/2006/January/"));
}

TEST(ParseListObjectsV2Test, AwsContinuationTokenExamples) {
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page first, ParseListObjectsV2(R"(
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix></Prefix>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <KeyCount>1000</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>happyface.jpg</Key>
    <LastModified>2014-11-21T19:40:05.000Z</LastModified>
    <ETag>"70ee1738b6b21e2c8a43f3a5ab0eee71"</ETag>
    <Size>11</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
</ListBucketResult>)"));
  EXPECT_TRUE(first.is_truncated);
  EXPECT_EQ(first.next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  EXPECT_EQ(first.key_count, 1000);

  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page next, ParseListObjectsV2(R"(
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix></Prefix>
  <ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</ContinuationToken>
  <KeyCount>112</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <IsTruncated>false</IsTruncated>
  <Contents>
    <Key>happyfacex.jpg</Key>
    <LastModified>2014-11-21T19:40:05.000Z</LastModified>
    <ETag>"70ee1738b6b21e2c8a43f3a5ab0eee71"</ETag>
    <Size>1111</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
</ListBucketResult>)"));
  EXPECT_FALSE(next.is_truncated);
  EXPECT_EQ(next.continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  EXPECT_EQ(next.next_continuation_token, "");
}

TEST(ParseListObjectsV2Test, RgwStyleWithoutNamespaceAndWithExtraElements) {
  ASSERT_OK_AND_ASSIGN(
      ListObjectsV2Page page,
      ParseListObjectsV2(
          R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>)"
          R"(<Name>cairn</Name><Prefix>d/</Prefix><MaxKeys>1000</MaxKeys>)"
          R"(<IsTruncated>false</IsTruncated><Contents><Key>d/a</Key>)"
          R"(<LastModified>2026-11-22T10:00:00.123Z</LastModified>)"
          R"(<ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag><Size>47185920</Size>)"
          R"(<StorageClass>STANDARD</StorageClass><Owner><ID>test$tester</ID>)"
          R"(<DisplayName>Tester</DisplayName></Owner><Type>Normal</Type></Contents>)"
          R"(<Marker></Marker><KeyCount>1</KeyCount></ListBucketResult>)"));
  EXPECT_EQ(page.bucket, "cairn");
  ASSERT_EQ(page.contents.size(), 1u);
  EXPECT_EQ(page.contents[0].etag, "3858f62230ac3c915f300c664312c11f-9");
  EXPECT_EQ(page.contents[0].size, 47185920);
  EXPECT_EQ(page.contents[0].last_modified.unix_seconds, Utc(2026, 11, 22, 10, 0, 0));
  EXPECT_EQ(page.key_count, 1);
}

TEST(ParseListObjectsV2Test, MinimalReplyLeavesDefaults) {
  ASSERT_OK_AND_ASSIGN(
      ListObjectsV2Page page,
      ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>"));
  EXPECT_FALSE(page.is_truncated);
  EXPECT_EQ(page.key_count, std::nullopt);
  ASSERT_EQ(page.contents.size(), 1u);
  EXPECT_EQ(page.contents[0].size, 0);
  EXPECT_EQ(page.contents[0].etag, "");
  EXPECT_EQ(page.contents[0].last_modified.text, "");
  EXPECT_EQ(page.contents[0].last_modified.unix_seconds, 0);
}

TEST(ParseListObjectsV2Test, KeysWithEntitiesCdataUtf8AndWhitespace) {
  ASSERT_OK_AND_ASSIGN(
      ListObjectsV2Page page,
      ParseListObjectsV2(
          "<ListBucketResult>"
          "<Contents><Key>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</Key></Contents>"
          "<Contents><Key>caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80</Key></Contents>"
          "<Contents><Key>x<![CDATA[<y>&]]>z</Key></Contents>"
          "<Contents><Key> </Key></Contents>"
          "<Contents><Key>  two  spaces  </Key></Contents>"
          "<Contents><Key>cr&#13;lf&#10;tab&#9;</Key></Contents>"
          "<Contents><Key>a+b%20c</Key></Contents>"
          "</ListBucketResult>"));
  ASSERT_EQ(page.contents.size(), 7u);
  EXPECT_EQ(page.contents[0].key, "a & b <c> \"d\" 'e'");
  EXPECT_EQ(page.contents[1].key, "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80");
  EXPECT_EQ(page.contents[2].key, "x<y>&z");
  EXPECT_EQ(page.contents[3].key, " ");
  EXPECT_EQ(page.contents[4].key, "  two  spaces  ");
  EXPECT_EQ(page.contents[5].key, "cr\rlf\ntab\t");
  EXPECT_EQ(page.contents[6].key, "a+b%20c");  // no EncodingType: taken as written
}

TEST(ParseListObjectsV2Test, UrlEncodingTypeIsDecoded) {
  // AWS writes a space as '+', RGW as %20; both encode '+' itself as %2B. EncodingType comes last
  // here to show decoding does not depend on element order.
  ASSERT_OK_AND_ASSIGN(
      ListObjectsV2Page page,
      ParseListObjectsV2(
          "<ListBucketResult><Name>b</Name><Prefix>dir%2F%C3%A9</Prefix><Delimiter>%2F</Delimiter>"
          "<StartAfter>a%3Cb</StartAfter>"
          "<Contents><Key>dir/%C3%A9/with+space%20and%2Bplus</Key></Contents>"
          "<Contents><Key>ctl%01%0D%0A%7F</Key></Contents>"
          "<Contents><Key>amp%26lt%3C</Key></Contents>"
          "<CommonPrefixes><Prefix>dir/%C3%A9/sub%20dir/</Prefix></CommonPrefixes>"
          "<IsTruncated>false</IsTruncated><EncodingType>url</EncodingType></ListBucketResult>"));
  EXPECT_EQ(page.encoding_type, "url");
  EXPECT_EQ(page.prefix, "dir/\xc3\xa9");
  EXPECT_EQ(page.delimiter, "/");
  EXPECT_EQ(page.start_after, "a<b");
  ASSERT_EQ(page.contents.size(), 3u);
  EXPECT_EQ(page.contents[0].key, "dir/\xc3\xa9/with space and+plus");
  EXPECT_EQ(page.contents[1].key, std::string("ctl\x01\r\n\x7f"));
  EXPECT_EQ(page.contents[2].key, "amp&lt<");
  EXPECT_THAT(page.common_prefixes, ElementsAre("dir/\xc3\xa9/sub dir/"));
}

TEST(ParseListObjectsV2Test, BadUrlEncodingIsAnError) {
  for (std::string_view key : {"50%", "%zz", "a%4"}) {
    std::string body = "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>" +
                       std::string(key) + "</Key></Contents></ListBucketResult>";
    EXPECT_THAT(ParseListObjectsV2(body),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("ListObjectsV2: ")))
        << key;
  }
}

TEST(ParseListObjectsV2Test, TruncatedWithoutTokenIsAnError) {
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                 "<Contents><Key>k</Key></Contents></ListBucketResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("NextContinuationToken")));
}

TEST(ParseListObjectsV2Test, BadValuesAreErrorsNamingTheElement) {
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Contents><Size>12x</Size></Contents>"
                                 "</ListBucketResult>"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("ListObjectsV2: <Size> \"12x\" is not an integer")));
  EXPECT_THAT(ParseListObjectsV2(
                  "<ListBucketResult><Contents><Size>-1</Size></Contents></ListBucketResult>"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Contents><Size>99999999999999999999</Size>"
                                 "</Contents></ListBucketResult>"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><IsTruncated>maybe</IsTruncated>"
                                 "</ListBucketResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("<IsTruncated>")));
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Contents><LastModified>last tuesday"
                                 "</LastModified></Contents></ListBucketResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not a timestamp")));
  // Pretty-printed numbers and booleans are fine.
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page spaced,
                       ParseListObjectsV2("<ListBucketResult><IsTruncated> False </IsTruncated>"
                                          "<Contents><Size>\n 7 \n</Size></Contents>"
                                          "</ListBucketResult>"));
  EXPECT_EQ(spaced.contents[0].size, 7);
}

TEST(ParseListObjectsV2Test, ThousandEntries) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>big</Name><Prefix></Prefix>"
      "<NextContinuationToken>token-1000</NextContinuationToken><KeyCount>1000</KeyCount>"
      "<MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>";
  for (int i = 0; i < 1000; ++i) {
    body += "<Contents><Key>datasets/run42/part-" + std::to_string(i) +
            ".parquet</Key><LastModified>2024-05-01T12:00:" + (i % 60 < 10 ? "0" : "") +
            std::to_string(i % 60) +
            ".000Z</LastModified><ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>" +
            std::to_string(i * 1000) + "</Size><StorageClass>STANDARD</StorageClass></Contents>";
  }
  body += "</ListBucketResult>";
  ASSERT_OK_AND_ASSIGN(ListObjectsV2Page page, ParseListObjectsV2(body));
  ASSERT_EQ(page.contents.size(), 1000u);
  EXPECT_EQ(page.next_continuation_token, "token-1000");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(page.contents[i].key, "datasets/run42/part-" + std::to_string(i) + ".parquet");
    ASSERT_EQ(page.contents[i].size, i * 1000);
    ASSERT_EQ(page.contents[i].last_modified.unix_seconds, Utc(2024, 5, 1, 12, 0, i % 60));
    ASSERT_EQ(page.contents[i].etag, "d41d8cd98f00b204e9800998ecf8427e");
  }
}

// ---------------------------------------------------------------------------------------------
// Malformed bodies and <Error> in place of a result, for every parser.

template <typename F>
void ExpectRejectsMalformed(F parse, std::string_view op) {
  for (std::string_view body :
       {std::string_view(""), std::string_view("   "), std::string_view("not xml"),
        std::string_view("<Unclosed><a>b</a>"), std::string_view("<A></B>"),
        std::string_view("<html><body>502</body></html>"), std::string_view("<A/><B/>")}) {
    auto result = parse(body);
    EXPECT_THAT(result, StatusIs(StatusCode::kInvalidArgument, StartsWith(std::string(op) + ": ")))
        << op << " " << body;
  }
  EXPECT_THAT(parse("<A></B>"), StatusIs(StatusCode::kInvalidArgument,
                                         HasSubstr("Start-end tags mismatch at offset 5")));
  EXPECT_THAT(parse("<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                    "</Message><RequestId>r7</RequestId></Error>"),
              StatusIs(StatusCode::kUnavailable,
                       std::string(op) + ": SlowDown: Please reduce your request rate."));
}

TEST(MalformedTest, EveryParserRejectsMalformedXmlAndReportsErrors) {
  ExpectRejectsMalformed(ParseListObjectsV2, "ListObjectsV2");
  ExpectRejectsMalformed(ParseListObjectVersions, "ListObjectVersions");
  ExpectRejectsMalformed(ParseInitiateMultipartUpload, "CreateMultipartUpload");
  ExpectRejectsMalformed(ParseCompleteMultipartUpload, "CompleteMultipartUpload");
  ExpectRejectsMalformed(ParseCopyObjectResult, "CopyObject");
  ExpectRejectsMalformed(ParseCopyPartResult, "UploadPartCopy");
  ExpectRejectsMalformed(ParseListParts, "ListParts");
  ExpectRejectsMalformed(ParseListMultipartUploads, "ListMultipartUploads");
  ExpectRejectsMalformed(ParseDeleteObjectsResult, "DeleteObjects");
  ExpectRejectsMalformed(ParseListBuckets, "ListBuckets");
}

TEST(MalformedTest, WrongRootIsNamed) {
  EXPECT_THAT(ParseListParts("<ListBucketResult/>"),
              StatusIs(StatusCode::kInvalidArgument,
                       "ListParts: expected <ListPartsResult>, got <ListBucketResult>"));
}

TEST(MalformedTest, EmbeddedErrorKeepsItsDetail) {
  Status status =
      ParseListObjectsV2("<Error><Code>AccessDenied</Code><RequestId>r1</RequestId></Error>")
          .status();
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.detail().http_status, 200);
  EXPECT_EQ(status.detail().service_code, "AccessDenied");
  EXPECT_EQ(status.detail().request_id, "r1");
}

// ---------------------------------------------------------------------------------------------
// ListObjectVersions

TEST(ParseListObjectVersionsTest, AwsExample) {
  ASSERT_OK_AND_ASSIGN(ListObjectVersionsPage page, ParseListObjectVersions(R"(
<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
    <Name>bucket</Name>
    <Prefix>my</Prefix>
    <KeyMarker/>
    <VersionIdMarker/>
    <MaxKeys>5</MaxKeys>
    <IsTruncated>false</IsTruncated>
    <Version>
        <Key>my-image.jpg</Key>
        <VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId>
        <IsLatest>true</IsLatest>
         <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>mtd@amazon.com</DisplayName>
        </Owner>
    </Version>
    <DeleteMarker>
        <Key>my-second-image.jpg</Key>
        <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>
        <IsLatest>true</IsLatest>
        <LastModified>2009-11-12T17:50:30.000Z</LastModified>
        <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>mtd@amazon.com</DisplayName>
        </Owner>    
    </DeleteMarker>
    <Version>
        <Key>my-second-image.jpg</Key>
        <VersionId>QUpfdndhfd8438MNFDN93jdnJFkdmqnh893</VersionId>
        <IsLatest>false</IsLatest>
        <LastModified>2009-10-10T17:50:30.000Z</LastModified>
        <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>
        <Size>166434</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>mtd@amazon.com</DisplayName>
        </Owner>
    </Version>
    <DeleteMarker>
        <Key>my-third-image.jpg</Key>
        <VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId>
        <IsLatest>true</IsLatest>
        <LastModified>2009-10-15T17:50:30.000Z</LastModified>
        <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>mtd@amazon.com</DisplayName>
        </Owner>
    </DeleteMarker>
    <Version>
        <Key>my-third-image.jpg</Key>
        <VersionId>UIORUnfndfhnw89493jJFJ</VersionId>
        <IsLatest>false</IsLatest>
        <LastModified>2009-10-11T12:50:30.000Z</LastModified>
        <ETag>&quot;772cf535f27731c974343645a3985328&quot;</ETag>
        <Size>64</Size>
        <StorageClass>STANDARD</StorageClass>
        <Owner>
            <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
            <DisplayName>mtd@amazon.com</DisplayName>
        </Owner>
     </Version>
</ListVersionsResult>)"));
  EXPECT_EQ(page.bucket, "bucket");
  EXPECT_EQ(page.prefix, "my");
  EXPECT_EQ(page.key_marker, "");
  EXPECT_FALSE(page.is_truncated);
  ASSERT_EQ(page.versions.size(), 5u);
  const ObjectVersion& v0 = page.versions[0];
  EXPECT_EQ(v0.key, "my-image.jpg");
  EXPECT_EQ(v0.version_id, "3/L4kqtJl40Nr8X8gdRQBpUMLUo");
  EXPECT_TRUE(v0.is_latest);
  EXPECT_FALSE(v0.is_delete_marker);
  EXPECT_EQ(v0.etag, "fba9dede5f27731c9771645a39863328");
  EXPECT_EQ(v0.size, 434234);
  EXPECT_EQ(v0.last_modified.unix_seconds, Utc(2009, 10, 12, 17, 50, 30));
  const ObjectVersion& d1 = page.versions[1];
  EXPECT_EQ(d1.key, "my-second-image.jpg");
  EXPECT_EQ(d1.version_id, "03jpff543dhffds434rfdsFDN943fdsFkdmqnh892");
  EXPECT_TRUE(d1.is_latest);
  EXPECT_TRUE(d1.is_delete_marker);
  EXPECT_EQ(d1.size, 0);
  EXPECT_EQ(d1.etag, "");
  EXPECT_EQ(page.versions[2].key, "my-second-image.jpg");
  EXPECT_FALSE(page.versions[2].is_latest);
  EXPECT_FALSE(page.versions[2].is_delete_marker);
  EXPECT_TRUE(page.versions[3].is_delete_marker);
  EXPECT_EQ(page.versions[4].version_id, "UIORUnfndfhnw89493jJFJ");
  EXPECT_EQ(page.versions[4].size, 64);
}

TEST(ParseListObjectVersionsTest, RgwTruncatedUrlEncodedPage) {
  ASSERT_OK_AND_ASSIGN(
      ListObjectVersionsPage page,
      ParseListObjectVersions(
          "<ListVersionsResult><Name>b</Name><Prefix>a%20dir%2F</Prefix>"
          "<KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>"
          "<NextKeyMarker>a%20dir%2Fk%2B1</NextKeyMarker>"
          "<NextVersionIdMarker>v.2</NextVersionIdMarker><MaxKeys>1</MaxKeys>"
          "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
          "<Version><Key>a%20dir%2Fk%2B1</Key><VersionId>null</VersionId>"
          "<IsLatest>true</IsLatest><LastModified>2026-01-02T03:04:05.678Z</LastModified>"
          "<ETag>\"e\"</ETag><Size>3</Size></Version></ListVersionsResult>"));
  EXPECT_TRUE(page.is_truncated);
  EXPECT_EQ(page.prefix, "a dir/");
  EXPECT_EQ(page.next_key_marker, "a dir/k+1");
  EXPECT_EQ(page.next_version_id_marker, "v.2");
  ASSERT_EQ(page.versions.size(), 1u);
  EXPECT_EQ(page.versions[0].key, "a dir/k+1");
  EXPECT_EQ(page.versions[0].version_id, "null");
}

TEST(ParseListObjectVersionsTest, TruncatedWithoutMarkerIsAnError) {
  EXPECT_THAT(ParseListObjectVersions("<ListVersionsResult><IsTruncated>true</IsTruncated>"
                                      "</ListVersionsResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("NextKeyMarker")));
}

// ---------------------------------------------------------------------------------------------
// Multipart uploads

TEST(ParseInitiateMultipartUploadTest, AwsExamples) {
  ASSERT_OK_AND_ASSIGN(InitiateMultipartUploadResult result, ParseInitiateMultipartUpload(R"(
            <?xml version="1.0" encoding="UTF-8"?>
            <InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>amzn-s3-demo-bucket</Bucket>
              <Key>example-object</Key>
              <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
            </InitiateMultipartUploadResult>)"));
  EXPECT_EQ(result.bucket, "amzn-s3-demo-bucket");
  EXPECT_EQ(result.key, "example-object");
  EXPECT_EQ(result.upload_id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");

  ASSERT_OK_AND_ASSIGN(InitiateMultipartUploadResult sse, ParseInitiateMultipartUpload(R"(
            <?xml version="1.0" encoding="UTF-8"?>
            <InitiateMultipartUploadResult
            xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Bucket>amzn-s3-demo-bucket</Bucket>
              <Key>example-object</Key>
               <UploadId>EXAMPLEJZ6e0YupT2h66iePQCc9IEbYbDUy4RTpMeoSMLPRp8Z5o1u8feSRonpvnWsKKG35tI2LB9VDPiCgTy.Gq2VxQLYjrue4Nq.NBdqI-</UploadId>
</InitiateMultipartUploadResult>)"));
  EXPECT_EQ(sse.upload_id,
            "EXAMPLEJZ6e0YupT2h66iePQCc9IEbYbDUy4RTpMeoSMLPRp8Z5o1u8feSRonpvnWsKKG35tI2LB9VDPiCgTy."
            "Gq2VxQLYjrue4Nq.NBdqI-");
}

TEST(ParseInitiateMultipartUploadTest, MissingUploadIdIsAnError) {
  EXPECT_THAT(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult><Bucket>b</Bucket>"
                                           "<Key>k</Key></InitiateMultipartUploadResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no <UploadId>")));
}

TEST(ParseCompleteMultipartUploadTest, AwsExample) {
  // The reference writes the region as a "<Region>" placeholder; here it is filled in.
  ASSERT_OK_AND_ASSIGN(CompleteMultipartUploadResult result, ParseCompleteMultipartUpload(R"(
            <?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
             <Location>http://amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com/Example-Object</Location>
             <Bucket>amzn-s3-demo-bucket</Bucket>
             <Key>Example-Object</Key>
             <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
            </CompleteMultipartUploadResult>)"));
  EXPECT_EQ(result.location,
            "http://amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com/Example-Object");
  EXPECT_EQ(result.bucket, "amzn-s3-demo-bucket");
  EXPECT_EQ(result.key, "Example-Object");
  EXPECT_EQ(result.etag, "3858f62230ac3c915f300c664312c11f-9");
}

TEST(ParseCompleteMultipartUploadTest, AwsExampleWithPlaceholderLocationIsMalformed) {
  // The reference's example writes "<Region>" literally inside <Location>; taken as XML that is an
  // unclosed element, and the parser says so rather than guessing.
  EXPECT_THAT(ParseCompleteMultipartUpload(
                  "<CompleteMultipartUploadResult><Location>http://b.s3.<Region>.amazonaws.com/k"
                  "</Location></CompleteMultipartUploadResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("malformed XML")));
}

TEST(ParseCompleteMultipartUploadTest, AwsErrorInA200Reply) {
  // S3 sent "200 OK", whitespace while it worked, then this.
  Result<CompleteMultipartUploadResult> result = ParseCompleteMultipartUpload(R"(


         <?xml version="1.0" encoding="UTF-8"?>

         <Error>
          <Code>InternalError</Code>
          <Message>We encountered an internal error. Please try again.</Message>
          <RequestId>656c76696e6727732072657175657374</RequestId>
          <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>
         </Error>)");
  EXPECT_THAT(result, StatusIs(StatusCode::kUnavailable,
                               "CompleteMultipartUpload: InternalError: We encountered an "
                               "internal error. Please try again."));
  EXPECT_EQ(result.status().detail().http_status, 200);
  EXPECT_EQ(result.status().detail().service_code, "InternalError");
  EXPECT_EQ(result.status().detail().request_id, "656c76696e6727732072657175657374");
}

TEST(ParseCompleteMultipartUploadTest, OtherErrorsInA200Reply) {
  EXPECT_THAT(ParseCompleteMultipartUpload("<Error><Code>SlowDown</Code></Error>"),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(ParseCompleteMultipartUpload("<Error><Code>NoSuchUpload</Code></Error>"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(ParseCompleteMultipartUpload("<Error><Code>EntityTooSmall</Code></Error>"),
              StatusIs(StatusCode::kInvalidArgument, "CompleteMultipartUpload: EntityTooSmall"));
  EXPECT_THAT(ParseCompleteMultipartUpload("<Error><Code>InvalidPart</Code></Error>"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseCompleteMultipartUploadTest, RgwReplyAfterKeepAliveWhitespace) {
  ASSERT_OK_AND_ASSIGN(
      CompleteMultipartUploadResult result,
      ParseCompleteMultipartUpload(
          "      \n\n   <?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUploadResult "
          "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>127.0.0.1/cairn/a%20b"
          "</Location><Bucket>cairn</Bucket><Key>a b</Key>"
          "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e-3&quot;</ETag>"
          "</CompleteMultipartUploadResult>"));
  EXPECT_EQ(result.location, "127.0.0.1/cairn/a%20b");
  EXPECT_EQ(result.key, "a b");
  EXPECT_EQ(result.etag, "d41d8cd98f00b204e9800998ecf8427e-3");
}

TEST(ParseListPartsTest, AwsExample) {
  ASSERT_OK_AND_ASSIGN(ListPartsPage page, ParseListParts(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
  <Initiator>
      <ID>arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7-9df5-b288870f11xx</ID>
      <DisplayName>umat-user-11116a31-17b5-4fb7-9df5-b288870f11xx</DisplayName>
  </Initiator>
  <Owner>
    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
    <DisplayName>someName</DisplayName>
  </Owner>
  <StorageClass>STANDARD</StorageClass>
  <PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts>
  <IsTruncated>true</IsTruncated>
  <Part>
    <PartNumber>2</PartNumber>
    <LastModified>2010-11-10T20:48:34.000Z</LastModified>
    <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag>
    <Size>10485760</Size>
  </Part>
  <Part>
    <PartNumber>3</PartNumber>
    <LastModified>2010-11-10T20:48:33.000Z</LastModified>
    <ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag>
    <Size>10485760</Size>
  </Part>
</ListPartsResult>)"));
  EXPECT_EQ(page.bucket, "example-bucket");
  EXPECT_EQ(page.key, "example-object");
  EXPECT_EQ(page.upload_id, "XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA");
  EXPECT_EQ(page.part_number_marker, 1);
  EXPECT_EQ(page.next_part_number_marker, 3);
  EXPECT_EQ(page.max_parts, 2);
  EXPECT_TRUE(page.is_truncated);
  ASSERT_EQ(page.parts.size(), 2u);
  EXPECT_EQ(page.parts[0].part_number, 2);
  EXPECT_EQ(page.parts[0].etag, "7778aef83f66abc1fa1e8477f296d394");
  EXPECT_EQ(page.parts[0].size, 10485760);
  EXPECT_EQ(page.parts[0].last_modified.unix_seconds, Utc(2010, 11, 10, 20, 48, 34));
  EXPECT_EQ(page.parts[1].part_number, 3);
  EXPECT_EQ(page.parts[1].etag, "aaaa18db4cc2f85cedef654fccc4a4x8");
}

TEST(ParseListPartsTest, OldAwsExampleWithHttpDates) {
  ASSERT_OK_AND_ASSIGN(
      ListPartsPage page,
      ParseListParts("<ListPartsResult><IsTruncated>false</IsTruncated><Part>"
                     "<PartNumber>2</PartNumber>"
                     "<LastModified>Wed, 27 Jan 2010 03:02:03 GMT</LastModified>"
                     "<ETag>\"7778aef83f66abc1fa1e8477f296d394\"</ETag><Size>10485760</Size>"
                     "</Part></ListPartsResult>"));
  ASSERT_EQ(page.parts.size(), 1u);
  EXPECT_EQ(page.parts[0].last_modified.unix_seconds, Utc(2010, 1, 27, 3, 2, 3));
}

TEST(ParseListPartsTest, RgwAbortedUploadAndBadPartNumbers) {
  // After AbortMultipartUpload RGW answers ListParts with NoSuchKey (404), parsed by ParseError.
  EXPECT_THAT(ParseListParts("<Error><Code>NoSuchKey</Code><Message/></Error>"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(ParseListParts("<ListPartsResult><Part><PartNumber>0</PartNumber></Part>"
                             "</ListPartsResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("<PartNumber>")));
  EXPECT_THAT(ParseListParts("<ListPartsResult><Part><PartNumber>4294967297</PartNumber></Part>"
                             "</ListPartsResult>"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListParts("<ListPartsResult><IsTruncated>true</IsTruncated>"
                             "<Part><PartNumber>1</PartNumber></Part></ListPartsResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("NextPartNumberMarker")));
}

TEST(ParseListMultipartUploadsTest, AwsExample) {
  ASSERT_OK_AND_ASSIGN(ListMultipartUploadsPage page, ParseListMultipartUploads(R"(
<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator>
      <ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID>
      <DisplayName>user1-11111a31-17b5-4fb7-9df5-b111111f13de</DisplayName>
    </Initiator>
    <Owner>
      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
      <DisplayName>OwnerDisplayName</DisplayName>
    </Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>  
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <Initiator>
      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>
      <DisplayName>InitiatorDisplayName</DisplayName>
    </Initiator>
    <Owner>
      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>
      <DisplayName>OwnerDisplayName</DisplayName>
    </Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>
    <Initiator>
      <ID>arn:aws:iam::444455556666:user/user1-22222a31-17b5-4fb7-9df5-b222222f13de</ID>
      <DisplayName>user1-22222a31-17b5-4fb7-9df5-b222222f13de</DisplayName>
    </Initiator>
    <Owner>
      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>
      <DisplayName>OwnerDisplayName</DisplayName>
    </Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:49:33.000Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>)"));
  EXPECT_EQ(page.bucket, "bucket");
  EXPECT_TRUE(page.is_truncated);
  EXPECT_EQ(page.next_key_marker, "my-movie.m2ts");
  EXPECT_EQ(page.next_upload_id_marker, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
  ASSERT_EQ(page.uploads.size(), 3u);
  EXPECT_EQ(page.uploads[0].key, "my-divisor");
  EXPECT_EQ(page.uploads[0].upload_id, "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
  EXPECT_EQ(page.uploads[0].initiated.unix_seconds, Utc(2010, 11, 10, 20, 48, 33));
  EXPECT_EQ(page.uploads[0].storage_class, "STANDARD");
  EXPECT_EQ(page.uploads[2].upload_id, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
  EXPECT_EQ(page.uploads[2].initiated.unix_seconds, Utc(2010, 11, 10, 20, 49, 33));
}

TEST(ParseListMultipartUploadsTest, AwsPrefixAndDelimiterExample) {
  ASSERT_OK_AND_ASSIGN(ListMultipartUploadsPage page, ParseListMultipartUploads(R"(
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <KeyMarker/>
  <UploadIdMarker/>
  <NextKeyMarker/>
  <NextUploadIdMarker/>
  <Delimiter>/</Delimiter>
  <Prefix>photos/2006/</Prefix>
  <MaxUploads>1000</MaxUploads>
  <IsTruncated>false</IsTruncated>
  <CommonPrefixes>
    <Prefix>photos/2006/February/</Prefix>
  </CommonPrefixes>
  <CommonPrefixes>
    <Prefix>photos/2006/January/</Prefix>
  </CommonPrefixes>
  <CommonPrefixes>
    <Prefix>photos/2006/March/</Prefix>
  </CommonPrefixes>
</ListMultipartUploadsResult>)"));
  EXPECT_EQ(page.prefix, "photos/2006/");
  EXPECT_EQ(page.delimiter, "/");
  EXPECT_TRUE(page.uploads.empty());
  EXPECT_THAT(page.common_prefixes,
              ElementsAre("photos/2006/February/", "photos/2006/January/", "photos/2006/March/"));
}

TEST(ParseListMultipartUploadsTest, UrlEncodedAndEmpty) {
  ASSERT_OK_AND_ASSIGN(
      ListMultipartUploadsPage page,
      ParseListMultipartUploads("<ListMultipartUploadsResult><EncodingType>url</EncodingType>"
                                "<Upload><Key>x%26y%2Fz+w</Key><UploadId>2~abc</UploadId></Upload>"
                                "<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"));
  ASSERT_EQ(page.uploads.size(), 1u);
  EXPECT_EQ(page.uploads[0].key, "x&y/z w");
  EXPECT_EQ(page.uploads[0].upload_id, "2~abc");
  // What ListMultipartUploads must answer after every failure: nothing left.
  ASSERT_OK_AND_ASSIGN(
      ListMultipartUploadsPage empty,
      ParseListMultipartUploads(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListMultipartUploadsResult "
          "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>cairn</Bucket>"
          "<NextKeyMarker></NextKeyMarker><MaxUploads>1000</MaxUploads>"
          "<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"));
  EXPECT_TRUE(empty.uploads.empty());
  EXPECT_THAT(ParseListMultipartUploads("<ListMultipartUploadsResult><IsTruncated>true"
                                        "</IsTruncated></ListMultipartUploadsResult>"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("NextKeyMarker")));
}

// ---------------------------------------------------------------------------------------------
// Copies

TEST(ParseCopyTest, AwsCopyObjectExamples) {
  ASSERT_OK_AND_ASSIGN(CopyResult result, ParseCopyObjectResult(R"(
               <CopyObjectResult>
                  <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                  <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
               </CopyObjectResult>)"));
  EXPECT_EQ(result.etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(result.last_modified.unix_seconds, Utc(2009, 10, 12, 17, 50, 30));

  // The version-suspended example writes the time without a zone.
  ASSERT_OK_AND_ASSIGN(CopyResult no_zone, ParseCopyObjectResult(R"(
               <?xml version="1.0" encoding="UTF-8"?>
                <CopyObjectResult>
                  <LastModified>2009-10-28T22:32:00</LastModified>
                  <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
                </CopyObjectResult>)"));
  EXPECT_EQ(no_zone.last_modified.text, "2009-10-28T22:32:00");
  EXPECT_EQ(no_zone.last_modified.unix_seconds, Utc(2009, 10, 28, 22, 32, 0));
}

TEST(ParseCopyTest, AwsCopyPartExample) {
  ASSERT_OK_AND_ASSIGN(CopyResult result, ParseCopyPartResult(R"(
<CopyPartResult>
   <LastModified>2011-04-11T20:34:56.000Z</LastModified>
   <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
</CopyPartResult>)"));
  EXPECT_EQ(result.etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(result.last_modified.unix_seconds, Utc(2011, 4, 11, 20, 34, 56));
  // Either root is accepted by either parser: the shapes are the same.
  EXPECT_OK(ParseCopyObjectResult("<CopyPartResult><ETag>\"e\"</ETag></CopyPartResult>"));
  EXPECT_OK(ParseCopyPartResult("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>"));
}

TEST(ParseCopyTest, ErrorInA200Reply) {
  constexpr std::string_view kSlowDown =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please "
      "reduce your request rate.</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>";
  Result<CopyResult> copy = ParseCopyObjectResult(kSlowDown);
  EXPECT_THAT(copy, StatusIs(StatusCode::kUnavailable,
                             "CopyObject: SlowDown: Please reduce your request rate."));
  EXPECT_EQ(copy.status().detail().request_id, "4442587FB7D0A2F9");
  EXPECT_THAT(ParseCopyPartResult(kSlowDown),
              StatusIs(StatusCode::kUnavailable, StartsWith("UploadPartCopy: SlowDown")));
  EXPECT_THAT(ParseCopyPartResult("<Error><Code>InternalError</Code><Message/></Error>"),
              StatusIs(StatusCode::kUnavailable, "UploadPartCopy: InternalError"));
}

// ---------------------------------------------------------------------------------------------
// DeleteObjects and ListBuckets replies

TEST(ParseDeleteObjectsResultTest, AwsMixedSuccessAndErrorExample) {
  ASSERT_OK_AND_ASSIGN(DeleteObjectsResult result, ParseDeleteObjectsResult(R"(
<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Deleted>
  <Key>sample1.txt</Key>
</Deleted>
<Error>
<Key>sample2.txt</Key>
<Code>AccessDenied</Code>
<Message>Access Denied</Message>
</Error>
</DeleteResult>)"));
  ASSERT_EQ(result.deleted.size(), 1u);
  EXPECT_EQ(result.deleted[0].key, "sample1.txt");
  EXPECT_FALSE(result.deleted[0].delete_marker);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].key, "sample2.txt");
  EXPECT_EQ(result.errors[0].code, "AccessDenied");
  EXPECT_EQ(result.errors[0].message, "Access Denied");
}

TEST(ParseDeleteObjectsResultTest, AwsVersionedExamples) {
  ASSERT_OK_AND_ASSIGN(DeleteObjectsResult marker_added, ParseDeleteObjectsResult(R"(
<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted>
  <Key>SampleDocument.txt</Key>
    <DeleteMarker>true</DeleteMarker>
    <DeleteMarkerVersionId>NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s</DeleteMarkerVersionId>
  </Deleted>
</DeleteResult>)"));
  ASSERT_EQ(marker_added.deleted.size(), 1u);
  EXPECT_TRUE(marker_added.deleted[0].delete_marker);
  EXPECT_EQ(marker_added.deleted[0].delete_marker_version_id, "NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s");
  EXPECT_EQ(marker_added.deleted[0].version_id, "");

  ASSERT_OK_AND_ASSIGN(DeleteObjectsResult version_deleted, ParseDeleteObjectsResult(R"(
<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted>
    <Key>SampleDocument.txt</Key>
    <VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId>
  </Deleted>
</DeleteResult>)"));
  EXPECT_EQ(version_deleted.deleted[0].version_id, "OYcLXagmS.WaD..oyH4KRguB95_YhLs7");

  ASSERT_OK_AND_ASSIGN(DeleteObjectsResult marker_deleted, ParseDeleteObjectsResult(R"(
<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Deleted>
<Key>SampleDocument.txt</Key>
<VersionId>NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s</VersionId>
<DeleteMarker>true</DeleteMarker>
<DeleteMarkerVersionId>NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s</DeleteMarkerVersionId>
</Deleted>
</DeleteResult>)"));
  EXPECT_TRUE(marker_deleted.deleted[0].delete_marker);
  EXPECT_EQ(marker_deleted.deleted[0].version_id, "NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s");
}

TEST(ParseDeleteObjectsResultTest, AwsMalformedXmlExampleIsTheRequestsError) {
  EXPECT_THAT(ParseDeleteObjectsResult(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
<Code>MalformedXML</Code>
<Message>The XML you provided was not well-formed or did not
        validate against our published schema</Message>
<RequestId>264A17BF16E9E80A</RequestId>
<HostId>P3xqrhuhYxlrefdw3rEzmJh8z5KDtGzb+/FB7oiQaScI9Yaxd8olYXc7d1111ab+</HostId>
</Error>)"),
              StatusIs(StatusCode::kInvalidArgument,
                       "DeleteObjects: MalformedXML: The XML you provided was not well-formed or "
                       "did not validate against our published schema"));
}

TEST(ParseDeleteObjectsResultTest, QuietReplyIsEmpty) {
  ASSERT_OK_AND_ASSIGN(
      DeleteObjectsResult result,
      ParseDeleteObjectsResult(
          "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></DeleteResult>"));
  EXPECT_TRUE(result.deleted.empty());
  EXPECT_TRUE(result.errors.empty());
}

TEST(ParseListBucketsTest, AwsExamples) {
  ASSERT_OK_AND_ASSIGN(ListBucketsResult result, ParseListBuckets(R"(
<ListAllMyBucketsResult>
   <Buckets>
      <Bucket>
         <CreationDate>2019-12-11T23:32:47+00:00</CreationDate>
         <Name>amzn-s3-demo-bucket</Name>
      </Bucket>
      <Bucket>
         <CreationDate>2019-11-10T23:32:13+00:00</CreationDate>
         <Name>amzn-s3-demo-bucket1</Name>
      </Bucket>
   </Buckets>
   <Owner>
      <DisplayName>Account+Name</DisplayName>
      <ID>AIDACKCEVSQ6C2EXAMPLE</ID>
   </Owner>  
</ListAllMyBucketsResult>)"));
  ASSERT_EQ(result.buckets.size(), 2u);
  EXPECT_EQ(result.buckets[0].name, "amzn-s3-demo-bucket");
  EXPECT_EQ(result.buckets[0].creation_date.unix_seconds, Utc(2019, 12, 11, 23, 32, 47));
  EXPECT_EQ(result.buckets[1].name, "amzn-s3-demo-bucket1");
  EXPECT_EQ(result.continuation_token, "");

  ASSERT_OK_AND_ASSIGN(
      ListBucketsResult paged,
      ParseListBuckets("<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                       "<Owner><ID>o</ID></Owner><Buckets><Bucket><Name>cairn</Name>"
                       "<CreationDate>2009-02-03T16:45:09.000Z</CreationDate></Bucket></Buckets>"
                       "<ContinuationToken>next</ContinuationToken></ListAllMyBucketsResult>"));
  ASSERT_EQ(paged.buckets.size(), 1u);
  EXPECT_EQ(paged.buckets[0].creation_date.unix_seconds, Utc(2009, 2, 3, 16, 45, 9));
  EXPECT_EQ(paged.continuation_token, "next");

  ASSERT_OK_AND_ASSIGN(ListBucketsResult none, ParseListBuckets("<ListAllMyBucketsResult><Buckets/>"
                                                                "</ListAllMyBucketsResult>"));
  EXPECT_TRUE(none.buckets.empty());
}

// ---------------------------------------------------------------------------------------------
// Builders. Round trips parse the body with pugixml keeping all whitespace, as a server's parser
// does, and compare every value.

struct ParsedDelete {
  std::vector<ObjectIdentifier> objects;
  bool quiet = false;
};

ParsedDelete ParseDeleteRequest(const std::string& body) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_ws_pcdata);
  EXPECT_TRUE(parsed) << parsed.description() << " at " << parsed.offset;
  pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.name(), "Delete");
  EXPECT_STREQ(root.attribute("xmlns").value(), "http://s3.amazonaws.com/doc/2006-03-01/");
  ParsedDelete out;
  for (pugi::xml_node child : root.children()) {
    if (std::string_view(child.name()) == "Quiet")
      out.quiet = std::string(child.text().get()) == "true";
    if (std::string_view(child.name()) != "Object") continue;
    ObjectIdentifier& object = out.objects.emplace_back();
    object.key = child.child("Key").text().get();
    object.version_id = child.child("VersionId").text().get();
  }
  return out;
}

TEST(BuildCompleteMultipartUploadTest, AwsExamplePartsExactBody) {
  const std::vector<CompletedPart> parts = {
      {1, "\"a54357aff0632cce46d942af68356b38\""},
      {2, "0c78aef83f66abc1fa1e8477f296d394"},  // quotes are added when missing
      {3, "\"acbd18db4cc2f85cedef654fccc4a4d8\""},
  };
  ASSERT_OK_AND_ASSIGN(std::string body, BuildCompleteMultipartUpload(parts));
  EXPECT_EQ(
      body,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Part><PartNumber>1</PartNumber><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>"
      "<Part><PartNumber>2</PartNumber><ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag></Part>"
      "<Part><PartNumber>3</PartNumber><ETag>\"acbd18db4cc2f85cedef654fccc4a4d8\"</ETag></Part>"
      "</CompleteMultipartUpload>");
}

TEST(BuildCompleteMultipartUploadTest, RoundTripOfTenThousandSparseParts) {
  std::vector<CompletedPart> parts;
  for (int32_t n = 1; n <= kMaxPartNumber; n += 1 + n % 3) {
    parts.push_back({n, "\"" + std::to_string(n) + "d41d8cd98f00b204e9800998ecf8427e\""});
  }
  ASSERT_OK_AND_ASSIGN(std::string body, BuildCompleteMultipartUpload(parts));
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_buffer(body.data(), body.size()));
  size_t i = 0;
  for (pugi::xml_node part : doc.document_element().children("Part")) {
    ASSERT_LT(i, parts.size());
    EXPECT_EQ(part.child("PartNumber").text().as_int(), parts[i].part_number);
    EXPECT_EQ(std::string(part.child("ETag").text().get()), parts[i].etag);
    ++i;
  }
  EXPECT_EQ(i, parts.size());
}

TEST(BuildCompleteMultipartUploadTest, Errors) {
  auto build = [](std::vector<CompletedPart> parts) { return BuildCompleteMultipartUpload(parts); };
  EXPECT_THAT(build({}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("no parts")));
  EXPECT_THAT(build({{0, "e"}}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside 1..")));
  EXPECT_THAT(build({{-1, "e"}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(build({{10001, "e"}}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("10001")));
  EXPECT_THAT(
      build({{1, "e"}, {1, "f"}}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("strictly ascending, got 1 after 1")));
  EXPECT_THAT(build({{2, "e"}, {1, "f"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("got 1 after 2")));
  EXPECT_THAT(build({{1, ""}}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("no ETag")));
  EXPECT_THAT(build({{1, "e\x01"}}),
              StatusIs(StatusCode::kInvalidArgument,
                       "CompleteMultipartUpload: ETag \"e\\x01\" of part 1: contains U+0001, which "
                       "XML 1.0 cannot carry"));
  EXPECT_OK(build({{1, "e"}, {10000, "f"}}));
}

TEST(BuildDeleteObjectsTest, ExactBody) {
  const std::vector<ObjectIdentifier> objects = {
      {"sample1.txt", ""}, {"SampleDocument.txt", "OYcLXagmS.WaD..oyH4KRguB95_YhLs7"}};
  ASSERT_OK_AND_ASSIGN(std::string all, BuildDeleteObjects(objects, DeleteReport::kAll));
  EXPECT_EQ(all,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Object><Key>sample1.txt</Key></Object>"
            "<Object><Key>SampleDocument.txt</Key>"
            "<VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId></Object>"
            "</Delete>");
  ASSERT_OK_AND_ASSIGN(std::string quiet, BuildDeleteObjects(objects, DeleteReport::kErrorsOnly));
  EXPECT_THAT(quiet, HasSubstr("</Object><Quiet>true</Quiet></Delete>"));
}

TEST(BuildDeleteObjectsTest, AwsCarriageReturnExample) {
  const std::vector<ObjectIdentifier> objects = {{"/some/prefix/objectwith\rcarriagereturn", ""}};
  ASSERT_OK_AND_ASSIGN(std::string body, BuildDeleteObjects(objects, DeleteReport::kAll));
  EXPECT_THAT(body, HasSubstr("<Key>/some/prefix/objectwith&#13;carriagereturn</Key>"));
  EXPECT_EQ(ParseDeleteRequest(body).objects[0].key, objects[0].key);
}

TEST(BuildDeleteObjectsTest, RoundTripOfAwkwardKeys) {
  const std::vector<ObjectIdentifier> objects = {
      {"a&b", ""},
      {"<tag>", "v<1>"},
      {"quote\"apos'", ""},
      {"]]>cdata end", ""},
      {"&amp; literally", ""},
      {"caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80/\xef\xbf\xbd", ""},
      {" ", ""},
      {"  leading and trailing  ", ""},
      {"tab\tnewline\ncr\rcrlf\r\n", ""},
      {"del\x7f and C1 \xc2\x85", ""},
      {"%2F not decoded + plus", ""},
      {std::string(1024, 'k'), "null"},
  };
  for (DeleteReport report : {DeleteReport::kAll, DeleteReport::kErrorsOnly}) {
    ASSERT_OK_AND_ASSIGN(std::string body, BuildDeleteObjects(objects, report));
    ParsedDelete parsed = ParseDeleteRequest(body);
    EXPECT_EQ(parsed.quiet, report == DeleteReport::kErrorsOnly);
    ASSERT_EQ(parsed.objects.size(), objects.size());
    for (size_t i = 0; i < objects.size(); ++i) {
      EXPECT_EQ(parsed.objects[i].key, objects[i].key) << i;
      EXPECT_EQ(parsed.objects[i].version_id, objects[i].version_id) << i;
    }
  }
}

TEST(BuildDeleteObjectsTest, RoundTripOfRandomKeys) {
  // Every character XML can carry, from every UTF-8 length class, in random keys.
  const std::vector<std::string> alphabet = {"a",
                                             "Z",
                                             "0",
                                             "/",
                                             " ",
                                             "\t",
                                             "\n",
                                             "\r",
                                             "&",
                                             "<",
                                             ">",
                                             "\"",
                                             "'",
                                             "]",
                                             "%",
                                             "+",
                                             "\x7f",
                                             "\xc2\xa0",
                                             "\xd7\xa9",
                                             "\xe2\x82\xac",
                                             "\xed\x9f\xbf",
                                             "\xee\x80\x80",
                                             "\xef\xbf\xbd",
                                             "\xf0\x90\x80\x80",
                                             "\xf4\x8f\xbf\xbf"};
  std::mt19937 rng(7);
  std::vector<ObjectIdentifier> objects;
  for (int i = 0; i < 1000; ++i) {
    ObjectIdentifier& object = objects.emplace_back();
    int length = 1 + static_cast<int>(rng() % 40);
    for (int j = 0; j < length; ++j) object.key += alphabet[rng() % alphabet.size()];
    if (i % 3 == 0) object.version_id = "v" + std::to_string(i);
  }
  ASSERT_OK_AND_ASSIGN(std::string body, BuildDeleteObjects(objects, DeleteReport::kErrorsOnly));
  ParsedDelete parsed = ParseDeleteRequest(body);
  ASSERT_EQ(parsed.objects.size(), objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    ASSERT_EQ(parsed.objects[i].key, objects[i].key) << i;
    ASSERT_EQ(parsed.objects[i].version_id, objects[i].version_id) << i;
  }
}

TEST(BuildDeleteObjectsTest, CountLimits) {
  std::vector<ObjectIdentifier> objects;
  EXPECT_THAT(BuildDeleteObjects(objects, DeleteReport::kAll),
              StatusIs(StatusCode::kInvalidArgument,
                       "DeleteObjects: 0 keys; S3 takes 1..1000 per "
                       "request"));
  for (int i = 0; i < 1000; ++i) objects.push_back({"k" + std::to_string(i), ""});
  EXPECT_OK(BuildDeleteObjects(objects, DeleteReport::kAll));
  objects.push_back({"one too many", ""});
  EXPECT_THAT(BuildDeleteObjects(objects, DeleteReport::kAll),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1001 keys")));
}

TEST(BuildDeleteObjectsTest, KeysXmlCannotCarryAreNamed) {
  auto build = [](std::string key, std::string version_id = "") {
    std::vector<ObjectIdentifier> objects = {{"fine", ""}, {std::move(key), std::move(version_id)}};
    return BuildDeleteObjects(objects, DeleteReport::kAll);
  };
  EXPECT_THAT(build("bell\x07"),
              StatusIs(StatusCode::kInvalidArgument,
                       "DeleteObjects: key 2 of 2 \"bell\\x07\": contains U+0007, which XML 1.0 "
                       "cannot carry; delete such a key with DeleteObject, which carries it in the "
                       "URL instead"));
  EXPECT_THAT(build(std::string("nul\0x", 5)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("contains U+0000")));
  EXPECT_THAT(build("ff\x0c"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("U+000C")));
  EXPECT_THAT(build("bad \xff utf8"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("is not valid UTF-8 (byte 0xff at offset 4)")));
  EXPECT_THAT(build("overlong \xc0\xaf"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(build("surrogate \xed\xa0\x80"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(build("cut \xe2\x82"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(build("nonchar \xef\xbf\xbe"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("U+FFFE")));
  EXPECT_THAT(build("nonchar \xef\xbf\xbf"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("U+FFFF")));
  EXPECT_THAT(build(""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("key 2 of 2 \"\": empty")));
  EXPECT_THAT(build("k", "v\x01"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("version id \"v\\x01\"")));
}

}  // namespace
}  // namespace cairn::objstore::s3
