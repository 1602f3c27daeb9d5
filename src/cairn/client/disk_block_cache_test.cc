#include "cairn/client/disk_block_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cairn/client/fake_cluster_internal.h"
#include "cairn/client/keep_client.h"
#include "cairn/common/hash.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/http_test_server.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::client {
namespace {

using ::cairn::testing::HttpTestServer;
using ::cairn::testing::StatusIs;
using KeepCluster = internal::FakeCluster<HttpTestServer, testing::FakeEnv>;

class DiskBlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/disk_block_cache_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ + "/cairn/blocks";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  static manifest::BlockHash HashOf(const std::string& data) {
    return manifest::BlockHash::FromDigest(Md5Of(data));
  }
  std::string PathOf(const std::string& data) const {
    return dir_ + "/" + std::string(HashOf(data).hex());
  }
  // Sets a file's mtime `seconds_ago` seconds in the past.
  static void Age(const std::string& path, int seconds_ago) {
    struct timeval times[2];
    ::gettimeofday(&times[0], nullptr);
    times[0].tv_sec -= seconds_ago;
    times[1] = times[0];
    ASSERT_EQ(::utimes(path.c_str(), times), 0);
  }

  std::string root_;
  std::string dir_;
};

TEST_F(DiskBlockCacheTest, MissThenHitWithPrivateModes) {
  ASSERT_OK_AND_ASSIGN(auto cache, DiskBlockCache::Create(dir_, 1 << 20));
  const std::string data = "a block on disk";
  EXPECT_EQ(cache->Lookup(HashOf(data), data.size()), nullptr);
  ASSERT_OK(cache->Insert(HashOf(data), data));
  Block block = cache->Lookup(HashOf(data), data.size());
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(*block, data);
  struct stat st {};
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(PathOf(data).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The wrong size for the name is a miss, not a hit of other bytes.
  EXPECT_EQ(cache->Lookup(HashOf(data), data.size() + 1), nullptr);

  DiskBlockCacheStats stats = cache->stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.hit_bytes, data.size());
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.writes, 1u);
  EXPECT_EQ(stats.files, 0u);  // the wrong-size lookup deleted the file as corrupt
  EXPECT_EQ(stats.corrupt, 1u);
  EXPECT_FALSE(std::filesystem::exists(PathOf(data)));
  // No temporary file is left behind.
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(DiskBlockCacheTest, EvictsLeastRecentlyUsedAtTheBound) {
  ASSERT_OK_AND_ASSIGN(auto cache, DiskBlockCache::Create(dir_, 3000));
  std::vector<std::string> blocks;
  for (int i = 0; i < 3; ++i) blocks.emplace_back(1000, static_cast<char>('a' + i));
  for (const std::string& b : blocks) ASSERT_OK(cache->Insert(HashOf(b), b));
  // Touch the oldest: the second becomes the least recently used.
  ASSERT_NE(cache->Lookup(HashOf(blocks[0]), 1000), nullptr);
  const std::string fourth(1000, 'd');
  ASSERT_OK(cache->Insert(HashOf(fourth), fourth));
  EXPECT_TRUE(std::filesystem::exists(PathOf(blocks[0])));
  EXPECT_FALSE(std::filesystem::exists(PathOf(blocks[1])));
  EXPECT_TRUE(std::filesystem::exists(PathOf(blocks[2])));
  EXPECT_TRUE(std::filesystem::exists(PathOf(fourth)));
  EXPECT_EQ(cache->Lookup(HashOf(blocks[1]), 1000), nullptr);
  DiskBlockCacheStats stats = cache->stats();
  EXPECT_EQ(stats.bytes, 3000u);
  EXPECT_EQ(stats.files, 3u);
  EXPECT_EQ(stats.evictions, 1u);
  // A block larger than the whole bound is not stored.
  const std::string huge(4000, 'h');
  ASSERT_OK(cache->Insert(HashOf(huge), huge));
  EXPECT_FALSE(std::filesystem::exists(PathOf(huge)));
  EXPECT_EQ(cache->stats().files, 3u);
}

TEST_F(DiskBlockCacheTest, CorruptFileIsDeletedAndNotServed) {
  ASSERT_OK_AND_ASSIGN(auto cache, DiskBlockCache::Create(dir_, 1 << 20));
  const std::string data = "bytes that must not change on disk";
  ASSERT_OK(cache->Insert(HashOf(data), data));
  {
    std::fstream f(PathOf(data), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5);
    f.put('X');  // same length, other bytes
  }
  EXPECT_EQ(cache->Lookup(HashOf(data), data.size()), nullptr);
  EXPECT_FALSE(std::filesystem::exists(PathOf(data)));
  EXPECT_EQ(cache->stats().corrupt, 1u);
  EXPECT_EQ(cache->stats().files, 0u);
  // Written again, it is served again.
  ASSERT_OK(cache->Insert(HashOf(data), data));
  Block block = cache->Lookup(HashOf(data), data.size());
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(*block, data);
}

