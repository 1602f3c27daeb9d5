#include "cairn/objstore/fs/local_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

namespace cairn::objstore::fs {

namespace stdfs = std::filesystem;

namespace {

bool Inside(std::string_view path, std::string_view root) {
  if (root == "/") return true;
  return path == root || (path.starts_with(root) && path[root.size()] == '/');
}

FileStatus StatusOf(std::string path, const struct stat& st) {
  if (S_ISDIR(st.st_mode)) {
    return FileStatus{.path = std::move(path),
                      .type = FileType::kDirectory,
                      .size = 0,
                      .last_modified = st.st_mtime,
                      .etag = ""};
  }
  return FileStatus{.path = std::move(path),
                    .type = FileType::kFile,
                    .size = static_cast<uint64_t>(st.st_size),
                    .last_modified = st.st_mtime,
                    .etag = ""};
}

// The names in a directory (sorted; ".", "..", and temporary files left out).
Result<std::vector<std::string>> ReadNames(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError("list " + dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || name.starts_with(LocalFileSystem::kTempPrefix)) continue;
    names.emplace_back(name);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoError("list " + dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

// Walks a directory tree: one level, or depth-first every file (not entering symlinks, skipping
// those that point out of the root). Holds the sorted names of each directory on the path.
class LocalLister final : public FileLister {
 public:
  LocalLister(std::string root, std::string base, bool recursive)
      : root_(std::move(root)), recursive_(recursive) {
    stack_.push_back(Frame{std::move(base), {}, 0, false});
  }

  Result<std::optional<FileStatus>> Next() override {
    while (!stack_.empty()) {
      Frame& top = stack_.back();
      if (!top.loaded) {
        CAIRN_ASSIGN_OR_RETURN(top.names, ReadNames(Local(top.rel)));
        top.loaded = true;
      }
      if (top.next == top.names.size()) {
        stack_.pop_back();
        continue;
      }
      std::string rel = JoinPath(top.rel, top.names[top.next++]);
      std::string local = Local(rel);
      struct stat lst;
      if (::lstat(local.c_str(), &lst) != 0) continue;  // gone since readdir
      struct stat st = lst;
      bool link = S_ISLNK(lst.st_mode);
      if (link) {
        std::error_code ec;
        stdfs::path target = stdfs::canonical(local, ec);
        if (ec || !Inside(target.string(), root_) || ::stat(local.c_str(), &st) != 0) continue;
      }
      if (S_ISDIR(st.st_mode) && recursive_) {
        if (!link) stack_.push_back(Frame{std::move(rel), {}, 0, false});
        continue;
      }
      return std::optional<FileStatus>(StatusOf(std::move(rel), st));
    }
    return std::optional<FileStatus>();
  }

 private:
  struct Frame {
    std::string rel;
    std::vector<std::string> names;
    size_t next = 0;
    bool loaded = false;
  };
  std::string Local(const std::string& rel) const {
    return rel.empty() ? root_ : root_ + "/" + rel;
  }

  const std::string root_;
  const bool recursive_;
  std::vector<Frame> stack_;
};

class SingleLocalLister final : public FileLister {
 public:
  explicit SingleLocalLister(FileStatus status) : status_(std::move(status)) {}
  Result<std::optional<FileStatus>> Next() override {
    if (done_) return std::optional<FileStatus>();
    done_ = true;
    return std::optional<FileStatus>(status_);
  }

 private:
  FileStatus status_;
  bool done_ = false;
};

// Writes a temporary file and renames it into place at Close.
class LocalFileWriter final : public FileWriter {
 public:
  LocalFileWriter(int fd, std::string temp, std::string target, bool overwrite)
      : fd_(fd), temp_(std::move(temp)), target_(std::move(target)), overwrite_(overwrite) {}
  ~LocalFileWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!closed_) ::unlink(temp_.c_str());
  }

  Status Write(std::string_view data) override {
    if (fd_ < 0) return FailedPreconditionError("write " + target_ + ": closed");
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("write " + target_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      size_ += static_cast<uint64_t>(n);
    }
    return Status();
  }

  Status Close() override {
    if (fd_ < 0) return FailedPreconditionError("close " + target_ + ": closed");
    int fd = std::exchange(fd_, -1);
    if (::fsync(fd) != 0) {
      int err = errno;
      ::close(fd);
      return ErrnoError("sync " + target_, err);
    }
    if (::close(fd) != 0) return ErrnoError("close " + target_, errno);
    int rc = overwrite_ ? ::rename(temp_.c_str(), target_.c_str())
                        : ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(),
                                      RENAME_NOREPLACE);
    if (rc != 0) {
      if (errno == EEXIST) return AlreadyExistsError("create " + target_ + ": the file exists");
      if (errno == EISDIR) return FailedPreconditionError("create " + target_ + ": is a directory");
      return ErrnoError("create " + target_, errno);
    }
    closed_ = true;
    return Status();
  }

