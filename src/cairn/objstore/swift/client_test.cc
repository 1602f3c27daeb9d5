// SwiftClient and its auth against HttpTestServer fakes: tempauth and Keystone v3 exchanges,
// re-authentication on 401 by one thread while the others wait, errors with transaction ids.
#include "cairn/objstore/swift/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cairn/http/curl_http_client.h"
#include "cairn/objstore/swift/swift_object_store.h"
#include "cairn/testing/http_test_server.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::swift {
namespace {

using ::cairn::testing::HttpTestServer;
using ::cairn::testing::StatusIs;

// A tempauth server whose tokens stop working when the test says so ("expire"), as a short
// token_life would, and that counts auth requests.
class FakeTempauth {
 public:
  FakeTempauth() {
    auto server = HttpTestServer::Start([this](HttpTestServer::Exchange& ex) { Handle(ex); });
    EXPECT_TRUE(server.ok());
    server_ = std::move(*server);
  }

  void Expire() { generation_.fetch_add(1); }
  int auths() const { return auths_.load(); }
  std::string AuthUrl() const { return server_->Url("/auth/v1.0"); }

 private:
  std::string Token(int generation) const { return "AUTH_tk" + std::to_string(generation); }

  void Handle(HttpTestServer::Exchange& ex) {
    const auto& r = ex.request();
    if (r.target == "/auth/v1.0") {
      if (r.Header("X-Auth-Key") != "secret") {
        ex.Respond(401, "", {{"X-Trans-Id", "txauth"}});
        return;
      }
      ++auths_;
      // A slow auth service: the other threads pile up behind the one refresh.
      ex.Pause(std::chrono::milliseconds(50));
      ex.Respond(200, "",
                 {{"X-Auth-Token", Token(generation_.load())},
                  {"X-Storage-Url", server_->Url("/v1/AUTH_test")},
                  {"X-Auth-Token-Expires", "3600"}});
      return;
    }
    if (r.Header("X-Auth-Token") != Token(generation_.load())) {
      ex.Respond(401, "<html><h1>Unauthorized</h1></html>", {{"X-Trans-Id", "tx401"}});
      return;
    }
    if (r.method == "PUT") {
      ex.Respond(201, "", {{"Etag", "\"" + Md5Hex(r.body) + "\""}});
    } else if (r.target.find("/missing") != std::string::npos) {
      ex.Respond(404, "Not Found", {{"X-Trans-Id", "tx404abc"}});
    } else {
      ex.Respond(200, "hello", {{"Etag", "\"" + Md5Hex("hello") + "\""}});
    }
  }

