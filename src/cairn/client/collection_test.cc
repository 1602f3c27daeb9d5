#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "cairn/client/collection_reader.h"
#include "cairn/client/collection_writer.h"
#include "cairn/client/fake_cluster_internal.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/http_test_server.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::client {
namespace {

namespace fs = std::filesystem;
using ::cairn::testing::HttpTestServer;
using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;
using KeepCluster = internal::FakeCluster<HttpTestServer, testing::FakeEnv>;

// A fresh directory under the test temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cairn-client-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void WriteFile(const fs::path& path, const std::string& data) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::string ReadLocal(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string ReadCollectionFile(const CollectionReader& reader, const std::string& path) {
  auto file = reader.OpenFile(path);
  EXPECT_OK(file.status());
  if (!file.ok()) return "";
  std::string out;
  EXPECT_OK((*file)->ReadAll([&](std::string_view piece) {
    out.append(piece);
    return Status();
  }));
  return out;
}

TEST(CollectionTest, RoundTripsOddNamesAndSizes) {
  KeepCluster cluster(2);
  TempDir src;
  std::map<std::string, std::string> files = {
      {"empty", ""},
      {"one byte", "x"},
      {"exact block", Bytes(1024, 1)},
      {"block plus one", Bytes(1025, 2)},
      {"dir/with:colon", Bytes(10, 3)},
      {"dir/back\\slash", Bytes(20, 4)},
      {"dir/tab\there", Bytes(30, 5)},
      {"dir/sub/ünïcødé ✓", Bytes(3000, 6)},
  };
  for (const auto& [name, data] : files) WriteFile(fs::path(src.path()) / name, data);
  fs::create_directories(fs::path(src.path()) / "empty dir");
  CollectionWriter writer(&cluster.keep(), &cluster.env(),
                          {.block_size = 1024, .threads = 3, .replication = 2});
  ASSERT_OK(writer.Add(src.path(), ""));
  ASSERT_OK_AND_ASSIGN(Collection saved, writer.Finish(&cluster.catalog_client(), "odd names"));
  EXPECT_EQ(saved.name, "odd names");
  for (const std::string& id : {saved.uuid, saved.portable_data_hash}) {
    ASSERT_OK_AND_ASSIGN(auto reader,
                         CollectionReader::Open(&cluster.catalog_client(), &cluster.keep(), id));
    for (const auto& [name, data] : files) {
      EXPECT_EQ(ReadCollectionFile(*reader, name), data) << name;
    }
    ASSERT_OK_AND_ASSIGN(auto entries, reader->List("", /*recursive=*/true));
    std::map<std::string, uint64_t> sizes;
    for (const auto& e : entries) sizes[e.path] = e.size;
    EXPECT_EQ(sizes["block plus one"], 1025u);
    EXPECT_EQ(sizes["dir"], 60u + 3000u);
    EXPECT_TRUE(sizes.contains("empty dir"));
  }
  // Every block on both services.
  EXPECT_EQ(cluster.store(0).block_count(), cluster.store(1).block_count());
}

TEST(CollectionTest, PacksSmallFilesAndAlignsLargeOnes) {
  KeepCluster cluster(1);
  TempDir src;
  for (int i = 0; i < 10; ++i) {
    WriteFile(fs::path(src.path()) / ("small" + std::to_string(i)), Bytes(50, i));
  }
  WriteFile(fs::path(src.path()) / "zbig", Bytes(600, 99));  // >= half a block: its own block
  CollectionWriter writer(&cluster.keep(), &cluster.env(), {.block_size = 1024, .replication = 1});
  ASSERT_OK(writer.Add(src.path(), ""));
  ASSERT_OK_AND_ASSIGN(std::string text, writer.Write());
  ASSERT_OK_AND_ASSIGN(auto m, manifest::Manifest::Parse(text));
  ASSERT_EQ(m.blocks().size(), 2u);
  EXPECT_EQ(m.blocks()[0].size(), 500u);
  EXPECT_EQ(m.blocks()[1].size(), 600u);
  EXPECT_EQ(cluster.store(0).counts().puts, 2);
}

