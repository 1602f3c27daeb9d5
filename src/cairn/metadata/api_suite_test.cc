// The catalog suite: every route of docs/catalog-api.md through the HTTP handler (no sockets),
// written once and run on SQLite (unit) and on a real PostgreSQL (tests/integration builds this
// file with CAIRN_TEST_POSTGRES_ONLY and runs it against CAIRN_TEST_POSTGRES_DSN, which
// scripts/postgres prints).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/httpd/http_server.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/locator.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/pdh.h"
#include "cairn/manifest/signature.h"
#include "cairn/metadata/api_handler.h"
#include "cairn/metadata/catalog.h"
#include "cairn/sql/scratch_database.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::metadata {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] = "catalog-suite-blob-signing-key";
constexpr int64_t kTtl = 1209600;

struct Reply {
  int status = 0;
  Json body;
  std::string text;
};

class CatalogSuite : public ::testing::TestWithParam<sql::Backend> {
 protected:
  void SetUp() override {
    std::string target;
    if (GetParam() == sql::Backend::kPostgres) {
      const char* dsn = std::getenv("CAIRN_TEST_POSTGRES_DSN");
      target = dsn != nullptr ? dsn : "";
#ifndef CAIRN_TEST_POSTGRES_ONLY
      if (target.empty()) GTEST_SKIP() << "CAIRN_TEST_POSTGRES_DSN is not set";
#endif
    } else {
      dir_ = std::filesystem::temp_directory_path() /
             ("cairn-catalog-test-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir_);
      target = (dir_ / "catalog.db").string();
    }
    ASSERT_OK_AND_ASSIGN(db_, sql::OpenScratchDatabase(GetParam(), target));
    CatalogOptions options;
    options.signing = {.key = kKey, .ttl_seconds = kTtl};
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

  Reply Call(const std::string& method, const std::string& target, const std::string& token,
             const Json& body = nullptr, const std::string& auth_scheme = "Bearer") {
    std::string text = body.is_null() ? "" : body.dump();
    return CallRaw(method, target, token, text, auth_scheme);
  }
  Reply CallRaw(const std::string& method, const std::string& target, const std::string& token,
                const std::string& text, const std::string& auth_scheme = "Bearer") {
    httpd::StringBodyReader reader(text);
    httpd::ServerRequest request;
    request.method = method;
    request.target = target;
    size_t q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    if (!token.empty()) request.headers.Add("Authorization", auth_scheme + " " + token);
    if (!text.empty()) request.content_length = text.size();
    request.body = &reader;
    httpd::BufferedResponseWriter response;
    handler_(request, response);
    Reply reply{.status = response.status,
                .body = Json::parse(response.body, nullptr, false),
                .text = response.body};
    EXPECT_EQ(response.headers.Get("Content-Type").value_or(""), "application/json");
    return reply;
  }

  // A new user and a token for it.
  struct Account {
    std::string uuid;
    std::string token;
  };
  Account NewAccount(const std::string& name, bool is_admin = false) {
    Reply u = Call("POST", "/v1/users", admin_, {{"username", name}, {"is_admin", is_admin}});
    EXPECT_EQ(u.status, 200) << u.text;
    Reply t = Call("POST", "/v1/api_tokens", admin_, {{"user_uuid", u.body["uuid"]}});
    EXPECT_EQ(t.status, 200) << t.text;
    return {u.body["uuid"].get<std::string>(), t.body["api_token"].get<std::string>()};
  }

  int64_t Now() { return env_.NowUnixSeconds(); }

  // `data` as a block locator signed for `token` (as a keepstore's PUT reply would be).
  std::string Signed(const std::string& data, const std::string& token, int64_t expiry = 0,
                     const std::string& key = kKey) {
    manifest::Locator l(manifest::BlockHash::Of(data), data.size());
    if (expiry == 0) expiry = Now() + kTtl;
    return manifest::SignLocator(l, key, token, expiry, kTtl).ToString();
  }
  static std::string Unsigned(const std::string& data) {
    return manifest::Locator(manifest::BlockHash::Of(data), data.size()).ToString();
  }

  // A collection of one file holding `data`, owned by `token`'s user.
  std::string NewCollection(const std::string& token, const std::string& name,
                            const std::string& data = "foo") {
    std::string manifest =
        ". " + Signed(data, token) + " 0:" + std::to_string(data.size()) + ":file.txt\n";
    Reply r = Call("POST", "/v1/collections", token, {{"manifest_text", manifest}, {"name", name}});
    EXPECT_EQ(r.status, 200) << r.text;
    return r.body.value("uuid", "");
  }

  // Every local locator of a manifest verifies for `token` now.
  void ExpectSignedFor(const std::string& manifest_text, const std::string& token) {
    ASSERT_OK_AND_ASSIGN(manifest::Manifest m, manifest::Manifest::Parse(manifest_text));
    ASSERT_FALSE(m.blocks().empty());
    for (const manifest::Locator& l : m.blocks()) {
      if (l.IsExternal()) continue;
      EXPECT_OK(manifest::VerifySignature(l, kKey, token, kTtl, Now())) << l.ToString();
    }
  }

  std::filesystem::path dir_;
  testing::FakeEnv env_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<Catalog> catalog_;
  httpd::Handler handler_;
  std::string admin_;
};

TEST_P(CatalogSuite, PingAndConfigNeedNoToken) {
  Reply ping = Call("GET", "/_health/ping", "");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, Json({{"health", "OK"}}));
  Reply config = Call("GET", "/v1/config", "");
  EXPECT_EQ(config.status, 200);
  EXPECT_EQ(config.body["cluster_id"], "cairn");
  EXPECT_EQ(config.body["blob_signature_ttl"], kTtl);
  EXPECT_EQ(config.body["max_block_size"], 67108864);
  EXPECT_EQ(config.body["version"], "test");
}

TEST_P(CatalogSuite, BootstrapHappensOnce) {
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> again, catalog_->Bootstrap());
  EXPECT_FALSE(again.has_value());
  Reply me = Call("GET", "/v1/users/current", admin_);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.body["username"], "admin");
  EXPECT_EQ(me.body["is_admin"], true);
  EXPECT_THAT(me.body["uuid"].get<std::string>(),
              ::testing::MatchesRegex("cairn-tpzed-[a-z0-9]{15}"));
  EXPECT_EQ(admin_.size(), 50u);
}

