#include "cairn/blockstore/directory_volume.h"

#include <fcntl.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>

#include "cairn/common/hash.h"

namespace cairn::blockstore {
namespace {

using manifest::BlockHash;

// Pieces go to disk through a buffer of this size. O_DIRECT needs the buffer, the offsets and
// the lengths aligned to the device's logical block size; 4096 covers every common device.
constexpr size_t kBufferSize = size_t{1} << 20;
constexpr size_t kAlign = 4096;
constexpr std::string_view kUuidFile = "cairn-volume-uuid";
constexpr std::string_view kLockFile = "cairn-volume.lock";
constexpr std::string_view kTempPrefix = "tmp";

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Random lowercase alphanumerics, for temporary names and uuids (not secrets).
std::string RandomName(size_t n) {
  static constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(n, 'a');
  for (char& c : out) c = kChars[rng() % kChars.size()];
  return out;
}

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

class DirectoryBlockWriter final : public BlockWriter {
 public:
  DirectoryBlockWriter(FileOps* ops, std::string dir, std::string final_path, BlockHash hash,
                       std::string volume_uuid)
      : ops_(ops),
        dir_(std::move(dir)),
        final_path_(std::move(final_path)),
        hash_(hash),
        volume_uuid_(std::move(volume_uuid)) {}

  ~DirectoryBlockWriter() override {
    if (fd_ >= 0) ops_->Close(fd_).IgnoreError();
    if (!temp_path_.empty() && !committed_) ops_->Unlink(temp_path_).IgnoreError();
  }

  // Opens the temporary file; with `verify_only` (the block exists) nothing is written.
  Status Init(bool direct_io, bool verify_only) {
    verify_only_ = verify_only;
    if (verify_only) return Status::OK();
    char* p = nullptr;
    if (posix_memalign(reinterpret_cast<void**>(&p), kAlign, kBufferSize) != 0) {
      return ResourceExhaustedError("allocate a write buffer");
    }
    buffer_.reset(p);
    CAIRN_RETURN_IF_ERROR(ops_->MakeDir(dir_));
    temp_path_ =
        dir_ + "/" + std::string(kTempPrefix) + std::string(hash_.hex()) + "." + RandomName(8);
    constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL;
    Result<int> fd = direct_io ? ops_->Open(temp_path_, kFlags | O_DIRECT, 0644)
                               : InvalidArgumentError("direct I/O off");
    direct_ = fd.ok();
    if (!fd.ok()) {
      // tmpfs and some others refuse O_DIRECT with EINVAL: write through the page cache.
      if (direct_io && fd.status().detail().sys_errno != EINVAL) return Fail(fd.status());
      fd = ops_->Open(temp_path_, kFlags, 0644);
    }
    if (!fd.ok()) {
      temp_path_.clear();  // nothing was created
      return Fail(fd.status());
    }
    fd_ = *fd;
    return Status::OK();
  }

  Status Append(std::string_view piece) override {
    if (!error_.ok()) return error_;
    md5_.Update(piece);
    size_ += piece.size();
    if (verify_only_) return Status::OK();
    while (!piece.empty()) {
      size_t n = std::min(piece.size(), kBufferSize - fill_);
      std::memcpy(buffer_.get() + fill_, piece.data(), n);
      fill_ += n;
      piece.remove_prefix(n);
      if (fill_ == kBufferSize) CAIRN_RETURN_IF_ERROR(Flush(kBufferSize));
    }
    return Status::OK();
  }

  Result<BlockInfo> Commit() override {
    if (!error_.ok()) return error_;
    BlockHash got = BlockHash::FromDigest(md5_.Finish());
    if (got != hash_) {
      return Fail(InvalidArgumentError("content hash " + std::string(got.hex()) +
                                       " does not match block " + std::string(hash_.hex())));
    }
    if (verify_only_) {
      CAIRN_RETURN_IF_ERROR(Fail(ops_->Touch(final_path_)));
    } else {
      if (fill_ > 0) {
        size_t len = direct_ ? (fill_ + kAlign - 1) / kAlign * kAlign : fill_;
        std::memset(buffer_.get() + fill_, 0, len - fill_);
        CAIRN_RETURN_IF_ERROR(Flush(len));
        if (direct_) CAIRN_RETURN_IF_ERROR(Fail(ops_->Truncate(fd_, size_)));
      }
      CAIRN_RETURN_IF_ERROR(Fail(ops_->DataSync(fd_)));
      Status closed = ops_->Close(fd_);
      fd_ = -1;
      CAIRN_RETURN_IF_ERROR(Fail(closed));
      CAIRN_RETURN_IF_ERROR(Fail(ops_->Rename(temp_path_, final_path_)));
      committed_ = true;
      CAIRN_RETURN_IF_ERROR(Fail(ops_->SyncDir(dir_)));
    }
    CAIRN_ASSIGN_OR_RETURN(FileInfo fi, Fail(ops_->Stat(final_path_)));
    return BlockInfo{.size = fi.size, .mtime_nanos = fi.mtime_nanos};
  }

