// The ObjectStore conformance suite (object_store_conformance.h): what every store must do the
// same way, checked against MemObjectStore here and against real servers in tests/integration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "cairn/io/env.h"
#include "cairn/objstore/object_store_conformance.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore {

using ::cairn::testing::StatusIs;

namespace {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

Result<std::string> ReadAll(ObjectStore& store, std::string_view container, std::string_view key,
                            const ReadOptions& options = {}) {
  std::string out;
  CAIRN_ASSIGN_OR_RETURN(ObjectAttributes a,
                         store.Get(container, key, options, [&](std::string_view piece) {
                           out.append(piece);
                           return Status();
                         }));
  (void)a;
  return out;
}

Result<WriteResult> PutString(ObjectStore& store, std::string_view container, std::string_view key,
                              std::string_view data, WriteOptions options = {}) {
  return store.Put(container, key, http::RequestBody::FromBytes(data), options);
}

// Every object and common prefix of a listing, page by page.
Result<std::pair<std::vector<std::string>, std::vector<std::string>>> ListEverything(
    ObjectStore& store, std::string_view container, ListOptions options, int* pages = nullptr) {
  std::vector<std::string> keys, prefixes;
  int n = 0;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(ListPage page, store.List(container, options));
    ++n;
    for (const ListedObject& o : page.objects) keys.push_back(o.key);
    for (const std::string& p : page.common_prefixes) prefixes.push_back(p);
    if (page.next_marker.empty()) break;
    options.marker = page.next_marker;
    if (n > 1000) return InternalError("listing does not end");
  }
  if (pages != nullptr) *pages = n;
  return std::make_pair(keys, prefixes);
}

void EmptyAndRemove(ObjectStore& store, const std::string& container) {
  Result<std::pair<std::vector<std::string>, std::vector<std::string>>> all =
      ListEverything(store, container, {});
  if (!all.ok()) return;
  for (const std::string& key : all->first) store.Delete(container, key).IgnoreError();
  store.DeleteContainer(container).IgnoreError();
}

std::atomic<int> container_counter{0};

}  // namespace

void ObjectStoreConformanceTest::SetUp() {
  ASSERT_OK_AND_ASSIGN(target_, GetParam().open());
  container_ = "cairn-conf-" + std::to_string(io::Env::Default()->NowUnixMicros() % 1000000000) +
               "-" + std::to_string(container_counter.fetch_add(1));
  ASSERT_OK(store().CreateContainer(container_));
}

void ObjectStoreConformanceTest::TearDown() {
  if (target_.store == nullptr || container_.empty()) return;
  EmptyAndRemove(store(), container_);
  EmptyAndRemove(store(), container_ + "_segments");
}

TEST_P(ObjectStoreConformanceTest, PutHeadGetRoundTrip) {
  std::string data = RandomBytes(100000, 1);
  WriteOptions options;
  options.content_md5 = Md5Of(data);
  options.content_type = "text/x-cairn";
  options.metadata = {{"color", "blue"}, {"run", "42"}};
  ASSERT_OK_AND_ASSIGN(WriteResult put,
                       PutString(store(), container(), "dir/a.bin", data, options));
  EXPECT_EQ(put.etag, Md5Hex(data));
  ASSERT_OK_AND_ASSIGN(ObjectAttributes head, store().Head(container(), "dir/a.bin"));
  EXPECT_EQ(head.size, data.size());
  EXPECT_EQ(head.etag, Md5Hex(data));
  EXPECT_EQ(head.content_type, "text/x-cairn");
  EXPECT_EQ(head.metadata["color"], "blue");
  EXPECT_EQ(head.metadata["run"], "42");
  EXPECT_FALSE(head.composite);
  EXPECT_GT(head.last_modified, 1600000000);
  ASSERT_OK_AND_ASSIGN(std::string got, ReadAll(store(), container(), "dir/a.bin"));
  EXPECT_TRUE(got == data);
  // Empty objects exist too.
  ASSERT_OK(PutString(store(), container(), "empty", "").status());
  ASSERT_OK_AND_ASSIGN(ObjectAttributes empty, store().Head(container(), "empty"));
  EXPECT_EQ(empty.size, 0u);
  EXPECT_EQ(empty.etag, Md5Hex(""));
}

