// Unit tests of the mount: the tree and the per-handle reader on in-memory sources, and the
// FUSE file system itself on a real mount (skipped where /dev/fuse cannot be used).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/common/hash.h"
#include "cairn/manifest/pdh.h"
#include "cairn/mount/fuse_mount.h"
#include "cairn/mount/reader.h"
#include "cairn/mount/sources.h"
#include "cairn/mount/tree.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::mount {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

// Blocks by hash, with a record of what was fetched and prefetched.
class FakeBlocks : public BlockSource {
 public:
  // Stores `data` as a block; returns its locator text.
  std::string Add(const std::string& data) {
    std::string locator = Md5Hex(data) + "+" + std::to_string(data.size());
    std::lock_guard lock(mu_);
    blocks_[Md5Hex(data)] = std::make_shared<const std::string>(data);
    return locator;
  }
  Result<client::Block> Get(const manifest::Locator& locator) override {
    std::lock_guard lock(mu_);
    gets_.push_back(std::string(locator.hash().hex()));
    auto it = blocks_.find(std::string(locator.hash().hex()));
    if (it == blocks_.end()) return NotFoundError("no block " + locator.SizedDigest());
    return it->second;
  }
  void Prefetch(const manifest::Locator& locator) override {
    std::lock_guard lock(mu_);
    prefetches_.push_back(std::string(locator.hash().hex()));
  }
  // With set_ranged(true), every block serves ranges (as external-object blocks do).
  void set_ranged(bool ranged) { ranged_ = ranged; }
  bool CanReadRange(const manifest::Locator&) override { return ranged_; }
  bool IsCached(const manifest::Locator& locator) override {
    std::lock_guard lock(mu_);
    return std::find(gets_.begin(), gets_.end(), locator.hash().hex()) != gets_.end();
  }
  Result<std::string> GetRange(const manifest::Locator& locator, uint64_t offset,
                               uint64_t length) override {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(ranged_);
    auto it = blocks_.find(std::string(locator.hash().hex()));
    if (it == blocks_.end()) return NotFoundError("no block " + locator.SizedDigest());
    EXPECT_LE(offset + length, it->second->size());
    ++range_reads_;
    range_bytes_ += length;
    return it->second->substr(offset, length);
  }
  std::vector<std::string> gets() {
    std::lock_guard lock(mu_);
    return gets_;
  }
  uint64_t range_reads() {
    std::lock_guard lock(mu_);
    return range_reads_;
  }
  uint64_t range_bytes() {
    std::lock_guard lock(mu_);
    return range_bytes_;
  }
  std::vector<std::string> prefetches() {
    std::lock_guard lock(mu_);
    return prefetches_;
  }
  void ClearRecords() {
    std::lock_guard lock(mu_);
    prefetches_.clear();
    gets_.clear();
  }

 private:
  std::mutex mu_;
  std::map<std::string, client::Block> blocks_;
  std::vector<std::string> gets_;
  std::vector<std::string> prefetches_;
  bool ranged_ = false;
  uint64_t range_reads_ = 0;
  uint64_t range_bytes_ = 0;
};

