// The Swift client with Keystone v3 password auth against a real Keystone (scripts/keystone) in
// front of Ceph RGW's Swift API (scripts/object-store with CAIRN_OBJECT_STORE_RGW_CONF):
//
//   - the ObjectStore conformance suite on that store, its re-auth test revoking the token in
//     Keystone under 16 concurrent requests;
//   - settings resolved from OS_* variables as the swift CLI reads them; a wrong password;
//   - tokens that expire after a few seconds (CAIRN_KEYSTONE_TOKEN_SECONDS) under 16 concurrent
//     operations: one authentication per lifetime, never one per request.
//
// Endpoints and credentials come from the environment scripts/integration-test.sh sets up
// (`scripts/keystone env`): CAIRN_KEYSTONE_URL, CAIRN_KEYSTONE_USER, CAIRN_KEYSTONE_PASSWORD,
// CAIRN_KEYSTONE_PROJECT. Without them the tests fail: they never skip.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/object_store_conformance.h"
#include "cairn/objstore/swift/auth.h"
#include "cairn/objstore/swift/client.h"
#include "cairn/objstore/swift/settings.h"
#include "cairn/objstore/swift/swift_object_store.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore {
namespace {

using ::cairn::testing::StatusIs;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// The OS_* variables a user of the swift CLI would export for this Keystone.
Result<swift::SwiftEnvironment> OsEnvironment() {
  if (Env("CAIRN_KEYSTONE_URL").empty()) {
    return FailedPreconditionError(
        "no Keystone: CAIRN_KEYSTONE_URL is not set; run through scripts/integration-test.sh");
  }
  return swift::SwiftEnvironment{{"OS_AUTH_URL", Env("CAIRN_KEYSTONE_URL")},
                                 {"OS_USERNAME", Env("CAIRN_KEYSTONE_USER")},
                                 {"OS_PASSWORD", Env("CAIRN_KEYSTONE_PASSWORD")},
                                 {"OS_PROJECT_NAME", Env("CAIRN_KEYSTONE_PROJECT")},
                                 {"OS_USER_DOMAIN_NAME", "Default"},
                                 {"OS_PROJECT_DOMAIN_NAME", "Default"},
                                 {"OS_REGION_NAME", "RegionOne"}};
}

Result<std::string> ReadObject(ObjectStore& store, std::string_view container,
                               std::string_view key) {
  std::string out;
  CAIRN_RETURN_IF_ERROR(store
                            .Get(container, key, {},
                                 [&](std::string_view piece) {
                                   out.append(piece);
                                   return Status();
                                 })
                            .status());
  return out;
}

struct KeystoneOwner {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<swift::SwiftClient> client;
  std::unique_ptr<swift::SwiftObjectStore> store;
};

Result<std::shared_ptr<KeystoneOwner>> OpenKeystoneStore() {
  CAIRN_ASSIGN_OR_RETURN(swift::SwiftEnvironment env, OsEnvironment());
  CAIRN_ASSIGN_OR_RETURN(swift::SwiftSettings settings, swift::ResolveSwiftSettings(env));
  if (settings.version != swift::AuthVersion::kV3) {
    return InternalError("OS_* variables did not resolve to Keystone v3");
  }
  auto owner = std::make_shared<KeystoneOwner>();
  CAIRN_ASSIGN_OR_RETURN(owner->http, http::CurlHttpClient::Create({}));
  CAIRN_ASSIGN_OR_RETURN(
      owner->client, swift::SwiftClient::Create(settings, owner->http.get(), io::Env::Default()));
  constexpr uint64_t kSegment = 100 << 10;  // small SLO segments
  owner->store = std::make_unique<swift::SwiftObjectStore>(
      owner->client.get(), swift::SwiftObjectStoreOptions{.min_part_size = kSegment});
  return owner;
}

// Installs a real Keystone token that Keystone has revoked before RGW ever saw it (RGW caches the
// tokens it has validated, so revoking one it knows would go unnoticed until it expires): the
// next requests meet a 401 exactly as with an expired or revoked token.
Status InstallRevokedToken(swift::SwiftClient* client, http::HttpClient* http) {
  const swift::SwiftSettings& settings = client->settings();
  CAIRN_ASSIGN_OR_RETURN(
      swift::SwiftToken fresh,
      swift::AuthenticateV3(http, settings, io::Env::Default()->NowUnixSeconds()));
  http::HttpRequest revoke;
  revoke.method = "DELETE";
  revoke.url = settings.auth_url + "/auth/tokens";
  revoke.headers = {{"X-Auth-Token", fresh.token}, {"X-Subject-Token", fresh.token}};
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply,
                         http->Send(revoke, http::ResponseBody::Collect(1 << 16)));
  if (reply.status_code != 204) {
    return InternalError("Keystone did not revoke the token: HTTP " +
                         std::to_string(reply.status_code));
  }
  client->tokens().Replace(std::move(fresh));
  return Status();
}

Result<ConformanceStore> OpenKeystoneConformanceStore() {
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<KeystoneOwner> owner, OpenKeystoneStore());
  ConformanceStore target;
  target.store = owner->store.get();
  target.part_size = 100 << 10;
  swift::SwiftClient* client = owner->client.get();
  http::HttpClient* http = owner->http.get();
  target.expire_credentials = [client, http] {
    Status s = InstallRevokedToken(client, http);
    EXPECT_TRUE(s.ok()) << s.ToString();
  };
  target.authentications = [client] { return client->tokens().authentications(); };
  target.owner = owner;
  return target;
}

