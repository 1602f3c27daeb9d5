// Keepstore handlers without sockets: requests in memory, replies in BufferedResponseWriter.
#include "cairn/blockstore/keepstore.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/blockstore/blockstore_test_util.h"
#include "cairn/blockstore/directory_volume.h"
#include "cairn/manifest/locator.h"
#include "cairn/manifest/rendezvous.h"
#include "cairn/manifest/signature.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::blockstore {
namespace {

using ::cairn::testing::StatusIs;
using httpd::BufferedResponseWriter;
using httpd::ServerRequest;
using httpd::StringBodyReader;
using manifest::BlockHash;
using manifest::Locator;
using ::testing::HasSubstr;

constexpr char kKey[] = "the-blob-signing-key";
constexpr char kAlice[] = "alice-token";
constexpr char kBob[] = "bob-token";
constexpr char kAdmin[] = "admin-token";
constexpr int64_t kTtl = 1209600;

class KeepstoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_.Add(kAlice, {.user_uuid = "cairn-tpzed-alice0000000000", .is_admin = false});
    auth_.Add(kBob, {.user_uuid = "cairn-tpzed-bob000000000000", .is_admin = false});
    auth_.Add(kAdmin, {.user_uuid = "cairn-tpzed-admin000000000", .is_admin = true});
    for (int i = 0; i < 2; ++i) {
      DirectoryVolumeOptions o;
      o.root = dir_.path() + "/vol" + std::to_string(i);
      o.uuid = "cairn-nyw5e-00000000000000" + std::to_string(i);
      o.file_ops = &ops_;
      auto v = DirectoryVolume::Open(o);
      ASSERT_OK(v);
      volumes_.push_back(std::move(v).value());
    }
    KeepstoreOptions options;
    for (auto& v : volumes_) options.volumes.push_back(v.get());
    options.authenticator = &auth_;
    options.blob_signing_key = kKey;
    options.blob_signing_ttl_seconds = kTtl;
    options.env = &env_;
    options.log = [this](std::string_view m) {
      std::lock_guard lock(mu_);
      logs_.emplace_back(m);
    };
    ASSERT_OK_AND_ASSIGN(keepstore_, Keepstore::Create(options));
  }

  BufferedResponseWriter Call(std::string method, std::string path, std::string token = "",
                              std::string body = "", bool with_length = true) {
    ServerRequest request;
    request.method = std::move(method);
    request.target = path;
    request.path = std::move(path);
    if (!token.empty()) request.headers.Add("Authorization", "Bearer " + token);
    if (with_length && (request.method == "PUT" || !body.empty())) {
      request.content_length = body.size();
    }
    StringBodyReader reader(std::move(body));
    request.body = &reader;
    BufferedResponseWriter response;
    keepstore_->Handle(request, response);
    return response;
  }

  std::string PutOk(std::string_view data, std::string token = kAlice) {
    BufferedResponseWriter r = Call("PUT", "/" + Md5Hex(data), token, std::string(data));
    EXPECT_EQ(r.status, 200) << r.body;
    std::string locator = r.body;
    if (!locator.empty() && locator.back() == '\n') locator.pop_back();
    return locator;
  }

  DirectoryVolume& FirstVolumeFor(std::string_view data) {
    std::vector<std::string> uuids;
    for (auto& v : volumes_) uuids.push_back(v->uuid());
    return *volumes_[manifest::VolumeOrder(Md5Hex(data), uuids)[0]];
  }

  TempDir dir_;
  FaultInjectingFileOps ops_;
  testing::FakeEnv env_{int64_t{1'700'000'000} * 1'000'000};
  FixedTokenAuthenticator auth_;
  std::vector<std::unique_ptr<DirectoryVolume>> volumes_;
  std::unique_ptr<Keepstore> keepstore_;
  std::mutex mu_;
  std::vector<std::string> logs_;
};

TEST_F(KeepstoreTest, PutReturnsALocatorSignedForTheCaller) {
  BufferedResponseWriter r = Call("PUT", "/acbd18db4cc2f85cedef654fccc4a4d8", kAlice, "foo");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("X-Keep-Replicas-Stored"), "1");
  ASSERT_TRUE(r.body.ends_with("\n"));
  ASSERT_OK_AND_ASSIGN(Locator loc, Locator::Parse(r.body.substr(0, r.body.size() - 1)));
  EXPECT_EQ(loc.SizedDigest(), "acbd18db4cc2f85cedef654fccc4a4d8+3");
  ASSERT_TRUE(loc.permission().has_value());
  EXPECT_EQ(loc.permission()->expiry(), 1'700'000'000 + kTtl);
  EXPECT_OK(manifest::VerifySignature(loc, kKey, kAlice, kTtl, env_.NowUnixSeconds()));
  // Stored on the first volume in rendezvous order.
  EXPECT_OK(FirstVolumeFor("foo").Stat(loc.hash()));
  // The name may carry hints (Arvados accepts /<hash>+anything).
  EXPECT_EQ(Call("PUT", "/acbd18db4cc2f85cedef654fccc4a4d8+3", kAlice, "foo").status, 200);
}

TEST_F(KeepstoreTest, PutRefusals) {
  EXPECT_EQ(Call("PUT", "/acbd18db4cc2f85cedef654fccc4a4d8", "", "foo").status, 401);
  EXPECT_EQ(Call("PUT", "/acbd18db4cc2f85cedef654fccc4a4d8", "forged", "foo").status, 401);
  BufferedResponseWriter mismatch = Call("PUT", "/acbd18db4cc2f85cedef654fccc4a4d8", kAlice, "bar");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_THAT(mismatch.body, HasSubstr("does not match"));
  EXPECT_EQ(Call("PUT", "/not-a-hash", kAlice, "foo").status, 400);
  // Too large, by Content-Length (refused before reading) and by the body itself.
  ServerRequest big;
  big.method = "PUT";
  big.path = "/" + Md5Hex("x");
  big.headers.Add("Authorization", std::string("Bearer ") + kAlice);
  big.content_length = manifest::kMaxBlockSize + 1;
  StringBodyReader unread("");
  big.body = &unread;
  BufferedResponseWriter too_large;
  keepstore_->Handle(big, too_large);
  EXPECT_EQ(too_large.status, 413);
  std::string oversized(manifest::kMaxBlockSize + 1, 'z');
  EXPECT_EQ(Call("PUT", "/" + Md5Hex(oversized), kAlice, oversized, /*with_length=*/false).status,
            413);
}

TEST_F(KeepstoreTest, PutOnFullDisksIs507) {
  ops_.free_bytes = 1000;
  EXPECT_EQ(Call("PUT", "/acbd18db4cc2f85cedef654fccc4a4d8", kAlice, "foo").status, 507);
  ops_.free_bytes = -1;
  ops_.enospc_after_bytes = 0;  // space reported, but the write fails
  std::string data = PatternBytes(2 << 20);
  EXPECT_EQ(Call("PUT", "/" + Md5Hex(data), kAlice, data).status, 507);
}

TEST_F(KeepstoreTest, GetAndHeadNeedATokenAndAValidSignature) {
  const std::string data = PatternBytes(3 * 1024 * 1024 + 1);
  const std::string signed_loc = PutOk(data);
  BufferedResponseWriter get = Call("GET", "/" + signed_loc, kAlice);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.content_length, data.size());
  EXPECT_TRUE(get.body == data);
  BufferedResponseWriter head = Call("HEAD", "/" + signed_loc, kAlice);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_length, data.size());
  EXPECT_EQ(head.body, "");
  // Old clients' double slash.
  EXPECT_EQ(Call("GET", "//" + signed_loc, kAlice).status, 200);

  const std::string unsigned_loc = Md5Hex(data) + "+" + std::to_string(data.size());
  EXPECT_EQ(Call("GET", "/" + signed_loc, "").status, 401);         // no token
  EXPECT_EQ(Call("GET", "/" + signed_loc, "revoked").status, 401);  // unknown token
  EXPECT_EQ(Call("GET", "/" + signed_loc, kBob).status, 400);       // signed for someone else
  EXPECT_EQ(Call("GET", "/" + unsigned_loc, kAlice).status, 400);   // no signature
  EXPECT_EQ(Call("GET", "/" + Md5Hex(data), kAlice).status, 405);   // no size hint
  std::string forged = signed_loc;
  forged[forged.find("+A") + 2] ^= 1;
  EXPECT_EQ(Call("GET", "/" + forged, kAlice).status, 400);
  EXPECT_EQ(Call("GET", "/" + signed_loc + "+Zjunk!", kAlice).status, 400);  // malformed
  env_.AdvanceMicros((kTtl + 1) * 1'000'000);
  BufferedResponseWriter expired = Call("GET", "/" + signed_loc, kAlice);
  EXPECT_EQ(expired.status, 401);
  EXPECT_THAT(expired.body, HasSubstr("expired"));
  // No token or signature ever shows in a reply.
  for (const auto& r : {expired, Call("GET", "/" + forged, kAlice)}) {
    EXPECT_THAT(r.body, ::testing::Not(HasSubstr(kAlice)));
    EXPECT_THAT(r.body,
                ::testing::Not(HasSubstr(Locator::Parse(signed_loc)->permission()->signature)));
  }
}

