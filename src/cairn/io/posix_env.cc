// The POSIX Env (see env.h).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "cairn/io/env.h"

namespace cairn::io {
namespace {

// Closes a file descriptor on scope exit.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error close() returns (it can carry a deferred write error).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

class MappedContents : public FileContents {
 public:
  MappedContents(void* base, size_t size) : base_(base), size_(size) {}
  ~MappedContents() override { ::munmap(base_, size_); }
  std::string_view data() const override {
    return std::string_view(static_cast<const char*>(base_), size_);
  }

 private:
  void* base_;
  size_t size_;
};

class StringContents : public FileContents {
 public:
  explicit StringContents(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string_view data() const override { return bytes_; }

 private:
  std::string bytes_;
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class PosixEnv : public Env {
 public:
  Result<std::unique_ptr<FileContents>> ReadFile(const std::string& path) override {
    ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return ErrnoError("open " + path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path, errno);
    if (S_ISDIR(st.st_mode)) return InvalidArgumentError(path + " is a directory, not a file");
    if (S_ISREG(st.st_mode)) {
      if (st.st_size == 0) return std::unique_ptr<FileContents>(new StringContents(""));
      size_t size = static_cast<size_t>(st.st_size);
      void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
      if (base != MAP_FAILED) {
        // Whole-file readers go front to back: let the kernel read ahead aggressively.
        ::madvise(base, size, MADV_SEQUENTIAL | MADV_WILLNEED);
        return std::unique_ptr<FileContents>(new MappedContents(base, size));
      }
    }
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadAllFromFd(fd.get(), path));
    return std::unique_ptr<FileContents>(new StringContents(std::move(bytes)));
  }

  Status WriteFileAtomically(const std::string& path, std::string_view data) override {
    std::string tmp = path + ".tmp-XXXXXX";
    ScopedFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (fd.get() < 0) return ErrnoError("create temporary file for " + path, errno);
    Status status = WriteAll(fd.get(), data, tmp);
    if (status.ok() && ::fsync(fd.get()) != 0) status = ErrnoError("fsync " + tmp, errno);
    if (status.ok() && fd.Close() != 0) status = ErrnoError("close " + tmp, errno);
    if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
      status = ErrnoError("rename " + tmp + " to " + path, errno);
    }
    if (!status.ok()) {
      ::unlink(tmp.c_str());
      return status;
    }
    std::string dir = DirName(path);
    ScopedFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0) return ErrnoError("open directory " + dir, errno);
    if (::fsync(dir_fd.get()) != 0) return ErrnoError("fsync directory " + dir, errno);
    return Status();
  }

  int64_t NowUnixSeconds() override { return NowUnixMicros() / 1000000; }

  int64_t NowUnixMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void SleepForMicros(int64_t micros) override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: used until exit
  return env;
}

Result<std::string> ReadAllFromFd(int fd, std::string_view what) {
  std::string out;
  constexpr size_t kChunk = size_t{1} << 20;
  for (;;) {
    size_t at = out.size();
    out.resize(at + kChunk);
    ssize_t n = ::read(fd, out.data() + at, kChunk);
    if (n < 0) {
      out.resize(at);
      if (errno == EINTR) continue;
      return ErrnoError("read " + std::string(what), errno);
    }
    out.resize(at + static_cast<size_t>(n));
    if (n == 0) break;
  }
  return out;
}

}  // namespace cairn::io
