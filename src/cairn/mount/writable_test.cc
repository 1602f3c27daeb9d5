// Unit tests of the write path of the mount (WriteLayer) on an in-memory catalog and Keep: files
// written, truncated, renamed and removed become new versions of their collections, with the
// bytes in blocks that read back; read-only collections and a full spool are refused.
#include <fcntl.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/common/hash.h"
#include "cairn/manifest/pdh.h"
#include "cairn/mount/reader.h"
#include "cairn/mount/tree.h"
#include "cairn/mount/writable.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::mount {
namespace {

using ::cairn::testing::StatusIs;

constexpr char kMe[] = "zzzzz-tpzed-000000000000001";
constexpr char kOther[] = "zzzzz-tpzed-000000000000002";

// A catalog and a block store in memory: collections by uuid (with their versions counted) and
// blocks by hash.
class MemoryCluster : public CollectionSource, public BlockSource, public CollectionStore {
 public:
  void Add(std::string uuid, std::string name, std::string owner, std::string text) {
    std::lock_guard lock(mu_);
    client::Collection c;
    c.uuid = std::move(uuid);
    c.name = std::move(name);
    c.owner_uuid = std::move(owner);
    c.manifest_text = std::move(text);
    c.portable_data_hash = manifest::PortableDataHash(c.manifest_text);
    c.created_at = c.modified_at = "2026-11-22T00:00:00Z";
    c.version = 1;
    collections_[c.uuid] = std::move(c);
  }
  std::string AddBlock(const std::string& data) {
    std::lock_guard lock(mu_);
    blocks_[Md5Hex(data)] = std::make_shared<const std::string>(data);
    return Md5Hex(data) + "+" + std::to_string(data.size());
  }
  client::Collection Collection(const std::string& uuid) {
    std::lock_guard lock(mu_);
    return collections_.at(uuid);
  }
  // The bytes of `path` in the collection's current manifest, read block by block.
  std::string FileBytes(const std::string& uuid, const std::string& path) {
    Result<manifest::Manifest> m = manifest::Manifest::Parse(Collection(uuid).manifest_text);
    if (!m.ok()) return "<bad manifest>";
    std::optional<manifest::Manifest::NodeId> node = m->Find(path);
    if (!node || m->IsDirectory(*node)) return "<missing>";
    std::string out;
    for (const manifest::Extent& e : m->Extents(*node)) {
      Result<client::Block> block = Get(m->blocks()[e.block]);
      if (!block.ok()) return "<missing block>";
      out += (*block)->substr(e.offset, e.length);
    }
    return out;
  }
  bool Exists(const std::string& uuid, const std::string& path) {
    Result<manifest::Manifest> m = manifest::Manifest::Parse(Collection(uuid).manifest_text);
    return m.ok() && m->Find(path).has_value();
  }
  int puts() {
    std::lock_guard lock(mu_);
    return puts_;
  }
  void FailPuts(bool fail) {
    std::lock_guard lock(mu_);
    fail_puts_ = fail;
  }

  // CollectionSource: home/ holds mine, shared/ the others'.
  Result<std::vector<client::Collection>> List(Scope scope) override {
    std::lock_guard lock(mu_);
    std::vector<client::Collection> out;
    for (const auto& [uuid, c] : collections_) {
      if ((c.owner_uuid == kMe) != (scope == Scope::kOwned)) continue;
      out.push_back(c);
      out.back().manifest_text.clear();
    }
    return out;
  }
  Result<client::Collection> Get(std::string_view id) override {
    std::lock_guard lock(mu_);
    for (const auto& [uuid, c] : collections_) {
      if (uuid == id || c.portable_data_hash == id) return c;
    }
    return NotFoundError("collection " + std::string(id) + ": not found");
  }
  // BlockSource.
  Result<client::Block> Get(const manifest::Locator& locator) override {
    std::lock_guard lock(mu_);
    auto it = blocks_.find(std::string(locator.hash().hex()));
    if (it == blocks_.end()) return NotFoundError("no block " + locator.SizedDigest());
    return it->second;
  }
  void Prefetch(const manifest::Locator& /*locator*/) override {}
  // CollectionStore.
  Result<manifest::Locator> PutBlock(std::string_view data) override {
    {
      std::lock_guard lock(mu_);
      if (fail_puts_) return UnavailableError("keepstore down");
      ++puts_;
    }
    return manifest::Locator::Parse(AddBlock(std::string(data)));
  }
  Result<client::Collection> Save(std::string_view uuid, const std::string& text) override {
    std::lock_guard lock(mu_);
    auto it = collections_.find(std::string(uuid));
    if (it == collections_.end()) return NotFoundError("no collection");
    it->second.manifest_text = text;
    it->second.portable_data_hash = manifest::PortableDataHash(text);
    ++it->second.version;
    return it->second;
  }
  Result<client::Collection> Create(std::string_view name) override {
    std::string uuid = "zzzzz-4zz18-new" + std::to_string(++created_);
    uuid.resize(27, '0');
    Add(uuid, std::string(name), kMe, "");
    return Collection(uuid);
  }