// Collections in memory: some owned, some shared; counts the catalog calls.
class FakeCollections : public CollectionSource {
 public:
  void Put(client::Collection c, Scope scope) {
    std::lock_guard lock(mu_);
    c.portable_data_hash = manifest::PortableDataHash(c.manifest_text);
    if (c.created_at.empty()) c.created_at = c.modified_at;
    scopes_[c.uuid] = scope;
    by_uuid_[c.uuid] = std::move(c);
  }
  Result<std::vector<client::Collection>> List(Scope scope) override {
    std::lock_guard lock(mu_);
    ++lists_;
    std::vector<client::Collection> out;
    for (const auto& [uuid, c] : by_uuid_) {
      if (scopes_[uuid] != scope) continue;
      out.push_back(c);
      out.back().manifest_text.clear();
    }
    return out;
  }
  Result<client::Collection> Get(std::string_view id) override {
    std::lock_guard lock(mu_);
    ++gets_;
    for (const auto& [uuid, c] : by_uuid_) {
      if (uuid == id || c.portable_data_hash == id) return c;
    }
    return NotFoundError("collection " + std::string(id) + ": not found");
  }
  int gets() {
    std::lock_guard lock(mu_);
    return gets_;
  }
  int lists() {
    std::lock_guard lock(mu_);
    return lists_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, client::Collection> by_uuid_;
  std::map<std::string, Scope> scopes_;
  int gets_ = 0;
  int lists_ = 0;
};

client::Collection MakeCollection(const std::string& uuid, const std::string& name,
                                  const std::string& manifest_text,
                                  const std::string& modified_at = "2026-11-22T03:10:14.123456Z") {
  client::Collection c;
  c.uuid = uuid;
  c.name = name;
  c.manifest_text = manifest_text;
  c.modified_at = modified_at;
  return c;
}

constexpr char kUuidA[] = "cairn-4zz18-aaaaaaaaaaaaaaa";
constexpr char kUuidB[] = "cairn-4zz18-bbbbbbbbbbbbbbb";
constexpr char kUuidC[] = "cairn-4zz18-ccccccccccccccc";

class TreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hello_ = blocks_.Add("hello world\n");
    // a.txt (12 bytes), dir/b.txt (5 bytes of the same block), dir/sub/, an empty file.
    manifest_a_ = ". " + hello_ + " 0:12:a.txt 0:0:empty\n./dir " + hello_ +
                  " 0:5:b.txt\n./dir/sub d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\n";
    collections_.Put(MakeCollection(kUuidA, "alpha", manifest_a_), Scope::kOwned);
    collections_.Put(MakeCollection(kUuidB, "beta/gamma", ". " + hello_ + " 0:12:x\n"),
                     Scope::kShared);
  }

  testing::FakeEnv env_;
  FakeBlocks blocks_;
  FakeCollections collections_;
  std::string hello_;
  std::string manifest_a_;
};

TEST_F(TreeTest, TopLevelAndListings) {
  CollectionTree tree(&collections_, &env_, {});
  ASSERT_OK_AND_ASSIGN(auto root, tree.List("/"));
  ASSERT_EQ(root.size(), 3u);
  EXPECT_EQ(root[0].first, "by_id");
  EXPECT_EQ(root[1].first, "home");
  EXPECT_EQ(root[2].first, "shared");
  ASSERT_OK_AND_ASSIGN(Node top, tree.Resolve("/"));
  EXPECT_TRUE(top.attr.is_directory);
  EXPECT_EQ(top.attr.nlink, 5u);
  ASSERT_OK_AND_ASSIGN(auto home, tree.List("/home"));
  ASSERT_EQ(home.size(), 1u);
  EXPECT_EQ(home[0].first, "alpha");
  // '/' in a name becomes '_'.
  ASSERT_OK_AND_ASSIGN(auto shared, tree.List("/shared"));
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].first, "beta_gamma");
  // by_id is never listed.
  ASSERT_OK_AND_ASSIGN(auto by_id, tree.List("/by_id"));
  EXPECT_TRUE(by_id.empty());
  EXPECT_THAT(tree.Resolve("/nothing"), StatusIs(StatusCode::kNotFound));
}

