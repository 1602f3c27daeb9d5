// The keepstore end to end over loopback HTTP (HttpServer + CurlHttpClient), and the
// CatalogAuthenticator against a stand-in catalog.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cairn/blockstore/authenticator.h"
#include "cairn/blockstore/blockstore_test_util.h"
#include "cairn/blockstore/directory_volume.h"
#include "cairn/blockstore/keepstore.h"
#include "cairn/common/hash.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/httpd/http_server.h"
#include "cairn/httpd/request_log.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"
#include "cairn/testing/watchdog.h"

namespace cairn::blockstore {
namespace {

using ::cairn::testing::StatusIs;
using http::HttpRequest;
using http::HttpResponse;
using http::RequestBody;
using http::ResponseBody;
using ::testing::HasSubstr;

constexpr char kKey[] = "key-for-the-http-test";
constexpr char kUser[] = "user-token-123";
constexpr char kOther[] = "other-token-456";
constexpr char kAdmin[] = "admin-token-789";

class KeepstoreHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_.Add(kUser, {.user_uuid = "u1", .is_admin = false});
    auth_.Add(kOther, {.user_uuid = "u2", .is_admin = false});
    auth_.Add(kAdmin, {.user_uuid = "u0", .is_admin = true});
    DirectoryVolumeOptions vo;
    vo.root = dir_.path() + "/v";
    ASSERT_OK_AND_ASSIGN(volume_, DirectoryVolume::Open(vo));
    KeepstoreOptions ko;
    ko.volumes = {volume_.get()};
    ko.authenticator = &auth_;
    ko.blob_signing_key = kKey;
    ko.env = &env_;
    ASSERT_OK_AND_ASSIGN(keepstore_, Keepstore::Create(ko));
    httpd::Handler logged = httpd::WithRequestLog(keepstore_->AsHandler(), RedactSignatures,
                                                  [this](const httpd::RequestLogEntry& e) {
                                                    std::lock_guard lock(mu_);
                                                    log_.push_back(httpd::FormatRequestLogEntry(e));
                                                  });
    ASSERT_OK_AND_ASSIGN(server_, httpd::HttpServer::Start({}, logged));
    ASSERT_OK_AND_ASSIGN(client_, http::CurlHttpClient::Create({}));
  }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  Result<HttpResponse> Send(std::string method, std::string_view path, std::string_view token,
                            RequestBody body = {}) {
    HttpRequest request;
    request.method = std::move(method);
    request.url = Url(path);
    if (!token.empty()) request.headers = {{"Authorization", "Bearer " + std::string(token)}};
    request.body = body;
    return client_->Send(request, ResponseBody::Collect(size_t{80} << 20));
  }