  std::atomic<int> generation_{1};
  std::atomic<int> auths_{0};
  std::unique_ptr<HttpTestServer> server_;
};

struct Fixture {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<SwiftClient> client;
};

Fixture MakeClient(const std::string& auth_url, const std::string& key) {
  Fixture f;
  f.http = *http::CurlHttpClient::Create({});
  SwiftSettings settings =
      *ResolveSwiftSettings({{"ST_AUTH", auth_url}, {"ST_USER", "test:tester"}, {"ST_KEY", key}});
  f.client = *SwiftClient::Create(settings, f.http.get(), io::Env::Default());
  return f;
}

TEST(SwiftClientTest, SixteenThreadsShareOneReauthenticationPerExpiry) {
  FakeTempauth server;
  Fixture f = MakeClient(server.AuthUrl(), "secret");
  SwiftObjectStore store(f.client.get());
  constexpr int kThreads = 16;
  constexpr int kRounds = 5;
  std::atomic<int> failures{0};
  for (int round = 0; round < kRounds; ++round) {
    server.Expire();  // every token handed out so far is now refused
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 3; ++i) {
          if (!store.Head("c", "o").ok()) ++failures;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  // One auth to start and one per expiry: no storm of 16.
  EXPECT_EQ(server.auths(), kRounds);
  EXPECT_EQ(f.client->tokens().authentications(), kRounds);
}

TEST(SwiftClientTest, BodiesAreResentWithTheFreshToken) {
  FakeTempauth server;
  Fixture f = MakeClient(server.AuthUrl(), "secret");
  SwiftObjectStore store(f.client.get());
  ASSERT_OK(store.Head("c", "o").status());
  server.Expire();
  ASSERT_OK_AND_ASSIGN(
      WriteResult put,
      store.Put("c", "o", http::RequestBody::FromBytes("data"),
                WriteOptions{.content_md5 = Md5Of("data"), .content_type = "", .metadata = {}}));
  EXPECT_EQ(put.etag, Md5Hex("data"));
  EXPECT_EQ(server.auths(), 2);
}

TEST(SwiftClientTest, ErrorsCarryStatusAndTransactionIdButNoSecrets) {
  FakeTempauth server;
  Fixture f = MakeClient(server.AuthUrl(), "secret");
  SwiftObjectStore store(f.client.get());
  Status missing = store.Head("c", "missing").status();
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(missing.detail().http_status, 404);
  EXPECT_EQ(missing.detail().request_id, "tx404abc");
  EXPECT_NE(missing.ToString().find("stat swift://c/missing"), std::string::npos);

  Fixture bad = MakeClient(server.AuthUrl(), "wrong-key-value");
  Status denied = SwiftObjectStore(bad.client.get()).Head("c", "o").status();
  EXPECT_THAT(denied, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(denied.ToString().find("wrong-key-value"), std::string::npos);
  EXPECT_EQ(denied.ToString().find("AUTH_tk"), std::string::npos);
}

TEST(TokenCacheTest, FailedAuthenticationIsSharedNotRepeated) {
  std::atomic<int> calls{0};
  TokenCache cache(
      [&]() -> Result<SwiftToken> {
        ++calls;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return UnavailableError("auth service down");
      },
      io::Env::Default());
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (cache.Get().status().code() == StatusCode::kUnavailable) ++errors;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 8);
  EXPECT_LT(calls.load(), 8);  // callers that arrived during an attempt shared its failure
}

TEST(TokenCacheTest, AGivenTokenThatIsRejectedIsAnError) {
  TokenCache cache(
      [] {
        return Result<SwiftToken>(
            SwiftToken{.token = "fixed", .storage_url = "u", .obtained_at = 0, .expires_at = 0});
      },
      io::Env::Default());
  ASSERT_OK_AND_ASSIGN(TokenCache::Snapshot token, cache.Get());
  EXPECT_THAT(cache.Refresh(token).status(), StatusIs(StatusCode::kUnauthenticated));
}

TEST(KeystoneV3Test, RequestBodyAndCatalogReply) {
  SwiftSettings s = *ResolveSwiftSettings({{"OS_AUTH_URL", "http://k/v3"},
                                           {"OS_USERNAME", "alice"},
                                           {"OS_PASSWORD", "pw"},
                                           {"OS_PROJECT_NAME", "proj"},
                                           {"OS_PROJECT_DOMAIN_NAME", "Dom"},
                                           {"OS_REGION_NAME", "R2"}});
  nlohmann::json body = nlohmann::json::parse(KeystoneV3RequestBody(s));
  EXPECT_EQ(body["auth"]["identity"]["methods"][0], "password");
  EXPECT_EQ(body["auth"]["identity"]["password"]["user"]["name"], "alice");
  EXPECT_EQ(body["auth"]["identity"]["password"]["user"]["domain"]["id"], "default");
  EXPECT_EQ(body["auth"]["scope"]["project"]["name"], "proj");
  EXPECT_EQ(body["auth"]["scope"]["project"]["domain"]["name"], "Dom");

  http::HttpResponse reply;
  reply.status_code = 201;
  reply.headers.Add("X-Subject-Token", "gAAAAtoken");
  reply.body = R"({"token":{"expires_at":"2030-01-02T03:04:05.000000Z","catalog":[
    {"type":"identity","endpoints":[{"interface":"public","region":"R2","url":"http://k/v3"}]},
    {"type":"object-store","endpoints":[
      {"interface":"public","region":"R1","url":"http://one/v1/AUTH_p"},
      {"interface":"internal","region":"R2","url":"http://internal/v1/AUTH_p"},
      {"interface":"public","region":"R2","url":"http://two/v1/AUTH_p/"}]}]}})";
  ASSERT_OK_AND_ASSIGN(SwiftToken token, ParseKeystoneV3Reply(reply, s, 100));
  EXPECT_EQ(token.token, "gAAAAtoken");
  EXPECT_EQ(token.storage_url, "http://two/v1/AUTH_p");
  EXPECT_EQ(token.expires_at, 1893553445);
  s.region = "R9";
  EXPECT_THAT(ParseKeystoneV3Reply(reply, s, 100).status(), StatusIs(StatusCode::kNotFound));
  reply.status_code = 401;
  EXPECT_THAT(ParseKeystoneV3Reply(reply, s, 100).status(), StatusIs(StatusCode::kUnauthenticated));
}

