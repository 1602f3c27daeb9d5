#include "cairn/blockstore/directory_volume.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "cairn/blockstore/blockstore_test_util.h"
#include "cairn/common/hash.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::blockstore {
namespace {

using ::cairn::testing::StatusIs;
using manifest::BlockHash;

class DirectoryVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = dir_.path() + "/vol"; }
  std::unique_ptr<DirectoryVolume> OpenVolume(FileOps* ops = nullptr) {
    DirectoryVolumeOptions options;
    options.root = root_;
    options.file_ops = ops;
    auto v = DirectoryVolume::Open(options);
    EXPECT_OK(v);
    return v.ok() ? std::move(v).value() : nullptr;
  }
  Status Store(Volume& v, std::string_view data, size_t piece = 100'000) {
    CAIRN_ASSIGN_OR_RETURN(auto writer, v.NewWriter(BlockHash::Of(data)));
    for (size_t off = 0; off < data.size(); off += piece) {
      CAIRN_RETURN_IF_ERROR(writer->Append(data.substr(off, piece)));
    }
    return writer->Commit().status();
  }
  std::set<std::string> Indexed(Volume& v, std::string_view prefix = "") {
    std::set<std::string> out;
    EXPECT_OK(v.Index(prefix, [&](const IndexEntry& e) {
      out.insert(std::string(e.hash.hex()) + "+" + std::to_string(e.info.size));
      return Status::OK();
    }));
    return out;
  }
  // Every file under the block directory of `hash` (temporary files included).
  std::set<std::string> FilesNear(const BlockHash& hash) {
    std::set<std::string> out;
    std::filesystem::path d = root_ + "/" + std::string(hash.hex().substr(0, 3));
    if (!std::filesystem::exists(d)) return out;
    for (const auto& e : std::filesystem::directory_iterator(d)) out.insert(e.path().filename());
    return out;
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(DirectoryVolumeTest, StoresReadsAndIndexesBlocks) {
  auto v = OpenVolume();
  ASSERT_NE(v, nullptr);
  EXPECT_THAT(v->uuid(), ::testing::MatchesRegex("cairn-nyw5e-[a-z0-9]{15}"));
  const std::string data = PatternBytes(3 * 1024 * 1024 + 5);  // not a multiple of 4096
  const BlockHash hash = BlockHash::Of(data);
  ASSERT_OK(Store(*v, data, 300'001));
  EXPECT_EQ(FilesNear(hash), std::set<std::string>{std::string(hash.hex())});
  ASSERT_OK_AND_ASSIGN(auto reader, v->Open(hash));
  EXPECT_EQ(reader->info().size, data.size());
  std::string back(data.size(), '\0');
  uint64_t off = 0;
  while (off < data.size()) {
    ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(off, std::span<char>(back).subspan(off)));
    ASSERT_GT(n, 0u);
    off += n;
  }
  EXPECT_EQ(back, data);
  ASSERT_OK(Store(*v, "foo"));
  ASSERT_OK(Store(*v, ""));
  EXPECT_EQ(Indexed(*v), (std::set<std::string>{std::string(hash.hex()) + "+3145733",
                                                "acbd18db4cc2f85cedef654fccc4a4d8+3",
                                                "d41d8cd98f00b204e9800998ecf8427e+0"}));
  EXPECT_EQ(Indexed(*v, "acb"), std::set<std::string>{"acbd18db4cc2f85cedef654fccc4a4d8+3"});
  EXPECT_EQ(Indexed(*v, "acbd18"), std::set<std::string>{"acbd18db4cc2f85cedef654fccc4a4d8+3"});
  EXPECT_EQ(Indexed(*v, "ac0"), std::set<std::string>{});
  EXPECT_THAT(v->Index("XYZ", [](const IndexEntry&) { return Status::OK(); }),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(v->Delete(BlockHash::Of("foo")));
  EXPECT_THAT(v->Open(BlockHash::Of("foo")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(v->Delete(BlockHash::Of("foo")), StatusIs(StatusCode::kNotFound));
}

TEST_F(DirectoryVolumeTest, HashMismatchStoresNothing) {
  auto v = OpenVolume();
  ASSERT_NE(v, nullptr);
  const BlockHash claimed = BlockHash::Of("what the client said");
  ASSERT_OK_AND_ASSIGN(auto writer, v->NewWriter(claimed));
  ASSERT_OK(writer->Append("something else"));
  EXPECT_THAT(writer->Commit(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("does not match")));
  writer.reset();
  EXPECT_EQ(FilesNear(claimed), std::set<std::string>{});
  EXPECT_THAT(v->Stat(claimed), StatusIs(StatusCode::kNotFound));
}

TEST_F(DirectoryVolumeTest, CrashBeforeRenameLeavesNoVisibleBlock) {
  FaultInjectingFileOps ops;
  ops.fail_rename = true;  // the process "dies" between write and rename
  const std::string data = PatternBytes(2 * 1024 * 1024);
  const BlockHash hash = BlockHash::Of(data);
  {
    auto v = OpenVolume(&ops);
    ASSERT_NE(v, nullptr);
    ops.keep_temp_files = true;  // a crash runs no destructor: the temporary file stays
    EXPECT_FALSE(Store(*v, data).ok());
    EXPECT_EQ(FilesNear(hash).size(), 1u);
    EXPECT_TRUE(FilesNear(hash).begin()->starts_with("tmp"));
    // Not a block: not indexed, not readable.
    EXPECT_EQ(Indexed(*v), std::set<std::string>{});
    EXPECT_THAT(v->Open(hash), StatusIs(StatusCode::kNotFound));
  }
  // The next start removes the leftover.
  auto v = OpenVolume();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(FilesNear(hash), std::set<std::string>{});
}

TEST_F(DirectoryVolumeTest, FullDiskIsResourceExhaustedAndLeavesNothing) {
  FaultInjectingFileOps ops;
  auto v = OpenVolume(&ops);
  ASSERT_NE(v, nullptr);
  ops.enospc_after_bytes = 1024 * 1024;  // the second 1 MiB write fails
  const std::string data = PatternBytes(3 * 1024 * 1024);
  Status s = Store(*v, data);
  EXPECT_THAT(s, StatusIs(StatusCode::kResourceExhausted, ::testing::HasSubstr(v->uuid())));
  EXPECT_EQ(FilesNear(BlockHash::Of(data)), std::set<std::string>{});
  // Too little space left: no new writer at all.
  ops.free_bytes = 1000;
  EXPECT_THAT(v->NewWriter(BlockHash::Of("x")), StatusIs(StatusCode::kResourceExhausted));
}

TEST_F(DirectoryVolumeTest, ExistingBlockIsCheckedNotRewritten) {
  FaultInjectingFileOps ops;
  auto v = OpenVolume(&ops);
  ASSERT_NE(v, nullptr);
  ASSERT_OK(Store(*v, "foo"));
  int64_t writes = ops.writes.load();
  ASSERT_OK(Store(*v, "foo"));
  EXPECT_EQ(ops.writes.load(), writes);
  // A wrong body for an existing name is still refused.
  ASSERT_OK_AND_ASSIGN(auto writer, v->NewWriter(BlockHash::Of("foo")));
  ASSERT_OK(writer->Append("bar"));
  EXPECT_THAT(writer->Commit(), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(DirectoryVolumeTest, UuidPersistsAndTheDirectoryIsLocked) {
  std::string uuid;
  {
    auto v = OpenVolume();
    ASSERT_NE(v, nullptr);
    uuid = v->uuid();
    DirectoryVolumeOptions again;
    again.root = root_;
    EXPECT_THAT(DirectoryVolume::Open(again), StatusIs(StatusCode::kFailedPrecondition));
    MountInfo m = v->Mount();
    EXPECT_EQ(m.uuid, uuid);
    EXPECT_EQ(m.device_id, "local:" + root_);
    EXPECT_GT(m.bytes_total, 0u);
  }
  auto v = OpenVolume();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->uuid(), uuid);
}

}  // namespace
}  // namespace cairn::blockstore