TEST(CollectionTest, ExactlySixtyFourMebibytesPlusOne) {
  KeepCluster cluster(1);
  TempDir src;
  const std::string data = Bytes(manifest::kMaxBlockSize + 1, 7);
  WriteFile(fs::path(src.path()) / "big", data);
  CollectionWriter writer(&cluster.keep(), &cluster.env(), {.replication = 1});
  ASSERT_OK(writer.Add((fs::path(src.path()) / "big").string(), "big"));
  ASSERT_OK_AND_ASSIGN(std::string text, writer.Write());
  ASSERT_OK_AND_ASSIGN(auto reader, CollectionReader::FromManifest(&cluster.keep(), text));
  ASSERT_EQ(reader->manifest().blocks().size(), 2u);
  EXPECT_EQ(reader->manifest().blocks()[0].size(), manifest::kMaxBlockSize);
  EXPECT_EQ(reader->manifest().blocks()[1].size(), 1u);
  EXPECT_TRUE(ReadCollectionFile(*reader, "big") == data);
}

TEST(CollectionTest, RandomAccessReadsAcrossBlocks) {
  KeepCluster cluster(1);
  TempDir src;
  const std::string data = Bytes(10'000, 8);
  WriteFile(fs::path(src.path()) / "f", data);
  CollectionWriter writer(&cluster.keep(), &cluster.env(), {.block_size = 1000, .replication = 1});
  ASSERT_OK(writer.Add(src.path(), ""));
  ASSERT_OK_AND_ASSIGN(std::string text, writer.Write());
  ASSERT_OK_AND_ASSIGN(auto reader, CollectionReader::FromManifest(&cluster.keep(), text));
  ASSERT_OK_AND_ASSIGN(auto file, reader->OpenFile("f"));
  EXPECT_EQ(file->size(), data.size());
  for (uint64_t offset : {0u, 999u, 1000u, 4321u, 9990u}) {
    std::string buf(1500, '\0');
    ASSERT_OK_AND_ASSIGN(size_t n, file->ReadAt(offset, std::span<char>(buf)));
    EXPECT_EQ(n, std::min<uint64_t>(1500, data.size() - offset));
    EXPECT_EQ(buf.substr(0, n), data.substr(offset, n)) << offset;
  }
  ASSERT_OK(file->Seek(9000));
  std::string tail(5000, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, file->Read(std::span<char>(tail)));
  EXPECT_EQ(n, 1000u);
  EXPECT_EQ(tail.substr(0, n), data.substr(9000));
  EXPECT_THAT(file->Seek(10'001), StatusIs(StatusCode::kOutOfRange));
}

TEST(CollectionTest, ResumeSendsNoFinishedBlockAgain) {
  KeepCluster cluster(1);
  TempDir src;
  for (int i = 0; i < 8; ++i) {
    WriteFile(fs::path(src.path()) / ("f" + std::to_string(i)), Bytes(1000, 100 + i));
  }
  const std::string cache = src.path() + "/../resume-cache";  // in FakeEnv's memory
  CollectionWriterOptions options{
      .block_size = 1000, .threads = 1, .replication = 1, .resume_cache_path = cache};
  options.progress = [&](const WriteProgress& p) {
    if (p.bytes_done >= 3000) cluster.store(0).FailNext(503, -1);  // "interrupted" after 3 blocks
  };
  {
    CollectionWriter writer(&cluster.keep(), &cluster.env(), options);
    ASSERT_OK(writer.Add(src.path(), ""));
    EXPECT_THAT(writer.Write(), StatusIs(StatusCode::kUnavailable));
    EXPECT_EQ(writer.stats().blocks_uploaded, 3);
  }
  cluster.store(0).FailNext(0, 0);
  // One file changes between the runs: its block is sent again, the other finished ones not.
  WriteFile(fs::path(src.path()) / "f1", Bytes(1000, 555));
  ::utimensat(AT_FDCWD, (src.path() + "/f1").c_str(), nullptr, 0);
  const int puts_before = cluster.store(0).counts().puts;
  options.progress = nullptr;
  CollectionWriter writer(&cluster.keep(), &cluster.env(), options);
  ASSERT_OK(writer.Add(src.path(), ""));
  ASSERT_OK_AND_ASSIGN(Collection saved, writer.Finish(&cluster.catalog_client(), ""));
  EXPECT_EQ(writer.stats().blocks_resumed, 2);
  EXPECT_EQ(writer.stats().blocks_uploaded, 6);
  EXPECT_EQ(cluster.store(0).counts().puts - puts_before, 6);
  ASSERT_OK_AND_ASSIGN(
      auto reader, CollectionReader::Open(&cluster.catalog_client(), &cluster.keep(), saved.uuid));
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(ReadCollectionFile(*reader, "f" + std::to_string(i)),
              ReadLocal(fs::path(src.path()) / ("f" + std::to_string(i))));
  }
}

TEST(CollectionTest, DownloadWritesTreeAndSingleFiles) {
  KeepCluster cluster(1);
  TempDir src, dest;
  WriteFile(fs::path(src.path()) / "a/b/c.txt", "deep");
  WriteFile(fs::path(src.path()) / "top name", "top");
  CollectionWriter writer(&cluster.keep(), &cluster.env(), {.replication = 1});
  ASSERT_OK(writer.Add(src.path(), ""));
  ASSERT_OK_AND_ASSIGN(std::string text, writer.Write());
  ASSERT_OK_AND_ASSIGN(auto reader, CollectionReader::FromManifest(&cluster.keep(), text));
  ASSERT_OK_AND_ASSIGN(DownloadStats stats, DownloadTree(*reader, "", dest.path() + "/all"));
  EXPECT_EQ(stats.files, 2u);
  EXPECT_EQ(ReadLocal(dest.path() + "/all/a/b/c.txt"), "deep");
  EXPECT_EQ(ReadLocal(dest.path() + "/all/top name"), "top");
  ASSERT_OK(DownloadTree(*reader, "a/b/c.txt", dest.path()).status());
  EXPECT_EQ(ReadLocal(dest.path() + "/c.txt"), "deep");
  ASSERT_OK(DownloadTree(*reader, "top name", dest.path() + "/renamed").status());
  EXPECT_EQ(ReadLocal(dest.path() + "/renamed"), "top");
  for (const auto& entry : fs::recursive_directory_iterator(dest.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".cairn-tmp"), std::string::npos);
  }
}

TEST(CollectionTest, DownloadRefusesToEscapeThroughSymlinks) {
  KeepCluster cluster(1);
  TempDir src, dest, outside;
  WriteFile(fs::path(src.path()) / "a/x", "payload");
  CollectionWriter writer(&cluster.keep(), &cluster.env(), {.replication = 1});
  ASSERT_OK(writer.Add(src.path(), ""));
  ASSERT_OK_AND_ASSIGN(std::string text, writer.Write());
  ASSERT_OK_AND_ASSIGN(auto reader, CollectionReader::FromManifest(&cluster.keep(), text));
  fs::create_symlink(outside.path(), fs::path(dest.path()) / "a");
  EXPECT_THAT(DownloadTree(*reader, "", dest.path()),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("symbolic link")));
  EXPECT_FALSE(fs::exists(fs::path(outside.path()) / "x"));
}

TEST(CollectionTest, CheckRelativePathRefusesEscapes) {
  EXPECT_OK(CheckRelativePath("a/b c/d"));
  for (const char* bad : {"../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", ""}) {
    EXPECT_THAT(CheckRelativePath(bad), StatusIs(StatusCode::kPermissionDenied)) << bad;
  }
}

TEST(CollectionTest, ResumeCachePathDependsOnInputs) {
  std::string a = ResumeCachePath("/c", "http://h:1", {"/x", "/y"}, 1024, 2);
  EXPECT_EQ(a, ResumeCachePath("/c", "http://h:1", {"/x", "/y"}, 1024, 2));
  EXPECT_NE(a, ResumeCachePath("/c", "http://h:1", {"/x"}, 1024, 2));
  EXPECT_NE(a, ResumeCachePath("/c", "http://h:1", {"/x", "/y"}, 1024, 3));
  EXPECT_TRUE(a.starts_with("/c/"));
}

}  // namespace
}  // namespace cairn::client