INSTANTIATE_TEST_SUITE_P(Keystone, ObjectStoreConformanceTest,
                         ::testing::Values(ConformanceTarget{"SwiftKeystoneOnRgw",
                                                             OpenKeystoneConformanceStore}),
                         [](const auto& p) { return p.param.name; });

TEST(SwiftKeystoneTest, OsVariablesAuthenticateAndNameTheStorageUrlFromTheCatalog) {
  ASSERT_OK_AND_ASSIGN(swift::SwiftEnvironment env, OsEnvironment());
  ASSERT_OK_AND_ASSIGN(swift::SwiftSettings settings, swift::ResolveSwiftSettings(env));
  ASSERT_OK_AND_ASSIGN(auto http, http::CurlHttpClient::Create({}));
  const int64_t now = io::Env::Default()->NowUnixSeconds();
  ASSERT_OK_AND_ASSIGN(swift::SwiftToken token, swift::AuthenticateV3(http.get(), settings, now));
  EXPECT_FALSE(token.token.empty());
  EXPECT_NE(token.storage_url.find("/swift/v1"), std::string::npos) << token.storage_url;
  EXPECT_GT(token.expires_at, now);

  // The region picks the endpoint: one the catalog does not have is kNotFound.
  settings.region = "NoSuchRegion";
  EXPECT_THAT(swift::AuthenticateV3(http.get(), settings, now), StatusIs(StatusCode::kNotFound));
}

TEST(SwiftKeystoneTest, WrongPasswordIsUnauthenticatedAndNotEchoed) {
  ASSERT_OK_AND_ASSIGN(swift::SwiftEnvironment env, OsEnvironment());
  env["OS_PASSWORD"] = "not-the-password-4711";
  ASSERT_OK_AND_ASSIGN(swift::SwiftSettings settings, swift::ResolveSwiftSettings(env));
  ASSERT_OK_AND_ASSIGN(auto http, http::CurlHttpClient::Create({}));
  Result<swift::SwiftToken> token =
      swift::AuthenticateV3(http.get(), settings, io::Env::Default()->NowUnixSeconds());
  EXPECT_THAT(token, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(token.status().ToString().find("4711"), std::string::npos);
}

// Keystone hands out tokens of a few seconds (scripts/integration-test.sh sets
// CAIRN_KEYSTONE_TOKEN_SECONDS); 16 threads put, get and list for two and a half lifetimes. The
// token cache renews each token once, shortly before it expires, whatever the number of threads.
TEST(SwiftKeystoneTest, ShortLivedTokensUnder16ConcurrentOperations) {
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<KeystoneOwner> owner, OpenKeystoneStore());
  swift::SwiftClient& client = *owner->client;
  ASSERT_OK_AND_ASSIGN(swift::TokenCache::Snapshot first, client.tokens().Get());
  const int64_t lifetime = first->expires_at - first->obtained_at;
  ASSERT_GT(lifetime, 0) << "Keystone gave no expiry";
  ASSERT_LE(lifetime, 60) << "run with CAIRN_KEYSTONE_TOKEN_SECONDS of a few seconds";
  // TokenCache renews a quarter of a lifetime (at most 30 s) before expiry.
  const int64_t renew_every = std::max<int64_t>(1, lifetime - std::min<int64_t>(30, lifetime / 4));

  const std::string container = "cairn-keystone-reauth-" + std::to_string(::getpid());
  ASSERT_OK(owner->store->CreateContainer(container));
  const int64_t auth_before = client.tokens().authentications();
  const auto start = std::chrono::steady_clock::now();
  const auto stop = start + std::chrono::seconds(2 * lifetime + lifetime / 2);
  constexpr int kThreads = 16;
  std::atomic<int> failures{0};
  std::atomic<int> operations{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; std::chrono::steady_clock::now() < stop; ++round) {
        const std::string key = "k/" + std::to_string(100 + t);  // one prefix each
        const std::string data = "thread " + std::to_string(t) + " round " + std::to_string(round);
        Status put =
            owner->store->Put(container, key, http::RequestBody::FromBytes(data), {}).status();
        Result<std::string> got = ReadObject(*owner->store, container, key);
        Result<ListPage> listed = owner->store->List(
            container, ListOptions{.prefix = key, .delimiter = "", .marker = "", .max_keys = 1000});
        if (!put.ok() || !got.ok() || *got != data || !listed.ok() || listed->objects.size() != 1) {
          if (failures++ == 0) {
            ADD_FAILURE() << (!put.ok()   ? put.ToString()
                              : !got.ok() ? got.status().ToString()
                                          : listed.status().ToString());
          }
        }
        operations += 3;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t made = client.tokens().authentications() - auth_before;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(operations.load(), 2 * kThreads);
  // One renewal per renew_every seconds (the clock's whole seconds may add one); never one per
  // thread or per request.
  EXPECT_GE(made, static_cast<int64_t>(seconds) / lifetime);
  EXPECT_LE(made, static_cast<int64_t>(seconds) / renew_every + 2);
  std::printf(
      "keystone re-auth: token lifetime %lld s, %.1f s, %d operations on %d threads, %lld "
      "authentications\n",
      static_cast<long long>(lifetime), seconds, operations.load(), kThreads,
      static_cast<long long>(made));

  ASSERT_OK_AND_ASSIGN(ListPage left, owner->store->List(container, {}));
  for (const ListedObject& o : left.objects) ASSERT_OK(owner->store->Delete(container, o.key));
  ASSERT_OK(owner->store->DeleteContainer(container));
}

}  // namespace
}  // namespace cairn::objstore
