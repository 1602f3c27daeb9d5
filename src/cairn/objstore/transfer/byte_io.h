// Where transfers read from and write to: ByteSource (an upload's input: a file, a pipe, memory)
// and ByteSink (a download's output: a file written at offsets and renamed into place, standard
// output written in order, memory). Local files implement them in local_file.h; the in-memory
// ones here serve tests and library callers that hold their bytes already.
//
// Thread safety: see each class. Ownership: the transfer engine borrows sources and sinks for the
// duration of one call; the caller owns them.
#ifndef CAIRN_OBJSTORE_TRANSFER_BYTE_IO_H_
#define CAIRN_OBJSTORE_TRANSFER_BYTE_IO_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::objstore::transfer {

// An upload's input.
//
// Thread safety: ReadAt may be called concurrently (it must not move a shared position, as pread
// does not); Read is called from one thread at a time.
class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // The byte count, or nullopt when unknown until the end is read (a pipe, standard input).
  virtual std::optional<uint64_t> size() const = 0;
  // True when ReadAt works: the engine then reads parts in parallel, each in its upload thread.
  virtual bool seekable() const = 0;
  // Reads bytes at `offset` into `out` until it is full or the source ends; returns the count.
  // REQUIRES: seekable().
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<char> out) = 0;
  // Reads the next bytes into `out` until it is full or the source ends; returns the count (less
  // than out.size() only at the end).
  virtual Result<size_t> Read(std::span<char> out) = 0;
  // For messages: a path, "standard input", "memory".
  virtual std::string name() const = 0;
};

// A download's output. The engine calls Prepare once with the object's size, then WriteAt (random
// access sinks, from many threads, disjoint ranges) or Append (sequential sinks, in order, one
// thread), then Commit on success or Abandon on failure (a sink that fails verification must not
// be left where the caller expects good bytes).
class ByteSink {
 public:
  virtual ~ByteSink() = default;

  virtual bool random_access() const = 0;
  virtual Status Prepare(uint64_t size) = 0;
  // REQUIRES: random_access(). Thread-safe for disjoint ranges.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // REQUIRES: !random_access().
  virtual Status Append(std::string_view data) = 0;
  // True when WriteAt of a buffer at a 4 KiB-aligned address and file offset bypasses the page
  // cache (O_DIRECT). The engine then receives each part whole into a budgeted buffer, hashes it
  // there and writes it with one call, instead of writing pieces as they come and reading the
  // parts back to hash them. Writing through the page cache costs 0.6-3 ns/B in this VM, more
  // than all the rest of a download (reference/machine-limits.md).
  virtual bool writes_direct() const { return false; }
  // Reads back what was written (to re-check part boundaries). REQUIRES: random_access().
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<char> out) = 0;
  virtual Status Commit() = 0;
  virtual void Abandon() = 0;
  virtual std::string name() const = 0;
};

// Bytes in memory as a source; seekable or not (to test the pipe paths). Not owned: `data` must
// outlive the source. Thread-compatible except ReadAt, which is thread-safe.
class MemorySource final : public ByteSource {
 public:
  enum class Mode { kSeekable, kPipe };
  explicit MemorySource(std::string_view data, Mode mode = Mode::kSeekable)
      : data_(data), mode_(mode) {}

  std::optional<uint64_t> size() const override {
    if (mode_ == Mode::kPipe) return std::nullopt;
    return data_.size();
  }
  bool seekable() const override { return mode_ == Mode::kSeekable; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override {
    if (offset >= data_.size()) return size_t{0};
    size_t n = std::min<uint64_t>(out.size(), data_.size() - offset);
    std::memcpy(out.data(), data_.data() + offset, n);
    return n;
  }
  Result<size_t> Read(std::span<char> out) override {
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadAt(position_, out));
    position_ += n;
    return n;
  }
  std::string name() const override { return "memory"; }

 private:
  std::string_view data_;
  Mode mode_;
  uint64_t position_ = 0;
};

// A sink that collects the object in a string; random access or sequential. Thread-safe.
class MemorySink final : public ByteSink {
 public:
  enum class Mode { kRandomAccess, kSequential };
  explicit MemorySink(Mode mode = Mode::kRandomAccess) : mode_(mode) {}

  bool random_access() const override { return mode_ == Mode::kRandomAccess; }
  Status Prepare(uint64_t size) override {
    std::lock_guard lock(mu_);
    if (mode_ == Mode::kRandomAccess) data_.assign(size, '\0');
    return Status();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    std::lock_guard lock(mu_);
    if (offset + data.size() > data_.size()) return OutOfRangeError("write past the end");
    std::memcpy(data_.data() + offset, data.data(), data.size());
    return Status();
  }
  Status Append(std::string_view data) override {
    std::lock_guard lock(mu_);
    data_.append(data);
    return Status();
  }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override {
    std::lock_guard lock(mu_);
    if (offset >= data_.size()) return size_t{0};
    size_t n = std::min<uint64_t>(out.size(), data_.size() - offset);
    std::memcpy(out.data(), data_.data() + offset, n);
    return n;
  }
  Status Commit() override {
    std::lock_guard lock(mu_);
    committed_ = true;
    return Status();
  }
  void Abandon() override {
    std::lock_guard lock(mu_);
    abandoned_ = true;
  }
  std::string name() const override { return "memory"; }

  std::string data() const {
    std::lock_guard lock(mu_);
    return data_;
  }
  bool committed() const {
    std::lock_guard lock(mu_);
    return committed_;
  }
  bool abandoned() const {
    std::lock_guard lock(mu_);
    return abandoned_;
  }

 private:
  const Mode mode_;
  mutable std::mutex mu_;
  std::string data_;        // guarded by mu_
  bool committed_ = false;  // guarded by mu_
  bool abandoned_ = false;  // guarded by mu_
};

}  // namespace cairn::objstore::transfer

#endif  // CAIRN_OBJSTORE_TRANSFER_BYTE_IO_H_
