// MemoryBudget: one limit on the bytes of every part buffer of a transfer (or of many transfers
// sharing it), so that a 5 TiB upload or a hundred files in flight use no more memory than a
// 100 MiB one (reference/object-store-clients.md, trick 27: memory accounting as a first-class
// limit; mountpoint-s3's --memory-target, the CRT's memory limit).
//
//   MemoryBudget budget(256 << 20);
//   CAIRN_ASSIGN_OR_RETURN(PartBuffer buffer, budget.Acquire(8 << 20));   // waits for room
//   ... fill buffer.data() ...
//   // the bytes go back to the budget when `buffer` is destroyed
//
// Acquire blocks while the bytes in use plus the request exceed the limit, so a reader that runs
// ahead of its uploaders waits instead of growing memory (back-pressure). Released buffers are
// kept for reuse (up to the limit): a fresh buffer costs a page fault per 4 KiB page in a VM
// (reference/machine-limits.md: ~2 us/page, 34 ms per 64 MiB), a reused one nothing. Buffers of
// 2 MiB and more are allocated 2 MiB-aligned with MADV_HUGEPAGE (transparent huge pages in
// `madvise` mode cut the first-touch cost eightfold).
//
// Thread safety: every method may be called concurrently; PartBuffer is a move-only value owned by
// one thread at a time. The budget must outlive every buffer taken from it.
#ifndef CAIRN_OBJSTORE_TRANSFER_MEMORY_BUDGET_H_
#define CAIRN_OBJSTORE_TRANSFER_MEMORY_BUDGET_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"

namespace cairn::objstore::transfer {

class MemoryBudget;

// A block of memory charged to a MemoryBudget until destroyed. Move-only.
class PartBuffer {
 public:
  PartBuffer() = default;
  ~PartBuffer();
  PartBuffer(PartBuffer&& other) noexcept;
  PartBuffer& operator=(PartBuffer&& other) noexcept;
  PartBuffer(const PartBuffer&) = delete;
  PartBuffer& operator=(const PartBuffer&) = delete;

  char* data() const { return data_; }
  size_t capacity() const { return capacity_; }
  // Bytes filled so far (set by the filler); view() is [data, data + size).
  size_t size() const { return size_; }
  void set_size(size_t size) { size_ = size; }
  std::string_view view() const { return {data_, size_}; }
  std::span<char> span() const { return {data_, capacity_}; }
  bool empty_buffer() const { return data_ == nullptr; }

 private:
  friend class MemoryBudget;
  PartBuffer(MemoryBudget* budget, char* data, size_t capacity)
      : budget_(budget), data_(data), capacity_(capacity) {}
  void Release();

  MemoryBudget* budget_ = nullptr;
  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

class MemoryBudget {
 public:
  // REQUIRES: limit_bytes > 0.
  explicit MemoryBudget(uint64_t limit_bytes);
  // Frees the cached buffers. REQUIRES: no PartBuffer of this budget is alive.
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // A buffer of `bytes`, waiting while the budget has no room for it. kResourceExhausted when
  // `bytes` exceeds the whole limit (it could never fit); kCancelled when *cancel becomes true
  // while waiting (checked every 50 ms; `cancel` may be null).
  Result<PartBuffer> Acquire(size_t bytes, const std::atomic<bool>* cancel = nullptr);
  // A buffer of `bytes` only if there is room now; nullopt otherwise (and when `bytes` exceeds the
  // limit). For a consumer that holds buffers itself and must not wait for them.
  std::optional<PartBuffer> TryAcquire(size_t bytes);
  // A buffer of `bytes`, waiting at most `wait` for room; nullopt if there was none by then (or
  // `bytes` exceeds the limit). For a consumer that holds buffers itself: between tries it can
  // give back what it holds, so consumers sharing the budget never wait on each other forever.
  std::optional<PartBuffer> TryAcquireFor(size_t bytes, std::chrono::milliseconds wait);

  uint64_t limit() const { return limit_; }
  // Bytes held by live buffers now, and the most ever held at once.
  uint64_t in_use() const;
  uint64_t peak_in_use() const;

 private:
  friend class PartBuffer;
  void Return(char* data, size_t capacity);
  // Takes `bytes` from the budget if it has room now (reusing a cached block when one fits).
  // REQUIRES: mu_ held by `lock`; unlocks it when it returns a buffer.
  std::optional<PartBuffer> TakeLocked(size_t bytes, std::unique_lock<std::mutex>& lock);
  static char* Allocate(size_t bytes);
  static void Free(char* data, size_t bytes);

  const uint64_t limit_;
  mutable std::mutex mu_;
  std::condition_variable returned_;
  uint64_t in_use_ = 0;  // guarded by mu_
  uint64_t cached_ = 0;  // guarded by mu_; bytes in free_
  uint64_t peak_ = 0;    // guarded by mu_
  struct Block {
    char* data;
    size_t bytes;
  };
  std::vector<Block> free_;  // guarded by mu_; released buffers kept for reuse
};

}  // namespace cairn::objstore::transfer

#endif  // CAIRN_OBJSTORE_TRANSFER_MEMORY_BUDGET_H_
