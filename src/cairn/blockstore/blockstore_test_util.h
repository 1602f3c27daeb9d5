// Test helpers of the blockstore module: a temporary directory, pattern bytes, and a FileOps that
// injects faults (a full disk, a crash before the rename). For tests only.
//
// Thread safety: FaultInjectingFileOps may be used from many threads (its knobs are atomics; set
// them before the calls they should affect). TempDir is not thread-safe.
#ifndef CAIRN_BLOCKSTORE_BLOCKSTORE_TEST_UTIL_H_
#define CAIRN_BLOCKSTORE_BLOCKSTORE_TEST_UTIL_H_

#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cairn/blockstore/file_ops.h"
#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::blockstore {

// A directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/cairn-blockstore-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) != nullptr) path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Bytes i % 251 (a prime, so shifted or repeated pieces change the hash).
inline std::string PatternBytes(size_t size, uint64_t offset = 0) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((offset + i) % 251);
  return out;
}

// FileOps::Default() with faults switched on by the knobs below.
class FaultInjectingFileOps final : public FileOps {
 public:
  std::atomic<bool> fail_rename{false};         // rename fails with EIO
  std::atomic<bool> keep_temp_files{false};     // unlink of "tmp…" files does nothing (a crash)
  std::atomic<int64_t> enospc_after_bytes{-1};  // writes fail with ENOSPC past this many bytes
  std::atomic<int64_t> free_bytes{-1};          // FreeBytes reports this when >= 0
  std::atomic<int64_t> writes{0};               // WriteAt calls so far
  std::atomic<int64_t> bytes_written{0};

  Result<int> Open(const std::string& path, int flags, int mode) override {
    return base_->Open(path, flags, mode);
  }
  Result<size_t> WriteAt(int fd, const void* data, size_t size, uint64_t offset) override {
    ++writes;
    int64_t limit = enospc_after_bytes.load();
    if (limit >= 0 && bytes_written.load() + static_cast<int64_t>(size) > limit) {
      return ErrnoError("write", ENOSPC);
    }
    Result<size_t> n = base_->WriteAt(fd, data, size, offset);
    if (n.ok()) bytes_written += static_cast<int64_t>(*n);
    return n;
  }
  Result<size_t> ReadAt(int fd, void* out, size_t size, uint64_t offset) override {
    return base_->ReadAt(fd, out, size, offset);
  }
  Status Truncate(int fd, uint64_t size) override { return base_->Truncate(fd, size); }
  Status DataSync(int fd) override { return base_->DataSync(fd); }
  Status Close(int fd) override { return base_->Close(fd); }
  Result<FileInfo> StatFd(int fd) override { return base_->StatFd(fd); }
  Status LockExclusive(int fd) override { return base_->LockExclusive(fd); }
  Result<FileInfo> Stat(const std::string& path) override { return base_->Stat(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    if (fail_rename.load()) return ErrnoError("rename to " + to, EIO);
    return base_->Rename(from, to);
  }
  Status Unlink(const std::string& path) override {
    if (keep_temp_files.load() &&
        std::filesystem::path(path).filename().string().starts_with("tmp")) {
      return Status::OK();
    }
    return base_->Unlink(path);
  }
  Status Touch(const std::string& path) override { return base_->Touch(path); }
  Status MakeDir(const std::string& path) override { return base_->MakeDir(path); }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Result<uint64_t> FreeBytes(const std::string& path) override {
    int64_t f = free_bytes.load();
    if (f >= 0) return static_cast<uint64_t>(f);
    return base_->FreeBytes(path);
  }
  Result<uint64_t> TotalBytes(const std::string& path) override { return base_->TotalBytes(path); }

 private:
  FileOps* const base_ = FileOps::Default();
};

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_BLOCKSTORE_TEST_UTIL_H_
