// Remotes: sealing of credentials, the /v1/remotes routes through the HTTP handler (no sockets),
// who may see and use a remote, and the check that saved manifests name only usable buckets.
// Runs on SQLite, and on PostgreSQL when CAIRN_TEST_POSTGRES_DSN is set.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cairn/common/base64.h"
#include "cairn/httpd/http_server.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/manifest.h"
#include "cairn/metadata/api_handler.h"
#include "cairn/metadata/catalog.h"
#include "cairn/metadata/remotes.h"
#include "cairn/sql/scratch_database.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::metadata {
namespace {

using Json = nlohmann::json;
using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] = "remotes-test-blob-signing-key";
constexpr char kSecret[] = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";

TEST(RemoteSeal, RoundTripsAndHidesTheSecret) {
  RemoteCredentials c{.access_key_id = "AKID", .secret_access_key = kSecret, .session_token = ""};
  ASSERT_OK_AND_ASSIGN(std::string sealed, SealCredentials(c, "r1", kKey));
  EXPECT_THAT(sealed, Not(HasSubstr(kSecret)));
  ASSERT_OK_AND_ASSIGN(std::string raw, Base64Decode(sealed));
  EXPECT_THAT(raw, Not(HasSubstr(kSecret)));
  EXPECT_THAT(raw, Not(HasSubstr("AKID")));
  ASSERT_OK_AND_ASSIGN(RemoteCredentials opened, OpenCredentials(sealed, "r1", kKey));
  EXPECT_EQ(opened, c);
  // A fresh nonce each time: the same credentials seal differently.
  ASSERT_OK_AND_ASSIGN(std::string again, SealCredentials(c, "r1", kKey));
  EXPECT_NE(again, sealed);
}

