#include "cairn/objstore/s3/addressing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::s3 {
namespace {

using ::cairn::testing::StatusIs;

S3Settings Custom(std::string endpoint, AddressingStyle style = AddressingStyle::kAuto) {
  S3Settings s;
  s.region = "us-east-1";
  s.endpoint_url = std::move(endpoint);
  s.addressing = style;
  return s;
}

TEST(AddressingTest, DnsCompatibleBuckets) {
  EXPECT_TRUE(IsDnsCompatibleBucket("my-bucket.data"));
  EXPECT_TRUE(IsDnsCompatibleBucket("abc"));
  EXPECT_FALSE(IsDnsCompatibleBucket("ab"));
  EXPECT_FALSE(IsDnsCompatibleBucket(std::string(64, 'a')));
  EXPECT_FALSE(IsDnsCompatibleBucket("My-Bucket"));
  EXPECT_FALSE(IsDnsCompatibleBucket("my_bucket"));
  EXPECT_FALSE(IsDnsCompatibleBucket("-bucket"));
  EXPECT_FALSE(IsDnsCompatibleBucket("a..b"));
  EXPECT_FALSE(IsDnsCompatibleBucket("192.168.1.1"));
  EXPECT_TRUE(IsDnsCompatibleBucket("192.168.1.1a"));
}

TEST(AddressingTest, CustomEndpointUsesPathStyle) {
  ASSERT_OK_AND_ASSIGN(S3Target t,
                       ResolveTarget(Custom("http://127.0.0.1:7480"), "data", "run 42/a+b.txt"));
  EXPECT_EQ(t.url, "http://127.0.0.1:7480/data/run%2042/a%2Bb.txt");
  EXPECT_EQ(t.host, "127.0.0.1:7480");
  EXPECT_EQ(t.path, "/data/run%2042/a%2Bb.txt");
}

TEST(AddressingTest, AwsUsesVirtualHostWhenTheNameAllows) {
  S3Settings aws;
  aws.region = "eu-west-1";
  ASSERT_OK_AND_ASSIGN(S3Target t, ResolveTarget(aws, "data", "k"));
  EXPECT_EQ(t.url, "https://data.s3.eu-west-1.amazonaws.com/k");
  EXPECT_EQ(t.path, "/k");
  // Dots over https would break the wildcard certificate; uppercase is not DNS: path style.
  ASSERT_OK_AND_ASSIGN(t, ResolveTarget(aws, "my.data", "k"));
  EXPECT_EQ(t.url, "https://s3.eu-west-1.amazonaws.com/my.data/k");
  ASSERT_OK_AND_ASSIGN(t, ResolveTarget(aws, "Data", "k"));
  EXPECT_EQ(t.url, "https://s3.eu-west-1.amazonaws.com/Data/k");
}

TEST(AddressingTest, ForcedStyles) {
  ASSERT_OK_AND_ASSIGN(
      S3Target t,
      ResolveTarget(Custom("http://s3.local:9000", AddressingStyle::kVirtualHost), "data", "a/b"));
  EXPECT_EQ(t.url, "http://data.s3.local:9000/a/b");
  EXPECT_EQ(t.host, "data.s3.local:9000");
  EXPECT_THAT(
      ResolveTarget(Custom("http://s3.local", AddressingStyle::kVirtualHost), "Bad_Name", "k"),
      StatusIs(StatusCode::kInvalidArgument));
  S3Settings aws;
  aws.region = "us-east-1";
  aws.addressing = AddressingStyle::kPath;
  ASSERT_OK_AND_ASSIGN(t, ResolveTarget(aws, "data", "k"));
  EXPECT_EQ(t.url, "https://s3.us-east-1.amazonaws.com/data/k");
}

TEST(AddressingTest, BucketAndServiceTargets) {
  ASSERT_OK_AND_ASSIGN(S3Target t, ResolveTarget(Custom("http://h:1"), "data", ""));
  EXPECT_EQ(t.url, "http://h:1/data");
  ASSERT_OK_AND_ASSIGN(t, ResolveTarget(Custom("http://h:1"), "", ""));
  EXPECT_EQ(t.url, "http://h:1/");
  EXPECT_THAT(ResolveTarget(Custom("http://h:1"), "", "k"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ResolveTarget(Custom("http://h:1"), "a/b", "k"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(AddressingTest, KeysKeepTheirBytes) {
  // S3 keys are not paths: "//", "." and ".." segments are distinct keys and stay as they are.
  ASSERT_OK_AND_ASSIGN(S3Target t, ResolveTarget(Custom("http://h"), "b", "a//./../c\xc3\xa9?#%"));
  EXPECT_EQ(t.path, "/b/a//./../c%C3%A9%3F%23%25");
}

}  // namespace
}  // namespace cairn::objstore::s3