  uint64_t size() const override { return size_; }

 private:
  int fd_;
  const std::string temp_;
  const std::string target_;
  const bool overwrite_;
  uint64_t size_ = 0;
  bool closed_ = false;
};

// Positioned reads on an open descriptor.
class LocalFileReader final : public FileReader {
 public:
  LocalFileReader(int fd, uint64_t size, std::string what)
      : fd_(fd), size_(size), what_(std::move(what)) {}
  ~LocalFileReader() override { ::close(fd_); }

  uint64_t size() const override { return size_; }
  Result<size_t> Read(std::span<char> out) override {
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadAt(position_, out));
    position_ += n;
    return n;
  }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("read " + what_, errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }
  Status Seek(uint64_t offset) override {
    if (offset > size_) return OutOfRangeError("seek " + what_ + ": past the end");
    position_ = offset;
    return Status();
  }
  uint64_t position() const override { return position_; }

 private:
  const int fd_;
  const uint64_t size_;
  const std::string what_;
  uint64_t position_ = 0;
};

}  // namespace

Result<std::unique_ptr<LocalFileSystem>> LocalFileSystem::OpenRoot(const std::string& root) {
  std::error_code ec;
  stdfs::path canonical = stdfs::canonical(root, ec);
  if (ec) return ErrnoError("open file system " + root, ec.value());
  if (!stdfs::is_directory(canonical, ec)) {
    return FailedPreconditionError("open file system " + root + ": not a directory");
  }
  return std::unique_ptr<LocalFileSystem>(new LocalFileSystem(canonical.string()));
}

std::string LocalFileSystem::Describe(std::string_view path) const {
  return "file://" + root_ + (path.empty() ? "" : "/" + std::string(path));
}

Result<std::string> LocalFileSystem::Resolve(std::string_view path, std::string* normalized) const {
  CAIRN_ASSIGN_OR_RETURN(*normalized, NormalizePath(path));
  std::string local = normalized->empty() ? root_ : root_ + "/" + *normalized;
  std::error_code ec;
  stdfs::path resolved = stdfs::weakly_canonical(local, ec);
  if (ec && ec != std::errc::not_a_directory) return ErrnoError("resolve " + local, ec.value());
  if (!ec && !Inside(resolved.string(), root_)) {
    return PermissionDeniedError(Describe(*normalized) + ": leads out of the root");
  }
  return local;
}

Result<FileStatus> LocalFileSystem::StatResolved(const std::string& local,
                                                 const std::string& normalized) const {
  struct stat st;
  if (::stat(local.c_str(), &st) != 0) {
    int err = errno == ENOTDIR ? ENOENT : errno;
    return ErrnoError("stat " + Describe(normalized), err);
  }
  return StatusOf(normalized, st);
}

Result<FileStatus> LocalFileSystem::Stat(std::string_view path) {
  std::string rel;
  CAIRN_ASSIGN_OR_RETURN(std::string local, Resolve(path, &rel));
  return StatResolved(local, rel);
}

Result<std::unique_ptr<FileLister>> LocalFileSystem::List(std::string_view path,
                                                          const ListingOptions& options) {
  std::string rel;
  CAIRN_ASSIGN_OR_RETURN(std::string local, Resolve(path, &rel));
  CAIRN_ASSIGN_OR_RETURN(FileStatus status, StatResolved(local, rel));
  if (!status.is_directory()) return std::unique_ptr<FileLister>(new SingleLocalLister(status));
  return std::unique_ptr<FileLister>(new LocalLister(root_, rel, options.recursive));
}

Status LocalFileSystem::MakeDirectories(const std::string& normalized) const {
  std::string local = root_;
  std::string_view rest = normalized;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    local += "/";
    local.append(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (::mkdir(local.c_str(), 0755) == 0) continue;
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(local.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return FailedPreconditionError("mkdirs " + Describe(normalized) + ": " + local +
                                     " is a file");
    }
    if (err == ENOTDIR) {
      return FailedPreconditionError("mkdirs " + Describe(normalized) + ": an ancestor is a file");
    }
    return ErrnoError("mkdirs " + local, err);
  }
  return Status();
}