TEST_P(CatalogSuite, TokensAreCheckedOnEveryRoute) {
  EXPECT_EQ(Call("GET", "/v1/users/current", "").status, 401);
  EXPECT_EQ(Call("GET", "/v1/collections", "nosuchtoken").status, 401);
  EXPECT_EQ(Call("GET", "/v1/keep_services", admin_ + "x").status, 401);
  EXPECT_EQ(Call("GET", "/v1/users/current", admin_, nullptr, "OAuth2").status, 200);
  EXPECT_EQ(Call("GET", "/v1/users/current", admin_, nullptr, "Basic").status, 401);
  Reply r = Call("GET", "/v1/users/current", "nosuchtoken");
  EXPECT_EQ(r.body["errors"].size(), 1u);
  EXPECT_THAT(r.text, Not(HasSubstr("nosuchtoken")));
}

TEST_P(CatalogSuite, RevokedAndExpiredTokensAreRefused) {
  Account alice = NewAccount("alice");
  // A second token that expires in a minute.
  Reply t = Call("POST", "/v1/api_tokens", alice.token,
                 {{"expires_at", "2023-11-14T22:14:20.5Z"}});  // FakeEnv: now is 22:13:20
  ASSERT_EQ(t.status, 200) << t.text;
  std::string short_lived = t.body["api_token"];
  EXPECT_EQ(t.body["expires_at"], "2023-11-14T22:14:20.500000Z");
  EXPECT_EQ(Call("GET", "/v1/users/current", short_lived).status, 200);
  env_.AdvanceMicros(61'000'000);
  EXPECT_EQ(Call("GET", "/v1/users/current", short_lived).status, 401);
  // Tokens in the past are refused at creation.
  EXPECT_EQ(
      Call("POST", "/v1/api_tokens", alice.token, {{"expires_at", "2020-01-01T00:00:00Z"}}).status,
      400);
  // Revoke by uuid, then the token used for the call.
  Reply second = Call("POST", "/v1/api_tokens", alice.token, Json::object());
  std::string second_token = second.body["api_token"];
  EXPECT_EQ(Call("DELETE", "/v1/api_tokens/" + second.body["uuid"].get<std::string>(), alice.token)
                .status,
            200);
  EXPECT_EQ(Call("GET", "/v1/users/current", second_token).status, 401);
  EXPECT_EQ(Call("DELETE", "/v1/api_tokens/current", alice.token).status, 200);
  EXPECT_EQ(Call("GET", "/v1/users/current", alice.token).status, 401);
  // The direct check `cairn server` uses agrees.
  EXPECT_THAT(catalog_->Authenticate(alice.token), testing::StatusIs(StatusCode::kUnauthenticated));
  ASSERT_OK_AND_ASSIGN(Caller admin, catalog_->Authenticate(admin_));
  EXPECT_TRUE(admin.user.is_admin);
}