  // Declared before the server, which writes to them until it is destroyed.
  std::mutex mu_;
  std::vector<std::string> log_;
  TempDir dir_;
  testing::FakeEnv env_{int64_t{1'750'000'000} * 1'000'000};
  FixedTokenAuthenticator auth_;
  std::unique_ptr<DirectoryVolume> volume_;
  std::unique_ptr<Keepstore> keepstore_;
  std::unique_ptr<httpd::HttpServer> server_;
  std::unique_ptr<http::CurlHttpClient> client_;
};

TEST_F(KeepstoreHttpTest, WholeApiOverLoopback) {
  testing::Watchdog watchdog(std::chrono::seconds(120));
  const std::string data = PatternBytes(manifest::kMaxBlockSize);  // exactly 64 MiB
  const std::string hash = Md5Hex(data);
  ASSERT_OK_AND_ASSIGN(HttpResponse put,
                       Send("PUT", "/" + hash, kUser, RequestBody::FromBytes(data)));
  ASSERT_EQ(put.status_code, 200) << put.body;
  EXPECT_EQ(put.headers.Get("X-Keep-Replicas-Stored"), "1");
  std::string locator = put.body.substr(0, put.body.find('\n'));
  EXPECT_THAT(locator, ::testing::StartsWith(hash + "+67108864+A"));

  ASSERT_OK_AND_ASSIGN(HttpResponse get, Send("GET", "/" + locator, kUser));
  EXPECT_EQ(get.status_code, 200);
  EXPECT_TRUE(get.body == data);
  ASSERT_OK_AND_ASSIGN(HttpResponse head, Send("HEAD", "/" + locator, kUser));
  EXPECT_EQ(head.status_code, 200);
  EXPECT_EQ(head.headers.Get("Content-Length"), "67108864");
  EXPECT_EQ(head.body, "");

  std::string forged = locator;
  forged[forged.find("+A") + 5] = forged[forged.find("+A") + 5] == '0' ? '1' : '0';
  EXPECT_EQ(Send("GET", "/" + forged, kUser)->status_code, 400);
  EXPECT_EQ(Send("GET", "/" + locator, kOther)->status_code, 400);    // not signed for them
  EXPECT_EQ(Send("GET", "/" + locator, "nobody")->status_code, 401);  // wrong token
  EXPECT_EQ(Send("GET", "/" + locator, "")->status_code, 401);

  std::string too_big(manifest::kMaxBlockSize + 1, 'q');
  ASSERT_OK_AND_ASSIGN(HttpResponse big,
                       Send("PUT", "/" + Md5Hex(too_big), kUser, RequestBody::FromBytes(too_big)));
  EXPECT_EQ(big.status_code, 413);
  ASSERT_OK_AND_ASSIGN(HttpResponse bad,
                       Send("PUT", "/" + Md5Hex("foo"), kUser, RequestBody::FromBytes("bar")));
  EXPECT_EQ(bad.status_code, 400);

  ASSERT_OK_AND_ASSIGN(HttpResponse index, Send("GET", "/index", kAdmin));
  EXPECT_EQ(index.status_code, 200);
  EXPECT_THAT(index.body, ::testing::MatchesRegex(hash + "\\+67108864 [0-9]+\n\n"));
  EXPECT_EQ(Send("GET", "/index", kUser)->status_code, 403);
  ASSERT_OK_AND_ASSIGN(HttpResponse mounts, Send("GET", "/mounts", kAdmin));
  EXPECT_EQ(mounts.status_code, 200);
  EXPECT_THAT(mounts.body, HasSubstr(volume_->uuid()));

  env_.AdvanceMicros(int64_t{15} * 24 * 3600 * 1'000'000);  // past the two-week TTL
  ASSERT_OK_AND_ASSIGN(HttpResponse expired, Send("GET", "/" + locator, kUser));
  EXPECT_EQ(expired.status_code, 401);

  // One log line per request; signatures and tokens never in them.
  // (A line is written after the reply went out, so the last one may trail the client a little.)
  for (int i = 0; i < 200 &&
                  [&] {
                    std::lock_guard l(mu_);
                    return log_.size() < 13;
                  }();
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lock(mu_);
  EXPECT_EQ(log_.size(), 13u);
  std::string signature = locator.substr(locator.find("+A") + 2, 40);
  for (const std::string& line : log_) {
    EXPECT_THAT(line, ::testing::Not(HasSubstr(signature)));
    EXPECT_THAT(line, ::testing::Not(HasSubstr(kUser)));
  }
  EXPECT_THAT(log_[0], ::testing::StartsWith("PUT /" + hash + " 200 in=67108864 out=93 "))
      << log_[0];
  EXPECT_THAT(log_[1], ::testing::StartsWith("GET /" + hash + "+67108864+A…@")) << log_[1];
}

TEST_F(KeepstoreHttpTest, ConcurrentLargeTransfersAllArriveIntact) {
  testing::Watchdog watchdog(std::chrono::seconds(120));
  constexpr int kClients = 6;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      std::string data = PatternBytes((size_t{8} << 20) + i, static_cast<uint64_t>(i) * 7);
      auto put = Send("PUT", "/" + Md5Hex(data), kUser, RequestBody::FromBytes(data));
      if (!put.ok() || put->status_code != 200) return;
      auto get = Send("GET", "/" + put->body.substr(0, put->body.size() - 1), kUser);
      if (get.ok() && get->status_code == 200 && get->body == data) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
}

// A stand-in catalog: GET /v1/users/current for two tokens, counting calls.
TEST(CatalogAuthenticatorTest, AsksTheCatalogAndCachesPositiveAnswers) {
  std::atomic<int> calls{0};
  auto catalog =
      httpd::HttpServer::Start({}, [&](httpd::ServerRequest& req, httpd::ResponseWriter& w) {
        ++calls;
        std::string auth(req.Header("Authorization").value_or(""));
        if (req.path != "/v1/users/current") {
          (void)w.Send(404, "", "");
        } else if (auth == "Bearer good") {
          (void)w.Send(200, "application/json",
                       R"({"uuid":"cairn-tpzed-000000000000001","username":"a","is_admin":false})");
        } else if (auth == "Bearer root") {
          (void)w.Send(200, "application/json",
                       R"({"uuid":"cairn-tpzed-000000000000000","is_admin":true})");
        } else if (auth == "Bearer broken") {
          (void)w.Send(500, "", "oops");
        } else {
          (void)w.Send(401, "application/json", R"({"error":"bad token"})");
        }
      });
  ASSERT_OK(catalog);
  ASSERT_OK_AND_ASSIGN(auto client, http::CurlHttpClient::Create({}));
  testing::FakeEnv env;
  CatalogAuthenticatorOptions options;
  options.api_url = "http://127.0.0.1:" + std::to_string((*catalog)->port()) + "/";
  options.cache_ttl = std::chrono::milliseconds(5000);
  CatalogAuthenticator auth(client.get(), &env, options);

  ASSERT_OK_AND_ASSIGN(Caller a, auth.Authenticate("good"));
  EXPECT_EQ(a.user_uuid, "cairn-tpzed-000000000000001");
  EXPECT_FALSE(a.is_admin);
  ASSERT_OK_AND_ASSIGN(Caller again, auth.Authenticate("good"));
  EXPECT_EQ(again.user_uuid, a.user_uuid);
  EXPECT_EQ(calls.load(), 1);  // cached
  env.AdvanceMicros(6'000'000);
  ASSERT_OK(auth.Authenticate("good"));
  EXPECT_EQ(calls.load(), 2);  // the cache entry expired
  ASSERT_OK_AND_ASSIGN(Caller root, auth.Authenticate("root"));
  EXPECT_TRUE(root.is_admin);

  EXPECT_THAT(auth.Authenticate("revoked"), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(auth.Authenticate("revoked"), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(calls.load(), 5);  // refusals are not cached
  EXPECT_THAT(auth.Authenticate("broken"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(auth.Authenticate(""), StatusIs(StatusCode::kUnauthenticated));
  Status down = auth.Authenticate("good-but-new").status();
  (*catalog)->Shutdown(std::chrono::milliseconds(100));
  EXPECT_THAT(auth.Authenticate("another"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(std::string(down.message()), ::testing::Not(HasSubstr("good-but-new")));
}

}  // namespace
}  // namespace cairn::blockstore
