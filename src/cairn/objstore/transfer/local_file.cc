#include "cairn/objstore/transfer/local_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace cairn::objstore::transfer {
namespace {

// Reads until `out` is full or end of file, with pread at `offset` or read when offset < 0.
Result<size_t> ReadFull(int fd, int64_t offset, std::span<char> out, const std::string& what) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = offset >= 0 ? ::pread(fd, out.data() + done, out.size() - done,
                                      offset + static_cast<int64_t>(done))
                            : ::read(fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + what, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// O_DIRECT wants buffers, offsets and lengths aligned to the logical block size; 4 KiB covers
// every common device (512-byte and 4 KiB sectors).
constexpr size_t kDirectAlignment = 4096;

}  // namespace

Status WriteAllToFd(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + std::string(what), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

// --- FileSource

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  int fd = 0;
  bool owned = false;
  std::string name = path == "-" ? "standard input" : path;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open " + path, errno);
    owned = true;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoError("stat " + name, errno);
    if (owned) ::close(fd);
    return s;
  }
  if (S_ISDIR(st.st_mode)) {
    if (owned) ::close(fd);
    return InvalidArgumentError(name + " is a directory (use -r)");
  }
  bool regular = S_ISREG(st.st_mode);
  std::optional<uint64_t> size;
  if (regular) {
    size = static_cast<uint64_t>(st.st_size);
    // Sequential reads of the whole file: ask the kernel for a large readahead.
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, owned, name, size, regular));
}

FileSource::~FileSource() {
  if (owned_) ::close(fd_);
}

Result<size_t> FileSource::ReadAt(uint64_t offset, std::span<char> out) {
  if (!seekable_) return FailedPreconditionError(name_ + " cannot be read at an offset");
  return ReadFull(fd_, static_cast<int64_t>(offset), out, name_);
}

Result<size_t> FileSource::Read(std::span<char> out) {
  CAIRN_ASSIGN_OR_RETURN(
      size_t n, ReadFull(fd_, seekable_ ? static_cast<int64_t>(position_) : -1, out, name_));
  position_ += n;
  return n;
}

// --- FileSink

Result<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path) {
  std::string temp = DirName(path) + "/." + BaseName(path) + ".cairn-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("create a temporary file for " + path, errno);
  // File systems without O_DIRECT (tmpfs, some FUSE) refuse the open: all writes are buffered.
  int direct_fd = ::open(name.data(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  return std::unique_ptr<FileSink>(new FileSink(fd, direct_fd, path, std::string(name.data())));
}

FileSink::~FileSink() {
  if (!done_) Abandon();
}

Status FileSink::Prepare(uint64_t size) {
  // Sets the length up front (sparse) so parallel writes at any offset need no extension.
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return ErrnoError("size " + temp_path_, errno);
  }
  return Status();
}

Status FileSink::WriteAllAt(int fd, uint64_t offset, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + path_, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status();
}

Status FileSink::WriteAt(uint64_t offset, std::string_view data) {
  if (direct_fd_ >= 0 && offset % kDirectAlignment == 0 &&
      reinterpret_cast<uintptr_t>(data.data()) % kDirectAlignment == 0 &&
      data.size() >= kDirectAlignment) {
    const size_t aligned = data.size() / kDirectAlignment * kDirectAlignment;
    Status direct = WriteAllAt(direct_fd_, offset, data.substr(0, aligned));
    // A file system may open with O_DIRECT and still refuse such writes: write it buffered.
    if (!direct.ok() && direct.detail().sys_errno != EINVAL) return direct;
    if (direct.ok()) {
      offset += aligned;
      data.remove_prefix(aligned);
    }
  }
  return WriteAllAt(fd_, offset, data);
}

Status FileSink::Append(std::string_view) {
  return FailedPreconditionError("FileSink takes writes at offsets");
}

Result<size_t> FileSink::ReadAt(uint64_t offset, std::span<char> out) {
  return ReadFull(fd_, static_cast<int64_t>(offset), out, path_);
}

Status FileSink::Commit() {
  if (done_) return FailedPreconditionError("commit " + path_ + ": already finished");
  done_ = true;
  if (direct_fd_ >= 0) ::close(direct_fd_);
  direct_fd_ = -1;
  int fd = fd_;
  fd_ = -1;
  // mkstemp makes the file 0600; a download gets the usual mode for new files (0666 & ~umask).
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  if (::close(fd) != 0) {
    Status s = ErrnoError("close " + temp_path_, errno);
    ::unlink(temp_path_.c_str());
    return s;
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    Status s = ErrnoError("rename " + temp_path_ + " to " + path_, errno);
    ::unlink(temp_path_.c_str());
    return s;
  }
  return Status();
}

void FileSink::Abandon() {
  if (done_) return;
  done_ = true;
  if (direct_fd_ >= 0) ::close(direct_fd_);
  direct_fd_ = -1;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
}

// --- FdSink

Status FdSink::WriteAt(uint64_t, std::string_view) {
  return FailedPreconditionError(name_ + " takes writes in order only");
}

Status FdSink::Append(std::string_view data) { return WriteAllToFd(fd_, data, name_); }

Result<size_t> FdSink::ReadAt(uint64_t, std::span<char>) {
  return FailedPreconditionError(name_ + " cannot be read back");
}

// --- SpoolFile

Result<std::unique_ptr<SpoolFile>> SpoolFile::Create(const std::string& dir) {
  std::string temp = (dir.empty() ? std::string("/tmp") : dir) + "/cairn-spool-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError("create a spool file in " + dir, errno);
  ::unlink(name.data());
  return std::unique_ptr<SpoolFile>(new SpoolFile(fd));
}

SpoolFile::~SpoolFile() { ::close(fd_); }

Status SpoolFile::Append(std::string_view data) {
  CAIRN_RETURN_IF_ERROR(WriteAllToFd(fd_, data, "spool file"));
  size_ += data.size();
  return Status();
}

Result<size_t> SpoolFile::ReadAt(uint64_t offset, std::span<char> out) const {
  return ReadFull(fd_, static_cast<int64_t>(offset), out, "spool file");
}

}  // namespace cairn::objstore::transfer
