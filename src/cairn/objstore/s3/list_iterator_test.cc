// ObjectLister against an in-process HTTP server that plays S3 ListObjectsV2 with continuation
// tokens: every page is read in order, the next page is fetched while the caller reads this one,
// never more than two pages exist, early destruction and errors behave as documented.
#include "cairn/objstore/s3/list_iterator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cairn/http/curl_http_client.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/http_test_server.h"
#include "cairn/testing/status_matchers.h"
#include "cairn/testing/watchdog.h"

namespace cairn::objstore::s3 {
namespace {

using ::cairn::testing::HttpTestServer;
using ::cairn::testing::StatusIs;
using ::cairn::testing::Watchdog;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The value of query parameter `name` in a request target ("" when absent; no decoding: the
// tokens of these tests need none).
std::string QueryParam(const std::string& target, const std::string& name) {
  size_t q = target.find('?');
  if (q == std::string::npos) return "";
  std::string query = "&" + target.substr(q + 1) + "&";
  size_t at = query.find("&" + name + "=");
  if (at == std::string::npos) return "";
  size_t begin = at + name.size() + 2;
  return query.substr(begin, query.find('&', begin) - begin);
}

std::string Key(int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "dir/k%05d", i);
  return buffer;
}

// A <ListBucketResult> page.
std::string PageXml(const std::vector<std::string>& keys, const std::vector<std::string>& prefixes,
                    const std::string& next_token) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>b</Name>";
  xml += "<KeyCount>" + std::to_string(keys.size() + prefixes.size()) + "</KeyCount>";
  xml += next_token.empty() ? "<IsTruncated>false</IsTruncated>"
                            : "<IsTruncated>true</IsTruncated><NextContinuationToken>" +
                                  next_token + "</NextContinuationToken>";
  for (const std::string& key : keys) {
    xml += "<Contents><Key>" + key + "</Key><Size>" + std::to_string(key.size()) +
           "</Size><ETag>\"e\"</ETag></Contents>";
  }
  for (const std::string& prefix : prefixes) {
    xml += "<CommonPrefixes><Prefix>" + prefix + "</Prefix></CommonPrefixes>";
  }
  return xml + "</ListBucketResult>";
}

class ObjectListerTest : public ::testing::Test {
 protected:
  // Answers page `page` (0-based) of the listing; the default serves `objects` keys in pages of
  // `page_size`, the page after page N being asked for with token "pN".
  using PageHook = std::function<bool(int page, HttpTestServer::Exchange&)>;

  void Serve(int objects, int page_size, PageHook hook = nullptr) {
    Start([this, objects, page_size, hook](HttpTestServer::Exchange& x) {
      const std::string token = QueryParam(x.request().target, "continuation-token");
      const int page = token.empty() ? 0 : std::stoi(token.substr(1));
      {
        std::lock_guard lock(mu_);
        targets_.push_back(x.request().target);
      }
      if (hook && hook(page, x)) return;
      std::vector<std::string> keys;
      for (int i = page * page_size; i < std::min(objects, (page + 1) * page_size); ++i) {
        keys.push_back(Key(i));
      }
      const bool last = (page + 1) * page_size >= objects;
      x.Respond(200, PageXml(keys, {}, last ? "" : "p" + std::to_string(page + 1)));
    });
  }

  void Start(HttpTestServer::Handler handler) {
    ASSERT_OK_AND_ASSIGN(server_, HttpTestServer::Start(std::move(handler)));
    ASSERT_OK_AND_ASSIGN(http_, http::CurlHttpClient::Create({}));
    S3Settings settings;
    settings.credentials = {"AKIDEXAMPLE", "secret", ""};
    settings.region = "us-east-1";
    settings.endpoint_url = "http://127.0.0.1:" + std::to_string(server_->port());
    ASSERT_OK_AND_ASSIGN(client_, S3Client::Create(settings, http_.get(), &env_));
  }

  std::unique_ptr<ObjectLister> Lister(ListOptions options = {}) {
    Result<std::unique_ptr<ObjectLister>> lister = ObjectLister::Start(client_.get(), "b", options);
    EXPECT_TRUE(lister.ok()) << lister.status();
    return lister.ok() ? std::move(*lister) : nullptr;
  }

  // Every key Next returns up to the end; fails the test on an error.
  static std::vector<std::string> DrainKeys(ObjectLister& lister) {
    std::vector<std::string> keys;
    while (true) {
      Result<std::optional<ObjectSummary>> next = lister.Next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) return keys;
      keys.push_back((*next)->key);
    }
  }

  std::vector<std::string> targets() {
    std::lock_guard lock(mu_);
    return targets_;
  }

  cairn::testing::FakeEnv env_;
  std::unique_ptr<HttpTestServer> server_;
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<S3Client> client_;
  std::mutex mu_;
  std::vector<std::string> targets_;  // guarded by mu_
};

TEST_F(ObjectListerTest, StartRejectsBadArguments) {
  Serve(0, 1000);
  EXPECT_THAT(ObjectLister::Start(nullptr, "b", {}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ObjectLister::Start(client_.get(), "", {}), StatusIs(StatusCode::kInvalidArgument));
  ListOptions options;
  options.max_keys = 1001;
  EXPECT_THAT(ObjectLister::Start(client_.get(), "b", options),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("max_keys 1001")));
}

