#include "cairn/client/disk_block_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>
#include <tuple>
#include <utility>

#include "cairn/common/hash.h"

namespace cairn::client {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr char kTempPrefix[] = ".tmp-";
// A temporary file older than this was left by a writer that died.
constexpr int64_t kStaleTempSeconds = 3600;

Status ErrnoError(const std::string& what, int err) {
  return UnavailableError("disk block cache: " + what + ": " + std::strerror(err));
}

bool IsBlockName(std::string_view name) {
  return name.size() == 32 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Closes a descriptor when it leaves scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly `size` bytes of `fd` into *out; false on a read error or a short file.
bool ReadAll(int fd, uint64_t size, std::string* out) {
  out->resize(size);
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, out->data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<uint64_t>(n);
  }
  return true;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write", errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

}  // namespace

DiskBlockCache::DiskBlockCache(std::string dir, uint64_t max_bytes)
    : dir_(std::move(dir)),
      max_bytes_(max_bytes),
      lru_(LruLimits{.max_charge = max_bytes},
           [this](const std::string& hex, uint64_t&&) { evicted_.push_back(hex); }) {}

uint64_t DiskBlockCache::DefaultMaxBytes(const std::string& dir) {
  std::string path = dir;
  struct statvfs vfs {};
  while (::statvfs(path.c_str(), &vfs) != 0) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos || path == "/") return 0;
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  const uint64_t free_bytes = uint64_t(vfs.f_bavail) * uint64_t(vfs.f_frsize);
  return std::min<uint64_t>(10 * kGiB, free_bytes / 10);
}

Result<std::unique_ptr<DiskBlockCache>> DiskBlockCache::Create(std::string dir,
                                                               uint64_t max_bytes) {
  if (dir.empty()) return InvalidArgumentError("disk block cache: no directory");
  if (max_bytes == 0) return InvalidArgumentError("disk block cache: a bound of 0 bytes");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  // Parents as mkdir -p makes them; the cache directory itself private to the user.
  for (size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    const std::string parent = dir.substr(0, slash);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError("mkdir " + parent, errno);
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoError("mkdir " + dir, errno);
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return ErrnoError("stat " + dir, errno);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    return FailedPreconditionError("disk block cache: " + dir +
                                   " is not a directory owned by this user");
  }
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return ErrnoError("chmod " + dir, errno);
  }

  std::unique_ptr<DiskBlockCache> cache(new DiskBlockCache(std::move(dir), max_bytes));
  DIR* d = ::opendir(cache->dir_.c_str());
  if (d == nullptr) return ErrnoError("opendir " + cache->dir_, errno);
  struct Found {
    struct timespec mtime;
    std::string name;
    uint64_t size;
  };
  std::vector<Found> found;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    const bool temp = name.starts_with(kTempPrefix);
    if (!temp && !IsBlockName(name)) continue;
    struct stat fst {};
    if (::fstatat(::dirfd(d), e->d_name, &fst, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(fst.st_mode)) continue;
    if (temp) {
      if (now - fst.st_mtim.tv_sec > kStaleTempSeconds) ::unlinkat(::dirfd(d), e->d_name, 0);
      continue;
    }
    found.push_back({fst.st_mtim, std::string(name), static_cast<uint64_t>(fst.st_size)});
  }
  ::closedir(d);
  // Oldest first, so the most recently used file ends up most recent in the index.
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return std::tie(a.mtime.tv_sec, a.mtime.tv_nsec, a.name) <
           std::tie(b.mtime.tv_sec, b.mtime.tv_nsec, b.name);
  });
  std::vector<std::string> evicted;
  for (const Found& f : found) cache->Index(f.name, f.size, &evicted);
  cache->Remove(evicted);
  return cache;
}

void DiskBlockCache::Index(const std::string& hex, uint64_t size,
                           std::vector<std::string>* evicted) {
  std::lock_guard lock(mu_);
  if (!lru_.Put(hex, size, size)) evicted_.push_back(hex);  // larger than the bound
  evicted->insert(evicted->end(), evicted_.begin(), evicted_.end());
  evicted_.clear();
}

void DiskBlockCache::Remove(const std::vector<std::string>& evicted) {
  for (const std::string& hex : evicted) {
    // Another process may have removed it already: that is the same outcome.
    ::unlink(PathOf(hex).c_str());
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

void DiskBlockCache::Forget(const std::string& hex) {
  std::lock_guard lock(mu_);
  lru_.Erase(hex);
}

Block DiskBlockCache::Lookup(const manifest::BlockHash& hash, uint64_t size) {
  const std::string hex(hash.hex());
  const std::string path = PathOf(hex);
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  struct stat st {};
  if (file.fd < 0 || ::fstat(file.fd, &st) != 0) {
    Forget(hex);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  auto data = std::make_shared<std::string>();
  bool intact = S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == size;
  if (intact) {
    if (!ReadAll(file.fd, size, data.get())) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;  // an I/O error is not proof of a bad file
    }
    intact = manifest::BlockHash::FromDigest(Md5Of(*data)) == hash;
  }
  if (!intact) {
    // Delete the bad file, unless another process has already renamed a new one into place.
    struct stat now {};
    if (::lstat(path.c_str(), &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev) {
      ::unlink(path.c_str());
    }
    Forget(hex);
    corrupt_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  // The mtime orders eviction after a restart and in the other processes sharing the directory.
  ::futimens(file.fd, nullptr);
  std::vector<std::string> evicted;
  Index(hex, size, &evicted);
  Remove(evicted);
  hits_.fetch_add(1, std::memory_order_relaxed);
  hit_bytes_.fetch_add(size, std::memory_order_relaxed);
  return data;
}

Status DiskBlockCache::Insert(const manifest::BlockHash& hash, std::string_view data) {
  if (data.size() > max_bytes_) return Status();
  const std::string hex(hash.hex());
  const std::string temp = dir_ + "/" + kTempPrefix + hex + "-" + std::to_string(::getpid()) + "-" +
                           std::to_string(temp_counter_.fetch_add(1));
  Status written;
  {
    Fd file{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)};
    if (file.fd < 0) return ErrnoError("create a file in " + dir_, errno);
    written = WriteAll(file.fd, data);
    if (written.ok() && ::close(std::exchange(file.fd, -1)) != 0) {
      written = ErrnoError("close", errno);
    }
  }
  if (written.ok() && ::rename(temp.c_str(), PathOf(hex).c_str()) != 0) {
    written = ErrnoError("rename into " + dir_, errno);
  }
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  writes_.fetch_add(1, std::memory_order_relaxed);
  write_bytes_.fetch_add(data.size(), std::memory_order_relaxed);
  std::vector<std::string> evicted;
  Index(hex, data.size(), &evicted);
  Remove(evicted);
  return Status();
}

DiskBlockCacheStats DiskBlockCache::stats() const {
  DiskBlockCacheStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.hit_bytes = hit_bytes_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.writes = writes_.load(std::memory_order_relaxed);
  s.write_bytes = write_bytes_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  s.corrupt = corrupt_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.bytes = lru_.charge();
  s.files = lru_.size();
  return s;
}

}  // namespace cairn::client
