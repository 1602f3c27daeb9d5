#include "cairn/objstore/fs/local_file_system.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cairn/objstore/fs/fs_conformance.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::fs {
namespace {

using ::cairn::testing::StatusIs;
namespace stdfs = std::filesystem;

std::string MakeTempDir() {
  std::string pattern = (stdfs::temp_directory_path() / "cairn-fs-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  return made == nullptr ? "" : std::string(made);
}

Result<std::string> ReadLocal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct LocalOwner {
  std::string dir;
  std::unique_ptr<LocalFileSystem> fs;
};

FsTarget LocalTarget() {
  return {"local", []() -> Result<FsUnderTest> {
            auto owner = std::make_shared<LocalOwner>();
            owner->dir = MakeTempDir();
            if (owner->dir.empty()) return InternalError("mkdtemp failed");
            CAIRN_ASSIGN_OR_RETURN(owner->fs, LocalFileSystem::OpenRoot(owner->dir));
            FsUnderTest target;
            target.fs = owner->fs.get();
            std::string root = owner->fs->root();
            target.read = [root](std::string_view path) {
              return ReadLocal(root + "/" + std::string(path));
            };
            target.part_size = 1000;
            target.cleanup = [dir = owner->dir] {
              std::error_code ec;
              stdfs::remove_all(dir, ec);
            };
            target.owner = owner;
            return target;
          }};
}

INSTANTIATE_TEST_SUITE_P(Local, FileSystemConformanceTest, ::testing::Values(LocalTarget()),
                         [](const auto& p) { return p.param.name; });

class LocalFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    ASSERT_FALSE(base_.empty());
    stdfs::create_directories(base_ + "/root");
    stdfs::create_directories(base_ + "/outside");
    std::ofstream(base_ + "/outside/secret") << "secret";
    ASSERT_OK_AND_ASSIGN(fs_, LocalFileSystem::OpenRoot(base_ + "/root"));
  }
  void TearDown() override {
    std::error_code ec;
    stdfs::remove_all(base_, ec);
  }

  std::string base_;
  std::unique_ptr<LocalFileSystem> fs_;
};

TEST_F(LocalFileSystemTest, PathsNeverLeaveTheRoot) {
  for (const char* bad : {"../outside/secret", "/etc/passwd", "a/../../outside", "..", "."}) {
    EXPECT_THAT(fs_->Stat(bad).status(), StatusIs(StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(fs_->Create(bad).status(), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  // A symlink out of the root is refused for every operation, also as a parent.
  stdfs::create_directory_symlink(base_ + "/outside", base_ + "/root/out");
  EXPECT_THAT(fs_->Stat("out/secret").status(), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(fs_->Stat("out").status(), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(fs_->Create("out/new").status(), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(fs_->Mkdirs("out/dir"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(fs_->Rename("out/secret", "stolen"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(fs_->Delete("out/secret"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_TRUE(stdfs::exists(base_ + "/outside/secret"));
  // Listings skip it; deleting the tree removes the link, not what it points to.
  ASSERT_OK(fs_->Mkdirs("d"));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> all, ListAll(*fs_, "", {.recursive = true}));
  EXPECT_TRUE(all.empty());
  ASSERT_OK(fs_->Delete("", {.recursive = true}));
  EXPECT_TRUE(stdfs::exists(base_ + "/outside/secret"));
  std::error_code ec;
  EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(base_ + "/root/out", ec)));
}

TEST_F(LocalFileSystemTest, SymlinksInsideTheRootAreFollowed) {
  stdfs::create_directories(base_ + "/root/real");
  std::ofstream(base_ + "/root/real/f") << "inside";
  stdfs::create_directory_symlink(base_ + "/root/real", base_ + "/root/alias");
  ASSERT_OK_AND_ASSIGN(FileStatus f, fs_->Stat("alias/f"));
  EXPECT_EQ(f.size, 6u);
}

TEST_F(LocalFileSystemTest, PartialFilesAreNeverVisible) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileWriter> writer, fs_->Create("dir/file"));
  ASSERT_OK(writer->Write("partial"));
  EXPECT_THAT(fs_->Stat("dir/file").status(), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<FileStatus> listed, ListAll(*fs_, "dir"));
  EXPECT_TRUE(listed.empty());  // the temporary file is hidden
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(FileStatus done, fs_->Stat("dir/file"));
  EXPECT_EQ(done.size, 7u);
  EXPECT_THAT(writer->Close(), StatusIs(StatusCode::kFailedPrecondition));
  // Two writers without overwrite: the second to close loses.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileWriter> a, fs_->Create("race", {.overwrite = false}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileWriter> b, fs_->Create("race", {.overwrite = false}));
  ASSERT_OK(a->Write("a"));
  ASSERT_OK(b->Write("b"));
  ASSERT_OK(a->Close());
  EXPECT_THAT(b->Close(), StatusIs(StatusCode::kAlreadyExists));
  b.reset();
  size_t entries = 0;
  for (const auto& e : stdfs::directory_iterator(base_ + "/root")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2u);  // dir and race; no temporary file left
}

}  // namespace
}  // namespace cairn::objstore::fs