TEST(RemoteSeal, RefusesAlteredMovedOrForeignRecords) {
  RemoteCredentials c{.access_key_id = "AKID", .secret_access_key = kSecret, .session_token = "t"};
  ASSERT_OK_AND_ASSIGN(std::string sealed, SealCredentials(c, "r1", kKey));
  EXPECT_THAT(OpenCredentials(sealed, "r2", kKey), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(OpenCredentials(sealed, "r1", "another-key"), StatusIs(StatusCode::kDataLoss));
  ASSERT_OK_AND_ASSIGN(std::string raw, Base64Decode(sealed));
  for (size_t i : {size_t{0}, size_t{12}, raw.size() - 1}) {
    std::string flipped = raw;
    flipped[i] = static_cast<char>(flipped[i] ^ 1);
    Result<RemoteCredentials> r = OpenCredentials(Base64Encode(flipped), "r1", kKey);
    EXPECT_THAT(r, StatusIs(StatusCode::kDataLoss)) << "byte " << i;
    EXPECT_THAT(r.status().message(), Not(HasSubstr(kSecret)));
  }
  EXPECT_THAT(OpenCredentials("", "r1", kKey), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(OpenCredentials("not base64!", "r1", kKey), StatusIs(StatusCode::kDataLoss));
}

struct Reply {
  int status = 0;
  Json body;
  std::string text;
};

class RemotesSuite : public ::testing::TestWithParam<sql::Backend> {
 protected:
  void SetUp() override {
    std::string target;
    if (GetParam() == sql::Backend::kPostgres) {
      const char* dsn = std::getenv("CAIRN_TEST_POSTGRES_DSN");
      if (dsn == nullptr || *dsn == '\0') GTEST_SKIP() << "CAIRN_TEST_POSTGRES_DSN is not set";
      target = dsn;
    } else {
      dir_ = std::filesystem::temp_directory_path() /
             ("cairn-remotes-test-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir_);
      target = (dir_ / "catalog.db").string();
    }
    ASSERT_OK_AND_ASSIGN(db_, sql::OpenScratchDatabase(GetParam(), target));
    CatalogOptions options;
    options.signing = {.key = kKey, .ttl_seconds = 3600};
    options.env = &env_;
    ASSERT_OK_AND_ASSIGN(catalog_, Catalog::Open(db_.get(), options));
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> admin, catalog_->Bootstrap());
    ASSERT_TRUE(admin.has_value());
    admin_ = *admin;
    handler_ = MakeApiHandler(catalog_.get(), {.version = "test", .max_body_bytes = 1 << 20});
  }
  void TearDown() override {
    catalog_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Reply Call(const std::string& method, const std::string& path, const std::string& token,
             const Json& body = nullptr) {
    std::string text = body.is_null() ? "" : body.dump();
    httpd::StringBodyReader reader(text);
    httpd::ServerRequest request;
    request.method = method;
    request.target = path;
    request.path = path;
    if (!token.empty()) request.headers.Add("Authorization", "Bearer " + token);
    if (!text.empty()) request.content_length = text.size();
    request.body = &reader;
    httpd::BufferedResponseWriter response;
    handler_(request, response);
    return {response.status, Json::parse(response.body, nullptr, false), response.body};
  }
  std::string NewUserToken(const std::string& name) {
    Reply u = Call("POST", "/v1/users", admin_, {{"username", name}});
    EXPECT_EQ(u.status, 200) << u.text;
    Reply t = Call("POST", "/v1/api_tokens", admin_, {{"user_uuid", u.body["uuid"]}});
    EXPECT_EQ(t.status, 200) << t.text;
    return t.body.value("api_token", "");
  }
  static Json RemoteBody(const std::string& name, const Json& buckets) {
    return {{"name", name},
            {"kind", "s3"},
            {"endpoint", "http://127.0.0.1:25480"},
            {"region", "us-east-1"},
            {"buckets", buckets},
            {"access_key_id", "AKID-" + name},
            {"secret_access_key", kSecret}};
  }
  static std::string ExternalManifest(const std::string& bucket) {
    manifest::ExternalObject object{.kind = manifest::ObjectStoreKind::kS3,
                                    .bucket = bucket,
                                    .key = "dir/obj",
                                    .version_id = "",
                                    .etag = "0123abcd"};
    return ". " + manifest::MakeExternalLocator(object, 0, 5).ToString() + " 0:5:obj\n";
  }

  std::filesystem::path dir_;
  testing::FakeEnv env_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<Catalog> catalog_;
  httpd::Handler handler_;
  std::string admin_;
};

TEST_P(RemotesSuite, AddListGetRemoveNeverReturnCredentials) {
  std::string alice = NewUserToken("alice");
  Reply added = Call("POST", "/v1/remotes", alice, RemoteBody("data", {"b2", "b1", "b1"}));
  ASSERT_EQ(added.status, 200) << added.text;
  EXPECT_EQ(added.body["name"], "data");
  EXPECT_EQ(added.body["kind"], "s3");
  EXPECT_EQ(added.body["endpoint"], "http://127.0.0.1:25480");
  EXPECT_EQ(added.body["buckets"], Json({"b1", "b2"}));  // sorted, deduplicated
  EXPECT_THAT(added.body.value("uuid", ""), HasSubstr("-rm0te-"));
  for (const Reply& r :
       {added, Call("GET", "/v1/remotes", alice), Call("GET", "/v1/remotes/data", alice)}) {
    EXPECT_EQ(r.status, 200) << r.text;
    EXPECT_THAT(r.text, Not(HasSubstr(kSecret)));
    EXPECT_THAT(r.text, Not(HasSubstr("AKID")));
  }
  Reply list = Call("GET", "/v1/remotes", alice);
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body["items"][0]["buckets"], Json({"b1", "b2"}));
  // Stored sealed: the secret is nowhere in the database row.
  ASSERT_OK_AND_ASSIGN(sql::Rows rows, db_->Query("SELECT * FROM remotes"));
  for (const sql::Value& v : rows[0]) EXPECT_THAT(v.text(), Not(HasSubstr(kSecret)));

  EXPECT_EQ(Call("POST", "/v1/remotes", alice, RemoteBody("data", {"b3"})).status, 409);
  Reply taken = Call("POST", "/v1/remotes", alice, RemoteBody("other", {"b3", "b2"}));
  EXPECT_EQ(taken.status, 409);
  EXPECT_THAT(taken.text, HasSubstr("bucket b2"));
  // The failed add left nothing behind: b3 is still free.
  EXPECT_EQ(Call("POST", "/v1/remotes", alice, RemoteBody("other", {"b3"})).status, 200);

  Reply removed = Call("DELETE", "/v1/remotes/data", alice);
  EXPECT_EQ(removed.status, 200) << removed.text;
  EXPECT_EQ(Call("GET", "/v1/remotes/data", alice).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/remotes/data", alice).status, 404);
  // Its buckets are free again.
  EXPECT_EQ(Call("POST", "/v1/remotes", alice, RemoteBody("data2", {"b1"})).status, 200);
}

TEST_P(RemotesSuite, InvalidFieldsAreRefused) {
  std::string alice = NewUserToken("alice");
  auto add = [&](Json body) { return Call("POST", "/v1/remotes", alice, body).status; };
  EXPECT_EQ(add(RemoteBody("Bad Name", {"b"})), 400);
  Json j = RemoteBody("r", {"b"});
  j["kind"] = "ftp";
  EXPECT_EQ(add(j), 400);
  j = RemoteBody("r", {"b"});
  j["endpoint"] = "127.0.0.1:80";
  EXPECT_EQ(add(j), 400);
  EXPECT_EQ(add(RemoteBody("r", Json::array())), 400);
  EXPECT_EQ(add(RemoteBody("r", {"a/b"})), 400);
  EXPECT_EQ(add(RemoteBody("r", "b")), 400);
  j = RemoteBody("r", {"b"});
  j.erase("secret_access_key");
  Reply no_secret = Call("POST", "/v1/remotes", alice, j);
  EXPECT_EQ(no_secret.status, 400);
  j = RemoteBody("r", {"b"});
  j["password"] = "x";
  EXPECT_EQ(add(j), 400);
  EXPECT_EQ(Call("GET", "/v1/remotes", "").status, 401);
}

TEST_P(RemotesSuite, OnlyOwnerAndAdminsSeeAndUseARemote) {
  std::string alice = NewUserToken("alice");
  std::string bob = NewUserToken("bob");
  ASSERT_EQ(Call("POST", "/v1/remotes", alice, RemoteBody("ra", {"alice-bucket"})).status, 200);
  EXPECT_EQ(Call("GET", "/v1/remotes/ra", bob).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/remotes/ra", bob).status, 404);
  EXPECT_EQ(Call("GET", "/v1/remotes", bob).body["items"].size(), 0u);
  EXPECT_EQ(Call("GET", "/v1/remotes", admin_).body["items"].size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/remotes/ra", admin_).status, 200);

  // Saving external locators: only for buckets of a remote the caller may use.
  Reply own =
      Call("POST", "/v1/collections", alice, {{"manifest_text", ExternalManifest("alice-bucket")}});
  EXPECT_EQ(own.status, 200) << own.text;
  Reply theirs =
      Call("POST", "/v1/collections", bob, {{"manifest_text", ExternalManifest("alice-bucket")}});
  EXPECT_EQ(theirs.status, 403);
  EXPECT_THAT(theirs.text, HasSubstr("bucket alice-bucket"));
  Reply nobody = Call("POST", "/v1/collections", alice,
                      {{"manifest_text", ExternalManifest("unknown-bucket")}});
  EXPECT_EQ(nobody.status, 403);
  EXPECT_EQ(
      Call("POST", "/v1/collections", admin_, {{"manifest_text", ExternalManifest("alice-bucket")}})
          .status,
      200);

  // Bob may read and write a collection alice shares with him, and keep its external blocks.
  std::string uuid = own.body.value("uuid", "");
  ASSERT_EQ(Call("POST", "/v1/permissions", alice,
                 {{"target_uuid", uuid}, {"user", "bob"}, {"level", "write"}})
                .status,
            200);
  Reply got = Call("GET", "/v1/collections/" + uuid, bob);
  ASSERT_EQ(got.status, 200) << got.text;
  Reply renamed = Call("PUT", "/v1/collections/" + uuid, bob,
                       {{"manifest_text", got.body["manifest_text"]}, {"name", "kept"}});
  EXPECT_EQ(renamed.status, 200) << renamed.text;

  // The signed locators bob read let him copy the files into a collection of his own; the same
  // locators unsigned, or signed for alice, do not.
  std::string signed_text = got.body["manifest_text"].get<std::string>();
  ASSERT_THAT(signed_text, HasSubstr("+A"));
  Reply copied = Call("POST", "/v1/collections", bob, {{"manifest_text", signed_text}});
  EXPECT_EQ(copied.status, 200) << copied.text;
  EXPECT_EQ(copied.body.value("portable_data_hash", ""), own.body.value("portable_data_hash", "x"));
  Reply alices = Call("GET", "/v1/collections/" + uuid, alice);
  Reply stolen =
      Call("POST", "/v1/collections", bob, {{"manifest_text", alices.body["manifest_text"]}});
  EXPECT_EQ(stolen.status, 403) << stolen.text;
}

TEST_P(RemotesSuite, CredentialsOnlyForGatewaysAndAdmins) {
  std::string alice = NewUserToken("alice");
  ASSERT_EQ(Call("POST", "/v1/remotes", alice, RemoteBody("ra", {"bk"})).status, 200);
  EXPECT_EQ(Call("GET", "/v1/remotes/ra/credentials", alice).status, 403);
  Reply admin = Call("GET", "/v1/remotes/ra/credentials", admin_);
  ASSERT_EQ(admin.status, 200) << admin.text;
  EXPECT_EQ(admin.body["secret_access_key"], kSecret);
  EXPECT_EQ(admin.body["access_key_id"], "AKID-ra");
  EXPECT_EQ(Call("GET", "/v1/remotes/nope/credentials", admin_).status, 404);

  ASSERT_OK_AND_ASSIGN(auto found, catalog_->GatewayRemoteForBucket("s3", "bk"));
  EXPECT_EQ(found.first.name, "ra");
  EXPECT_EQ(found.first.endpoint, "http://127.0.0.1:25480");
  EXPECT_EQ(found.second.secret_access_key, kSecret);
  EXPECT_THAT(catalog_->GatewayRemoteForBucket("swift", "bk"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(catalog_->GatewayRemoteForBucket("s3", "other"), StatusIs(StatusCode::kNotFound));
}

INSTANTIATE_TEST_SUITE_P(Backends, RemotesSuite,
                         ::testing::Values(sql::Backend::kSqlite, sql::Backend::kPostgres),
                         [](const auto& p) {
                           return p.param == sql::Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace cairn::metadata
