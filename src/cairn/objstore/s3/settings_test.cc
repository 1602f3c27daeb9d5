#include "cairn/objstore/s3/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::s3 {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCredentials[] =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = DEFAULTKEY\n"
    "aws_secret_access_key = defaultsecret\n"
    "\n"
    "[dev]\n"
    "aws_access_key_id=DEVKEY\n"
    "aws_secret_access_key=devsecret\n"
    "aws_session_token = devtoken\n";

constexpr char kConfig[] =
    "[default]\n"
    "region = eu-west-1\n"
    "[profile dev]\n"
    "region = ap-south-1\n"
    "endpoint_url = http://127.0.0.1:7480/\n"
    "s3 =\n"
    "  addressing_style = virtual\n"
    "  max_concurrent_requests = 20\n"
    "[profile onlyconfig]\n"
    "aws_access_key_id = CFGKEY\n"
    "aws_secret_access_key = cfgsecret\n";

S3SettingsInput Input() {
  S3SettingsInput in;
  in.credentials_file_text = kCredentials;
  in.config_file_text = kConfig;
  return in;
}

TEST(ParseAwsIniTest, SectionsKeysAndNestedBlocks) {
  ASSERT_OK_AND_ASSIGN(IniFile file, ParseAwsIni(kConfig, "config"));
  EXPECT_EQ(file["default"]["region"], "eu-west-1");
  EXPECT_EQ(file["profile dev"]["endpoint_url"], "http://127.0.0.1:7480/");
  EXPECT_EQ(file["profile dev"]["s3.addressing_style"], "virtual");
  EXPECT_EQ(file["profile dev"]["s3.max_concurrent_requests"], "20");
  EXPECT_EQ(file["profile onlyconfig"]["aws_access_key_id"], "CFGKEY");
}

TEST(ParseAwsIniTest, ErrorsNameFileAndLine) {
  EXPECT_THAT(ParseAwsIni("[default]\nregion\n", "cfg"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cfg: line 2: expected")));
  EXPECT_THAT(ParseAwsIni("region = x\n", "cfg"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("before any [section]")));
  EXPECT_THAT(ParseAwsIni("[default\n", "cfg"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 1")));
}

TEST(ResolveS3SettingsTest, DefaultProfile) {
  ASSERT_OK_AND_ASSIGN(S3Settings s, ResolveS3Settings(Input()));
  EXPECT_EQ(s.credentials.access_key_id, "DEFAULTKEY");
  EXPECT_EQ(s.credentials.secret_access_key, "defaultsecret");
  EXPECT_EQ(s.region, "eu-west-1");
  EXPECT_EQ(s.endpoint_url, "");
  EXPECT_EQ(s.addressing, AddressingStyle::kAuto);
  EXPECT_EQ(s.source, "profile default in ~/.aws/credentials");
}

TEST(ResolveS3SettingsTest, EnvironmentBeatsDefaultProfile) {
  S3SettingsInput in = Input();
  in.environment = {{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                    {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                    {"AWS_DEFAULT_REGION", "us-west-2"},
                    {"AWS_ENDPOINT_URL", "http://localhost:9000"}};
  ASSERT_OK_AND_ASSIGN(S3Settings s, ResolveS3Settings(in));
  EXPECT_EQ(s.credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(s.source, "environment");
  EXPECT_EQ(s.region, "us-west-2");
  EXPECT_EQ(s.endpoint_url, "http://localhost:9000");
  in.environment["AWS_REGION"] = "us-east-2";  // AWS_REGION outranks AWS_DEFAULT_REGION
  in.environment["AWS_ENDPOINT_URL_S3"] = "https://s3.example.com";
  ASSERT_OK_AND_ASSIGN(s, ResolveS3Settings(in));
  EXPECT_EQ(s.region, "us-east-2");
  EXPECT_EQ(s.endpoint_url, "https://s3.example.com");
}

TEST(ResolveS3SettingsTest, ExplicitProfileBeatsEnvironmentKeys) {
  S3SettingsInput in = Input();
  in.environment = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}};
  in.profile = "dev";
  ASSERT_OK_AND_ASSIGN(S3Settings s, ResolveS3Settings(in));
  EXPECT_EQ(s.credentials.access_key_id, "DEVKEY");
  EXPECT_EQ(s.credentials.session_token, "devtoken");
  EXPECT_EQ(s.region, "ap-south-1");
  EXPECT_EQ(s.endpoint_url, "http://127.0.0.1:7480");
  EXPECT_EQ(s.addressing, AddressingStyle::kVirtualHost);
  // AWS_PROFILE selects a profile but, unlike --profile, does not outrank the keys.
  in.profile.reset();
  in.environment["AWS_PROFILE"] = "dev";
  ASSERT_OK_AND_ASSIGN(s, ResolveS3Settings(in));
  EXPECT_EQ(s.credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(s.region, "ap-south-1");
}

TEST(ResolveS3SettingsTest, FlagsBeatEverything) {
  S3SettingsInput in = Input();
  in.access_key_id = "FLAGKEY";
  in.secret_access_key = "flagsecret";
  in.region = "sa-east-1";
  in.endpoint_url = "https://minio.local:9000/";
  in.addressing = AddressingStyle::kPath;
  in.profile = "dev";
  ASSERT_OK_AND_ASSIGN(S3Settings s, ResolveS3Settings(in));
  EXPECT_EQ(s.credentials.access_key_id, "FLAGKEY");
  EXPECT_EQ(s.source, "flags");
  EXPECT_EQ(s.region, "sa-east-1");
  EXPECT_EQ(s.endpoint_url, "https://minio.local:9000");
  EXPECT_EQ(s.addressing, AddressingStyle::kPath);
}

TEST(ResolveS3SettingsTest, CredentialsFromConfigFileProfile) {
  S3SettingsInput in = Input();
  in.profile = "onlyconfig";
  ASSERT_OK_AND_ASSIGN(S3Settings s, ResolveS3Settings(in));
  EXPECT_EQ(s.credentials.access_key_id, "CFGKEY");
  EXPECT_EQ(s.source, "profile onlyconfig in ~/.aws/config");
}

TEST(ResolveS3SettingsTest, ClearErrorsWithoutSecrets) {
  S3SettingsInput none;
  EXPECT_THAT(ResolveS3Settings(none),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("AWS_ACCESS_KEY_ID")));
  S3SettingsInput in = Input();
  in.profile = "nosuch";
  EXPECT_THAT(ResolveS3Settings(in),
              StatusIs(StatusCode::kNotFound, HasSubstr("profile \"nosuch\" is in neither")));
  S3SettingsInput half;
  half.environment = {{"AWS_SECRET_ACCESS_KEY", "topsecret"}};
  Result<S3Settings> r = ResolveS3Settings(half);
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("no access key id")));
  EXPECT_THAT(r.status().ToString(), Not(HasSubstr("topsecret")));
  S3SettingsInput bad = Input();
  bad.endpoint_url = "ftp://x";
  EXPECT_THAT(ResolveS3Settings(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("http")));
  bad.endpoint_url = "http://host/path";
  EXPECT_THAT(ResolveS3Settings(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("no path")));
}

}  // namespace
}  // namespace cairn::objstore::s3