 private:
  std::mutex mu_;
  std::map<std::string, client::Collection> collections_;
  std::map<std::string, client::Block> blocks_;
  int puts_ = 0;
  int created_ = 0;
  bool fail_puts_ = false;
};

constexpr char kMine[] = "zzzzz-4zz18-000000000000001";
constexpr char kTheirs[] = "zzzzz-4zz18-000000000000002";
constexpr char kSecond[] = "zzzzz-4zz18-000000000000003";

class WriteLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spool_ = std::filesystem::temp_directory_path() /
             ("cairn-writable-test-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::string hello = cluster_.AddBlock("hello world");
    cluster_.Add(kMine, "mine", kMe, ". " + hello + " 0:11:a.txt\n./sub " + hello + " 0:5:b.txt\n");
    cluster_.Add(kTheirs, "theirs", kOther, ". " + hello + " 0:11:t.txt\n");
    cluster_.Add(kSecond, "second", kMe, "");
    tree_ = std::make_unique<CollectionTree>(&cluster_, &env_, TreeOptions{});
    MakeLayer(1 << 20);
  }
  void TearDown() override {
    layer_.reset();
    std::filesystem::remove_all(spool_);
  }
  void MakeLayer(uint64_t max_spool) {
    layer_.reset();
    layer_ = std::make_unique<WriteLayer>(
        tree_.get(), &cluster_, &cluster_, &cluster_,
        WriteOptions{.user_uuid = kMe,
                     .collection_id = "",
                     .spool_dir = spool_.string(),
                     .max_spool_bytes = max_spool,
                     .block_size = 8,
                     .log = [this](std::string_view line) { logged_.emplace_back(line); }});
  }
  // Writes `data` at `offset` through an open handle.
  void WriteAt(WriteLayer::Handle* h, uint64_t offset, const std::string& data) {
    ASSERT_OK_AND_ASSIGN(size_t n, layer_->Write(h, offset, std::span<const char>(data)));
    ASSERT_EQ(n, data.size());
  }
  std::string ReadAll(WriteLayer::Handle* h) {
    std::string out(4096, '\0');
    Result<size_t> n = layer_->Read(h, 0, std::span<char>(out));
    if (!n.ok()) return "<error>";
    out.resize(*n);
    return out;
  }

  testing::FakeEnv env_;
  MemoryCluster cluster_;
  std::filesystem::path spool_;
  std::unique_ptr<CollectionTree> tree_;
  std::unique_ptr<WriteLayer> layer_;
  std::vector<std::string> logged_;
};

