// Local files as transfer endpoints (byte_io.h): FileSource reads a file with pread (or a pipe
// with read), FileSink writes a download into a temporary file beside the destination with pwrite
// and renames it into place at the end, FdSink writes in order to a descriptor (standard output),
// SpoolFile holds one part of an unseekable upload on local disk.
//
// These call POSIX directly rather than through io::Env: they are the engine's injected I/O
// interfaces themselves (tests substitute MemorySource and MemorySink).
//
// Thread safety: as ByteSource and ByteSink say. Each object owns its descriptor.
#ifndef CAIRN_OBJSTORE_TRANSFER_LOCAL_FILE_H_
#define CAIRN_OBJSTORE_TRANSFER_LOCAL_FILE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/objstore/transfer/byte_io.h"

namespace cairn::objstore::transfer {

class FileSource final : public ByteSource {
 public:
  // `path` "-" means standard input. A regular file is seekable with a known size; a pipe, a
  // terminal or a character device is read in order with an unknown size.
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path);
  ~FileSource() override;

  std::optional<uint64_t> size() const override { return size_; }
  bool seekable() const override { return seekable_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override;
  Result<size_t> Read(std::span<char> out) override;
  std::string name() const override { return name_; }

 private:
  FileSource(int fd, bool owned, std::string name, std::optional<uint64_t> size, bool seekable)
      : fd_(fd), owned_(owned), name_(std::move(name)), size_(size), seekable_(seekable) {}
  int fd_;
  bool owned_;
  std::string name_;
  std::optional<uint64_t> size_;
  bool seekable_;
  uint64_t position_ = 0;
};

// Writes into "<dir>/.<name>.cairn-XXXXXX" and renames it over `path` on Commit (so a reader never
// sees a half-written file and a failed download leaves the old file untouched). The temporary
// file is removed by Abandon or by the destructor if neither was called. Where the file system
// takes O_DIRECT, WriteAt sends the 4 KiB-aligned part of an aligned buffer at an aligned offset
// past the page cache (writes_direct()); everything else is written through it.
class FileSink final : public ByteSink {
 public:
  static Result<std::unique_ptr<FileSink>> Create(const std::string& path);
  ~FileSink() override;

  bool random_access() const override { return true; }
  Status Prepare(uint64_t size) override;
  Status WriteAt(uint64_t offset, std::string_view data) override;
  Status Append(std::string_view data) override;
  bool writes_direct() const override { return direct_fd_ >= 0; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override;
  Status Commit() override;
  void Abandon() override;
  std::string name() const override { return path_; }

 private:
  FileSink(int fd, int direct_fd, std::string path, std::string temp_path)
      : fd_(fd), direct_fd_(direct_fd), path_(std::move(path)), temp_path_(std::move(temp_path)) {}
  // pwrite of all of `data` at `offset` on `fd`.
  Status WriteAllAt(int fd, uint64_t offset, std::string_view data);
  int fd_;
  int direct_fd_;  // the same file opened with O_DIRECT, or -1
  std::string path_;
  std::string temp_path_;
  bool done_ = false;
};

// Writes in order to a descriptor it does not own (standard output: fd 1).
class FdSink final : public ByteSink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  bool random_access() const override { return false; }
  Status Prepare(uint64_t) override { return Status(); }
  Status WriteAt(uint64_t, std::string_view) override;
  Status Append(std::string_view data) override;
  Result<size_t> ReadAt(uint64_t, std::span<char>) override;
  Status Commit() override { return Status(); }
  void Abandon() override {}
  std::string name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
};

// One spooled part: an unlinked temporary file in `dir` (gone from the directory as soon as it is
// made, so nothing is left behind even if the process is killed). Written once in order, then read
// with pread any number of times (a retry re-reads it). Thread-safe for ReadAt.
class SpoolFile {
 public:
  static Result<std::unique_ptr<SpoolFile>> Create(const std::string& dir);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  Status Append(std::string_view data);
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) const;
  uint64_t size() const { return size_; }

 private:
  explicit SpoolFile(int fd) : fd_(fd) {}
  int fd_;
  uint64_t size_ = 0;
};

// Writes all of `data` to `fd` (retrying short writes and EINTR); `what` names it in errors.
Status WriteAllToFd(int fd, std::string_view data, std::string_view what);

}  // namespace cairn::objstore::transfer

#endif  // CAIRN_OBJSTORE_TRANSFER_LOCAL_FILE_H_
