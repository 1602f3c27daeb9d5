// BoundedQueue<T>: a blocking multi-producer multi-consumer FIFO with a fixed capacity, the
// hand-off point between pipeline stages (reader -> hashers -> uploaders) that must not buffer
// without limit.
//
//   BoundedQueue<Block> q(8);
//   producer: if (!q.Push(std::move(block))) return CancelledError("consumer gone");
//             ...; q.Close();
//   consumer: while (std::optional<Block> b = q.Pop()) Handle(*b);
//
// Push blocks while the queue is full; Pop blocks while it is empty. Close() wakes every waiter:
// from then on pushes fail, and pops return the items still queued and then std::nullopt.
// A failed push leaves its argument untouched, so the caller still owns the item.
//
// Thread safety: every method may be called from any thread. The queue owns the items it holds
// and destroys any left in it when it is destroyed. The queue must outlive every call into it.
#ifndef CAIRN_COMMON_BOUNDED_QUEUE_H_
#define CAIRN_COMMON_BOUNDED_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace cairn {

template <typename T>
class BoundedQueue {
 public:
  // REQUIRES: capacity >= 1 (0 is taken as 1: a queue that can never accept would hang Push).
  explicit BoundedQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Appends `item`, waiting while the queue is full. Returns false, leaving `item` untouched, if
  // the queue is closed (before or while waiting).
  [[nodiscard]] bool Push(T&& item) { return PushImpl(std::move(item)); }
  [[nodiscard]] bool Push(const T& item) { return PushImpl(item); }

  // Appends `item` only if there is room now. Returns false, leaving `item` untouched, if the
  // queue is full or closed (closed() tells which).
  [[nodiscard]] bool TryPush(T&& item) { return TryPushImpl(std::move(item)); }
  [[nodiscard]] bool TryPush(const T& item) { return TryPushImpl(item); }

  // Removes the oldest item, waiting while the queue is empty and open. std::nullopt once the
  // queue is closed and drained.
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [this] { return !items_.empty() || closed_; });
    return TakeFrontLocked(lock);
  }

  // Like Pop, but gives up after `timeout`: std::nullopt on timeout or once closed and drained.
  template <typename Rep, typename Period>
  std::optional<T> PopFor(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mu_);
    not_empty_.wait_for(lock, timeout, [this] { return !items_.empty() || closed_; });
    return TakeFrontLocked(lock);
  }

  // Removes the oldest item if there is one; never waits.
  std::optional<T> TryPop() {
    std::unique_lock lock(mu_);
    return TakeFrontLocked(lock);
  }

  // Refuses further pushes and wakes all waiters. Queued items stay poppable. Idempotent.
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  template <typename U>
  bool PushImpl(U&& item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [this] { return items_.size() < capacity_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::forward<U>(item));
    lock.unlock();
    not_empty_.notify_one();
    return true;
  }

  template <typename U>
  bool TryPushImpl(U&& item) {
    std::unique_lock lock(mu_);
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::forward<U>(item));
    lock.unlock();
    not_empty_.notify_one();
    return true;
  }

  // Pops the front item if any and wakes one blocked producer; unlocks `lock`.
  std::optional<T> TakeFrontLocked(std::unique_lock<std::mutex>& lock) {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return item;
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_;   // signalled when an item leaves or on Close
  std::condition_variable not_empty_;  // signalled when an item arrives or on Close
  std::deque<T> items_;                // guarded by mu_
  bool closed_ = false;                // guarded by mu_
};

}  // namespace cairn

#endif  // CAIRN_COMMON_BOUNDED_QUEUE_H_