 private:
  Status Flush(size_t len) {
    size_t done = 0;
    while (done < len) {
      Result<size_t> n = ops_->WriteAt(fd_, buffer_.get() + done, len - done, offset_ + done);
      if (!n.ok()) return Fail(n.status());
      if (*n == 0) return Fail(InternalError("write returned 0"));
      done += *n;
    }
    offset_ += len;
    fill_ = 0;
    return Status::OK();
  }

  // Records the first error, with the block and volume named.
  template <typename T>
  T Fail(T result) {
    if (!result.ok() && error_.ok()) {
      error_ = Status(::cairn::internal::AsStatus(result))
                   .WithContext("store block " + std::string(hash_.hex()) + " on volume " +
                                volume_uuid_);
      return error_;
    }
    return result;
  }

  FileOps* const ops_;
  const std::string dir_;
  const std::string final_path_;
  const BlockHash hash_;
  const std::string volume_uuid_;
  std::string temp_path_;
  std::unique_ptr<char, FreeDeleter> buffer_;
  int fd_ = -1;
  bool direct_ = false;
  bool verify_only_ = false;
  bool committed_ = false;
  size_t fill_ = 0;
  uint64_t offset_ = 0;
  uint64_t size_ = 0;
  Md5 md5_;
  Status error_;
};

class DirectoryBlockReader final : public BlockReader {
 public:
  DirectoryBlockReader(FileOps* ops, int fd, BlockInfo info) : ops_(ops), fd_(fd), info_(info) {}
  ~DirectoryBlockReader() override { ops_->Close(fd_).IgnoreError(); }
  const BlockInfo& info() const override { return info_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override {
    if (offset >= info_.size) return size_t{0};
    return ops_->ReadAt(fd_, out.data(), out.size(), offset);
  }

 private:
  FileOps* const ops_;
  const int fd_;
  const BlockInfo info_;
};

}  // namespace

DirectoryVolume::DirectoryVolume(const DirectoryVolumeOptions& options, int lock_fd)
    : options_(options),
      ops_(options.file_ops != nullptr ? options.file_ops : FileOps::Default()),
      lock_fd_(lock_fd) {}

DirectoryVolume::~DirectoryVolume() { ops_->Close(lock_fd_).IgnoreError(); }

Result<std::unique_ptr<DirectoryVolume>> DirectoryVolume::Open(
    const DirectoryVolumeOptions& options) {
  if (options.root.empty()) return InvalidArgumentError("volume: empty directory name");
  FileOps* ops = options.file_ops != nullptr ? options.file_ops : FileOps::Default();
  io::Env* env = options.env != nullptr ? options.env : io::Env::Default();
  const std::string& root = options.root;
  CAIRN_RETURN_IF_ERROR(ops->MakeDir(root).WithContext("volume " + root));
  CAIRN_ASSIGN_OR_RETURN(int lock_fd,
                         ops->Open(root + "/" + std::string(kLockFile), O_RDWR | O_CREAT, 0644));
  auto volume = std::unique_ptr<DirectoryVolume>(new DirectoryVolume(options, lock_fd));
  if (Status s = ops->LockExclusive(lock_fd); !s.ok()) {
    return s.WithContext("volume " + root + " is in use by another process");
  }
  volume->uuid_ = options.uuid;
  if (volume->uuid_.empty()) {
    std::string path = root + "/" + std::string(kUuidFile);
    Result<std::unique_ptr<io::FileContents>> saved = env->ReadFile(path);
    if (saved.ok()) {
      volume->uuid_ = std::string(TrimWhitespace((*saved)->data()));
    } else if (saved.status().code() == StatusCode::kNotFound) {
      volume->uuid_ = "cairn-nyw5e-" + RandomName(15);
      CAIRN_RETURN_IF_ERROR(env->WriteFileAtomically(path, volume->uuid_ + "\n"));
    } else {
      return saved.status();
    }
  }
  if (!options.read_only) CAIRN_RETURN_IF_ERROR(volume->RemoveTemporaryFiles());
  return volume;
}

Status DirectoryVolume::RemoveTemporaryFiles() {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> dirs, ops_->ListDir(options_.root));
  for (const std::string& d : dirs) {
    if (d.size() != 3 || !IsLowerHex(d)) continue;
    std::string dir = options_.root + "/" + d;
    Result<std::vector<std::string>> names = ops_->ListDir(dir);
    if (!names.ok()) continue;
    for (const std::string& name : *names) {
      if (name.starts_with(kTempPrefix)) ops_->Unlink(dir + "/" + name).IgnoreError();
    }
  }
  return Status::OK();
}

std::string DirectoryVolume::BlockPath(const BlockHash& hash) const {
  std::string_view hex = hash.hex();
  std::string path = options_.root;
  path.append("/").append(hex.substr(0, 3)).append("/").append(hex);
  return path;
}

Result<std::unique_ptr<BlockWriter>> DirectoryVolume::NewWriter(const BlockHash& hash) {
  if (options_.read_only) return FailedPreconditionError("volume " + uuid_ + " is read-only");
  std::string path = BlockPath(hash);
  bool exists = ops_->Stat(path).ok();
  if (!exists) {
    CAIRN_ASSIGN_OR_RETURN(uint64_t free_bytes, ops_->FreeBytes(options_.root));
    if (free_bytes < options_.min_free_bytes) {
      return ResourceExhaustedError("volume " + uuid_ + " is full (" + std::to_string(free_bytes) +
                                    " bytes free)");
    }
  }
  auto writer = std::make_unique<DirectoryBlockWriter>(
      ops_, options_.root + "/" + std::string(hash.hex().substr(0, 3)), path, hash, uuid_);
  CAIRN_RETURN_IF_ERROR(writer->Init(options_.direct_io, exists));
  return std::unique_ptr<BlockWriter>(std::move(writer));
}

Result<std::unique_ptr<BlockReader>> DirectoryVolume::Open(const BlockHash& hash) {
  CAIRN_ASSIGN_OR_RETURN(int fd, ops_->Open(BlockPath(hash), O_RDONLY, 0));
  Result<FileInfo> fi = ops_->StatFd(fd);
  if (!fi.ok()) {
    ops_->Close(fd).IgnoreError();
    return fi.status();
  }
  return std::unique_ptr<BlockReader>(std::make_unique<DirectoryBlockReader>(
      ops_, fd, BlockInfo{.size = fi->size, .mtime_nanos = fi->mtime_nanos}));
}

Result<BlockInfo> DirectoryVolume::Stat(const BlockHash& hash) {
  CAIRN_ASSIGN_OR_RETURN(FileInfo fi, ops_->Stat(BlockPath(hash)));
  return BlockInfo{.size = fi.size, .mtime_nanos = fi.mtime_nanos};
}

Status DirectoryVolume::Delete(const BlockHash& hash) {
  if (options_.read_only) return FailedPreconditionError("volume " + uuid_ + " is read-only");
  return ops_->Unlink(BlockPath(hash));
}

Status DirectoryVolume::Index(std::string_view prefix,
                              const std::function<Status(const IndexEntry&)>& emit) {
  if (prefix.size() > 32 || !IsLowerHex(prefix)) {
    return InvalidArgumentError("index prefix must be lowercase hex");
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> dirs, ops_->ListDir(options_.root));
  for (const std::string& d : dirs) {
    if (d.size() != 3 || !IsLowerHex(d)) continue;
    size_t common = std::min<size_t>(3, prefix.size());
    if (d.compare(0, common, prefix.substr(0, common)) != 0) continue;
    std::string dir = options_.root + "/" + d;
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, ops_->ListDir(dir));
    for (const std::string& name : names) {
      // Temporary files ("tmp…") and anything else that is not a block name are skipped.
      if (name.size() != 32 || !IsLowerHex(name) || !name.starts_with(prefix)) continue;
      Result<FileInfo> fi = ops_->Stat(dir + "/" + name);
      if (!fi.ok()) continue;  // deleted meanwhile
      CAIRN_ASSIGN_OR_RETURN(BlockHash hash, BlockHash::Parse(name));
      CAIRN_RETURN_IF_ERROR(emit(IndexEntry{
          .hash = hash, .info = BlockInfo{.size = fi->size, .mtime_nanos = fi->mtime_nanos}}));
    }
  }
  return Status::OK();
}

Result<uint64_t> DirectoryVolume::FreeBytes() { return ops_->FreeBytes(options_.root); }

MountInfo DirectoryVolume::Mount() {
  MountInfo info;
  info.uuid = uuid_;
  info.device_id = "local:" + options_.root;
  info.allow_write = !options_.read_only;
  info.allow_trash = !options_.read_only;
  info.bytes_free = ops_->FreeBytes(options_.root).value_or(0);
  info.bytes_total = ops_->TotalBytes(options_.root).value_or(0);
  return info;
}

}  // namespace cairn::blockstore