TEST_F(KeepstoreTest, MissingBlocksAndTheEmptyBlock) {
  std::string loc = manifest::SignLocator(Locator(BlockHash::Of("nothing"), 7), kKey, kAlice,
                                          env_.NowUnixSeconds() + 60, kTtl)
                        .ToString();
  EXPECT_EQ(Call("GET", "/" + loc, kAlice).status, 404);
  std::string empty = manifest::SignLocator(Locator(BlockHash::Of(""), 0), kKey, kAlice,
                                            env_.NowUnixSeconds() + 60, kTtl)
                          .ToString();
  BufferedResponseWriter r = Call("GET", "/" + empty, kAlice);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_length, 0u);
}

TEST_F(KeepstoreTest, CorruptBlockIsNeverSentWholeAndIsLogged) {
  const std::string data = PatternBytes(2 * 1024 * 1024 + 100);
  const std::string loc = PutOk(data);
  DirectoryVolume& volume = FirstVolumeFor(data);
  {
    std::fstream f(volume.BlockPath(BlockHash::Of(data)),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12345);
    f.put(static_cast<char>(data[12345] ^ 0x40));
  }
  BufferedResponseWriter get = Call("GET", "/" + loc, kAlice);
  EXPECT_EQ(get.status, 200);  // the status went out before the hash could be known
  EXPECT_EQ(get.content_length, data.size());
  EXPECT_LT(get.body.size(), data.size());  // cut short: the server closes the connection
  BufferedResponseWriter head = Call("HEAD", "/" + loc, kAlice);
  EXPECT_EQ(head.status, 502);
  std::lock_guard lock(mu_);
  ASSERT_FALSE(logs_.empty());
  EXPECT_THAT(logs_[0], HasSubstr(Md5Hex(data)));
  EXPECT_THAT(logs_[0], HasSubstr(volume.uuid()));
}

