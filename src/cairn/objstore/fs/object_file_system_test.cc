#include "cairn/objstore/fs/object_file_system.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "cairn/io/env.h"
#include "cairn/objstore/fs/fs_conformance.h"
#include "cairn/objstore/fs/object_file_writer.h"
#include "cairn/objstore/mem_object_store.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::fs {
namespace {

using ::cairn::testing::StatusIs;

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

struct MemOwner {
  std::unique_ptr<MemObjectStore> store;
  std::unique_ptr<ObjectFileSystem> fs;
};

FsTarget MemTarget(std::string name, uint64_t min_part, ObjectFileSystemOptions::Moves moves) {
  return {name, [min_part, moves]() -> Result<FsUnderTest> {
            auto owner = std::make_shared<MemOwner>();
            StoreLimits limits;
            limits.min_part_size = min_part;
            owner->store = std::make_unique<MemObjectStore>(limits, io::Env::Default());
            CAIRN_RETURN_IF_ERROR(owner->store->CreateContainer("c"));
            CAIRN_ASSIGN_OR_RETURN(
                owner->fs,
                ObjectFileSystem::Create(owner->store.get(), "c", {.threads = 8, .moves = moves}));
            FsUnderTest target;
            target.fs = owner->fs.get();
            MemObjectStore* store = owner->store.get();
            target.read = [store](std::string_view path) { return ReadObject(*store, "c", path); };
            target.part_size = std::max<uint64_t>(min_part, 1000);
            target.open_uploads = [store] { return store->open_uploads(); };
            target.owner = owner;
            return target;
          }};
}

INSTANTIATE_TEST_SUITE_P(
    Mem, FileSystemConformanceTest,
    ::testing::Values(MemTarget("s3_like", 5 << 20, ObjectFileSystemOptions::Moves::kAuto),
                      MemTarget("small_parts", 1, ObjectFileSystemOptions::Moves::kAuto),
                      MemTarget("per_object_moves", 1, ObjectFileSystemOptions::Moves::kPerObject)),
    [](const auto& p) { return p.param.name; });

// A MemObjectStore that counts requests, can fail one part, and measures parts in flight.
class CountingStore final : public ObjectStore {
 public:
  explicit CountingStore(StoreLimits limits) : mem_(limits, io::Env::Default()) {}

  std::string Uri(std::string_view c, std::string_view k) const override { return mem_.Uri(c, k); }
  StoreLimits limits() const override { return mem_.limits(); }
  Status CreateContainer(std::string_view c) override { return mem_.CreateContainer(c); }
  Status DeleteContainer(std::string_view c) override { return mem_.DeleteContainer(c); }
  Result<std::vector<std::string>> ListContainers() override { return mem_.ListContainers(); }
  Result<ObjectAttributes> Head(std::string_view c, std::string_view k) override {
    ++heads;
    return mem_.Head(c, k);
  }
  Result<ObjectAttributes> Get(std::string_view c, std::string_view k, const ReadOptions& o,
                               const http::BodySink& sink) override {
    return mem_.Get(c, k, o, sink);
  }
  Result<WriteResult> Put(std::string_view c, std::string_view k, const http::RequestBody& body,
                          const WriteOptions& o) override {
    ++puts;
    return mem_.Put(c, k, body, o);
  }
  Status Delete(std::string_view c, std::string_view k) override {
    ++deletes;
    return mem_.Delete(c, k);
  }
  Result<std::vector<DeleteFailure>> DeleteMany(std::string_view c,
                                                std::span<const std::string> keys) override {
    ++delete_manys;
    return mem_.DeleteMany(c, keys);
  }
  Result<ListPage> List(std::string_view c, const ListOptions& o) override {
    ++lists;
    return mem_.List(c, o);
  }
  Result<WriteResult> Copy(std::string_view sc, std::string_view sk, std::string_view c,
                           std::string_view k) override {
    ++copies;
    return mem_.Copy(sc, sk, c, k);
  }
  Result<WriteResult> Rename(std::string_view sc, std::string_view sk, std::string_view c,
                             std::string_view k) override {
    ++renames;
    return mem_.Rename(sc, sk, c, k);
  }
  Result<std::string> BeginUpload(std::string_view c, std::string_view k,
                                  const WriteOptions& o) override {
    return mem_.BeginUpload(c, k, o);
  }
  Result<UploadedPart> PutPart(std::string_view c, std::string_view k, std::string_view id, int n,
                               const http::RequestBody& body,
                               std::optional<Md5Digest> md5) override {
    int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Result<UploadedPart> part = n == fail_part ? Result<UploadedPart>(UnavailableError("injected"))
                                               : mem_.PutPart(c, k, id, n, body, md5);
    --in_flight;
    return part;
  }
  Result<WriteResult> CompleteUpload(std::string_view c, std::string_view k, std::string_view id,
                                     std::span<const UploadedPart> parts) override {
    return mem_.CompleteUpload(c, k, id, parts);
  }
  Status AbortUpload(std::string_view c, std::string_view k, std::string_view id) override {
    ++aborts;
    return mem_.AbortUpload(c, k, id);
  }

  MemObjectStore mem_;
  std::atomic<int> heads{0}, puts{0}, deletes{0}, delete_manys{0}, lists{0}, copies{0}, renames{0},
      aborts{0}, in_flight{0}, max_in_flight{0};
  int fail_part = 0;
};

class ObjectFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreLimits limits;
    limits.min_part_size = 1;
    store_ = std::make_unique<CountingStore>(limits);
    ASSERT_OK(store_->CreateContainer("c"));
    ASSERT_OK_AND_ASSIGN(fs_, ObjectFileSystem::Create(store_.get(), "c", {.threads = 8}));
  }
  void Put(const std::string& key) {
    ASSERT_OK(store_->mem_.Put("c", key, http::RequestBody::FromBytes(key), {}).status());
  }

  std::unique_ptr<CountingStore> store_;
  std::unique_ptr<ObjectFileSystem> fs_;
};

