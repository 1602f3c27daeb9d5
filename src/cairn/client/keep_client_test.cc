#include "cairn/client/keep_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/client/fake_cluster_internal.h"
#include "cairn/common/hash.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/rendezvous.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/http_test_server.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::client {
namespace {

using ::cairn::testing::HttpTestServer;
using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

constexpr const char* kToken = internal::kFakeToken;

using KeepCluster = internal::FakeCluster<HttpTestServer, testing::FakeEnv>;

TEST(KeepClientTest, PutReplicatesInRendezvousOrder) {
  KeepCluster cluster(4);
  const std::string data = "replicate me";
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put(data, 2));
  EXPECT_EQ(put.replicas, 2);
  EXPECT_EQ(put.locator.SizedDigest(), Md5Hex(data) + "+12");
  EXPECT_TRUE(put.locator.permission().has_value());
  std::vector<size_t> order = cluster.Order(data);
  EXPECT_TRUE(cluster.store(order[0]).Has(Md5Hex(data)));
  EXPECT_TRUE(cluster.store(order[1]).Has(Md5Hex(data)));
  EXPECT_FALSE(cluster.store(order[2]).Has(Md5Hex(data)));
  EXPECT_FALSE(cluster.store(order[3]).Has(Md5Hex(data)));
  ASSERT_OK_AND_ASSIGN(Block block, cluster.keep().Get(put.locator));
  EXPECT_EQ(*block, data);
}

TEST(KeepClientTest, CountsReplicasStoredHeader) {
  KeepCluster cluster(3);
  const std::string data = "two copies in one place";
  for (size_t i = 0; i < 3; ++i) cluster.store(i).SetReplicasStored(2);
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put(data, 2));
  EXPECT_EQ(put.replicas, 2);
  int puts = 0;
  for (size_t i = 0; i < 3; ++i) puts += cluster.store(i).counts().puts;
  EXPECT_EQ(puts, 1);
}

TEST(KeepClientTest, TooFewServicesIsAnError) {
  KeepCluster cluster(2);
  EXPECT_THAT(cluster.keep().Put("x", 3),
              StatusIs(StatusCode::kUnavailable, HasSubstr("stored 2 of 3 replicas")));
}

TEST(KeepClientTest, PutSkipsFailingServiceAfterRetries) {
  KeepCluster cluster(3);
  const std::string data = "failover on put";
  std::vector<size_t> order = cluster.Order(data);
  cluster.store(order[0]).FailNext(503, -1);
  cluster.store(order[1]).FailNext(500, 1);  // one failure, then fine: a retry succeeds
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put(data, 2));
  EXPECT_EQ(put.replicas, 2);
  EXPECT_FALSE(cluster.store(order[0]).Has(Md5Hex(data)));
  EXPECT_EQ(cluster.store(order[0]).counts().puts, 3);  // max_attempts
  EXPECT_TRUE(cluster.store(order[1]).Has(Md5Hex(data)));
  EXPECT_TRUE(cluster.store(order[2]).Has(Md5Hex(data)));
}

TEST(KeepClientTest, FullServiceIsNotRetried) {
  KeepCluster cluster(2);
  const std::string data = "disk full";
  std::vector<size_t> order = cluster.Order(data);
  cluster.store(order[0]).FailNext(507, -1);
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put(data, 1));
  EXPECT_EQ(cluster.store(order[0]).counts().puts, 1);
  EXPECT_TRUE(cluster.store(order[1]).Has(Md5Hex(data)));
}

TEST(KeepClientTest, GetTriesServiceHintFirst) {
  KeepCluster cluster(3);
  const std::string data = "hinted block";
  std::vector<size_t> order = cluster.Order(data);
  const size_t last = order[2];
  cluster.store(last).Store(Md5Hex(data), data);
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put(data, 1));  // also on order[0]
  manifest::Locator locator = put.locator;
  ASSERT_OK(locator.AddHint("K@" + cluster.uuid(last)));
  const int gets_before = cluster.store(order[0]).counts().gets;
  ASSERT_OK_AND_ASSIGN(Block block, cluster.keep().Get(locator));
  EXPECT_EQ(*block, data);
  EXPECT_EQ(cluster.store(last).counts().gets, 1);
  EXPECT_EQ(cluster.store(order[0]).counts().gets, gets_before);
}