Result<std::unique_ptr<FileReader>> LocalFileSystem::Open(std::string_view path,
                                                          const OpenOptions& options) {
  (void)options;
  std::string rel;
  CAIRN_ASSIGN_OR_RETURN(std::string local, Resolve(path, &rel));
  const std::string what = Describe(rel);
  int fd = ::open(local.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + what, errno == ENOTDIR ? ENOENT : errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError("open " + what, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return FailedPreconditionError("open " + what + ": is a directory");
  }
  return std::unique_ptr<FileReader>(
      new LocalFileReader(fd, static_cast<uint64_t>(st.st_size), what));
}

Result<std::unique_ptr<FileWriter>> LocalFileSystem::Create(std::string_view path,
                                                            const CreateOptions& options) {
  std::string rel;
  CAIRN_ASSIGN_OR_RETURN(std::string local, Resolve(path, &rel));
  const std::string what = "create " + Describe(rel);
  if (rel.empty()) return FailedPreconditionError(what + ": is a directory");
  Result<FileStatus> existing = StatResolved(local, rel);
  if (existing.ok()) {
    if (existing->is_directory()) return FailedPreconditionError(what + ": is a directory");
    if (!options.overwrite) return AlreadyExistsError(what + ": the file exists");
  }
  CAIRN_RETURN_IF_ERROR(MakeDirectories(ParentPath(rel)));
  std::string parent = ParentPath(local);
  std::string temp = parent + "/" + std::string(kTempPrefix) + BaseName(rel) + "-" +
                     std::to_string(::getpid()) + "-" + std::to_string(temp_counter_.fetch_add(1));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(what, errno);
  return std::unique_ptr<FileWriter>(new LocalFileWriter(fd, temp, local, options.overwrite));
}

Status LocalFileSystem::Mkdirs(std::string_view path) {
  std::string rel;
  CAIRN_ASSIGN_OR_RETURN(std::string local, Resolve(path, &rel));
  Result<FileStatus> existing = StatResolved(local, rel);
  if (existing.ok()) {
    if (existing->is_directory()) return Status();
    return AlreadyExistsError("mkdirs " + Describe(rel) + ": a file is there");
  }
  return MakeDirectories(rel);
}

Status LocalFileSystem::Rename(std::string_view source, std::string_view destination) {
  std::string src, dst;
  CAIRN_ASSIGN_OR_RETURN(std::string from_local, Resolve(source, &src));
  CAIRN_ASSIGN_OR_RETURN(std::string to_local, Resolve(destination, &dst));
  const std::string what = "rename " + Describe(src) + " to " + Describe(dst);
  if (src.empty()) return InvalidArgumentError(what + ": the root cannot be renamed");
  CAIRN_ASSIGN_OR_RETURN(FileStatus from, StatResolved(from_local, src));
  if (src == dst) return Status();
  if (from.is_directory() && IsSameOrBelow(dst, src)) {
    return InvalidArgumentError(what + ": a directory cannot move into itself");
  }
  std::string target = dst;
  Result<FileStatus> to = StatResolved(to_local, dst);
  if (to.ok()) {
    if (!to->is_directory()) return AlreadyExistsError(what + ": the destination exists");
    target = JoinPath(dst, BaseName(src));
    if (target == src) return Status();
    std::string joined = target;
    CAIRN_ASSIGN_OR_RETURN(to_local, Resolve(joined, &target));
  } else if (to.status().code() != StatusCode::kNotFound) {
    return to.status();
  }
  CAIRN_RETURN_IF_ERROR(MakeDirectories(ParentPath(target)).WithContext(what));
  if (::renameat2(AT_FDCWD, from_local.c_str(), AT_FDCWD, to_local.c_str(), RENAME_NOREPLACE) !=
      0) {
    if (errno == EEXIST || errno == ENOTEMPTY) {
      return AlreadyExistsError(what + ": " + Describe(target) + " exists");
    }
    return ErrnoError(what, errno);
  }
  return Status();
}

Status LocalFileSystem::Delete(std::string_view path, const DeleteOptions& options) {
  std::string rel;
  CAIRN_ASSIGN_OR_RETURN(std::string local, Resolve(path, &rel));
  const std::string what = "delete " + Describe(rel);
  struct stat st;
  if (::lstat(local.c_str(), &st) != 0) return ErrnoError(what, errno == ENOTDIR ? ENOENT : errno);
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(local.c_str()) != 0) return ErrnoError(what, errno);
    return Status();
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadNames(local));
  if (!options.recursive) {
    if (!names.empty()) return FailedPreconditionError(what + ": the directory is not empty");
    if (rel.empty()) return Status();
    if (::rmdir(local.c_str()) != 0) {
      if (errno == ENOTEMPTY) return FailedPreconditionError(what + ": the directory is not empty");
      return ErrnoError(what, errno);
    }
    return Status();
  }
  std::error_code ec;
  if (rel.empty()) {
    // The root stays; its contents go (remove_all does not follow symlinks).
    for (const stdfs::directory_entry& e : stdfs::directory_iterator(local, ec)) {
      stdfs::remove_all(e.path(), ec);
      if (ec) break;
    }
  } else {
    stdfs::remove_all(local, ec);
  }
  if (ec) return ErrnoError(what, ec.value());
  return Status();
}

}  // namespace cairn::objstore::fs