TEST_P(ObjectStoreConformanceTest, RangesAndPins) {
  std::string data = RandomBytes(10000, 2);
  ASSERT_OK(PutString(store(), container(), "r", data).status());
  ASSERT_OK_AND_ASSIGN(
      std::string middle,
      ReadAll(store(), container(), "r",
              {.range = ObjectRange{100, 1000}, .if_match = "", .version_id = ""}));
  EXPECT_TRUE(middle == data.substr(100, 1000));
  ASSERT_OK_AND_ASSIGN(
      std::string tail,
      ReadAll(store(), container(), "r",
              {.range = ObjectRange{9000, 5000}, .if_match = "", .version_id = ""}));
  EXPECT_TRUE(tail == data.substr(9000));
  EXPECT_THAT(ReadAll(store(), container(), "r",
                      {.range = ObjectRange{10000, 10}, .if_match = "", .version_id = ""})
                  .status(),
              StatusIs(StatusCode::kOutOfRange));
  // Pinned to the ETag: the right one reads, a stale one fails as "the object changed".
  ASSERT_OK_AND_ASSIGN(std::string pinned,
                       ReadAll(store(), container(), "r",
                               {.range = {}, .if_match = Md5Hex(data), .version_id = ""}));
  EXPECT_EQ(pinned.size(), data.size());
  EXPECT_THAT(ReadAll(store(), container(), "r",
                      {.range = {}, .if_match = Md5Hex("other"), .version_id = ""})
                  .status(),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(ObjectStoreConformanceTest, MissingThingsAndBadDigests) {
  EXPECT_THAT(store().Head(container(), "nope").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(ReadAll(store(), container(), "nope").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(store().Delete(container(), "nope"));  // deleting nothing is fine
  EXPECT_THAT(PutString(store(), container() + "-missing", "k", "x").status(),
              StatusIs(StatusCode::kNotFound));
  // A body that does not match its MD5 is refused and leaves no object.
  WriteOptions wrong;
  wrong.content_md5 = Md5Of("something else");
  EXPECT_THAT(PutString(store(), container(), "bad", "the bytes", wrong).status(),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(store().Head(container(), "bad").status(), StatusIs(StatusCode::kNotFound));
  // A container with objects cannot be removed.
  ASSERT_OK(PutString(store(), container(), "keep", "x").status());
  EXPECT_THAT(store().DeleteContainer(container()), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> containers, store().ListContainers());
  EXPECT_THAT(containers, ::testing::Contains(container()));
}

TEST_P(ObjectStoreConformanceTest, OddKeysRoundTrip) {
  const std::vector<std::string> keys = {"with space",        "q?uery#frag",
                                         "per%cent&plus+eq=", "caf\xc3\xa9/\xe2\x98\x83",
                                         "a//double",         "semi;colon"};
  for (const std::string& key : keys) {
    ASSERT_OK(PutString(store(), container(), key, "v:" + key).status()) << key;
  }
  for (const std::string& key : keys) {
    ASSERT_OK_AND_ASSIGN(std::string got, ReadAll(store(), container(), key));
    EXPECT_EQ(got, "v:" + key);
  }
  ASSERT_OK_AND_ASSIGN(auto all, ListEverything(store(), container(), {}));
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(all.first, sorted);
}

TEST_P(ObjectStoreConformanceTest, ListingPagesPrefixesAndDelimiters) {
  std::vector<std::string> keys;
  for (int d = 0; d < 3; ++d) {
    for (int f = 0; f < 7; ++f)
      keys.push_back("data/d" + std::to_string(d) + "/f" + std::to_string(f));
  }
  for (int f = 0; f < 4; ++f) keys.push_back("data/top" + std::to_string(f));
  keys.push_back("other");
  for (const std::string& key : keys) ASSERT_OK(PutString(store(), container(), key, key).status());
  std::sort(keys.begin(), keys.end());

  int pages = 0;
  ASSERT_OK_AND_ASSIGN(
      auto all,
      ListEverything(store(), container(),
                     {.prefix = "", .delimiter = "", .marker = "", .max_keys = 4}, &pages));
  EXPECT_EQ(all.first, keys);
  EXPECT_GE(pages, 7);

  ASSERT_OK_AND_ASSIGN(
      auto under,
      ListEverything(store(), container(),
                     {.prefix = "data/d1/", .delimiter = "", .marker = "", .max_keys = 3}));
  EXPECT_EQ(under.first.size(), 7u);

  // One level, in small pages: three "directories" and four files, each once.
  ASSERT_OK_AND_ASSIGN(
      auto level,
      ListEverything(store(), container(),
                     {.prefix = "data/", .delimiter = "/", .marker = "", .max_keys = 2}));
  EXPECT_EQ(level.second, (std::vector<std::string>{"data/d0/", "data/d1/", "data/d2/"}));
  EXPECT_EQ(level.first,
            (std::vector<std::string>{"data/top0", "data/top1", "data/top2", "data/top3"}));
  ASSERT_OK_AND_ASSIGN(
      ListPage page,
      store().List(container(),
                   {.prefix = "data/d0/f3", .delimiter = "", .marker = "", .max_keys = 10}));
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].size, std::string("data/d0/f3").size());
  EXPECT_EQ(page.objects[0].etag, Md5Hex("data/d0/f3"));
}

TEST_P(ObjectStoreConformanceTest, DeleteManyRemovesEverythingNamed) {
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) {
    keys.push_back("del/" + std::to_string(i));
    ASSERT_OK(PutString(store(), container(), keys.back(), "x").status());
  }
  keys.push_back("del/never-existed");
  ASSERT_OK(PutString(store(), container(), "stay", "x").status());
  ASSERT_OK_AND_ASSIGN(std::vector<DeleteFailure> failures, store().DeleteMany(container(), keys));
  EXPECT_TRUE(failures.empty());
  ASSERT_OK_AND_ASSIGN(auto all, ListEverything(store(), container(), {}));
  EXPECT_EQ(all.first, std::vector<std::string>{"stay"});
}

TEST_P(ObjectStoreConformanceTest, CopyAndRename) {
  std::string data = RandomBytes(3000, 3);
  WriteOptions options;
  options.metadata = {{"origin", "test"}};
  ASSERT_OK(PutString(store(), container(), "src", data, options).status());
  ASSERT_OK_AND_ASSIGN(WriteResult copy, store().Copy(container(), "src", container(), "copy"));
  EXPECT_EQ(copy.etag, Md5Hex(data));
  ASSERT_OK_AND_ASSIGN(std::string got, ReadAll(store(), container(), "copy"));
  EXPECT_TRUE(got == data);
  ASSERT_OK_AND_ASSIGN(ObjectAttributes head, store().Head(container(), "copy"));
  EXPECT_EQ(head.metadata["origin"], "test");
  ASSERT_OK(store().Rename(container(), "copy", container(), "moved").status());
  EXPECT_THAT(store().Head(container(), "copy").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(got, ReadAll(store(), container(), "moved"));
  EXPECT_TRUE(got == data);
  EXPECT_THAT(store().Copy(container(), "absent", container(), "x").status(),
              StatusIs(StatusCode::kNotFound));
}

class LargeObjectWriter {
 public:
  // Parts of `part_size` bytes (the last shorter), written out of order.
  static Result<WriteResult> Write(ObjectStore& store, std::string_view container,
                                   std::string_view key, const std::string& data,
                                   uint64_t part_size, const WriteOptions& options = {}) {
    CAIRN_ASSIGN_OR_RETURN(std::string id, store.BeginUpload(container, key, options));
    std::vector<UploadedPart> parts;
    const int count = static_cast<int>((data.size() + part_size - 1) / part_size);
    for (int n = count; n >= 1; --n) {
      std::string_view bytes = std::string_view(data).substr((n - 1) * part_size, part_size);
      CAIRN_ASSIGN_OR_RETURN(
          UploadedPart part,
          store.PutPart(container, key, id, n, http::RequestBody::FromBytes(bytes), Md5Of(bytes)));
      if (part.size != bytes.size() || part.etag != Md5Hex(bytes)) {
        return InternalError("part " + std::to_string(n) + " came back wrong");
      }
      parts.push_back(part);
    }
    return store.CompleteUpload(container, key, id, parts);
  }
};

TEST_P(ObjectStoreConformanceTest, LargeObjectsFromParts) {
  const uint64_t part = target_.part_size;
  std::string data = RandomBytes(3 * part + part / 3, 4);
  WriteOptions options;
  options.content_type = "application/x-large";
  options.metadata = {{"kind", "large"}};
  ASSERT_OK_AND_ASSIGN(WriteResult done,
                       LargeObjectWriter::Write(store(), container(), "big", data, part, options));
  ASSERT_OK_AND_ASSIGN(ObjectAttributes head, store().Head(container(), "big"));
  EXPECT_TRUE(head.composite);
  EXPECT_EQ(head.size, data.size());
  EXPECT_EQ(head.etag, done.etag);
  EXPECT_EQ(head.content_type, "application/x-large");
  EXPECT_EQ(head.metadata["kind"], "large");
  ASSERT_OK_AND_ASSIGN(std::string got, ReadAll(store(), container(), "big"));
  EXPECT_TRUE(got == data);
  // A range across a part boundary, pinned to the large object's ETag.
  ASSERT_OK_AND_ASSIGN(
      std::string across,
      ReadAll(store(), container(), "big",
              {.range = ObjectRange{part - 10, 20}, .if_match = done.etag, .version_id = ""}));
  EXPECT_TRUE(across == data.substr(part - 10, 20));

  // An independent copy survives the original's deletion; a rename keeps the bytes.
  ASSERT_OK(store().Copy(container(), "big", container(), "big-copy").status());
  ASSERT_OK(store().Delete(container(), "big"));
  EXPECT_THAT(store().Head(container(), "big").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(got, ReadAll(store(), container(), "big-copy"));
  EXPECT_TRUE(got == data);
  ASSERT_OK(store().Rename(container(), "big-copy", container(), "dir/big-moved").status());
  EXPECT_THAT(store().Head(container(), "big-copy").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(got, ReadAll(store(), container(), "dir/big-moved"));
  EXPECT_TRUE(got == data);
  ASSERT_OK_AND_ASSIGN(ObjectAttributes moved, store().Head(container(), "dir/big-moved"));
  EXPECT_EQ(moved.metadata["kind"], "large");
  // Deleting it leaves no part anywhere.
  ASSERT_OK(store().Delete(container(), "dir/big-moved"));
  ASSERT_OK_AND_ASSIGN(auto left, ListEverything(store(), container(), {}));
  EXPECT_TRUE(left.first.empty());
  Result<std::pair<std::vector<std::string>, std::vector<std::string>>> segments =
      ListEverything(store(), container() + "_segments", {});
  if (segments.ok()) {
    EXPECT_TRUE(segments->first.empty()) << segments->first.size() << " segments left";
  }
}

TEST_P(ObjectStoreConformanceTest, AbortedUploadsLeaveNothing) {
  const uint64_t part = target_.part_size;
  std::string data = RandomBytes(2 * part, 5);
  ASSERT_OK_AND_ASSIGN(std::string id, store().BeginUpload(container(), "gone"));
  for (int n = 1; n <= 2; ++n) {
    std::string_view bytes = std::string_view(data).substr((n - 1) * part, part);
    ASSERT_OK(
        store()
            .PutPart(container(), "gone", id, n, http::RequestBody::FromBytes(bytes), Md5Of(bytes))
            .status());
  }
  ASSERT_OK(store().AbortUpload(container(), "gone", id));
  EXPECT_THAT(store().Head(container(), "gone").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto left, ListEverything(store(), container(), {}));
  EXPECT_TRUE(left.first.empty());
  Result<std::pair<std::vector<std::string>, std::vector<std::string>>> segments =
      ListEverything(store(), container() + "_segments", {});
  if (segments.ok()) {
    EXPECT_TRUE(segments->first.empty());
  }
  // A part whose bytes do not match its MD5 is refused.
  ASSERT_OK_AND_ASSIGN(std::string id2, store().BeginUpload(container(), "bad"));
  EXPECT_THAT(
      store()
          .PutPart(container(), "bad", id2, 1, http::RequestBody::FromBytes("abc"), Md5Of("abd"))
          .status(),
      StatusIs(StatusCode::kDataLoss));
  ASSERT_OK(store().AbortUpload(container(), "bad", id2));
  // Parts below the minimum (all but the last) are refused at completion.
  if (store().limits().min_part_size > 1) {
    ASSERT_OK_AND_ASSIGN(std::string id3, store().BeginUpload(container(), "small"));
    std::vector<UploadedPart> parts;
    for (int n = 1; n <= 2; ++n) {
      ASSERT_OK_AND_ASSIGN(UploadedPart p,
                           store().PutPart(container(), "small", id3, n,
                                           http::RequestBody::FromBytes("tiny"), Md5Of("tiny")));
      parts.push_back(p);
    }
    EXPECT_THAT(store().CompleteUpload(container(), "small", id3, parts).status(),
                StatusIs(StatusCode::kInvalidArgument));
    ASSERT_OK(store().AbortUpload(container(), "small", id3));
  }
}

// 16 threads at once; stores with tokens have them revoked mid-way, so many requests meet a 401
// together: each must succeed after one shared re-authentication, not one each.
TEST_P(ObjectStoreConformanceTest, ConcurrentRequestsSurviveExpiredCredentials) {
  constexpr int kThreads = 16;
  constexpr int kRounds = 4;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  const int64_t auth_before = target_.authentications ? target_.authentications() : 0;
  for (int round = 0; round < kRounds; ++round) {
    if (target_.expire_credentials) target_.expire_credentials();
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t, round] {
        std::string key = "c/" + std::to_string(t);
        std::string data = "round " + std::to_string(round) + " thread " + std::to_string(t);
        if (!PutString(store(), container(), key, data).ok()) ++failures;
        Result<std::string> got = ReadAll(store(), container(), key);
        if (!got.ok() || *got != data) ++failures;
      });
    }
    for (std::thread& thread : threads) thread.join();
    threads.clear();
  }
  EXPECT_EQ(failures.load(), 0);
  if (target_.authentications && target_.expire_credentials) {
    // One authentication per revocation; a few more if a request raced a refresh.
    int64_t made = target_.authentications() - auth_before;
    EXPECT_GE(made, kRounds);
    EXPECT_LE(made, 2 * kRounds);
  }
}

}  // namespace cairn::objstore