TEST(KeepClientTest, GetFollowsRendezvousOrderPast404) {
  KeepCluster cluster(3);
  const std::string data = "only on the third";
  std::vector<size_t> order = cluster.Order(data);
  cluster.store(order[2]).Store(Md5Hex(data), data);
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put("sign something", 1));
  manifest::Locator locator = put.locator;  // borrow the signature shape for our block
  manifest::Locator target(*manifest::BlockHash::Parse(Md5Hex(data)), data.size());
  target = manifest::SignLocator(target, internal::kFakeSigningKey, kToken,
                                 internal::kFakeNow + internal::kFakeSigningTtl,
                                 internal::kFakeSigningTtl);
  ASSERT_OK_AND_ASSIGN(Block block, cluster.keep().Get(target));
  EXPECT_EQ(*block, data);
  EXPECT_EQ(cluster.store(order[0]).counts().gets, 1);
  EXPECT_EQ(cluster.store(order[1]).counts().gets, 1);
  EXPECT_EQ(cluster.store(order[2]).counts().gets, 1);
}

manifest::Locator Signed(std::string_view data) {
  manifest::Locator l(manifest::BlockHash::Of(data), data.size());
  return manifest::SignLocator(l, internal::kFakeSigningKey, kToken,
                               internal::kFakeNow + internal::kFakeSigningTtl,
                               internal::kFakeSigningTtl);
}

TEST(KeepClientTest, GetFailsOverOn5xxRefusedAndTimeout) {
  KeepClientOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  KeepCluster cluster(4, options);
  const std::string data = "survives three bad services";
  std::vector<size_t> order = cluster.Order(data);
  for (size_t i : order) cluster.store(i).Store(Md5Hex(data), data);
  cluster.store(order[0]).FailNext(503, -1);
  cluster.store(order[1]).SetDelay(std::chrono::milliseconds(2000));
  cluster.Unplug(order[2]);
  ASSERT_OK_AND_ASSIGN(Block block, cluster.keep().Get(Signed(data)));
  EXPECT_EQ(*block, data);
  EXPECT_EQ(cluster.store(order[0]).counts().gets, 3);
  EXPECT_EQ(cluster.store(order[3]).counts().gets, 1);
}

TEST(KeepClientTest, CorruptReplicaIsSkipped) {
  KeepCluster cluster(2);
  const std::string data = "a block that rots on one disk";
  std::vector<size_t> order = cluster.Order(data);
  for (size_t i : order) cluster.store(i).Store(Md5Hex(data), data);
  cluster.store(order[0]).SetCorrupt(true);
  ASSERT_OK_AND_ASSIGN(Block block, cluster.keep().Get(Signed(data)));
  EXPECT_EQ(*block, data);
  EXPECT_EQ(cluster.store(order[0]).counts().gets, 1);  // a hash mismatch is not retried there
}

TEST(KeepClientTest, AllReplicasCorruptIsDataLoss) {
  KeepCluster cluster(2);
  const std::string data = "rotten everywhere";
  for (size_t i = 0; i < 2; ++i) {
    cluster.store(i).Store(Md5Hex(data), data);
    cluster.store(i).SetCorrupt(true);
  }
  EXPECT_THAT(cluster.keep().Get(Signed(data)),
              StatusIs(StatusCode::kDataLoss, HasSubstr("does not match its hash")));
}