TEST_F(DiskBlockCacheTest, RestartRebuildsTheIndexOldestFirst) {
  std::vector<std::string> blocks;
  for (int i = 0; i < 3; ++i) blocks.emplace_back(1000, static_cast<char>('p' + i));
  {
    ASSERT_OK_AND_ASSIGN(auto cache, DiskBlockCache::Create(dir_, 10000));
    for (const std::string& b : blocks) ASSERT_OK(cache->Insert(HashOf(b), b));
  }
  // Oldest is blocks[1], then blocks[0], then blocks[2]; plus junk the index must ignore, a stale
  // temporary file it must delete and a fresh one (another process's write) it must keep.
  Age(PathOf(blocks[1]), 300);
  Age(PathOf(blocks[0]), 200);
  Age(PathOf(blocks[2]), 100);
  std::ofstream(dir_ + "/not-a-block") << "junk";
  std::ofstream(dir_ + "/.tmp-stale") << "half";
  std::ofstream(dir_ + "/.tmp-fresh") << "half";
  Age(dir_ + "/.tmp-stale", 7200);

  ASSERT_OK_AND_ASSIGN(auto cache, DiskBlockCache::Create(dir_, 2000));
  DiskBlockCacheStats stats = cache->stats();
  EXPECT_EQ(stats.files, 2u);
  EXPECT_EQ(stats.bytes, 2000u);
  EXPECT_FALSE(std::filesystem::exists(PathOf(blocks[1])));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/.tmp-stale"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/.tmp-fresh"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/not-a-block"));
  Block block = cache->Lookup(HashOf(blocks[0]), 1000);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(*block, blocks[0]);
  // blocks[2] is now the least recently used.
  const std::string next(1000, 'z');
  ASSERT_OK(cache->Insert(HashOf(next), next));
  EXPECT_FALSE(std::filesystem::exists(PathOf(blocks[2])));
  EXPECT_TRUE(std::filesystem::exists(PathOf(blocks[0])));
}

TEST_F(DiskBlockCacheTest, ConcurrentReadersWritersAndASecondCacheNeverSeeWrongBytes) {
  ASSERT_OK_AND_ASSIGN(auto a, DiskBlockCache::Create(dir_, 5000));
  ASSERT_OK_AND_ASSIGN(auto b, DiskBlockCache::Create(dir_, 5000));  // another mount
  std::vector<std::string> blocks;
  for (int i = 0; i < 12; ++i) blocks.emplace_back(1000 + i, static_cast<char>('A' + i));
  std::atomic<int> wrong{0};
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    DiskBlockCache* cache = t % 2 == 0 ? a.get() : b.get();
    threads.emplace_back([&, cache, t] {
      for (int round = 0; round < 200; ++round) {
        const std::string& data = blocks[(round * 7 + t * 3) % blocks.size()];
        if (Block got = cache->Lookup(HashOf(data), data.size())) {
          if (*got != data) ++wrong;
          ++hits;
        } else {
          cache->Insert(HashOf(data), data).IgnoreError();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(hits.load(), 0);
  EXPECT_LE(a->stats().bytes, 5000u);
  EXPECT_LE(b->stats().bytes, 5000u);
  EXPECT_EQ(a->stats().corrupt + b->stats().corrupt, 0u);
}

TEST_F(DiskBlockCacheTest, RejectsBadArgumentsAndForeignDirectories) {
  EXPECT_THAT(DiskBlockCache::Create("", 100), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(DiskBlockCache::Create(dir_, 0), StatusIs(StatusCode::kInvalidArgument));
  std::ofstream(root_ + "/file") << "x";
  EXPECT_FALSE(DiskBlockCache::Create(root_ + "/file", 100).ok());
  EXPECT_GT(DiskBlockCache::DefaultMaxBytes(dir_), 0u);
  EXPECT_LE(DiskBlockCache::DefaultMaxBytes(dir_), uint64_t{10} << 30);
}

TEST_F(DiskBlockCacheTest, KeepClientReadsThroughTheDiskCache) {
  KeepClientOptions options;
  options.disk_cache_dir = dir_;
  options.disk_cache_bytes = 1 << 20;
  KeepCluster cluster(1, options);
  const std::string data = "fetched once, then from disk";
  ASSERT_OK_AND_ASSIGN(PutResult put, cluster.keep().Put(data, 1));
  ASSERT_OK_AND_ASSIGN(Block block, cluster.keep().Get(put.locator));
  EXPECT_EQ(*block, data);
  EXPECT_EQ(cluster.store(0).counts().gets, 1);
  EXPECT_EQ(cluster.keep().disk_cache_stats().writes, 1u);
  EXPECT_TRUE(std::filesystem::exists(PathOf(data)));

  // A second client (a second mount) on the same directory reads it from disk.
  KeepCluster second(1, options);
  ASSERT_OK_AND_ASSIGN(block, second.keep().Get(put.locator));
  EXPECT_EQ(*block, data);
  EXPECT_EQ(second.keep().disk_cache_stats().hits, 1u);

  // A corrupted file is not served: the block is fetched again (and the file rewritten).
  {
    std::ofstream(PathOf(data), std::ios::binary | std::ios::trunc)
        << std::string(data.size(), '?');
  }
  KeepCluster third(1, options);
  third.store(0).Store(Md5Hex(data), data);
  ASSERT_OK_AND_ASSIGN(block, third.keep().Get(put.locator));
  EXPECT_EQ(*block, data);
  EXPECT_EQ(third.keep().disk_cache_stats().corrupt, 1u);
  EXPECT_EQ(third.store(0).counts().gets, 1);
  ASSERT_NE(third.keep().disk_cache_stats().writes, 0u);
}

}  // namespace
}  // namespace cairn::client