TEST_F(ObjectListerTest, EmptyListing) {
  Serve(0, 1000);
  std::unique_ptr<ObjectLister> lister = Lister();
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> first, lister->Next());
  EXPECT_FALSE(first.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> again, lister->Next());
  EXPECT_FALSE(again.has_value());
  EXPECT_EQ(lister->stats().pages_fetched, 1);
  EXPECT_EQ(server_->requests(), 1);
}

TEST_F(ObjectListerTest, OnePage) {
  Serve(3, 1000);
  ListOptions options;
  options.prefix = "dir/";
  std::unique_ptr<ObjectLister> lister = Lister(options);
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> first, lister->Next());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->key, "dir/k00000");
  EXPECT_EQ(first->size, 10);
  EXPECT_EQ(first->etag, "e");
  EXPECT_THAT(DrainKeys(*lister), ElementsAre("dir/k00001", "dir/k00002"));
  EXPECT_EQ(lister->stats().objects, 3);
  EXPECT_THAT(targets(),
              ElementsAre("/b?encoding-type=url&list-type=2&max-keys=1000&prefix=dir%2F"));
}

TEST_F(ObjectListerTest, ManyPagesInOrder) {
  Serve(2500, 1000);  // S3's page size: 1,000 keys
  std::unique_ptr<ObjectLister> lister = Lister();
  std::vector<std::string> keys = DrainKeys(*lister);
  ASSERT_EQ(keys.size(), 2500u);
  for (int i = 0; i < 2500; ++i) ASSERT_EQ(keys[i], Key(i));
  EXPECT_EQ(lister->stats().pages_fetched, 3);
  EXPECT_EQ(lister->stats().objects, 2500);
  std::vector<std::string> seen = targets();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(QueryParam(seen[0], "continuation-token"), "");
  EXPECT_EQ(QueryParam(seen[1], "continuation-token"), "p1");
  EXPECT_EQ(QueryParam(seen[2], "continuation-token"), "p2");
}

TEST_F(ObjectListerTest, ResumesFromAContinuationToken) {
  Serve(25, 10);
  ListOptions options;
  options.continuation_token = "p2";
  std::unique_ptr<ObjectLister> lister = Lister(options);
  std::vector<std::string> keys = DrainKeys(*lister);
  ASSERT_EQ(keys.size(), 5u);
  EXPECT_EQ(keys[0], Key(20));
}

TEST_F(ObjectListerTest, FetchesThePageAfterWhileTheCallerReadsThisOne) {
  Watchdog watchdog(std::chrono::seconds(20));
  std::mutex mu;
  std::condition_variable cv;
  bool page2_asked = false;
  Serve(30, 10, [&](int page, HttpTestServer::Exchange&) {
    if (page == 1) {
      std::lock_guard lock(mu);
      page2_asked = true;
      cv.notify_all();
    }
    return false;
  });
  std::unique_ptr<ObjectLister> lister = Lister();
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> first, lister->Next());
  ASSERT_TRUE(first.has_value());
  // The caller is still on the first entry of page 1: the request for page 2 comes anyway.
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return page2_asked; }));
  }
  EXPECT_EQ(DrainKeys(*lister).size(), 29u);
}

TEST_F(ObjectListerTest, NeverMoreThanTwoPagesAhead) {
  Watchdog watchdog(std::chrono::seconds(20));
  constexpr int kPageSize = 10;
  constexpr int kPages = 8;
  std::atomic<int> reading_page{0};  // 1-based page of the last entry the caller got
  std::atomic<int> most_ahead{0};
  Serve(kPages * kPageSize, kPageSize, [&](int page, HttpTestServer::Exchange&) {
    // Page `page + 1` is asked for only once the caller took page `page`, so while it is still
    // reading page `page - 1` at worst: two pages ahead of what it has been given.
    const int ahead = page + 1 - reading_page.load();
    int seen = most_ahead.load();
    while (ahead > seen && !most_ahead.compare_exchange_weak(seen, ahead)) {
    }
    return false;
  });
  std::unique_ptr<ObjectLister> lister = Lister();
  for (int i = 0; i < kPages * kPageSize; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> next, lister->Next());
    ASSERT_TRUE(next.has_value());
    ASSERT_EQ(next->key, Key(i));
    reading_page.store(i / kPageSize + 1);
    if (i == 0) {
      // Page 2 is fetched (or being fetched) and page 3 must wait for the caller.
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      EXPECT_EQ(server_->requests(), 2);
    }
    if (i % kPageSize == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> end, lister->Next());
  EXPECT_FALSE(end.has_value());
  EXPECT_LE(most_ahead.load(), 2);
  EXPECT_EQ(server_->requests(), kPages);
}

