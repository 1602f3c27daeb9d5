#include "cairn/objstore/swift/settings.h"

#include <gtest/gtest.h>

#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::swift {
namespace {

using ::cairn::testing::StatusIs;

TEST(SwiftSettingsTest, TempauthFromStVariables) {
  ASSERT_OK_AND_ASSIGN(SwiftSettings s, ResolveSwiftSettings({{"ST_AUTH", "http://h/auth/v1.0"},
                                                              {"ST_USER", "test:tester"},
                                                              {"ST_KEY", "testing"}}));
  EXPECT_EQ(s.version, AuthVersion::kV1);
  EXPECT_EQ(s.auth_url, "http://h/auth/v1.0");
  EXPECT_EQ(s.user, "test:tester");
  EXPECT_EQ(s.key, "testing");
}

TEST(SwiftSettingsTest, KeystoneV3FromOsVariables) {
  ASSERT_OK_AND_ASSIGN(SwiftSettings s, ResolveSwiftSettings({{"OS_AUTH_URL", "http://k:5000/v3/"},
                                                              {"OS_USERNAME", "alice"},
                                                              {"OS_PASSWORD", "pw"},
                                                              {"OS_PROJECT_NAME", "proj"},
                                                              {"OS_USER_DOMAIN_NAME", "Users"},
                                                              {"OS_REGION_NAME", "RegionTwo"},
                                                              {"OS_INTERFACE", "internalURL"}}));
  EXPECT_EQ(s.version, AuthVersion::kV3);
  EXPECT_EQ(s.auth_url, "http://k:5000/v3");
  EXPECT_EQ(s.username, "alice");
  EXPECT_EQ(s.user_domain_name, "Users");
  EXPECT_EQ(s.project_domain_id, "default");  // not given: Keystone's default domain
  EXPECT_EQ(s.region, "RegionTwo");
  EXPECT_EQ(s.interface, "internal");
}

TEST(SwiftSettingsTest, PrecedenceAndPreauthentication) {
  // ST_AUTH wins over OS_AUTH_URL unless a version says 3.
  ASSERT_OK_AND_ASSIGN(SwiftSettings v1, ResolveSwiftSettings({{"ST_AUTH", "http://a/auth/v1.0"},
                                                               {"ST_USER", "u"},
                                                               {"ST_KEY", "k"},
                                                               {"OS_AUTH_URL", "http://k/v3"}}));
  EXPECT_EQ(v1.version, AuthVersion::kV1);
  ASSERT_OK_AND_ASSIGN(SwiftSettings v3, ResolveSwiftSettings({{"ST_AUTH", "http://a/auth/v1.0"},
                                                               {"ST_AUTH_VERSION", "3"},
                                                               {"OS_AUTH_URL", "http://k/v3"},
                                                               {"OS_USERNAME", "u"},
                                                               {"OS_PASSWORD", "p"},
                                                               {"OS_PROJECT_ID", "pid"}}));
  EXPECT_EQ(v3.version, AuthVersion::kV3);
  EXPECT_EQ(v3.auth_url, "http://k/v3");
  ASSERT_OK_AND_ASSIGN(
      SwiftSettings pre,
      ResolveSwiftSettings({{"OS_STORAGE_URL", "http://s/v1/AUTH_a"}, {"OS_AUTH_TOKEN", "tok"}}));
  EXPECT_EQ(pre.version, AuthVersion::kPreauthenticated);
}

TEST(SwiftSettingsTest, MissingOrHalfGivenCredentials) {
  EXPECT_THAT(ResolveSwiftSettings({}).status(), StatusIs(StatusCode::kUnauthenticated));
  Result<SwiftSettings> half =
      ResolveSwiftSettings({{"ST_AUTH", "http://a"}, {"ST_KEY", "s3cr3t"}});
  EXPECT_THAT(half.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(half.status().ToString().find("s3cr3t"), std::string::npos);
  EXPECT_THAT(ResolveSwiftSettings(
                  {{"OS_AUTH_URL", "http://k/v3"}, {"OS_USERNAME", "u"}, {"OS_PASSWORD", "p"}})
                  .status(),
              StatusIs(StatusCode::kInvalidArgument));  // no project
  EXPECT_THAT(ResolveSwiftSettings({{"ST_AUTH", "http://a"}, {"ST_AUTH_VERSION", "2.0"}}).status(),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(SwiftSettingsTest, MissingKeystoneVariableIsNamed) {
  Result<SwiftSettings> r = ResolveSwiftSettings({{"OS_AUTH_URL", "http://k:5000/v3"},
                                                  {"OS_USERNAME", "alice"},
                                                  {"OS_PASSWORD", "secret-pw"}});
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(r.status().message().find("OS_PROJECT_NAME (or OS_PROJECT_ID) is not set"),
            std::string::npos);
  EXPECT_EQ(r.status().message().find("secret-pw"), std::string::npos);
  Result<SwiftSettings> no_key =
      ResolveSwiftSettings({{"ST_AUTH", "http://h/auth/v1.0"}, {"ST_USER", "test:tester"}});
  EXPECT_NE(no_key.status().message().find("ST_KEY is not set"), std::string::npos);
}

TEST(SwiftSettingsTest, KeystoneRemoteFieldsRoundTrip) {
  ASSERT_OK_AND_ASSIGN(SwiftSettings s, ResolveSwiftSettings({{"OS_AUTH_URL", "http://k:5000/v3"},
                                                              {"OS_USERNAME", "alice"},
                                                              {"OS_PASSWORD", "pw"},
                                                              {"OS_PROJECT_NAME", "proj"},
                                                              {"OS_USER_DOMAIN_NAME", "Users"},
                                                              {"OS_REGION_NAME", "RegionTwo"},
                                                              {"OS_INTERFACE", "internal"}}));
  ASSERT_OK_AND_ASSIGN(SwiftRemoteFields f, ToRemoteFields(s));
  EXPECT_EQ(f.endpoint, "http://k:5000/v3");
  EXPECT_EQ(f.user, "alice");
  EXPECT_EQ(f.secret, "pw");
  EXPECT_TRUE(f.scope.starts_with("keystone-v3\n"));
  ASSERT_OK_AND_ASSIGN(SwiftSettings back, FromRemoteFields(f, "RegionTwo"));
  EXPECT_EQ(back.version, AuthVersion::kV3);
  EXPECT_EQ(back.auth_url, s.auth_url);
  EXPECT_EQ(back.username, "alice");
  EXPECT_EQ(back.password, "pw");
  EXPECT_EQ(back.project_name, "proj");
  EXPECT_EQ(back.user_domain_name, "Users");
  EXPECT_EQ(back.user_domain_id, "");
  EXPECT_EQ(back.project_domain_id, "default");
  EXPECT_EQ(back.region, "RegionTwo");
  EXPECT_EQ(back.interface, "internal");
}

TEST(SwiftSettingsTest, TempauthRemoteFieldsHaveNoScope) {
  ASSERT_OK_AND_ASSIGN(SwiftSettings s, ResolveSwiftSettings({{"ST_AUTH", "http://h/auth/v1.0"},
                                                              {"ST_USER", "test:tester"},
                                                              {"ST_KEY", "testing"}}));
  ASSERT_OK_AND_ASSIGN(SwiftRemoteFields f, ToRemoteFields(s));
  EXPECT_EQ(f.scope, "");
  ASSERT_OK_AND_ASSIGN(SwiftSettings back, FromRemoteFields(f, ""));
  EXPECT_EQ(back.version, AuthVersion::kV1);
  EXPECT_EQ(back.user, "test:tester");
  EXPECT_EQ(back.key, "testing");
}

TEST(SwiftSettingsTest, RemoteFieldsRefuseTokensAndForeignScopes) {
  ASSERT_OK_AND_ASSIGN(SwiftSettings pre, ResolveSwiftSettings({{"OS_STORAGE_URL", "http://s/v1"},
                                                                {"OS_AUTH_TOKEN", "tok"}}));
  EXPECT_THAT(ToRemoteFields(pre), StatusIs(StatusCode::kInvalidArgument));
  SwiftRemoteFields f{.endpoint = "http://k/v3", .user = "u", .secret = "p", .scope = "other"};
  EXPECT_THAT(FromRemoteFields(f, ""), StatusIs(StatusCode::kInvalidArgument));
  f.scope = "keystone-v3\npassword=x";
  EXPECT_THAT(FromRemoteFields(f, ""), StatusIs(StatusCode::kInvalidArgument));
  SwiftSettings bad = pre;
  bad.version = AuthVersion::kV3;
  bad.project_name = "a\nb";
  EXPECT_THAT(ToRemoteFields(bad), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cairn::objstore::swift