TEST(KeepClientTest, MissingEverywhereIsNotFoundAndNamesNoSignature) {
  KeepCluster cluster(2);
  Result<Block> block = cluster.keep().Get(Signed("nowhere"));
  EXPECT_THAT(block, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(std::string(block.status().message()), ::testing::Not(HasSubstr("+A")));
  EXPECT_THAT(std::string(block.status().message()), ::testing::Not(HasSubstr(kToken)));
}

TEST(KeepClientTest, CacheIsBoundedByBytesAndServesRepeats) {
  KeepClientOptions options;
  options.cache_bytes = 3000;
  KeepCluster cluster(1, options);
  std::vector<manifest::Locator> locators;
  for (int i = 0; i < 5; ++i) {
    std::string data(1000, static_cast<char>('a' + i));
    ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put(data, 1));
    locators.push_back(put.locator);
  }
  for (const auto& l : locators) ASSERT_OK(cluster.keep().Get(l).status());
  BlockCacheStats stats = cluster.keep().cache_stats();
  EXPECT_LE(stats.bytes, 3000u);
  EXPECT_EQ(stats.blocks, 3u);
  EXPECT_EQ(cluster.store(0).counts().gets, 5);
  ASSERT_OK(cluster.keep().Get(locators[4]).status());  // recent: cached
  EXPECT_EQ(cluster.store(0).counts().gets, 5);
  ASSERT_OK(cluster.keep().Get(locators[0]).status());  // evicted: fetched again
  EXPECT_EQ(cluster.store(0).counts().gets, 6);
}

TEST(KeepClientTest, PrefetchFillsTheCache) {
  KeepCluster cluster(1);
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put("read me ahead", 1));
  cluster.keep().Prefetch(put.locator);
  for (int i = 0; i < 200 && cluster.keep().cache_stats().blocks == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_OK_AND_ASSIGN(Block block, cluster.keep().Get(put.locator));
  EXPECT_EQ(*block, "read me ahead");
  EXPECT_EQ(cluster.store(0).counts().gets, 1);
}

TEST(KeepClientTest, ServiceListIsCached) {
  KeepCluster cluster(2);
  ASSERT_OK(cluster.keep().Put("one", 1).status());
  ASSERT_OK(cluster.keep().Put("two", 1).status());
  EXPECT_EQ(cluster.catalog().keep_service_lists(), 1);
}

TEST(KeepClientTest, EmptyBlockIsNeverFetched) {
  KeepCluster cluster(1);
  ASSERT_OK_AND_ASSIGN(manifest::Locator empty,
                       manifest::Locator::Parse(manifest::kEmptyBlockLocator));
  ASSERT_OK_AND_ASSIGN(Block block, cluster.keep().Get(empty));
  EXPECT_TRUE(block->empty());
  EXPECT_EQ(cluster.store(0).counts().gets, 0);
}

