// MetadataCache and CachingObjectStore on MemObjectStore, with a fake clock.
#include "cairn/objstore/metadata_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cairn/objstore/mem_object_store.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore {
namespace {

using ::cairn::testing::StatusIs;

// Counts the HEADs that reach the store.
class HeadCountingStore : public ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;
  Result<ObjectAttributes> Head(std::string_view container, std::string_view key) override {
    heads_.fetch_add(1);
    return base()->Head(container, key);
  }
  int heads() const { return heads_.load(); }

 private:
  std::atomic<int> heads_{0};
};

ObjectAttributes Attributes(uint64_t size, std::string etag) {
  ObjectAttributes a;
  a.size = size;
  a.etag = std::move(etag);
  return a;
}

class CachingObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(mem_.CreateContainer("c"));
    ASSERT_OK(mem_.CreateContainer("d"));
  }

  Status PutString(ObjectStore& store, std::string_view container, std::string_view key,
                   std::string_view data) {
    return store.Put(container, key, http::RequestBody::FromBytes(data), {}).status();
  }

  // The size the caching store reports for c/key, and whether that took a HEAD of the store.
  uint64_t HeadSize(std::string_view container, std::string_view key, bool* asked = nullptr) {
    const int before = counting_.heads();
    Result<ObjectAttributes> head = store_.Head(container, key);
    if (asked != nullptr) *asked = counting_.heads() > before;
    EXPECT_OK(head.status());
    return head.ok() ? head->size : ~uint64_t{0};
  }

  testing::FakeEnv clock_;
  MemObjectStore mem_;
  HeadCountingStore counting_{&mem_};
  CachingObjectStore store_{&counting_,
                            {.max_entries = 100, .ttl_micros = 10'000'000, .clock = &clock_}};
};

TEST_F(CachingObjectStoreTest, ServesHeadsUntilTheTtlRunsOut) {
  ASSERT_OK(PutString(mem_, "c", "k", "12345"));
  bool asked = false;
  EXPECT_EQ(HeadSize("c", "k", &asked), 5u);
  EXPECT_TRUE(asked);
  EXPECT_EQ(HeadSize("c", "k", &asked), 5u);
  EXPECT_FALSE(asked);
  // Another client's write is not seen while the entry lives ...
  ASSERT_OK(PutString(mem_, "c", "k", "1234567"));
  clock_.AdvanceMicros(9'999'999);
  EXPECT_EQ(HeadSize("c", "k", &asked), 5u);
  EXPECT_FALSE(asked);
  // ... and is once it has expired.
  clock_.AdvanceMicros(1);
  EXPECT_EQ(HeadSize("c", "k", &asked), 7u);
  EXPECT_TRUE(asked);
  MetadataCache::Stats stats = store_.cache().stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.expired, 1u);
  // A missing object is not cached.
  EXPECT_THAT(store_.Head("c", "nope").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_.Head("c", "nope").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(counting_.heads(), 4);
}

TEST_F(CachingObjectStoreTest, ZeroTtlDisablesTheCache) {
  CachingObjectStore uncached(&counting_, {.max_entries = 100, .ttl_micros = 0, .clock = &clock_});
  ASSERT_OK(PutString(mem_, "c", "k", "x"));
  ASSERT_OK(uncached.Head("c", "k").status());
  ASSERT_OK(uncached.Head("c", "k").status());
  EXPECT_EQ(counting_.heads(), 2);
  EXPECT_EQ(uncached.cache().size(), 0u);
}