TEST_F(TreeTest, FilesSizesTimesAndLinks) {
  CollectionTree tree(&collections_, &env_, {});
  ASSERT_OK_AND_ASSIGN(Node a, tree.Resolve("/home/alpha/a.txt"));
  EXPECT_FALSE(a.attr.is_directory);
  EXPECT_EQ(a.attr.size, 12u);
  EXPECT_EQ(a.attr.mtime, CollectionTree::ParseTime("2026-11-22T03:10:14Z"));
  EXPECT_EQ(a.attr.mtime, 1795317014);
  ASSERT_OK_AND_ASSIGN(Node root, tree.Resolve("/home/alpha"));
  EXPECT_TRUE(root.is_collection_root);
  EXPECT_EQ(root.uuid, kUuidA);
  EXPECT_EQ(root.attr.nlink, 3u);  // ".", "..", dir
  ASSERT_OK_AND_ASSIGN(Node dir, tree.Resolve("/home/alpha/dir"));
  EXPECT_EQ(dir.attr.nlink, 3u);  // sub
  ASSERT_OK_AND_ASSIGN(auto entries, tree.List("/home/alpha/dir"));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first, "b.txt");
  EXPECT_EQ(entries[0].second.size, 5u);
  EXPECT_EQ(entries[1].first, "sub");
  EXPECT_TRUE(entries[1].second.is_directory);
  ASSERT_OK_AND_ASSIGN(Node empty, tree.Resolve("/home/alpha/empty"));
  EXPECT_EQ(empty.attr.size, 0u);
  EXPECT_THAT(tree.Resolve("/home/alpha/missing"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(tree.List("/home/alpha/a.txt"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(TreeTest, ByIdLooksUpUuidsAndPdhsOnly) {
  CollectionTree tree(&collections_, &env_, {});
  ASSERT_OK_AND_ASSIGN(Node by_uuid, tree.Resolve(std::string("/by_id/") + kUuidB + "/x"));
  EXPECT_EQ(by_uuid.attr.size, 12u);
  const std::string pdh = manifest::PortableDataHash(manifest_a_);
  ASSERT_OK_AND_ASSIGN(Node by_pdh, tree.Resolve("/by_id/" + pdh + "/dir/b.txt"));
  EXPECT_EQ(by_pdh.attr.size, 5u);
  ASSERT_OK_AND_ASSIGN(Node root, tree.Resolve("/by_id/" + pdh));
  EXPECT_EQ(root.pdh, pdh);
  const int gets = collections_.gets();
  // Names that are no collection id never reach the catalog.
  EXPECT_THAT(tree.Resolve("/by_id/.git"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(tree.Resolve("/by_id/autorun.inf"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(collections_.gets(), gets);
  EXPECT_THAT(tree.Resolve("/by_id/cairn-4zz18-zzzzzzzzzzzzzzz"), StatusIs(StatusCode::kNotFound));
}

TEST_F(TreeTest, DuplicateNamesKeepTheOldestPlain) {
  collections_.Put(
      MakeCollection(kUuidC, "alpha", ". " + hello_ + " 0:1:c\n", "2027-01-01T00:00:00Z"),
      Scope::kOwned);
  CollectionTree tree(&collections_, &env_, {});
  ASSERT_OK_AND_ASSIGN(auto home, tree.List("/home"));
  ASSERT_EQ(home.size(), 2u);
  EXPECT_EQ(home[0].first, "alpha");
  EXPECT_EQ(home[1].first, std::string("alpha (") + kUuidC + ")");
  ASSERT_OK_AND_ASSIGN(Node c, tree.Resolve(std::string("/home/alpha (") + kUuidC + ")/c"));
  EXPECT_EQ(c.attr.size, 1u);
}

TEST_F(TreeTest, ListingsRefreshAfterTheTtl) {
  CollectionTree tree(&collections_, &env_, {.ttl = std::chrono::seconds(60)});
  ASSERT_OK(tree.Resolve("/home/alpha/a.txt").status());
  collections_.Put(MakeCollection(kUuidC, "later", ". " + hello_ + " 0:3:c\n"), Scope::kOwned);
  // A new version of alpha: a.txt grows to the whole block twice.
  collections_.Put(MakeCollection(kUuidA, "alpha", ". " + hello_ + " 0:12:a.txt 0:12:a.txt\n"),
                   Scope::kOwned);
  EXPECT_THAT(tree.Resolve("/home/later"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Node old_a, tree.Resolve("/home/alpha/a.txt"));
  EXPECT_EQ(old_a.attr.size, 12u);
  env_.AdvanceMicros(59'000'000);
  EXPECT_THAT(tree.Resolve("/home/later"), StatusIs(StatusCode::kNotFound));
  env_.AdvanceMicros(2'000'000);
  ASSERT_OK_AND_ASSIGN(Node later, tree.Resolve("/home/later/c"));
  EXPECT_EQ(later.attr.size, 3u);
  // The listing shows alpha's new PDH, so its manifest is loaded again.
  ASSERT_OK_AND_ASSIGN(Node new_a, tree.Resolve("/home/alpha/a.txt"));
  EXPECT_EQ(new_a.attr.size, 24u);
}

TEST_F(TreeTest, StatOfAListedCollectionDoesNotLoadIt) {
  CollectionTree tree(&collections_, &env_, {});
  ASSERT_OK_AND_ASSIGN(auto home, tree.List("/home"));
  ASSERT_OK_AND_ASSIGN(Node root, tree.Resolve("/home/alpha"));
  EXPECT_EQ(collections_.gets(), 0);
  EXPECT_EQ(root.uuid, kUuidA);
  EXPECT_EQ(root.attr.nlink, 1u);  // unknown until loaded
  ASSERT_OK(tree.List("/home/alpha").status());
  EXPECT_EQ(collections_.gets(), 1);
  ASSERT_OK_AND_ASSIGN(root, tree.Resolve("/home/alpha"));
  EXPECT_EQ(root.attr.nlink, 3u);
}

TEST_F(TreeTest, OneCollectionAtTheRoot) {
  CollectionTree tree(&collections_, &env_, {.collection_id = kUuidA});
  ASSERT_OK_AND_ASSIGN(auto root, tree.List("/"));
  ASSERT_EQ(root.size(), 3u);
  EXPECT_EQ(root[0].first, "a.txt");
  EXPECT_EQ(root[1].first, "dir");
  EXPECT_EQ(root[2].first, "empty");
  ASSERT_OK_AND_ASSIGN(Node b, tree.Resolve("/dir/b.txt"));
  EXPECT_EQ(b.attr.size, 5u);
  CollectionTree missing(&collections_, &env_, {.collection_id = kUuidC});
  EXPECT_THAT(missing.Resolve("/"), StatusIs(StatusCode::kNotFound));
}

TEST_F(TreeTest, ParsesTimes) {
  EXPECT_EQ(CollectionTree::ParseTime("1970-01-01T00:00:10Z"), 10);
  EXPECT_EQ(CollectionTree::ParseTime("2026-11-22T03:10:14.123456Z"), 1795317014);
  EXPECT_EQ(CollectionTree::ParseTime("garbage"), 0);
}

// A file of `n` blocks of `block_size` bytes each (distinct contents) and its bytes.
struct BigFile {
  std::string manifest_text;
  std::string bytes;
  std::vector<std::string> hashes;
};

BigFile MakeBigFile(FakeBlocks* blocks, int n, size_t block_size) {
  BigFile f;
  std::mt19937 rng(7);
  std::string stream = ".";
  for (int i = 0; i < n; ++i) {
    std::string data(block_size, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    stream += " " + blocks->Add(data);
    f.hashes.push_back(Md5Hex(data));
    f.bytes += data;
  }
  f.manifest_text = stream + " 0:" + std::to_string(f.bytes.size()) + ":big\n";
  return f;
}

TEST(HandleReaderTest, ReadsAcrossBlocksAndGrowsReadahead) {
  FakeBlocks blocks;
  BigFile f = MakeBigFile(&blocks, 12, 1000);
  FakeCollections collections;
  collections.Put(MakeCollection(kUuidA, "big", f.manifest_text), Scope::kOwned);
  testing::FakeEnv env;
  CollectionTree tree(&collections, &env, {});
  ASSERT_OK_AND_ASSIGN(Node node, tree.Resolve("/home/big/big"));
  HandleReader reader(&blocks, node.collection, node.node, /*max_readahead_blocks=*/4);
  ASSERT_EQ(reader.size(), 12000u);
  std::string got;
  std::vector<int> windows;
  char buf[700];
  for (uint64_t off = 0;;) {
    ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadAt(off, std::span<char>(buf, sizeof(buf))));
    if (n == 0) break;
    got.append(buf, n);
    off += n;
    windows.push_back(reader.readahead_blocks());
  }
  EXPECT_EQ(got, f.bytes);
  EXPECT_EQ(windows.front(), 1);
  EXPECT_EQ(*std::max_element(windows.begin(), windows.end()), 4);
  // Every block after the first was prefetched before it was read.
  std::vector<std::string> prefetched = blocks.prefetches();
  std::set<std::string> unique(prefetched.begin(), prefetched.end());
  for (size_t i = 1; i < f.hashes.size(); ++i) EXPECT_TRUE(unique.contains(f.hashes[i])) << i;
  EXPECT_FALSE(unique.contains(f.hashes[0]));
}

TEST(HandleReaderTest, RandomReadsAreCorrectAndDoNotReadAhead) {
  FakeBlocks blocks;
  BigFile f = MakeBigFile(&blocks, 8, 4096 + 17);
  FakeCollections collections;
  collections.Put(MakeCollection(kUuidA, "big", f.manifest_text), Scope::kOwned);
  testing::FakeEnv env;
  CollectionTree tree(&collections, &env, {});
  ASSERT_OK_AND_ASSIGN(Node node, tree.Resolve("/home/big/big"));
  HandleReader reader(&blocks, node.collection, node.node, 8);
  std::mt19937_64 rng(11);
  char buf[4096];
  blocks.ClearRecords();
  for (int i = 0; i < 200; ++i) {
    uint64_t off = rng() % f.bytes.size();
    ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadAt(off, std::span<char>(buf, sizeof(buf))));
    ASSERT_EQ(n, std::min<uint64_t>(sizeof(buf), f.bytes.size() - off));
    ASSERT_EQ(std::string(buf, n), f.bytes.substr(off, n)) << off;
    ASSERT_EQ(reader.readahead_blocks(), 0);
  }
  EXPECT_TRUE(blocks.prefetches().empty());
  ASSERT_OK_AND_ASSIGN(size_t past, reader.ReadAt(f.bytes.size(), std::span<char>(buf, 10)));
  EXPECT_EQ(past, 0u);
}

// Blocks that serve ranges: random small reads fetch windows, never whole blocks; a forward
// stream still reads whole blocks with readahead.
TEST(HandleReaderTest, RandomReadsOfRangedBlocksFetchWindowsOnly) {
  FakeBlocks blocks;
  blocks.set_ranged(true);
  constexpr uint64_t kBlock = uint64_t{4} << 20;  // 4 MiB blocks, 3 of them
  BigFile f = MakeBigFile(&blocks, 3, kBlock);
  FakeCollections collections;
  collections.Put(MakeCollection(kUuidA, "big", f.manifest_text), Scope::kOwned);
  testing::FakeEnv env;
  CollectionTree tree(&collections, &env, {});
  ASSERT_OK_AND_ASSIGN(Node node, tree.Resolve("/home/big/big"));
  HandleReader reader(&blocks, node.collection, node.node, 4);
  std::mt19937_64 rng(5);
  std::vector<char> buf(4096);
  blocks.ClearRecords();
  constexpr int kReads = 200;
  for (int i = 0; i < kReads; ++i) {
    const uint64_t off = 1 + rng() % (f.bytes.size() - 1);  // never the stream start, 0
    ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadAt(off, std::span<char>(buf)));
    ASSERT_EQ(n, std::min<uint64_t>(buf.size(), f.bytes.size() - off));
    ASSERT_EQ(std::string(buf.data(), n), f.bytes.substr(off, n)) << off;
    ASSERT_EQ(reader.readahead_blocks(), 0);
  }
  EXPECT_TRUE(blocks.gets().empty());  // no whole block
  EXPECT_TRUE(blocks.prefetches().empty());
  EXPECT_EQ(blocks.range_bytes(), reader.range_bytes());
  // At most one window per read (a read across a block boundary takes two).
  EXPECT_LE(blocks.range_reads(), uint64_t{kReads} + 5);
  EXPECT_LT(blocks.range_bytes() / kReads, uint64_t{1} << 20);  // the target
  EXPECT_LE(blocks.range_bytes(), blocks.range_reads() * HandleReader::kRangeWindow);

  // Small reads inside the last window cost nothing; the window is aligned.
  const uint64_t at = kBlock + 100'000;
  const uint64_t before = blocks.range_reads();
  ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadAt(at, std::span<char>(buf)));
  ASSERT_EQ(std::string(buf.data(), n), f.bytes.substr(at, n));
  ASSERT_OK_AND_ASSIGN(n, reader.ReadAt(at + 50'000, std::span<char>(buf)));
  ASSERT_EQ(std::string(buf.data(), n), f.bytes.substr(at + 50'000, n));
  EXPECT_EQ(blocks.range_reads(), before + 1);

  // A read at the very end of a block's last window is cut at the file's end.
  ASSERT_OK_AND_ASSIGN(n, reader.ReadAt(f.bytes.size() - 10, std::span<char>(buf)));
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(std::string(buf.data(), n), f.bytes.substr(f.bytes.size() - 10));

  // Reading forward from a random place becomes a stream after kStreamAfter bytes: whole
  // blocks and readahead from then on.
  blocks.ClearRecords();
  std::vector<char> big(128 << 10);
  std::string got;
  const uint64_t from = 12345;
  for (uint64_t off = from; off < from + 3 * (uint64_t{1} << 20);) {
    ASSERT_OK_AND_ASSIGN(size_t m, reader.ReadAt(off, std::span<char>(big)));
    got.append(big.data(), m);
    off += m;
  }
  EXPECT_EQ(got, f.bytes.substr(from, got.size()));
  EXPECT_FALSE(blocks.gets().empty());
  EXPECT_FALSE(blocks.prefetches().empty());
  EXPECT_GE(reader.readahead_blocks(), 1);

  // A read from the file's start is a stream at once: the whole block.
  HandleReader streamer(&blocks, node.collection, node.node, 4);
  blocks.ClearRecords();
  ASSERT_OK_AND_ASSIGN(n, streamer.ReadAt(0, std::span<char>(buf)));
  EXPECT_EQ(blocks.gets(), std::vector<std::string>{f.hashes[0]});
  EXPECT_EQ(streamer.range_reads(), 0u);
}

TEST(HandleReaderTest, MissingBlockIsAnError) {
  FakeBlocks blocks;
  FakeCollections collections;
  collections.Put(MakeCollection(kUuidA, "c", ". 0123456789abcdef0123456789abcdef+5 0:5:f\n"),
                  Scope::kOwned);
  testing::FakeEnv env;
  CollectionTree tree(&collections, &env, {});
  ASSERT_OK_AND_ASSIGN(Node node, tree.Resolve("/home/c/f"));
  HandleReader reader(&blocks, node.collection, node.node, 2);
  char buf[5];
  EXPECT_THAT(reader.ReadAt(0, std::span<char>(buf, 5)), StatusIs(StatusCode::kNotFound));
}

// The file system on a real FUSE mount, with the in-memory sources.
TEST(FuseMountTest, ServesTreeFilesAndXattrs) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0 || ::geteuid() != 0) {
    GTEST_SKIP() << "needs /dev/fuse and root";
  }
  FakeBlocks blocks;
  BigFile f = MakeBigFile(&blocks, 3, 300'000);
  FakeCollections collections;
  collections.Put(
      MakeCollection(kUuidA, "big",
                     f.manifest_text + "./d " + blocks.Add("nested\n") + " 0:7:n.txt\n"),
      Scope::kOwned);
  io::Env* env = io::Env::Default();
  CollectionTree tree(&collections, env, {.ttl = std::chrono::seconds(1)});
  char dir_template[] = "/tmp/cairn-mount-test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string mnt = dir_template;
  ASSERT_OK_AND_ASSIGN(
      auto mount, FuseMount::Mount(mnt, &tree, &blocks,
                                   {.uid = 1234, .gid = 5678, .ttl = std::chrono::seconds(1)}));
  Status served;
  std::thread loop([&] { served = mount->Run(); });

  std::ifstream in(mnt + "/home/big/big", std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got.size(), f.bytes.size());
  EXPECT_TRUE(got == f.bytes);
  std::ifstream nested(mnt + "/home/big/d/n.txt");
  std::string line;
  std::getline(nested, line);
  EXPECT_EQ(line, "nested");

  struct stat st;
  ASSERT_EQ(::stat((mnt + "/home/big/big").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 900'000);
  EXPECT_EQ(st.st_mode, S_IFREG | 0444);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mtime, 1795317014);
  ASSERT_EQ(::stat((mnt + "/home/big/d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0555);
  EXPECT_EQ(::stat((mnt + "/home/nope").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(::open((mnt + "/home/big/new").c_str(), O_WRONLY | O_CREAT, 0644), -1);

  char value[128];
  ssize_t n = ::getxattr((mnt + "/home/big").c_str(), "user.cairn.uuid", value, sizeof(value));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(value, static_cast<size_t>(n)), kUuidA);
  n = ::getxattr((mnt + "/home/big").c_str(), "user.cairn.pdh", value, sizeof(value));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(value, static_cast<size_t>(n)),
            manifest::PortableDataHash(collections.Get(kUuidA)->manifest_text));

  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(mnt + "/home/big")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("big", "d"));

  mount->Stop();
  loop.join();
  EXPECT_OK(served);
  EXPECT_TRUE(std::filesystem::is_empty(mnt));  // unmounted
  ::rmdir(mnt.c_str());
}

}  // namespace
}  // namespace cairn::mount
