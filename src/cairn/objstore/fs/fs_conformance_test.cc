// The FileSystem conformance suite (fs_conformance.h): the contract of docs/filesystem.md,
// checked on LocalFileSystem and ObjectFileSystem over memory here, and on real object stores in
// tests/integration/fs_integration_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "cairn/objstore/fs/fs_conformance.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::fs {

using ::cairn::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

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

// "path" for files, "path/" for directories, as a listing gives them.
std::vector<std::string> Names(const std::vector<FileStatus>& entries) {
  std::vector<std::string> out;
  for (const FileStatus& e : entries) out.push_back(e.path + (e.is_directory() ? "/" : ""));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void FileSystemConformanceTest::SetUp() { ASSERT_OK_AND_ASSIGN(target_, GetParam().open()); }

void FileSystemConformanceTest::TearDown() {
  if (target_.cleanup) target_.cleanup();
}

Status FileSystemConformanceTest::WriteFile(std::string_view path, std::string_view data,
                                            uint64_t part_size) {
  CreateOptions options;
  if (part_size != 0) options.part_size = part_size;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> writer, fs().Create(path, options));
  // In uneven pieces, so that part boundaries fall inside writes.
  size_t piece = 1000;
  while (!data.empty()) {
    size_t n = std::min(piece, data.size());
    CAIRN_RETURN_IF_ERROR(writer->Write(data.substr(0, n)));
    data.remove_prefix(n);
    piece = piece * 3 + 7;
  }
  return writer->Close();
}