TEST(MetadataCacheTest, KeepsAtMostMaxEntriesLeastRecentlyUsedFirst) {
  testing::FakeEnv clock;
  MetadataCache cache({.max_entries = 3, .ttl_micros = 1'000'000, .clock = &clock});
  cache.Put("c", "a", Attributes(1, "a"));
  cache.Put("c", "b", Attributes(2, "b"));
  cache.Put("c", "c", Attributes(3, "c"));
  ASSERT_TRUE(cache.Get("c", "a").has_value());  // "b" is now the least recently used
  cache.Put("c", "d", Attributes(4, "d"));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Get("c", "b").has_value());
  EXPECT_EQ(cache.Get("c", "a")->size, 1u);
  EXPECT_EQ(cache.Get("c", "c")->size, 3u);
  EXPECT_EQ(cache.Get("c", "d")->size, 4u);
  // Replacing an entry does not grow the cache.
  cache.Put("c", "d", Attributes(40, "d2"));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Get("c", "d")->etag, "d2");
  // Evicted keys left the prefix index too: invalidating everything empties the cache.
  cache.InvalidatePrefix("c", "");
  EXPECT_EQ(cache.size(), 0u);
  cache.Put("c", "e", Attributes(5, "e"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(MetadataCacheTest, InvalidatePrefixStaysInsideItsContainer) {
  testing::FakeEnv clock;
  MetadataCache cache({.max_entries = 100, .ttl_micros = 1'000'000, .clock = &clock});
  for (const char* key : {"a/1", "a/2", "a/b/3", "a", "ab", "b/1"}) {
    cache.Put("c", key, Attributes(1, key));
    cache.Put("c2", key, Attributes(2, key));
  }
  cache.Put("c\x01", "a/1", Attributes(3, "x"));
  cache.InvalidatePrefix("c", "a/");
  for (const char* gone : {"a/1", "a/2", "a/b/3"}) EXPECT_FALSE(cache.Get("c", gone)) << gone;
  for (const char* kept : {"a", "ab", "b/1"}) EXPECT_TRUE(cache.Get("c", kept)) << kept;
  for (const char* kept : {"a/1", "a/2", "a/b/3"}) EXPECT_TRUE(cache.Get("c2", kept)) << kept;
  EXPECT_TRUE(cache.Get("c\x01", "a/1"));
  cache.Invalidate("c2", "a/1");
  EXPECT_FALSE(cache.Get("c2", "a/1"));
  EXPECT_TRUE(cache.Get("c2", "a/2"));
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
}

TEST(MetadataCacheTest, ALookupThatRacedAnInvalidationIsNotStored) {
  testing::FakeEnv clock;
  MetadataCache cache({.max_entries = 100, .ttl_micros = 1'000'000, .clock = &clock});
  const uint64_t ticket = cache.generation();
  cache.Invalidate("c", "k");  // a write finished while the HEAD was on the wire
  cache.Put("c", "k", Attributes(1, "old"), ticket);
  EXPECT_FALSE(cache.Get("c", "k").has_value());
  cache.Put("c", "k", Attributes(2, "new"), cache.generation());
  EXPECT_EQ(cache.Get("c", "k")->etag, "new");
}

TEST_F(CachingObjectStoreTest, OwnWritesInvalidate) {
  auto cached = [&](std::string_view container, std::string_view key) {
    bool asked = true;
    HeadSize(container, key, &asked);
    return !asked;
  };
  // Put.
  ASSERT_OK(PutString(store_, "c", "k", "1"));
  EXPECT_EQ(HeadSize("c", "k"), 1u);
  ASSERT_OK(PutString(store_, "c", "k", "22"));
  EXPECT_EQ(HeadSize("c", "k"), 2u);
  EXPECT_TRUE(cached("c", "k"));
  // Copy onto a cached destination.
  ASSERT_OK(PutString(store_, "c", "src", "333"));
  EXPECT_EQ(HeadSize("c", "src"), 3u);
  ASSERT_OK(store_.Copy("c", "src", "c", "k").status());
  EXPECT_EQ(HeadSize("c", "k"), 3u);
  EXPECT_TRUE(cached("c", "src"));  // the source did not change
  // Rename: both ends.
  ASSERT_OK(PutString(store_, "d", "dst", "4444"));
  EXPECT_EQ(HeadSize("d", "dst"), 4u);
  ASSERT_OK(store_.Rename("c", "src", "d", "dst").status());
  EXPECT_THAT(store_.Head("c", "src").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(HeadSize("d", "dst"), 3u);
  // Delete and DeleteMany.
  ASSERT_OK(store_.Delete("d", "dst"));
  EXPECT_THAT(store_.Head("d", "dst").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(PutString(store_, "c", "m1", "1"));
  ASSERT_OK(PutString(store_, "c", "m2", "1"));
  HeadSize("c", "m1");
  HeadSize("c", "m2");
  std::vector<std::string> keys = {"m1", "m2"};
  ASSERT_OK(store_.DeleteMany("c", keys).status());
  EXPECT_THAT(store_.Head("c", "m1").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_.Head("c", "m2").status(), StatusIs(StatusCode::kNotFound));
  // CompleteUpload.
  EXPECT_EQ(HeadSize("c", "k"), 3u);
  ASSERT_OK_AND_ASSIGN(std::string id, store_.BeginUpload("c", "k", {}));
  ASSERT_OK_AND_ASSIGN(
      UploadedPart part,
      store_.PutPart("c", "k", id, 1, http::RequestBody::FromBytes("55555"), std::nullopt));
  EXPECT_TRUE(cached("c", "k"));  // parts do not change the object
  std::vector<UploadedPart> parts = {part};
  ASSERT_OK(store_.CompleteUpload("c", "k", id, parts).status());
  EXPECT_EQ(HeadSize("c", "k"), 5u);
  // DeleteContainer forgets the whole container (it fails here: not empty, and still forgets).
  EXPECT_TRUE(cached("c", "k"));
  EXPECT_THAT(store_.DeleteContainer("c"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_FALSE(cached("c", "k"));
}

TEST_F(CachingObjectStoreTest, AGetThatFindsAChangeInvalidates) {
  ASSERT_OK(PutString(mem_, "c", "k", "1"));
  ASSERT_OK_AND_ASSIGN(ObjectAttributes head, store_.Head("c", "k"));
  ASSERT_OK(PutString(mem_, "c", "k", "22"));  // another client
  ReadOptions pinned;
  pinned.if_match = head.etag;
  EXPECT_THAT(store_.Get("c", "k", pinned, [](std::string_view) { return Status(); }).status(),
              StatusIs(StatusCode::kFailedPrecondition));
  bool asked = false;
  EXPECT_EQ(HeadSize("c", "k", &asked), 2u);
  EXPECT_TRUE(asked);
}

// Many threads reading and writing a few keys: no race (TSan), and once the writers stop every
// HEAD through the cache agrees with the store.
TEST_F(CachingObjectStoreTest, ConcurrentUseStaysConsistent) {
  constexpr int kThreads = 8;
  constexpr int kKeys = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 300; ++i) {
        const std::string key = "k" + std::to_string((i + t) % kKeys);
        switch ((i * 7 + t) % 5) {
          case 0:
            EXPECT_OK(PutString(store_, "c", key, std::string(i % 50, 'x')));
            break;
          case 1:
            EXPECT_OK(store_.Delete("c", key));
            break;
          case 2:
            store_.cache().InvalidatePrefix("c", "k");
            break;
          default: {
            Result<ObjectAttributes> head = store_.Head("c", key);
            if (!head.ok()) {
              EXPECT_THAT(head.status(), StatusIs(StatusCode::kNotFound));
            }
          }
        }
        if (i % 50 == 0) clock_.AdvanceMicros(1'000'000);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "k" + std::to_string(k);
    Result<ObjectAttributes> truth = mem_.Head("c", key);
    Result<ObjectAttributes> seen = store_.Head("c", key);
    ASSERT_EQ(truth.ok(), seen.ok()) << key;
    if (truth.ok()) {
      EXPECT_EQ(seen->etag, truth->etag) << key;
      EXPECT_EQ(seen->size, truth->size) << key;
    }
  }
}

}  // namespace
}  // namespace cairn::objstore