TEST(KeystoneV3Test, AuthenticatesAgainstAFakeKeystone) {
  std::string seen_body;
  auto server = *HttpTestServer::Start([&](HttpTestServer::Exchange& ex) {
    if (ex.request().method == "POST" && ex.request().target == "/v3/auth/tokens") {
      seen_body = ex.request().body;
      ex.Respond(201,
                 R"({"token":{"expires_at":"2031-01-01T00:00:00Z","catalog":[{"type":"object-store",
                     "endpoints":[{"interface":"public","region":"RegionOne","url":"http://s/v1/AUTH_x"}]}]}})",
                 {{"X-Subject-Token", "tok3"}, {"Content-Type", "application/json"}});
    } else {
      ex.Respond(404, "");
    }
  });
  SwiftSettings s = *ResolveSwiftSettings({{"OS_AUTH_URL", server->Url("/v3")},
                                           {"OS_USERNAME", "bob"},
                                           {"OS_PASSWORD", "hunter2"},
                                           {"OS_PROJECT_ID", "p1"}});
  auto http = *http::CurlHttpClient::Create({});
  ASSERT_OK_AND_ASSIGN(SwiftToken token, AuthenticateV3(http.get(), s, 0));
  EXPECT_EQ(token.token, "tok3");
  EXPECT_EQ(token.storage_url, "http://s/v1/AUTH_x");
  EXPECT_NE(seen_body.find("hunter2"), std::string::npos);
  EXPECT_NE(seen_body.find("\"p1\""), std::string::npos);
}

TEST(SwiftInfoTest, LimitsFromInfo) {
  ASSERT_OK_AND_ASSIGN(SwiftInfo info, ParseSwiftInfo(R"({"swift":{"max_file_size":5368709122},
      "slo":{"max_manifest_segments":10000,"min_segment_size":1},
      "bulk_delete":{"max_deletes_per_request":10000}})"));
  EXPECT_EQ(info.max_file_size, 5368709122u);
  EXPECT_EQ(info.slo_max_manifest_segments, 10000);
  EXPECT_TRUE(info.bulk_delete);
  EXPECT_EQ(info.bulk_delete_max, 10000);
  ASSERT_OK_AND_ASSIGN(
      SwiftInfo rgw, ParseSwiftInfo(R"({"bulk_delete":{},"slo":{"max_manifest_segments":1000}})"));
  EXPECT_TRUE(rgw.bulk_delete);
  EXPECT_EQ(rgw.bulk_delete_max, 10000);
  EXPECT_THAT(ParseSwiftInfo("nope").status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(SloManifestTest, ParsesSwiftsManifestListing) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<SloSegment> segments,
      ParseSloManifest(R"([{"name":"/c_segments/k/1/00000001","hash":"abc","bytes":5},
                                             {"name":"/c_segments/k/1/00000002","hash":"def","bytes":2}])"));
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[1].container, "c_segments");
  EXPECT_EQ(segments[1].object, "k/1/00000002");
  EXPECT_EQ(segments[1].size, 2u);
  EXPECT_TRUE(
      BuildSloManifest(segments).starts_with(R"([{"etag":"abc","path":"/c_segments/k/1/00)"));
  EXPECT_THAT(ParseSloManifest("").status(), StatusIs(StatusCode::kUnimplemented));
  EXPECT_EQ(EncodePath("a b/é?", Slash::kKeep), "a%20b/%C3%A9%3F");
  EXPECT_EQ(EncodePath("a/b", Slash::kEncode), "a%2Fb");
}

}  // namespace
}  // namespace cairn::objstore::swift
