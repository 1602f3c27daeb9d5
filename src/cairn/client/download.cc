// DownloadTree (collection_reader.h): files written under a directory without ever following a
// symbolic link or leaving it, each written to a temporary name and renamed when whole.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "cairn/client/collection_reader.h"

namespace cairn::client {
namespace {

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::atomic<uint64_t> temp_counter{0};

// Opens (creating if needed) the directory `name` inside `parent` without following links.
Result<Fd> OpenSubdirectory(int parent, const std::string& name, const std::string& shown) {
  if (::mkdirat(parent, name.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError("create directory " + shown, errno);
  }
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return PermissionDeniedError("refusing to write through " + shown +
                                   ": it is a symbolic link or not a directory");
    }
    return ErrnoError("open directory " + shown, errno);
  }
  return Fd(fd);
}

Status WriteAll(int fd, std::string_view data, const std::string& shown) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write " + shown, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

class Downloader {
 public:
  Downloader(const CollectionReader& reader, const std::function<void(uint64_t)>& progress)
      : reader_(reader), progress_(progress) {}

  // Writes the collection file `source` as `relative` (already checked) under `root_fd`.
  Status WriteFile(int root_fd, const std::string& root_shown, const std::string& source,
                   const std::string& relative) {
    CAIRN_RETURN_IF_ERROR(CheckRelativePath(relative));
    Fd dir(::dup(root_fd));
    std::string shown = root_shown;
    size_t start = 0;
    size_t slash;
    while ((slash = relative.find('/', start)) != std::string::npos) {
      const std::string part = relative.substr(start, slash - start);
      shown += "/" + part;
      CAIRN_ASSIGN_OR_RETURN(dir, OpenSubdirectory(dir.get(), part, shown));
      start = slash + 1;
    }
    const std::string name = relative.substr(start);
    shown += "/" + name;
    const std::string temp = "." + name.substr(0, 200) + ".cairn-tmp-" +
                             std::to_string(::getpid()) + "-" + std::to_string(++temp_counter);
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FileReader> file, reader_.OpenFile(source));
    Fd out(::openat(dir.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0644));
    if (out.get() < 0) return ErrnoError("create " + shown, errno);
    Status status = file->ReadAll([&](std::string_view piece) -> Status {
      CAIRN_RETURN_IF_ERROR(WriteAll(out.get(), piece, shown));
      stats_.bytes += piece.size();
      if (progress_) progress_(stats_.bytes);
      return Status();
    });
    if (status.ok() && ::fsync(out.get()) != 0) status = ErrnoError("write " + shown, errno);
    if (status.ok() && ::renameat(dir.get(), temp.c_str(), dir.get(), name.c_str()) != 0) {
      status = ErrnoError("rename into " + shown, errno);
    }
    if (!status.ok()) ::unlinkat(dir.get(), temp.c_str(), 0);
    CAIRN_RETURN_IF_ERROR(status);
    ++stats_.files;
    return Status();
  }

  Status WriteTree(int root_fd, const std::string& root_shown, const std::string& source_dir) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<CollectionEntry> entries,
                           reader_.List(source_dir, /*recursive=*/true));
    const size_t prefix = source_dir.empty() ? 0 : source_dir.size() + 1;
    for (const CollectionEntry& entry : entries) {
      const std::string relative = entry.path.substr(prefix);
      CAIRN_RETURN_IF_ERROR(CheckRelativePath(relative));
      if (entry.is_directory) {
        // Created (safely) on the way to its files; empty directories are made here.
        Fd dir(::dup(root_fd));
        std::string shown = root_shown;
        size_t start = 0;
        while (start <= relative.size()) {
          size_t end = relative.find('/', start);
          if (end == std::string::npos) end = relative.size();
          const std::string part = relative.substr(start, end - start);
          shown += "/" + part;
          CAIRN_ASSIGN_OR_RETURN(dir, OpenSubdirectory(dir.get(), part, shown));
          start = end + 1;
        }
        continue;
      }
      CAIRN_RETURN_IF_ERROR(WriteFile(root_fd, root_shown, entry.path, relative));
    }
    return Status();
  }

  const DownloadStats& stats() const { return stats_; }

 private:
  const CollectionReader& reader_;
  const std::function<void(uint64_t)>& progress_;
  DownloadStats stats_;
};

}  // namespace

Result<DownloadStats> DownloadTree(const CollectionReader& reader, std::string_view path,
                                   const std::string& dest,
                                   const std::function<void(uint64_t)>& progress) {
  while (path.ends_with('/')) path.remove_suffix(1);
  while (path.starts_with('/')) path.remove_prefix(1);
  const manifest::Manifest& m = reader.manifest();
  std::optional<manifest::Manifest::NodeId> node = m.Find(path);
  if (!node) return NotFoundError("no file or directory \"" + std::string(path) + "\"");
  Downloader downloader(reader, progress);
  const std::string source(path);
  if (m.IsDirectory(*node)) {
    if (::mkdir(dest.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError("create directory " + dest, errno);
    }
    // The destination itself may be a link the user named; only links below it are refused.
    Fd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.get() < 0) return ErrnoError("open directory " + dest, errno);
    CAIRN_RETURN_IF_ERROR(downloader.WriteTree(root.get(), dest, source));
    return downloader.stats();
  }
  struct stat st;
  std::string dir = dest;
  std::string name(m.Name(*node));
  if (::stat(dest.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    size_t slash = dest.rfind('/');
    dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dest.substr(0, slash));
    name = dest.substr(slash == std::string::npos ? 0 : slash + 1);
  }
  Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return ErrnoError("open directory " + dir, errno);
  CAIRN_RETURN_IF_ERROR(downloader.WriteFile(root.get(), dir, source, name));
  return downloader.stats();
}

}  // namespace cairn::client