TEST_F(WriteLayerTest, CreateWriteCloseSavesANewVersionInBlocks) {
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h, layer_->Create("/home/mine/dir/new.bin"));
  WriteAt(h, 0, "0123456789abcdefghij");  // 20 bytes: blocks of 8, 8 and 4
  // Seen while staged: attributes, listing, and reads.
  ASSERT_TRUE(layer_->StagedAttr("/home/mine/dir/new.bin").has_value());
  EXPECT_EQ(layer_->StagedAttr("/home/mine/dir/new.bin")->size, 20u);
  std::vector<std::pair<std::string, Attr>> entries;
  layer_->AddStagedEntries("/home/mine/dir", &entries);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].first, "new.bin");
  EXPECT_EQ(ReadAll(h), "0123456789abcdefghij");
  EXPECT_EQ(cluster_.Collection(kMine).version, 1);

  ASSERT_OK(layer_->Flush(h, /*force=*/false));
  layer_->Release(h);
  EXPECT_EQ(cluster_.Collection(kMine).version, 2);
  EXPECT_EQ(cluster_.puts(), 3);
  EXPECT_EQ(cluster_.FileBytes(kMine, "dir/new.bin"), "0123456789abcdefghij");
  EXPECT_EQ(cluster_.FileBytes(kMine, "a.txt"), "hello world");  // the rest is kept
  EXPECT_FALSE(layer_->IsStaged("/home/mine/dir/new.bin"));
  EXPECT_EQ(layer_->spool_bytes(), 0u);
  // The tree shows the new version at once.
  ASSERT_OK_AND_ASSIGN(Node node, tree_->Resolve("/home/mine/dir/new.bin"));
  EXPECT_EQ(node.attr.size, 20u);
  EXPECT_TRUE(logged_.empty());
}

TEST_F(WriteLayerTest, WritesAtOffsetsIntoAnExistingFileKeepTheOtherBytes) {
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h, layer_->Open("/home/mine/a.txt", O_RDWR));
  WriteAt(h, 6, "WORLD");
  WriteAt(h, 14, "!");  // past the end: a hole of zeros
  EXPECT_EQ(ReadAll(h), std::string("hello WORLD\0\0\0!", 15));
  // A second reader of the staged file sees the written bytes.
  ASSERT_TRUE(layer_->IsStaged("/home/mine/a.txt"));
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * r, layer_->Open("/home/mine/a.txt", O_RDONLY));
  EXPECT_EQ(ReadAll(r), std::string("hello WORLD\0\0\0!", 15));
  // Read-only handles do not save; the last writer does.
  ASSERT_OK(layer_->Flush(r, false));
  layer_->Release(r);
  EXPECT_EQ(cluster_.Collection(kMine).version, 1);
  ASSERT_OK(layer_->Flush(h, false));
  layer_->Release(h);
  EXPECT_EQ(cluster_.FileBytes(kMine, "a.txt"), std::string("hello WORLD\0\0\0!", 15));
}

TEST_F(WriteLayerTest, TwoWritersSaveOnceTheLastCloses) {
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * a, layer_->Create("/home/mine/two.txt"));
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * b, layer_->Open("/home/mine/two.txt", O_WRONLY));
  WriteAt(a, 0, "aaaa");
  WriteAt(b, 4, "bbbb");
  ASSERT_OK(layer_->Flush(a, false));
  layer_->Release(a);
  EXPECT_FALSE(cluster_.Exists(kMine, "two.txt"));
  ASSERT_OK(layer_->Flush(b, false));
  layer_->Release(b);
  EXPECT_EQ(cluster_.FileBytes(kMine, "two.txt"), "aaaabbbb");
  EXPECT_EQ(cluster_.Collection(kMine).version, 2);
}

TEST_F(WriteLayerTest, TruncateAndOTrunc) {
  ASSERT_OK(layer_->Truncate("/home/mine/a.txt", 5));
  EXPECT_EQ(cluster_.FileBytes(kMine, "a.txt"), "hello");
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h,
                       layer_->Open("/home/mine/sub/b.txt", O_WRONLY | O_TRUNC));
  WriteAt(h, 0, "new");
  ASSERT_OK(layer_->Truncate(h, 2));
  ASSERT_OK(layer_->Flush(h, true));  // fsync saves at once
  EXPECT_EQ(cluster_.FileBytes(kMine, "sub/b.txt"), "ne");
  layer_->Release(h);
  EXPECT_EQ(cluster_.Collection(kMine).version, 3);  // nothing new to save on release
  // An empty new file is saved as one.
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * e, layer_->Create("/home/mine/empty"));
  layer_->Release(e);
  EXPECT_TRUE(cluster_.Exists(kMine, "empty"));
  EXPECT_EQ(cluster_.FileBytes(kMine, "empty"), "");
}