TEST_F(ObjectListerTest, DestructionWaitsOnlyForTheRequestInFlight) {
  Watchdog watchdog(std::chrono::seconds(20));
  std::atomic<bool> stalled{false};
  std::atomic<bool> release{false};
  Serve(30, 10, [&](int page, HttpTestServer::Exchange& x) {
    if (page != 1) return false;
    stalled.store(true);
    while (!release.load()) {
      if (!x.Pause(std::chrono::milliseconds(5))) return true;  // server stopping
    }
    return false;  // then answer normally
  });
  std::unique_ptr<ObjectLister> lister = Lister();
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> first, lister->Next());
  ASSERT_TRUE(first.has_value());
  while (!stalled.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  constexpr auto kStall = std::chrono::milliseconds(200);
  std::thread releaser([&] {
    std::this_thread::sleep_for(kStall);
    release.store(true);
  });
  const auto begin = std::chrono::steady_clock::now();
  lister.reset();
  const auto took = std::chrono::steady_clock::now() - begin;
  releaser.join();
  // It waited for the stalled request (the thread was joined, not abandoned) and no longer.
  EXPECT_GE(took, kStall - std::chrono::milliseconds(50));
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(server_->requests(), 2);  // page 3 was never asked for
}

TEST_F(ObjectListerTest, DestructionWithoutRequestInFlightIsImmediate) {
  Watchdog watchdog(std::chrono::seconds(20));
  Serve(30, 10);
  std::unique_ptr<ObjectLister> lister = Lister();
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> first, lister->Next());
  ASSERT_TRUE(first.has_value());
  while (lister->stats().pages_fetched < 2)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto begin = std::chrono::steady_clock::now();
  lister.reset();  // the fetcher waits for the caller to take page 2
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(500));
  EXPECT_EQ(server_->requests(), 2);
}

TEST_F(ObjectListerTest, ErrorOnPage3AfterPages1And2) {
  Serve(30, 10, [](int page, HttpTestServer::Exchange& x) {
    if (page != 2) return false;
    x.Respond(403,
              "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
              "<RequestId>tx3</RequestId></Error>");
    return true;
  });
  std::unique_ptr<ObjectLister> lister = Lister();
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> next, lister->Next());
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->key, Key(i));
  }
  Result<std::optional<ObjectSummary>> failed = lister->Next();
  EXPECT_THAT(failed, StatusIs(StatusCode::kPermissionDenied, HasSubstr("AccessDenied")));
  EXPECT_EQ(failed.status().detail().request_id, "tx3");
  // Returned once; then the lister is finished.
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> after, lister->Next());
  EXPECT_FALSE(after.has_value());
  EXPECT_EQ(lister->stats().pages_fetched, 2);
  EXPECT_EQ(server_->requests(), 3);
}

TEST_F(ObjectListerTest, TruncatedPageWithoutProgressIsAnError) {
  Watchdog watchdog(std::chrono::seconds(20));
  Serve(30, 10, [](int page, HttpTestServer::Exchange& x) {
    if (page != 1) return false;
    x.Respond(200, PageXml({Key(10)}, {}, "p1"));  // asked with p1, continues with p1
    return true;
  });
  std::unique_ptr<ObjectLister> lister = Lister();
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> next, lister->Next());
    ASSERT_TRUE(next.has_value());
  }
  EXPECT_THAT(lister->Next(), StatusIs(StatusCode::kInternal, HasSubstr("no progress")));
  ASSERT_OK_AND_ASSIGN(std::optional<ObjectSummary> after, lister->Next());
  EXPECT_FALSE(after.has_value());
  EXPECT_EQ(server_->requests(), 2);
}

TEST_F(ObjectListerTest, CommonPrefixesWithADelimiter) {
  Start([this](HttpTestServer::Exchange& x) {
    {
      std::lock_guard lock(mu_);
      targets_.push_back(x.request().target);
    }
    if (QueryParam(x.request().target, "continuation-token").empty()) {
      x.Respond(200, PageXml({"a.txt", "c.txt"}, {"b/", "d/"}, "p1"));
    } else {
      x.Respond(200, PageXml({"z.txt"}, {"e/"}, ""));
    }
  });
  ListOptions options;
  options.delimiter = "/";
  std::unique_ptr<ObjectLister> lister = Lister(options);
  std::vector<std::string> names;
  std::vector<bool> is_prefix;
  while (true) {
    ASSERT_OK_AND_ASSIGN(std::optional<ListEntry> entry, lister->NextEntry());
    if (!entry) break;
    names.push_back(entry->name());
    is_prefix.push_back(entry->is_prefix());
  }
  EXPECT_THAT(names, ElementsAre("a.txt", "b/", "c.txt", "d/", "e/", "z.txt"));
  EXPECT_THAT(is_prefix, ElementsAre(false, true, false, true, true, false));
  EXPECT_EQ(lister->stats().objects, 3);
  EXPECT_EQ(lister->stats().common_prefixes, 3);
  EXPECT_THAT(targets()[0], HasSubstr("delimiter=%2F"));

  // Next() gives the objects alone.
  std::unique_ptr<ObjectLister> objects_only = Lister(options);
  EXPECT_THAT(DrainKeys(*objects_only), ElementsAre("a.txt", "c.txt", "z.txt"));
}

}  // namespace
}  // namespace cairn::objstore::s3