TEST_P(CatalogSuite, Users) {
  Account alice = NewAccount("alice");
  EXPECT_EQ(Call("POST", "/v1/users", alice.token, {{"username", "bob"}}).status, 403);
  EXPECT_EQ(Call("POST", "/v1/users", admin_, {{"username", "alice"}}).status, 409);
  EXPECT_EQ(Call("POST", "/v1/users", admin_, {{"username", "Bad Name"}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1/users", admin_, {{"username", "x"}, {"color", "red"}}).status, 400);
  Reply list = Call("GET", "/v1/users", alice.token);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["items_available"], 2);
  for (const Json& u : list.body["items"]) {
    EXPECT_EQ(u.size(), 2u) << u.dump();  // uuid and username only
  }
  Reply full = Call("GET", "/v1/users?limit=1&offset=1", admin_);
  ASSERT_EQ(full.body["items"].size(), 1u);
  EXPECT_EQ(full.body["items"][0]["username"], "alice");
  EXPECT_EQ(full.body["items"][0]["is_admin"], false);
  EXPECT_EQ(full.body["limit"], 1);
  EXPECT_EQ(full.body["offset"], 1);
}

TEST_P(CatalogSuite, TokenManagement) {
  Account alice = NewAccount("alice");
  Account bob = NewAccount("bob");
  EXPECT_EQ(Call("POST", "/v1/api_tokens", alice.token, {{"user_uuid", bob.uuid}}).status, 403);
  Reply mine = Call("POST", "/v1/api_tokens", alice.token, Json::object());
  ASSERT_EQ(mine.status, 200);
  EXPECT_EQ(mine.body["user_uuid"], alice.uuid);
  EXPECT_THAT(mine.body["api_token"].get<std::string>(), ::testing::MatchesRegex("[a-z0-9]{50}"));
  Reply list = Call("GET", "/v1/api_tokens", alice.token);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["items_available"], 2);
  for (const Json& t : list.body["items"]) EXPECT_FALSE(t.contains("api_token"));
  EXPECT_EQ(Call("GET", "/v1/api_tokens?user_uuid=" + bob.uuid, alice.token).status, 403);
  EXPECT_EQ(Call("GET", "/v1/api_tokens?user_uuid=" + bob.uuid, admin_).body["items_available"], 1);
  // Bob's token is invisible to Alice; the admin may revoke it.
  Reply bobs = Call("GET", "/v1/api_tokens", bob.token);
  std::string bob_token_uuid = bobs.body["items"][0]["uuid"];
  EXPECT_EQ(Call("DELETE", "/v1/api_tokens/" + bob_token_uuid, alice.token).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/api_tokens/" + bob_token_uuid, admin_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/users/current", bob.token).status, 401);
}