TEST_F(WriteLayerTest, UnlinkRenameMkdirRmdir) {
  ASSERT_OK(layer_->Rename("/home/mine/a.txt", "/home/mine/sub/renamed.txt"));
  EXPECT_FALSE(cluster_.Exists(kMine, "a.txt"));
  EXPECT_EQ(cluster_.FileBytes(kMine, "sub/renamed.txt"), "hello world");
  // A directory, within the collection, then to another collection.
  ASSERT_OK(layer_->Rename("/home/mine/sub", "/home/mine/moved"));
  EXPECT_EQ(cluster_.FileBytes(kMine, "moved/b.txt"), "hello");
  ASSERT_OK(layer_->Rename("/home/mine/moved", "/home/second/there"));
  EXPECT_FALSE(cluster_.Exists(kMine, "moved"));
  EXPECT_EQ(cluster_.FileBytes(kSecond, "there/b.txt"), "hello");
  EXPECT_EQ(cluster_.FileBytes(kSecond, "there/renamed.txt"), "hello world");
  // Replacing a file.
  ASSERT_OK(layer_->Rename("/home/second/there/b.txt", "/home/second/there/renamed.txt"));
  EXPECT_EQ(cluster_.FileBytes(kSecond, "there/renamed.txt"), "hello");

  ASSERT_OK(layer_->Mkdir("/home/second/empty"));
  EXPECT_TRUE(cluster_.Exists(kSecond, "empty"));
  EXPECT_THAT(layer_->Mkdir("/home/second/empty"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(layer_->Rmdir("/home/second/there"), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(layer_->Unlink("/home/second/there/renamed.txt"));
  ASSERT_OK(layer_->Rmdir("/home/second/there"));
  ASSERT_OK(layer_->Rmdir("/home/second/empty"));
  EXPECT_EQ(cluster_.Collection(kSecond).manifest_text, "");
  EXPECT_THAT(layer_->Unlink("/home/second/nothing"), StatusIs(StatusCode::kNotFound));
  // The tree follows.
  EXPECT_THAT(tree_->Resolve("/home/mine/a.txt").status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(WriteLayerTest, MkdirInHomeCreatesACollection) {
  ASSERT_OK(layer_->Mkdir("/home/fresh"));
  ASSERT_OK_AND_ASSIGN(Node root, tree_->Resolve("/home/fresh"));
  EXPECT_TRUE(root.attr.is_directory);
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h, layer_->Create("/home/fresh/x.txt"));
  WriteAt(h, 0, "x");
  layer_->Release(h);
  EXPECT_EQ(cluster_.FileBytes(root.uuid, "x.txt"), "x");
  EXPECT_THAT(layer_->Mkdir("/home/fresh"), StatusIs(StatusCode::kAlreadyExists));
}

TEST_F(WriteLayerTest, ReadOnlyCollectionsAreRefused) {
  EXPECT_THAT(layer_->Create("/shared/theirs/new.txt").status(),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(layer_->Open("/shared/theirs/t.txt", O_WRONLY).status(),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(layer_->Create(std::string("/by_id/") + kTheirs + "/new.txt").status(),
              StatusIs(StatusCode::kPermissionDenied));
  const std::string pdh = cluster_.Collection(kMine).portable_data_hash;
  EXPECT_THAT(layer_->Create("/by_id/" + pdh + "/new.txt").status(),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(layer_->Unlink("/shared/theirs/t.txt"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(layer_->Rename("/home/mine/a.txt", "/shared/theirs/a.txt"),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(layer_->Mkdir("/by_id/x"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(cluster_.Collection(kTheirs).version, 1);
  EXPECT_EQ(cluster_.Collection(kMine).version, 1);
  // An owned collection through by_id/<uuid> is writable.
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h,
                       layer_->Create(std::string("/by_id/") + kMine + "/by-id.txt"));
  WriteAt(h, 0, "ok");
  layer_->Release(h);
  EXPECT_EQ(cluster_.FileBytes(kMine, "by-id.txt"), "ok");
}

TEST_F(WriteLayerTest, TheSpoolIsBounded) {
  MakeLayer(10);
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h, layer_->Create("/home/mine/big"));
  WriteAt(h, 0, "0123456789");
  std::string more = "x";
  EXPECT_THAT(layer_->Write(h, 10, std::span<const char>(more)).status(),
              StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(layer_->spool_bytes(), 10u);
  layer_->Release(h);
  EXPECT_EQ(layer_->spool_bytes(), 0u);
  EXPECT_EQ(cluster_.FileBytes(kMine, "big"), "0123456789");
}

TEST_F(WriteLayerTest, AFailedSaveStaysStagedAndIsRetried) {
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h, layer_->Create("/home/mine/later.txt"));
  WriteAt(h, 0, "keep me safe");
  cluster_.FailPuts(true);
  EXPECT_THAT(layer_->Flush(h, false), StatusIs(StatusCode::kUnavailable));
  layer_->Release(h);
  EXPECT_FALSE(logged_.empty());
  EXPECT_TRUE(layer_->IsStaged("/home/mine/later.txt"));
  EXPECT_EQ(cluster_.Collection(kMine).version, 1);
  cluster_.FailPuts(false);
  ASSERT_OK(layer_->FlushAll());
  EXPECT_EQ(cluster_.FileBytes(kMine, "later.txt"), "keep me safe");
  EXPECT_FALSE(layer_->IsStaged("/home/mine/later.txt"));
}

TEST_F(WriteLayerTest, EndingTheLayerSavesWhatIsPending) {
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h, layer_->Create("/home/mine/pending.txt"));
  WriteAt(h, 0, "pending");
  cluster_.FailPuts(true);
  layer_->Release(h);  // the save fails: staged, dirty
  EXPECT_FALSE(cluster_.Exists(kMine, "pending.txt"));
  cluster_.FailPuts(false);
  layer_.reset();  // what a clean unmount does
  EXPECT_EQ(cluster_.FileBytes(kMine, "pending.txt"), "pending");
  EXPECT_TRUE(std::filesystem::is_empty(spool_));
}

TEST_F(WriteLayerTest, RandomWritesMatchAModel) {
  std::mt19937 rng(42);
  ASSERT_OK_AND_ASSIGN(WriteLayer::Handle * h, layer_->Create("/home/mine/random.bin"));
  std::string model;
  for (int i = 0; i < 200; ++i) {
    const uint64_t offset = rng() % 300;
    std::string data(1 + rng() % 40, '\0');
    for (char& c : data) c = static_cast<char>('a' + rng() % 26);
    WriteAt(h, offset, data);
    if (model.size() < offset + data.size()) model.resize(offset + data.size(), '\0');
    model.replace(offset, data.size(), data);
  }
  EXPECT_EQ(ReadAll(h), model);
  layer_->Release(h);
  EXPECT_EQ(cluster_.FileBytes(kMine, "random.bin"), model);
}

TEST_F(WriteLayerTest, ConcurrentWritersOfOneCollectionLoseNoFile) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, t] {
      const std::string path = "/home/mine/par/f" + std::to_string(t);
      Result<WriteLayer::Handle*> h = layer_->Create(path);
      ASSERT_OK(h.status());
      for (int i = 0; i < 20; ++i) WriteAt(*h, uint64_t(i) * 3, "t" + std::to_string(t) + "|");
      ASSERT_OK(layer_->Flush(*h, false));
      layer_->Release(*h);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) {
    std::string want;
    for (int i = 0; i < 20; ++i) want.replace(size_t(i) * 3, 3, "t" + std::to_string(t) + "|");
    EXPECT_EQ(cluster_.FileBytes(kMine, "par/f" + std::to_string(t)), want);
  }
  EXPECT_EQ(cluster_.Collection(kMine).version, 9);
  EXPECT_EQ(layer_->spool_bytes(), 0u);
}

}  // namespace
}  // namespace cairn::mount