TEST_F(ObjectFileSystemTest, StatIsOneHeadAndOneListing) {
  Put("dir/file");
  ASSERT_OK_AND_ASSIGN(FileStatus dir, fs_->Stat("dir"));
  EXPECT_TRUE(dir.is_directory());
  EXPECT_EQ(store_->heads.load(), 1);
  EXPECT_EQ(store_->lists.load(), 1);
  // A name that is both a file and a directory is a file (the object wins, as in S3A).
  Put("dir");
  ASSERT_OK_AND_ASSIGN(FileStatus file, fs_->Stat("dir"));
  EXPECT_FALSE(file.is_directory());
}

TEST_F(ObjectFileSystemTest, DirectoryRenameCopiesThenDeletesInBulk) {
  for (int i = 0; i < 2500; ++i) Put("src/" + std::to_string(i));
  ASSERT_OK(fs_->Rename("src", "dst"));
  EXPECT_EQ(store_->copies.load(), 2500);
  EXPECT_EQ(store_->delete_manys.load(), 3);  // pages of 1,000
  EXPECT_EQ(store_->deletes.load(), 0);
  EXPECT_EQ(store_->renames.load(), 0);
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> moved, ListAll(*fs_, "dst", {.recursive = true}));
  EXPECT_EQ(moved.size(), 2500u);
  EXPECT_THAT(fs_->Stat("src").status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(ObjectFileSystemTest, RecursiveDeleteIsBulkPerPage) {
  for (int i = 0; i < 2500; ++i) Put("tree/" + std::to_string(i % 9) + "/" + std::to_string(i));
  ASSERT_OK(fs_->Delete("tree", {.recursive = true}));
  EXPECT_EQ(store_->delete_manys.load(), 3);
  EXPECT_EQ(store_->deletes.load(), 0);
  ASSERT_OK_AND_ASSIGN(ListPage left, store_->mem_.List("c", {}));
  EXPECT_TRUE(left.objects.empty());
}

TEST_F(ObjectFileSystemTest, WriterKeepsPartsInFlightBounded) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileWriter> writer,
                       fs_->Create("big", {.part_size = 1000, .parts_in_flight = 3}));
  std::string data(40 * 1000 + 1, 'x');
  ASSERT_OK(writer->Write(data));
  ASSERT_OK(writer->Close());
  EXPECT_LE(store_->max_in_flight.load(), 3);
  EXPECT_GE(store_->max_in_flight.load(), 2);  // parts do go in parallel
  ASSERT_OK_AND_ASSIGN(std::string got, ReadObject(store_->mem_, "c", "big"));
  EXPECT_TRUE(got == data);
  ASSERT_OK_AND_ASSIGN(ObjectAttributes head, store_->mem_.Head("c", "big"));
  EXPECT_TRUE(head.composite);
  EXPECT_THAT(head.etag, ::testing::EndsWith("-41"));
}

TEST_F(ObjectFileSystemTest, OnePartIsOnePut) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileWriter> writer, fs_->Create("one", {.part_size = 1000}));
  ASSERT_OK(writer->Write(std::string(1000, 'y')));
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(ObjectAttributes head, store_->mem_.Head("c", "one"));
  EXPECT_FALSE(head.composite);
  EXPECT_EQ(head.size, 1000u);
}

TEST_F(ObjectFileSystemTest, FailedPartAbortsTheUpload) {
  store_->fail_part = 4;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileWriter> writer,
                       fs_->Create("broken", {.part_size = 1000, .parts_in_flight = 2}));
  Status status;
  for (int i = 0; i < 20 && status.ok(); ++i) status = writer->Write(std::string(1000, 'z'));
  if (status.ok()) status = writer->Close();
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(store_->aborts.load(), 1);
  EXPECT_EQ(store_->mem_.open_uploads(), 0u);
  EXPECT_THAT(fs_->Stat("broken").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(writer->Write("more"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ObjectFileSystemTest, PartsGrowPastAThousand) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileWriter> w,
                       fs_->Create("many", {.part_size = 10, .parts_in_flight = 8}));
  std::string data(10 * 1000 + 40 * 2, 'm');  // 1,000 parts of 10 bytes, then parts of 20
  ASSERT_OK(w->Write(data));
  ASSERT_OK(w->Close());
  ASSERT_OK_AND_ASSIGN(ObjectAttributes head, store_->mem_.Head("c", "many"));
  EXPECT_THAT(head.etag, ::testing::EndsWith("-1004"));
  EXPECT_EQ(head.size, data.size());
}

TEST_F(ObjectFileSystemTest, SwiftStoresMovePerObject) {
  // kPerObject (what kAuto picks on swift://): renames go through ObjectStore::Rename, deletes one
  // object at a time, so that large objects keep or lose their segments properly.
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<ObjectFileSystem> fs,
      ObjectFileSystem::Create(
          store_.get(), "c", {.threads = 4, .moves = ObjectFileSystemOptions::Moves::kPerObject}));
  for (int i = 0; i < 30; ++i) Put("s/" + std::to_string(i));
  ASSERT_OK(fs->Rename("s", "t"));
  EXPECT_EQ(store_->renames.load(), 30);
  EXPECT_EQ(store_->delete_manys.load(), 0);
  ASSERT_OK(fs->Delete("t", {.recursive = true}));
  EXPECT_EQ(store_->deletes.load(), 30);
  EXPECT_EQ(store_->delete_manys.load(), 0);
}

}  // namespace
}  // namespace cairn::objstore::fs