TEST_P(CatalogSuite, CreateStoresUnsignedAndReturnsSigned) {
  Account alice = NewAccount("alice");
  // Two streams, out of order, one block signed twice differently: normalized on save.
  std::string a = Signed("foo", alice.token), a2 = Signed("foo", alice.token, Now() + 100);
  std::string b = Signed("barbaz", alice.token);
  std::string text = "./sub " + b + " 0:6:z.txt\n. " + a + " " + a2 + " 0:3:x.txt 3:3:y.txt\n";
  Reply r = Call("POST", "/v1/collections", alice.token,
                 {{"manifest_text", text}, {"name", "run 42"}, {"properties", {{"k", "v"}}}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_THAT(r.body["uuid"].get<std::string>(),
              ::testing::MatchesRegex("cairn-4zz18-[a-z0-9]{15}"));
  EXPECT_EQ(r.body["version"], 1);
  EXPECT_EQ(r.body["name"], "run 42");
  EXPECT_EQ(r.body["owner_uuid"], alice.uuid);
  EXPECT_EQ(r.body["properties"], Json({{"k", "v"}}));
  EXPECT_EQ(r.body["file_count"], 3);
  EXPECT_EQ(r.body["file_size_total"], 12);
  EXPECT_EQ(r.body["is_trashed"], false);
  std::string stored =
      ". " + Unsigned("foo") + " 0:3:x.txt 0:3:y.txt\n./sub " + Unsigned("barbaz") + " 0:6:z.txt\n";
  EXPECT_EQ(r.body["portable_data_hash"], manifest::PortableDataHash(stored));
  std::string returned = r.body["manifest_text"];
  ExpectSignedFor(returned, alice.token);
  EXPECT_EQ(manifest::PortableManifestText(returned), stored);
  // The database holds no signature.
  ASSERT_OK_AND_ASSIGN(sql::Rows rows, db_->Query("SELECT manifest_text FROM collection_versions"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].text(), stored);
  // ?manifest=false: the same save, a reply without the manifest; a bad value is refused.
  Reply brief = Call("POST", "/v1/collections?manifest=false", alice.token,
                     {{"manifest_text", text}, {"name", "run 43"}});
  ASSERT_EQ(brief.status, 200) << brief.text;
  EXPECT_FALSE(brief.body.contains("manifest_text"));
  EXPECT_EQ(brief.body["portable_data_hash"], manifest::PortableDataHash(stored));
  EXPECT_EQ(
      Call("POST", "/v1/collections?manifest=maybe", alice.token, {{"manifest_text", text}}).status,
      400);
}

TEST_P(CatalogSuite, SavingNeedsValidSignaturesForTheCaller) {
  Account alice = NewAccount("alice");
  Account bob = NewAccount("bob");
  auto save = [&](const std::string& locator) {
    return Call("POST", "/v1/collections", alice.token,
                {{"manifest_text", ". " + locator + " 0:3:f\n"}});
  };
  std::string hash_size = Unsigned("foo");
  Reply unsigned_reply = save(hash_size);
  EXPECT_EQ(unsigned_reply.status, 403);
  EXPECT_THAT(unsigned_reply.body["errors"][0].get<std::string>(),
              HasSubstr("no valid signature for block " + hash_size));
  EXPECT_EQ(save(Signed("foo", bob.token)).status, 403);                    // someone else's
  EXPECT_EQ(save(Signed("foo", alice.token, 0, "other-key")).status, 403);  // forged
  EXPECT_EQ(save(Signed("foo", alice.token, Now() - 1)).status, 403);       // expired
  EXPECT_EQ(save(Signed("foo", alice.token)).status, 200);
  // The empty block and external objects need no signature (external ones need a remote of the
  // caller's holding their bucket: remotes_test.cc).
  ASSERT_EQ(Call("POST", "/v1/remotes", alice.token,
                 {{"name", "r"},
                  {"endpoint", "http://127.0.0.1:1"},
                  {"buckets", {"b"}},
                  {"access_key_id", "a"},
                  {"secret_access_key", "s"}})
                .status,
            200);
  manifest::ExternalObject object{.kind = manifest::ObjectStoreKind::kS3,
                                  .bucket = "b",
                                  .key = "k",
                                  .version_id = "",
                                  .etag = "e"};
  std::string external = manifest::MakeExternalLocator(object, 0, 3).ToString();
  EXPECT_EQ(Call("POST", "/v1/collections", alice.token,
                 {{"manifest_text", ". " + external + " 0:3:f\n"}})
                .status,
            200);
  EXPECT_EQ(Call("POST", "/v1/collections", alice.token,
                 {{"manifest_text", ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:empty\n"}})
                .status,
            200);
  EXPECT_EQ(Call("POST", "/v1/collections", alice.token, {{"manifest_text", ""}}).status, 200);
  // Malformed manifests: 422 with the parser's message.
  Reply bad = Call("POST", "/v1/collections", alice.token, {{"manifest_text", ". nonsense\n"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_THAT(bad.text, HasSubstr("line 1"));
  EXPECT_EQ(Call("POST", "/v1/collections", alice.token, {{"name", "no manifest"}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1/collections", alice.token, {{"manifest_text", 7}}).status, 400);
}

TEST_P(CatalogSuite, ReadBySignsForTheReader) {
  Account alice = NewAccount("alice");
  Account bob = NewAccount("bob");
  std::string uuid = NewCollection(alice.token, "shared");
  ASSERT_EQ(Call("POST", "/v1/permissions", alice.token,
                 {{"target_uuid", uuid}, {"user", "bob"}, {"level", "read"}})
                .status,
            200);
  Reply by_uuid = Call("GET", "/v1/collections/" + uuid, bob.token);
  ASSERT_EQ(by_uuid.status, 200) << by_uuid.text;
  ExpectSignedFor(by_uuid.body["manifest_text"], bob.token);
  std::string pdh = by_uuid.body["portable_data_hash"];
  Reply by_pdh = Call("GET", "/v1/collections/" + pdh, bob.token);
  ASSERT_EQ(by_pdh.status, 200);
  EXPECT_EQ(by_pdh.body["uuid"], uuid);
  // '+' percent-encoded, as some clients send it.
  std::string encoded = pdh;
  encoded.replace(32, 1, "%2B");
  EXPECT_EQ(Call("GET", "/v1/collections/" + encoded, bob.token).status, 200);
  // Someone who cannot read it cannot find it by PDH either.
  Account carol = NewAccount("carol");
  EXPECT_EQ(Call("GET", "/v1/collections/" + pdh, carol.token).status, 404);
  EXPECT_EQ(Call("GET", "/v1/collections/cairn-4zz18-000000000000000", bob.token).status, 404);
  EXPECT_EQ(Call("GET", "/v1/collections/garbage", bob.token).status, 404);
}

// Who may do what, for each role on one collection.
TEST_P(CatalogSuite, PermissionMatrix) {
  Account owner = NewAccount("owner");
  Account reader = NewAccount("reader");
  Account writer = NewAccount("writer");
  Account manager = NewAccount("manager");
  Account stranger = NewAccount("stranger");
  Account other_admin = NewAccount("root2", true);
  std::string uuid = NewCollection(owner.token, "c");
  for (auto [who, level] :
       {std::pair{"reader", "read"}, {"writer", "write"}, {"manager", "manage"}}) {
    ASSERT_EQ(Call("POST", "/v1/permissions", owner.token,
                   {{"target_uuid", uuid}, {"user", who}, {"level", level}})
                  .status,
              200);
  }
  struct Case {
    const Account* who;
    int get, put, grant, list_grants;
  };
  const Case cases[] = {
      {&owner, 200, 200, 200, 200},    {&reader, 200, 403, 403, 403},
      {&writer, 200, 200, 403, 403},   {&manager, 200, 200, 200, 200},
      {&stranger, 404, 404, 404, 404}, {&other_admin, 200, 200, 200, 200},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(Call("GET", "/v1/users/current", c.who->token).body.value("username", ""));
    EXPECT_EQ(Call("GET", "/v1/collections/" + uuid, c.who->token).status, c.get);
    EXPECT_EQ(Call("GET", "/v1/collections/" + uuid + "/versions", c.who->token).status, c.get);
    EXPECT_EQ(Call("PUT", "/v1/collections/" + uuid, c.who->token, {{"name", "renamed"}}).status,
              c.put);
    EXPECT_EQ(Call("POST", "/v1/permissions", c.who->token,
                   {{"target_uuid", uuid}, {"user", "stranger"}, {"level", "read"}})
                  .status,
              c.grant);
    // Undo the grant so the stranger stays a stranger.
    Reply grants = Call("GET", "/v1/permissions?target_uuid=" + uuid, owner.token);
    for (const Json& g : grants.body["items"]) {
      if (g["user_uuid"] == stranger.uuid) {
        ASSERT_EQ(
            Call("DELETE", "/v1/permissions/" + g["uuid"].get<std::string>(), owner.token).status,
            200);
      }
    }
    EXPECT_EQ(Call("GET", "/v1/permissions?target_uuid=" + uuid, c.who->token).status,
              c.list_grants);
  }
  // Trash needs manage too.
  EXPECT_EQ(Call("DELETE", "/v1/collections/" + uuid, writer.token).status, 403);
  EXPECT_EQ(Call("DELETE", "/v1/collections/" + uuid, stranger.token).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/collections/" + uuid, manager.token).status, 200);
}

TEST_P(CatalogSuite, GrantsReplaceAndRevoke) {
  Account alice = NewAccount("alice");
  Account bob = NewAccount("bob");
  std::string uuid = NewCollection(alice.token, "c");
  Reply first = Call("POST", "/v1/permissions", alice.token,
                     {{"target_uuid", uuid}, {"user", bob.uuid}, {"level", "read"}});
  ASSERT_EQ(first.status, 200);
  EXPECT_THAT(first.body["uuid"].get<std::string>(), ::testing::MatchesRegex("cairn-o0j2j-.{15}"));
  EXPECT_EQ(first.body["user_uuid"], bob.uuid);
  Reply second = Call("POST", "/v1/permissions", alice.token,
                      {{"target_uuid", uuid}, {"user", "bob"}, {"level", "write"}});
  EXPECT_EQ(second.body["uuid"], first.body["uuid"]);
  EXPECT_EQ(second.body["level"], "write");
  Reply list = Call("GET", "/v1/permissions?target_uuid=" + uuid, alice.token);
  EXPECT_EQ(list.body["items_available"], 1);
  EXPECT_EQ(Call("PUT", "/v1/collections/" + uuid, bob.token, {{"name", "b"}}).status, 200);
  EXPECT_EQ(Call("POST", "/v1/permissions", alice.token,
                 {{"target_uuid", uuid}, {"user", "nobody"}, {"level", "read"}})
                .status,
            404);
  EXPECT_EQ(Call("POST", "/v1/permissions", alice.token,
                 {{"target_uuid", uuid}, {"user", "bob"}, {"level", "own"}})
                .status,
            400);
  // Bob cannot revoke the grant (write is not manage); Alice can.
  std::string grant = first.body["uuid"];
  EXPECT_EQ(Call("DELETE", "/v1/permissions/" + grant, bob.token).status, 403);
  EXPECT_EQ(Call("DELETE", "/v1/permissions/" + grant, alice.token).status, 200);
  EXPECT_EQ(Call("GET", "/v1/collections/" + uuid, bob.token).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/permissions/" + grant, alice.token).status, 404);
}

TEST_P(CatalogSuite, VersionsAreKept) {
  Account alice = NewAccount("alice");
  std::string uuid = NewCollection(alice.token, "v1", "foo");
  Reply v1 = Call("GET", "/v1/collections/" + uuid, alice.token);
  Reply v2 = Call("PUT", "/v1/collections/" + uuid, alice.token, {{"name", "v2"}});
  ASSERT_EQ(v2.status, 200) << v2.text;
  EXPECT_EQ(v2.body["version"], 2);
  EXPECT_EQ(v2.body["portable_data_hash"], v1.body["portable_data_hash"]);
  // New manifest: the block it already held needs no signature, a new one does.
  std::string held = Unsigned("foo");
  Reply refused = Call("PUT", "/v1/collections/" + uuid, alice.token,
                       {{"manifest_text", ". " + held + " " + Unsigned("bar") + " 0:6:f\n"}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.text, HasSubstr(Unsigned("bar")));
  Reply v3 = Call("PUT", "/v1/collections/" + uuid, alice.token,
                  {{"manifest_text", ". " + held + " " + Signed("bar", alice.token) + " 0:6:f\n"},
                   {"properties", {{"step", 3}}}});
  ASSERT_EQ(v3.status, 200) << v3.text;
  EXPECT_EQ(v3.body["version"], 3);
  EXPECT_EQ(v3.body["name"], "v2");
  EXPECT_EQ(v3.body["file_size_total"], 6);
  EXPECT_NE(v3.body["portable_data_hash"], v1.body["portable_data_hash"]);
  ExpectSignedFor(v3.body["manifest_text"], alice.token);
  Reply old = Call("GET", "/v1/collections/" + uuid + "?version=1", alice.token);
  ASSERT_EQ(old.status, 200);
  EXPECT_EQ(old.body["version"], 1);
  EXPECT_EQ(old.body["name"], "v1");
  EXPECT_EQ(old.body["portable_data_hash"], v1.body["portable_data_hash"]);
  ExpectSignedFor(old.body["manifest_text"], alice.token);
  EXPECT_EQ(Call("GET", "/v1/collections/" + uuid + "?version=9", alice.token).status, 404);
  Reply versions = Call("GET", "/v1/collections/" + uuid + "/versions", alice.token);
  ASSERT_EQ(versions.body["items"].size(), 3u);
  EXPECT_EQ(versions.body["items"][0]["version"], 1);
  EXPECT_EQ(versions.body["items"][0]["name"], "v1");
  EXPECT_EQ(versions.body["items"][2]["version"], 3);
  EXPECT_EQ(versions.body["items"][2]["modified_by_user_uuid"], alice.uuid);
}

TEST_P(CatalogSuite, TrashAndUntrash) {
  Account alice = NewAccount("alice");
  std::string uuid = NewCollection(alice.token, "t");
  Reply trashed = Call("DELETE", "/v1/collections/" + uuid, alice.token);
  ASSERT_EQ(trashed.status, 200);
  EXPECT_EQ(trashed.body["is_trashed"], true);
  EXPECT_TRUE(trashed.body["trash_at"].is_string());
  EXPECT_EQ(Call("GET", "/v1/collections/" + uuid, alice.token).status, 404);
  EXPECT_EQ(Call("GET", "/v1/collections/" + uuid + "?include_trash=true", alice.token).status,
            200);
  EXPECT_EQ(Call("PUT", "/v1/collections/" + uuid, alice.token, {{"name", "x"}}).status, 404);
  EXPECT_EQ(Call("GET", "/v1/collections", alice.token).body["items_available"], 0);
  EXPECT_EQ(Call("GET", "/v1/collections?include_trash=true", alice.token).body["items_available"],
            1);
  Reply restored = Call("POST", "/v1/collections/" + uuid + "/untrash", alice.token);
  ASSERT_EQ(restored.status, 200);
  EXPECT_EQ(restored.body["is_trashed"], false);
  EXPECT_TRUE(restored.body["trash_at"].is_null());
  EXPECT_EQ(Call("GET", "/v1/collections/" + uuid, alice.token).status, 200);
}

TEST_P(CatalogSuite, ListsFilterAndPage) {
  Account alice = NewAccount("alice");
  Account bob = NewAccount("bob");
  for (int i = 0; i < 5; ++i) {
    NewCollection(alice.token, "a" + std::to_string(i), "data" + std::to_string(i));
    env_.AdvanceMicros(1000);
  }
  std::string bobs = NewCollection(bob.token, "b0");
  ASSERT_EQ(Call("POST", "/v1/permissions", bob.token,
                 {{"target_uuid", bobs}, {"user", "alice"}, {"level", "read"}})
                .status,
            200);
  Reply all = Call("GET", "/v1/collections", alice.token);
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.body["items_available"], 6);
  EXPECT_EQ(all.body["items"][0]["name"], "b0");  // most recently modified first
  EXPECT_EQ(all.body["items"][1]["name"], "a4");
  EXPECT_FALSE(all.body["items"][0].contains("manifest_text"));
  EXPECT_EQ(Call("GET", "/v1/collections?scope=owned", alice.token).body["items_available"], 5);
  Reply shared = Call("GET", "/v1/collections?scope=shared", alice.token);
  EXPECT_EQ(shared.body["items_available"], 1);
  EXPECT_EQ(shared.body["items"][0]["uuid"], bobs);
  Reply named = Call("GET", "/v1/collections?name=a2", alice.token);
  ASSERT_EQ(named.body["items"].size(), 1u);
  EXPECT_EQ(named.body["items"][0]["name"], "a2");
  EXPECT_EQ(
      Call("GET", "/v1/collections?owner_uuid=" + bob.uuid, alice.token).body["items_available"],
      1);
  Reply page = Call("GET", "/v1/collections?limit=2&offset=2", alice.token);
  ASSERT_EQ(page.body["items"].size(), 2u);
  EXPECT_EQ(page.body["items"][0]["name"], "a3");
  EXPECT_EQ(page.body["items"][1]["name"], "a2");
  EXPECT_EQ(page.body["items_available"], 6);
  EXPECT_EQ(Call("GET", "/v1/collections", bob.token).body["items_available"], 1);
  EXPECT_EQ(Call("GET", "/v1/collections", admin_).body["items_available"], 6);
  EXPECT_EQ(Call("GET", "/v1/collections?limit=0", alice.token).status, 400);
  EXPECT_EQ(Call("GET", "/v1/collections?limit=1001", alice.token).status, 400);
  EXPECT_EQ(Call("GET", "/v1/collections?scope=mine", alice.token).status, 400);
}

TEST_P(CatalogSuite, KeepServices) {
  Account alice = NewAccount("alice");
  Json service = {{"service_host", "127.0.0.1"}, {"service_port", 25107}};
  EXPECT_EQ(Call("POST", "/v1/keep_services", alice.token, service).status, 403);
  Reply added = Call("POST", "/v1/keep_services", admin_, service);
  ASSERT_EQ(added.status, 200) << added.text;
  EXPECT_THAT(added.body["uuid"].get<std::string>(), ::testing::MatchesRegex("cairn-bi6l4-.{15}"));
  EXPECT_EQ(added.body["service_type"], "disk");
  EXPECT_EQ(added.body["service_ssl_flag"], false);
  EXPECT_EQ(added.body["read_only"], false);
  EXPECT_EQ(Call("POST", "/v1/keep_services", admin_, service).body["uuid"], added.body["uuid"]);
  Reply gateway = Call("POST", "/v1/keep_services", admin_,
                       {{"service_host", "gw.example"},
                        {"service_port", 443},
                        {"service_type", "gateway"},
                        {"service_ssl_flag", true},
                        {"read_only", true}});
  ASSERT_EQ(gateway.status, 200);
  EXPECT_EQ(Call("POST", "/v1/keep_services", admin_,
                 {{"service_host", "h"}, {"service_port", 1}, {"service_type", "tape"}})
                .status,
            400);
  EXPECT_EQ(
      Call("POST", "/v1/keep_services", admin_, {{"service_host", "h"}, {"service_port", 70000}})
          .status,
      400);
  Reply list = Call("GET", "/v1/keep_services", alice.token);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["items_available"], 2);
  std::string uuid = added.body["uuid"];
  EXPECT_EQ(Call("DELETE", "/v1/keep_services/" + uuid, alice.token).status, 403);
  EXPECT_EQ(Call("DELETE", "/v1/keep_services/" + uuid, admin_).status, 200);
  EXPECT_EQ(Call("DELETE", "/v1/keep_services/" + uuid, admin_).status, 404);
  EXPECT_EQ(Call("GET", "/v1/keep_services", alice.token).body["items_available"], 1);
}

TEST_P(CatalogSuite, MalformedRequests) {
  EXPECT_EQ(Call("GET", "/v1/nothing", admin_).status, 404);
  EXPECT_EQ(Call("GET", "/elsewhere", admin_).status, 404);
  EXPECT_EQ(Call("PATCH", "/v1/collections", admin_).status, 405);
  EXPECT_EQ(Call("POST", "/v1/config", "").status, 405);
  EXPECT_EQ(CallRaw("POST", "/v1/collections", admin_, "{not json").status, 400);
  EXPECT_EQ(CallRaw("POST", "/v1/collections", admin_, "[1]").status, 400);
  Reply unknown = Call("POST", "/v1/collections", admin_, {{"manifest_text", ""}, {"color", 1}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.body["errors"][0].get<std::string>(), HasSubstr("color"));
  std::string big(2 << 20, ' ');
  EXPECT_EQ(CallRaw("POST", "/v1/collections", admin_, big).status, 413);
}

// Writers racing on one collection: every update becomes its own version, none is lost.
TEST_P(CatalogSuite, ConcurrentUpdatesMakeConsecutiveVersions) {
  Account alice = NewAccount("alice");
  std::string uuid = NewCollection(alice.token, "race");
  constexpr int kThreads = 4, kEach = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Reply r = Call("PUT", "/v1/collections/" + uuid, alice.token,
                       {{"name", "t" + std::to_string(t) + "-" + std::to_string(i)}});
        EXPECT_EQ(r.status, 200) << r.text;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Reply versions = Call("GET", "/v1/collections/" + uuid + "/versions", alice.token);
  ASSERT_EQ(versions.body["items"].size(), 1u + kThreads * kEach);
  for (size_t i = 0; i < versions.body["items"].size(); ++i) {
    EXPECT_EQ(versions.body["items"][i]["version"], i + 1);
  }
  EXPECT_EQ(Call("GET", "/v1/collections/" + uuid, alice.token).body["version"],
            1 + kThreads * kEach);
}

std::string BackendName(const ::testing::TestParamInfo<sql::Backend>& info) {
  return info.param == sql::Backend::kSqlite ? "Sqlite" : "Postgres";
}

#ifdef CAIRN_TEST_POSTGRES_ONLY
INSTANTIATE_TEST_SUITE_P(Integration, CatalogSuite, ::testing::Values(sql::Backend::kPostgres),
                         BackendName);
#else
INSTANTIATE_TEST_SUITE_P(Backends, CatalogSuite,
                         ::testing::Values(sql::Backend::kSqlite, sql::Backend::kPostgres),
                         BackendName);
#endif

}  // namespace
}  // namespace cairn::metadata