TEST(CatalogClientTest, ApiBaseUrl) {
  EXPECT_EQ(*ApiBaseUrl("127.0.0.1:9000"), "http://127.0.0.1:9000");
  EXPECT_EQ(*ApiBaseUrl("localhost:9000/"), "http://localhost:9000");
  EXPECT_EQ(*ApiBaseUrl("cairn.example.com"), "https://cairn.example.com");
  EXPECT_EQ(*ApiBaseUrl("http://cairn.example.com:80"), "http://cairn.example.com:80");
  EXPECT_THAT(ApiBaseUrl(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ApiBaseUrl("host:1/path"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(CatalogClientTest, ErrorsCarryTheServersMessageNotTheToken) {
  internal::FakeCatalog catalog(kToken);
  auto server =
      std::move(*HttpTestServer::Start([&](HttpTestServer::Exchange& ex) { catalog.Handle(ex); }));
  auto http = std::move(*http::CurlHttpClient::Create({}));
  testing::FakeEnv env;
  CatalogClient wrong(http.get(), &env,
                      {.base_url = server->Url(""), .token = "wrong-secret-token"});
  Result<User> user = wrong.CurrentUser();
  EXPECT_THAT(user, StatusIs(StatusCode::kUnauthenticated, HasSubstr("token is missing")));
  EXPECT_THAT(std::string(user.status().message()),
              ::testing::Not(HasSubstr("wrong-secret-token")));
  CatalogClient right(http.get(), &env, {.base_url = server->Url(""), .token = kToken});
  ASSERT_OK_AND_ASSIGN(User me, right.CurrentUser());
  EXPECT_EQ(me.username, "alice");
  ASSERT_OK_AND_ASSIGN(ClusterConfig config, right.GetConfig());
  EXPECT_EQ(config.max_block_size, 67108864u);
  EXPECT_THAT(right.GetCollection("cairn-4zz18-zzzzzzzzzzzzzzz"),
              StatusIs(StatusCode::kNotFound, HasSubstr("not found")));
  ASSERT_OK_AND_ASSIGN(Permission p,
                       right.CreatePermission("cairn-4zz18-zzzzzzzzzzzzzzz", "bob", "read"));
  EXPECT_EQ(p.level, "read");
  EXPECT_THAT(catalog.permission_requests()[0], HasSubstr("\"user\":\"bob\""));
}

// A gateway double for GetRange: serves `chunk` as the bytes of every external locator, in one
// of several manners; counts the requests it saw.
struct FakeGateway {
  enum class Mode { kRanged, kIgnoresRange, kWrongRange, kNotFound };
  std::string chunk;
  std::atomic<Mode> mode{Mode::kRanged};
  std::atomic<int> requests{0};
  std::mutex mu;
  std::string last_range;

  void Handle(HttpTestServer::Exchange& ex) {
    ++requests;
    std::string range = ex.request().Header("Range").value_or("");
    {
      std::lock_guard lock(mu);
      last_range = range;
    }
    if (mode == Mode::kNotFound) {
      ex.Respond(404, "s3://bk/k: no longer exists\n");
      return;
    }
    if (mode == Mode::kIgnoresRange || range.empty()) {
      ex.Respond(200, chunk);
      return;
    }
    // "bytes=a-b"
    const size_t dash = range.find('-');
    uint64_t a = std::stoull(range.substr(6, dash - 6));
    uint64_t b = std::stoull(range.substr(dash + 1));
    if (mode == Mode::kWrongRange) ++a;  // a buggy service: another range than asked
    ex.Respond(206, chunk.substr(a, b - a + 1),
               {{"Content-Range", "bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" +
                                      std::to_string(chunk.size())}});
  }
};

class KeepClientRangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 1000; ++i) chunk_ += static_cast<char>('a' + (i * 7) % 26);
    for (int i = 0; i < 2; ++i) {
      gateways_[i].chunk = chunk_;
      FakeGateway* g = &gateways_[i];
      servers_[i] =
          std::move(*HttpTestServer::Start([g](HttpTestServer::Exchange& ex) { g->Handle(ex); }));
    }
    cluster_.catalog().SetServices({{.uuid = cluster_.uuid(0), .port = cluster_.port(0)},
                                    {.uuid = "cairn-bi6l4-gateway00000000",
                                     .port = servers_[0]->port(),
                                     .type = "gateway",
                                     .read_only = true},
                                    {.uuid = "cairn-bi6l4-gateway00000001",
                                     .port = servers_[1]->port(),
                                     .type = "gateway",
                                     .read_only = true}});
    manifest::ExternalObject object{.kind = manifest::ObjectStoreKind::kS3,
                                    .bucket = "bk",
                                    .key = "k",
                                    .version_id = "",
                                    .etag = "e1"};
    locator_ = manifest::MakeExternalLocator(object, 5000, chunk_.size());
  }
  int GatewayRequests() const { return gateways_[0].requests + gateways_[1].requests; }

  KeepCluster cluster_{1};
  std::string chunk_;
  FakeGateway gateways_[2];
  std::unique_ptr<HttpTestServer> servers_[2];
  manifest::Locator locator_{manifest::BlockHash::Of(""), 0};
};

TEST_F(KeepClientRangeTest, ReadsExactlyTheRangeFromAGateway) {
  ASSERT_OK_AND_ASSIGN(std::string part, cluster_.keep().GetRange(locator_, 100, 50));
  EXPECT_EQ(part, chunk_.substr(100, 50));
  EXPECT_EQ(GatewayRequests(), 1);
  EXPECT_EQ(cluster_.store(0).counts().gets, 0);  // never the disk service
  ASSERT_OK_AND_ASSIGN(part, cluster_.keep().GetRange(locator_, 999, 1));
  EXPECT_EQ(part, chunk_.substr(999));
  ASSERT_OK_AND_ASSIGN(part, cluster_.keep().GetRange(locator_, 0, 1000));
  EXPECT_EQ(part, chunk_);
  FetchStats stats = cluster_.keep().fetch_stats();
  EXPECT_EQ(stats.ranges, 3u);
  EXPECT_EQ(stats.range_bytes, 1051u);
  EXPECT_EQ(stats.blocks, 0u);
  EXPECT_FALSE(cluster_.keep().IsCached(locator_));  // ranges are not cached
  ASSERT_OK_AND_ASSIGN(part, cluster_.keep().GetRange(locator_, 10, 0));
  EXPECT_EQ(part, "");
  // A whole Get goes through the cache and counts as a block.
  ASSERT_OK_AND_ASSIGN(Block block, cluster_.keep().Get(locator_));
  EXPECT_EQ(*block, chunk_);
  EXPECT_TRUE(cluster_.keep().IsCached(locator_));
  EXPECT_EQ(cluster_.keep().fetch_stats().block_bytes, 1000u);
}

TEST_F(KeepClientRangeTest, MovesToTheNextGatewayInOrder) {
  gateways_[0].mode = FakeGateway::Mode::kNotFound;
  ASSERT_OK_AND_ASSIGN(std::string part, cluster_.keep().GetRange(locator_, 10, 20));
  EXPECT_EQ(part, chunk_.substr(10, 20));
  EXPECT_EQ(gateways_[1].requests, 1);
  gateways_[1].mode = FakeGateway::Mode::kNotFound;
  EXPECT_THAT(cluster_.keep().GetRange(locator_, 10, 20),
              StatusIs(StatusCode::kNotFound, HasSubstr("2 services tried")));
}

TEST_F(KeepClientRangeTest, AServiceIgnoringRangeStillGivesTheRange) {
  gateways_[0].mode = FakeGateway::Mode::kIgnoresRange;
  gateways_[1].mode = FakeGateway::Mode::kIgnoresRange;
  ASSERT_OK_AND_ASSIGN(std::string part, cluster_.keep().GetRange(locator_, 300, 400));
  EXPECT_EQ(part, chunk_.substr(300, 400));
  EXPECT_EQ(cluster_.keep().fetch_stats().range_bytes, 1000u);  // the whole chunk came
}

TEST_F(KeepClientRangeTest, AReplyOfAnotherRangeIsDataLoss) {
  gateways_[0].mode = FakeGateway::Mode::kWrongRange;
  gateways_[1].mode = FakeGateway::Mode::kWrongRange;
  EXPECT_THAT(cluster_.keep().GetRange(locator_, 10, 20),
              StatusIs(StatusCode::kDataLoss, HasSubstr("another range")));
  EXPECT_EQ(GatewayRequests(), 2);  // no retry on the same service; each tried once
  {
    std::lock_guard lock(gateways_[0].mu);
    EXPECT_EQ(gateways_[0].last_range, "bytes=10-29");
  }
  gateways_[1].mode = FakeGateway::Mode::kRanged;
  ASSERT_OK_AND_ASSIGN(std::string part, cluster_.keep().GetRange(locator_, 10, 20));
  EXPECT_EQ(part, chunk_.substr(10, 20));
}

TEST_F(KeepClientRangeTest, RefusesLocalBlocksAndRangesOutsideTheChunk) {
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster_.keep().Put("a local block", 1));
  EXPECT_THAT(cluster_.keep().GetRange(put.locator, 0, 4),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("external")));
  EXPECT_THAT(cluster_.keep().GetRange(locator_, 990, 11),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside")));
  EXPECT_THAT(cluster_.keep().GetRange(locator_, 1001, 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(GatewayRequests(), 0);
}

}  // namespace
}  // namespace cairn::client
