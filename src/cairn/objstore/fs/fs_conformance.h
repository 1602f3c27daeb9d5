// One conformance suite for every FileSystem (STYLE.md §7): fs_conformance_test.cc holds the
// tests; each binary instantiates them for its file systems:
//
//   INSTANTIATE_TEST_SUITE_P(Local, FileSystemConformanceTest,
//                            ::testing::Values(FsTarget{"local", [] { ... }}));
//
// The unit tests run it on LocalFileSystem and on ObjectFileSystem over MemObjectStore;
// tests/integration/fs_integration_test.cc on S3 (Ceph RGW), Swift on RGW and Swift all-in-one.
#ifndef CAIRN_OBJSTORE_FS_FS_CONFORMANCE_H_
#define CAIRN_OBJSTORE_FS_FS_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/objstore/fs/file_system.h"

namespace cairn::objstore::fs {

// A fresh, empty file system under test and what the suite needs to know about it.
struct FsUnderTest {
  std::shared_ptr<void> owner;  // keeps the file system and what it uses alive
  FileSystem* fs = nullptr;
  // The bytes of a file, read beside the file system (a witness independent of Open).
  std::function<Result<std::string>(std::string_view path)> read;
  // Part size for the multipart tests (the store's minimum, or a small one it allows).
  uint64_t part_size = 5 << 20;
  // Uploads neither completed nor aborted (MemObjectStore); empty when unknown.
  std::function<size_t()> open_uploads;
  // Removes what the test left (a container, a directory); may be empty.
  std::function<void()> cleanup;
};

struct FsTarget {
  std::string name;
  std::function<Result<FsUnderTest>()> open;
};

inline std::ostream& operator<<(std::ostream& os, const FsTarget& target) {
  return os << target.name;
}

class FileSystemConformanceTest : public ::testing::TestWithParam<FsTarget> {
 protected:
  void SetUp() override;
  void TearDown() override;

  FileSystem& fs() { return *target_.fs; }
  // Writes `data` to `path` through Create (parts of `part_size` when given).
  Status WriteFile(std::string_view path, std::string_view data, uint64_t part_size = 0);

  FsUnderTest target_;
};

}  // namespace cairn::objstore::fs

#endif  // CAIRN_OBJSTORE_FS_FS_CONFORMANCE_H_