TEST_F(KeepstoreTest, DeleteIndexAndMountsAreForAdmins) {
  PutOk("foo");
  PutOk("bar");
  EXPECT_EQ(Call("GET", "/index", "").status, 401);
  EXPECT_EQ(Call("GET", "/index", kAlice).status, 403);
  BufferedResponseWriter index = Call("GET", "/index", kAdmin);
  EXPECT_EQ(index.status, 200);
  EXPECT_TRUE(index.body.ends_with("\n\n"));
  EXPECT_THAT(index.body, HasSubstr("acbd18db4cc2f85cedef654fccc4a4d8+3 "));
  EXPECT_THAT(index.body, HasSubstr(Md5Hex("bar") + "+3 "));
  BufferedResponseWriter some = Call("GET", "/index/acb", kAdmin);
  EXPECT_THAT(some.body,
              ::testing::MatchesRegex("acbd18db4cc2f85cedef654fccc4a4d8\\+3 [0-9]+\n\n"));
  EXPECT_EQ(Call("GET", "/index/XYZ", kAdmin).status, 400);

  BufferedResponseWriter mounts = Call("GET", "/mounts", kAdmin);
  ASSERT_EQ(mounts.status, 200);
  auto json = nlohmann::json::parse(mounts.body, nullptr, false);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["uuid"], "cairn-nyw5e-000000000000000");
  EXPECT_EQ(json[0]["storage_classes"]["default"], true);
  EXPECT_EQ(Call("GET", "/mounts", kAlice).status, 403);

  EXPECT_EQ(Call("DELETE", "/acbd18db4cc2f85cedef654fccc4a4d8", kAlice).status, 403);
  EXPECT_EQ(Call("DELETE", "/acbd18db4cc2f85cedef654fccc4a4d8", kAdmin).status, 200);
  EXPECT_EQ(Call("DELETE", "/acbd18db4cc2f85cedef654fccc4a4d8", kAdmin).status, 404);
  EXPECT_THAT(Call("GET", "/index", kAdmin).body, ::testing::Not(HasSubstr("acbd18db")));
}

