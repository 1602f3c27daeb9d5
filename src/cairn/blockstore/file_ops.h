// FileOps: the file-system calls a DirectoryVolume makes, behind an interface so that tests can
// inject faults (a full disk, a crash before the rename) the way leveldb tests wrap its Env.
//
// io::Env covers whole-file reads and atomic whole-file writes; a volume streams blocks in pieces
// through file descriptors, so it needs these narrower calls. Errors come from ErrnoError: they
// name the path and carry errno (ENOSPC -> kResourceExhausted, ENOENT -> kNotFound, ...).
//
// Thread safety: every method may be called concurrently. Default() lives for the whole process.
#ifndef CAIRN_BLOCKSTORE_FILE_OPS_H_
#define CAIRN_BLOCKSTORE_FILE_OPS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::blockstore {

struct FileInfo {
  uint64_t size = 0;
  int64_t mtime_nanos = 0;  // since the Unix epoch
  bool is_directory = false;
};

class FileOps {
 public:
  virtual ~FileOps() = default;

  // The POSIX implementation.
  static FileOps* Default();

  // open(2); returns the descriptor, which the caller closes with Close.
  virtual Result<int> Open(const std::string& path, int flags, int mode) = 0;
  // pwrite(2)/pread(2) of up to `size` bytes; short counts are possible (as in POSIX).
  virtual Result<size_t> WriteAt(int fd, const void* data, size_t size, uint64_t offset) = 0;
  virtual Result<size_t> ReadAt(int fd, void* out, size_t size, uint64_t offset) = 0;
  virtual Status Truncate(int fd, uint64_t size) = 0;
  virtual Status DataSync(int fd) = 0;
  virtual Status Close(int fd) = 0;
  virtual Result<FileInfo> StatFd(int fd) = 0;
  // Takes an exclusive advisory lock (flock) on `fd` without waiting: kFailedPrecondition when
  // another process holds it.
  virtual Status LockExclusive(int fd) = 0;

  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Unlink(const std::string& path) = 0;
  // Sets the modification time to now.
  virtual Status Touch(const std::string& path) = 0;
  // mkdir(2); OK when the directory already exists.
  virtual Status MakeDir(const std::string& path) = 0;
  // fsync of a directory, so that a rename into it is durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Names in a directory, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Bytes available to unprivileged users on the file system holding `path` (statvfs).
  virtual Result<uint64_t> FreeBytes(const std::string& path) = 0;
  // Bytes of the file system holding `path`.
  virtual Result<uint64_t> TotalBytes(const std::string& path) = 0;
};

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_FILE_OPS_H_
