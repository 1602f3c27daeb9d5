#include "cairn/objstore/transfer/memory_budget.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>

namespace cairn::objstore::transfer {
namespace {
constexpr size_t kHugePage = size_t{2} << 20;  // x86-64 transparent huge page
}  // namespace

PartBuffer::~PartBuffer() { Release(); }

PartBuffer::PartBuffer(PartBuffer&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      size_(std::exchange(other.size_, 0)) {}

PartBuffer& PartBuffer::operator=(PartBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::exchange(other.budget_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void PartBuffer::Release() {
  if (budget_ != nullptr && data_ != nullptr) budget_->Return(data_, capacity_);
  budget_ = nullptr;
  data_ = nullptr;
  capacity_ = 0;
  size_ = 0;
}

MemoryBudget::MemoryBudget(uint64_t limit_bytes) : limit_(limit_bytes == 0 ? 1 : limit_bytes) {}

MemoryBudget::~MemoryBudget() {
  for (const Block& b : free_) Free(b.data, b.bytes);
}

char* MemoryBudget::Allocate(size_t bytes) {
  if (bytes >= kHugePage) {
    size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p != nullptr) ::madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<char*>(p);
  }
  return static_cast<char*>(std::malloc(bytes == 0 ? 1 : bytes));
}

void MemoryBudget::Free(char* data, size_t /*bytes*/) { std::free(data); }

std::optional<PartBuffer> MemoryBudget::TakeLocked(size_t bytes,
                                                   std::unique_lock<std::mutex>& lock) {
  // A cached block of exactly this size is reused as it is.
  for (size_t i = 0; i < free_.size(); ++i) {
    if (free_[i].bytes == bytes) {
      char* data = free_[i].data;
      free_[i] = free_.back();
      free_.pop_back();
      cached_ -= bytes;
      in_use_ += bytes;
      peak_ = std::max(peak_, in_use_);
      lock.unlock();
      return PartBuffer(this, data, bytes);
    }
  }
  if (in_use_ + bytes > limit_) return std::nullopt;
  // Room in the limit: drop cached blocks of other sizes until the new one fits beside them.
  std::vector<Block> dropped;
  while (in_use_ + cached_ + bytes > limit_ && !free_.empty()) {
    dropped.push_back(free_.back());
    free_.pop_back();
    cached_ -= dropped.back().bytes;
  }
  in_use_ += bytes;
  peak_ = std::max(peak_, in_use_);
  lock.unlock();
  for (const Block& b : dropped) Free(b.data, b.bytes);
  char* data = Allocate(bytes);
  if (data == nullptr) {
    lock.lock();
    in_use_ -= bytes;
    lock.unlock();
    return std::nullopt;
  }
  return PartBuffer(this, data, bytes);
}

Result<PartBuffer> MemoryBudget::Acquire(size_t bytes, const std::atomic<bool>* cancel) {
  if (bytes > limit_) {
    return ResourceExhaustedError("a buffer of " + std::to_string(bytes) +
                                  " bytes exceeds the memory budget of " + std::to_string(limit_) +
                                  " bytes");
  }
  std::unique_lock lock(mu_);
  for (;;) {
    bool room = in_use_ + bytes <= limit_;
    if (std::optional<PartBuffer> buffer = TakeLocked(bytes, lock)) return std::move(*buffer);
    if (room) {  // there was room, so the allocation itself failed
      return ResourceExhaustedError("out of memory allocating a buffer of " +
                                    std::to_string(bytes) + " bytes");
    }
    if (cancel != nullptr && cancel->load(std::memory_order_acquire)) {
      return CancelledError("cancelled while waiting for buffer memory");
    }
    returned_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

std::optional<PartBuffer> MemoryBudget::TryAcquire(size_t bytes) {
  if (bytes > limit_) return std::nullopt;
  std::unique_lock lock(mu_);
  return TakeLocked(bytes, lock);
}

std::optional<PartBuffer> MemoryBudget::TryAcquireFor(size_t bytes,
                                                      std::chrono::milliseconds wait) {
  if (bytes > limit_) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock lock(mu_);
  for (;;) {
    if (std::optional<PartBuffer> buffer = TakeLocked(bytes, lock)) return buffer;
    if (!lock.owns_lock()) return std::nullopt;  // there was room, but the allocation failed
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return TakeLocked(bytes, lock);
    }
  }
}

void MemoryBudget::Return(char* data, size_t capacity) {
  {
    std::lock_guard lock(mu_);
    in_use_ -= capacity;
    free_.push_back({data, capacity});
    cached_ += capacity;
  }
  returned_.notify_all();
}

uint64_t MemoryBudget::in_use() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

uint64_t MemoryBudget::peak_in_use() const {
  std::lock_guard lock(mu_);
  return peak_;
}

}  // namespace cairn::objstore::transfer