TEST_F(KeepstoreTest, HealthAndUnknownRequests) {
  BufferedResponseWriter ping = Call("GET", "/_health/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "{\"health\":\"OK\"}\n");
  EXPECT_EQ(Call("GET", "/status.json", kAdmin).status, 400);
  EXPECT_EQ(Call("POST", "/acbd18db4cc2f85cedef654fccc4a4d8", kAlice, "foo").status, 405);
}

TEST(KeepstoreFunctionsTest, StatusMapping) {
  EXPECT_EQ(HttpStatusFor(Status::OK()), 200);
  EXPECT_EQ(HttpStatusFor(InvalidArgumentError("")), 400);
  EXPECT_EQ(HttpStatusFor(UnauthenticatedError("")), 401);
  EXPECT_EQ(HttpStatusFor(PermissionDeniedError("")), 403);
  EXPECT_EQ(HttpStatusFor(NotFoundError("")), 404);
  EXPECT_EQ(HttpStatusFor(UnimplementedError("")), 405);
  EXPECT_EQ(HttpStatusFor(OutOfRangeError("")), 413);
  EXPECT_EQ(HttpStatusFor(DataLossError("")), 502);
  EXPECT_EQ(HttpStatusFor(UnavailableError("")), 503);
  EXPECT_EQ(HttpStatusFor(ErrnoError("write", ENOSPC)), 507);
  EXPECT_EQ(HttpStatusFor(InternalError("")), 500);
}

TEST(KeepstoreFunctionsTest, TokensAndRedaction) {
  ServerRequest r;
  EXPECT_EQ(RequestToken(r), std::nullopt);
  r.headers.Add("Authorization", "OAuth2 abc");
  EXPECT_EQ(RequestToken(r), "abc");
  ServerRequest b;
  b.headers.Add("Authorization", "Bearer v2/x/y");
  EXPECT_EQ(RequestToken(b), "v2/x/y");
  ServerRequest basic;
  basic.headers.Add("Authorization", "Basic Zm9vOmJhcg==");
  EXPECT_EQ(RequestToken(basic), std::nullopt);
  EXPECT_EQ(RedactSignatures("/acbd18db4cc2f85cedef654fccc4a4d8+3+A89118b78732c33104a4d6231e8b5a5fa"
                             "1e4301e3@7fffffff+K@xyzzy"),
            "/acbd18db4cc2f85cedef654fccc4a4d8+3+A…@7fffffff+K@xyzzy");
  EXPECT_EQ(RedactSignatures("/x+Rzzzzz-0123abc@7fffffff"), "/x+Rzzzzz-…@7fffffff");
  EXPECT_EQ(RedactSignatures("/index/acb"), "/index/acb");
}

}  // namespace
}  // namespace cairn::blockstore