TEST_P(FileSystemConformanceTest, StatTellsFilesFromDirectories) {
  ASSERT_OK(WriteFile("a/b/file.txt", "hello"));
  ASSERT_OK_AND_ASSIGN(FileStatus file, fs().Stat("a/b/file.txt"));
  EXPECT_EQ(file.type, FileType::kFile);
  EXPECT_EQ(file.size, 5u);
  EXPECT_EQ(file.path, "a/b/file.txt");
  EXPECT_GT(file.last_modified, 1600000000);
  // Parents exist implicitly.
  ASSERT_OK_AND_ASSIGN(FileStatus a, fs().Stat("a"));
  EXPECT_TRUE(a.is_directory());
  ASSERT_OK_AND_ASSIGN(FileStatus b, fs().Stat("a/b/"));
  EXPECT_TRUE(b.is_directory());
  EXPECT_EQ(b.path, "a/b");
  ASSERT_OK_AND_ASSIGN(FileStatus root, fs().Stat(""));
  EXPECT_TRUE(root.is_directory());
  // A prefix of a name is not a directory; absent names are kNotFound.
  EXPECT_THAT(fs().Stat("a/b/file").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs().Stat("a/b/file.txt/x").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs().Stat("nothing").status(), StatusIs(StatusCode::kNotFound));
  // Malformed paths.
  for (const char* bad : {"/abs", "a/../b", "..", "a//b", "./a"}) {
    EXPECT_THAT(fs().Stat(bad).status(), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST_P(FileSystemConformanceTest, CreateWritesAndReplacesFiles) {
  std::string data = RandomBytes(100000, 1);
  ASSERT_OK(WriteFile("f.bin", data));
  ASSERT_OK_AND_ASSIGN(std::string got, target_.read("f.bin"));
  EXPECT_TRUE(got == data);
  // An empty file.
  ASSERT_OK(WriteFile("empty", ""));
  ASSERT_OK_AND_ASSIGN(FileStatus empty, fs().Stat("empty"));
  EXPECT_EQ(empty.type, FileType::kFile);
  EXPECT_EQ(empty.size, 0u);
  // Overwrite by default; refused without it.
  ASSERT_OK(WriteFile("f.bin", "short"));
  ASSERT_OK_AND_ASSIGN(got, target_.read("f.bin"));
  EXPECT_EQ(got, "short");
  EXPECT_THAT(fs().Create("f.bin", {.overwrite = false}).status(),
              StatusIs(StatusCode::kAlreadyExists));
  // A directory cannot be replaced by a file.
  ASSERT_OK(WriteFile("d/inner", "x"));
  EXPECT_THAT(fs().Create("d").status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(fs().Create("").status(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(FileSystemConformanceTest, OpenReadsWithSeeks) {
  std::string data = RandomBytes(300000, 4);
  ASSERT_OK(WriteFile("r/data.bin", data));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileReader> reader, fs().Open("r/data.bin"));
  EXPECT_EQ(reader->size(), data.size());
  // The footer first, then a range in the middle, then sequentially from a seek.
  std::string footer(8, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(data.size() - 8, footer));
  EXPECT_EQ(n, 8u);
  EXPECT_EQ(footer, data.substr(data.size() - 8));
  std::string middle(1000, '\0');
  ASSERT_OK_AND_ASSIGN(n, reader->ReadAt(123456, middle));
  EXPECT_EQ(middle, data.substr(123456, 1000));
  ASSERT_OK(reader->Seek(299000));
  std::string tail(5000, '\0');
  ASSERT_OK_AND_ASSIGN(n, reader->Read(tail));
  EXPECT_EQ(n, 1000u);
  EXPECT_EQ(tail.substr(0, n), data.substr(299000));
  ASSERT_OK_AND_ASSIGN(n, reader->Read(tail));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(reader->position(), data.size());
  EXPECT_THAT(reader->Seek(data.size() + 1), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(fs().Open("r").status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(fs().Open("r/absent").status(), StatusIs(StatusCode::kNotFound));
}

TEST_P(FileSystemConformanceTest, WriterWithoutCloseLeavesNothing) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileWriter> writer,
                         fs().Create("gone.bin", {.part_size = target_.part_size}));
    // Past one part, so object stores have begun a multipart upload.
    std::string data = RandomBytes(2 * target_.part_size + 10, 2);
    ASSERT_OK(writer->Write(data));
    EXPECT_EQ(writer->size(), data.size());
    EXPECT_THAT(fs().Stat("gone.bin").status(), StatusIs(StatusCode::kNotFound));
  }
  EXPECT_THAT(fs().Stat("gone.bin").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> all, ListAll(fs(), "", {.recursive = true}));
  EXPECT_THAT(Names(all), IsEmpty());
  if (target_.open_uploads) {
    EXPECT_EQ(target_.open_uploads(), 0u);
  }
}

TEST_P(FileSystemConformanceTest, MkdirsMakesEmptyDirectories) {
  ASSERT_OK(fs().Mkdirs("x/y/z"));
  for (const char* dir : {"x", "x/y", "x/y/z"}) {
    ASSERT_OK_AND_ASSIGN(FileStatus s, fs().Stat(dir));
    EXPECT_TRUE(s.is_directory()) << dir;
  }
  ASSERT_OK(fs().Mkdirs("x/y/z"));  // again: fine
  ASSERT_OK(fs().Mkdirs(""));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> x, ListAll(fs(), "x"));
  EXPECT_THAT(Names(x), ElementsAre("x/y/"));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> z, ListAll(fs(), "x/y/z"));
  EXPECT_THAT(z, IsEmpty());
  // Over a file, or below one.
  ASSERT_OK(WriteFile("file", "f"));
  EXPECT_THAT(fs().Mkdirs("file"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(fs().Mkdirs("file/sub"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(FileSystemConformanceTest, ListsOneLevelAndRecursively) {
  for (const char* path : {"t/a.txt", "t/b/c.txt", "t/b/d/e.txt", "t/f/g.txt", "t/z", "u"}) {
    ASSERT_OK(WriteFile(path, path));
  }
  ASSERT_OK(fs().Mkdirs("t/empty"));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> level, ListAll(fs(), "t"));
  EXPECT_THAT(Names(level), ElementsAre("t/a.txt", "t/b/", "t/empty/", "t/f/", "t/z"));
  for (const FileStatus& e : level) {
    if (e.path == "t/a.txt") {
      EXPECT_EQ(e.size, 7u);
    }
  }
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> all, ListAll(fs(), "t", {.recursive = true}));
  EXPECT_THAT(Names(all), ElementsAre("t/a.txt", "t/b/c.txt", "t/b/d/e.txt", "t/f/g.txt", "t/z"));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> root, ListAll(fs(), ""));
  EXPECT_THAT(Names(root), ElementsAre("t/", "u"));
  // Small pages give the same entries.
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> paged,
                       ListAll(fs(), "t", {.recursive = true, .page_size = 2}));
  EXPECT_EQ(Names(paged), Names(all));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> paged_level,
                       ListAll(fs(), "t/", {.recursive = false, .page_size = 1}));
  EXPECT_EQ(Names(paged_level), Names(level));
  // A file lists as itself; nothing lists as kNotFound.
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> one, ListAll(fs(), "t/a.txt"));
  EXPECT_THAT(Names(one), ElementsAre("t/a.txt"));
  EXPECT_THAT(ListAll(fs(), "t/nothing").status(), StatusIs(StatusCode::kNotFound));
}

TEST_P(FileSystemConformanceTest, RenamesFiles) {
  ASSERT_OK(WriteFile("src.txt", "payload"));
  ASSERT_OK(fs().Rename("src.txt", "moved/dst.txt"));  // the parent is implied
  EXPECT_THAT(fs().Stat("src.txt").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::string got, target_.read("moved/dst.txt"));
  EXPECT_EQ(got, "payload");
  // Onto an existing file: refused, both left as they were.
  ASSERT_OK(WriteFile("other.txt", "other"));
  EXPECT_THAT(fs().Rename("other.txt", "moved/dst.txt"), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(got, target_.read("moved/dst.txt"));
  EXPECT_EQ(got, "payload");
  // Into an existing directory: under its own name.
  ASSERT_OK(fs().Rename("other.txt", "moved"));
  ASSERT_OK_AND_ASSIGN(got, target_.read("moved/other.txt"));
  EXPECT_EQ(got, "other");
  // Onto itself: nothing happens. A missing source: kNotFound. The root: never.
  ASSERT_OK(fs().Rename("moved/other.txt", "moved/other.txt"));
  ASSERT_OK_AND_ASSIGN(got, target_.read("moved/other.txt"));
  EXPECT_EQ(got, "other");
  EXPECT_THAT(fs().Rename("absent", "x"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs().Rename("", "x"), StatusIs(StatusCode::kInvalidArgument));
  // Below a file: refused.
  EXPECT_THAT(fs().Rename("moved/other.txt", "moved/dst.txt/x"),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(FileSystemConformanceTest, RenamesDirectoriesOfManyFiles) {
  constexpr int kFiles = 200;
  for (int i = 0; i < kFiles; ++i) {
    std::string path = "src/d" + std::to_string(i % 5) + "/f" + std::to_string(i);
    ASSERT_OK(WriteFile(path, "file " + std::to_string(i)));
  }
  ASSERT_OK(fs().Mkdirs("src/empty"));
  EXPECT_THAT(fs().Rename("src", "src/inside"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs().Rename("src", "src"), StatusIs(StatusCode::kOk));
  ASSERT_OK(fs().Rename("src", "dst"));
  EXPECT_THAT(fs().Stat("src").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> moved, ListAll(fs(), "dst", {.recursive = true}));
  EXPECT_EQ(moved.size(), static_cast<size_t>(kFiles));
  for (int i : {0, 77, 199}) {
    std::string path = "dst/d" + std::to_string(i % 5) + "/f" + std::to_string(i);
    ASSERT_OK_AND_ASSIGN(std::string got, target_.read(path));
    EXPECT_EQ(got, "file " + std::to_string(i));
  }
  ASSERT_OK_AND_ASSIGN(FileStatus empty, fs().Stat("dst/empty"));
  EXPECT_TRUE(empty.is_directory());
  // Into an existing directory, under its own name; onto a file or an existing name: refused.
  ASSERT_OK(fs().Mkdirs("parent"));
  ASSERT_OK(fs().Rename("dst", "parent"));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> inside,
                       ListAll(fs(), "parent/dst", {.recursive = true}));
  EXPECT_EQ(inside.size(), static_cast<size_t>(kFiles));
  ASSERT_OK(WriteFile("plain", "p"));
  EXPECT_THAT(fs().Rename("parent/dst", "plain"), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(WriteFile("again/dst/x", "x"));
  EXPECT_THAT(fs().Rename("again/dst", "parent"), StatusIs(StatusCode::kAlreadyExists));
  // The source's parent stays, empty.
  ASSERT_OK(fs().Rename("again/dst", "elsewhere"));
  ASSERT_OK_AND_ASSIGN(FileStatus again, fs().Stat("again"));
  EXPECT_TRUE(again.is_directory());
}

TEST_P(FileSystemConformanceTest, DeletesFilesAndTrees) {
  constexpr int kFiles = 300;
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_OK(WriteFile("tree/s" + std::to_string(i % 7) + "/f" + std::to_string(i), "x"));
  }
  ASSERT_OK(WriteFile("keep/k", "k"));
  EXPECT_THAT(fs().Delete("tree"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(fs().Delete("", {}), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(fs().Delete("tree", {.recursive = true}));
  EXPECT_THAT(fs().Stat("tree").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> left, ListAll(fs(), "", {.recursive = true}));
  EXPECT_THAT(Names(left), ElementsAre("keep/k"));
  // A file; then its parent stays as an empty directory, which deletes without recursion.
  ASSERT_OK(fs().Delete("keep/k"));
  ASSERT_OK_AND_ASSIGN(FileStatus keep, fs().Stat("keep"));
  EXPECT_TRUE(keep.is_directory());
  ASSERT_OK(fs().Delete("keep"));
  EXPECT_THAT(fs().Stat("keep").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs().Delete("keep"), StatusIs(StatusCode::kNotFound));
  // The root's contents go; the root stays.
  ASSERT_OK(WriteFile("r/1", "1"));
  ASSERT_OK(WriteFile("r2", "2"));
  ASSERT_OK(fs().Delete("", {.recursive = true}));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> none, ListAll(fs(), ""));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK(fs().Stat("").status());
}

TEST_P(FileSystemConformanceTest, LargeFilesInPartsThenRenamed) {
  const uint64_t part = target_.part_size;
  std::string data = RandomBytes(3 * part + part / 2 + 3, 3);
  ASSERT_OK(WriteFile("big/data.bin", data, part));
  ASSERT_OK_AND_ASSIGN(FileStatus big, fs().Stat("big/data.bin"));
  EXPECT_EQ(big.size, data.size());
  ASSERT_OK(WriteFile("big/small", "s"));
  // The directory (a large file and a small one), then the large file alone.
  ASSERT_OK(fs().Rename("big", "renamed"));
  ASSERT_OK_AND_ASSIGN(std::string got, target_.read("renamed/data.bin"));
  EXPECT_TRUE(got == data);
  ASSERT_OK(fs().Rename("renamed/data.bin", "final.bin"));
  ASSERT_OK_AND_ASSIGN(got, target_.read("final.bin"));
  EXPECT_TRUE(got == data);
  // Read back through Open, across part boundaries.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileReader> reader,
                       fs().Open("final.bin", {.policy = ReadPolicy::kSequential}));
  std::string through(data.size(), '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, reader->Read(through));
  EXPECT_EQ(n, data.size());
  EXPECT_TRUE(through == data);
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> all, ListAll(fs(), "", {.recursive = true}));
  EXPECT_THAT(Names(all), ElementsAre("final.bin", "renamed/small"));
  ASSERT_OK(fs().Delete("final.bin"));
  if (target_.open_uploads) {
    EXPECT_EQ(target_.open_uploads(), 0u);
  }
}

}  // namespace cairn::objstore::fs
