#include "cairn/blockstore/file_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace cairn::blockstore {
namespace {

FileInfo InfoOf(const struct stat& st) {
  FileInfo info;
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_nanos = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  info.is_directory = S_ISDIR(st.st_mode);
  return info;
}

class PosixFileOps final : public FileOps {
 public:
  Result<int> Open(const std::string& path, int flags, int mode) override {
    int fd;
    do {
      fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError("open " + path, errno);
    return fd;
  }

  Result<size_t> WriteAt(int fd, const void* data, size_t size, uint64_t offset) override {
    ssize_t n;
    do {
      n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError("write", errno);
    return static_cast<size_t>(n);
  }

  Result<size_t> ReadAt(int fd, void* out, size_t size, uint64_t offset) override {
    ssize_t n;
    do {
      n = ::pread(fd, out, size, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError("read", errno);
    return static_cast<size_t>(n);
  }

  Status Truncate(int fd, uint64_t size) override {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return ErrnoError("truncate", errno);
    return Status::OK();
  }

  Status DataSync(int fd) override {
    if (::fdatasync(fd) != 0) return ErrnoError("fdatasync", errno);
    return Status::OK();
  }

  Status Close(int fd) override {
    // POSIX leaves the descriptor state unspecified after EINTR; Linux has closed it: no retry.
    if (::close(fd) != 0 && errno != EINTR) return ErrnoError("close", errno);
    return Status::OK();
  }

  Result<FileInfo> StatFd(int fd) override {
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoError("fstat", errno);
    return InfoOf(st);
  }

  Status LockExclusive(int fd) override {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Status::OK();
    if (errno == EWOULDBLOCK) return FailedPreconditionError("locked by another process");
    return ErrnoError("flock", errno);
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat " + path, errno);
    return InfoOf(st);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("rename to " + to, errno);
    return Status::OK();
  }

  Status Unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoError("unlink " + path, errno);
    return Status::OK();
  }

  Status Touch(const std::string& path) override {
    if (::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) != 0) {
      return ErrnoError("touch " + path, errno);
    }
    return Status::OK();
  }

  Status MakeDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError("mkdir " + path, errno);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(int fd, Open(path, O_RDONLY | O_DIRECTORY, 0));
    Status s;
    if (::fsync(fd) != 0) s = ErrnoError("fsync " + path, errno);
    Close(fd).IgnoreError();
    return s;
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
    if (!dir) return ErrnoError("list " + path, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(dir.get())) {
      std::string_view name(e->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    if (errno != 0) return ErrnoError("list " + path, errno);
    return names;
  }

  Result<uint64_t> FreeBytes(const std::string& path) override {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) return ErrnoError("statvfs " + path, errno);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  Result<uint64_t> TotalBytes(const std::string& path) override {
    struct statvfs st;
    if (::statvfs(path.c_str(), &st) != 0) return ErrnoError("statvfs " + path, errno);
    return static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  }
};

}  // namespace

FileOps* FileOps::Default() {
  static PosixFileOps* ops = new PosixFileOps();
  return ops;
}

}  // namespace cairn::blockstore
