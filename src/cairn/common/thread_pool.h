// ThreadPool: a fixed set of worker threads fed from a bounded task queue.
// TaskGroup: a set of Status-returning tasks on a pool where the first error cancels the tasks
// that have not started yet and Wait() returns that error (STYLE.md rule 8).
//
//   CAIRN_ASSIGN_OR_RETURN(auto pool, ThreadPool::Create({.num_threads = 4, .queue_capacity = 8}));
//   TaskGroup group(pool.get());
//   for (int part = 1; part <= parts; ++part) group.Add([&, part] { return UploadPart(part); });
//   CAIRN_RETURN_IF_ERROR(group.Wait());
//
// Threads are never detached: Shutdown() and the destructor join them. Tasks must not throw (an
// exception escaping a task terminates the process, as for any std::thread).
#ifndef CAIRN_COMMON_THREAD_POOL_H_
#define CAIRN_COMMON_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "cairn/common/bounded_queue.h"
#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn {

namespace internal {
// F is a callable (not a UniqueFunction itself) that can be stored and called as R(). When R is
// void the callable must return void too, so that a task's Status is never dropped silently.
template <typename F, typename Self, typename R>
concept StorableCallable =
    !std::is_same_v<std::decay_t<F>, Self> && std::is_invocable_r_v<R, std::decay_t<F>&> &&
    (!std::is_void_v<R> || std::is_void_v<std::invoke_result_t<std::decay_t<F>&>>);

// A move-only nullary callable returning R; unlike std::function it accepts lambdas that capture
// move-only state (buffers, promises). C++23 std::move_only_function would replace it.
template <typename R>
class UniqueFunction {
 public:
  UniqueFunction() = default;
  template <StorableCallable<UniqueFunction, R> F>
  UniqueFunction(F&& f)  // NOLINT: implicit so that lambdas convert at call sites
      : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}

  explicit operator bool() const { return impl_ != nullptr; }
  // REQUIRES: holds a callable.
  R operator()() { return impl_->Call(); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual R Call() = 0;
  };
  template <typename F>
  struct Impl final : Base {
    explicit Impl(F&& f) : fn(std::move(f)) {}
    explicit Impl(const F& f) : fn(f) {}
    R Call() override { return fn(); }
    F fn;
  };
  std::unique_ptr<Base> impl_;
};
}  // namespace internal

struct ThreadPoolOptions {
  int num_threads = 1;        // workers started by Create; >= 1
  size_t queue_capacity = 1;  // tasks waiting for a worker (running ones not counted); >= 1
};

// A fixed number of worker threads running tasks in FIFO order from a bounded queue.
//
// Thread safety: Submit, TrySubmit and the accessors may be called from any thread, including
// from tasks. Shutdown may be called from any thread except the pool's own workers (it joins
// them). The pool owns submitted tasks until they run or are dropped; it does not own anything
// the tasks point to, which must outlive them.
class ThreadPool {
 public:
  using Task = internal::UniqueFunction<void>;

  enum class ShutdownMode {
    kDrain,   // run every task already queued, then stop
    kCancel,  // drop (destroy without running) tasks that have not started, then stop
  };

  // Starts options.num_threads workers. kInvalidArgument for a zero/negative thread count or a
  // zero queue capacity; kResourceExhausted if the system refuses to start a thread.
  static Result<std::unique_ptr<ThreadPool>> Create(const ThreadPoolOptions& options);

  // Shutdown(kDrain).
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`, waiting while the queue is full (back-pressure). kFailedPrecondition if the
  // pool is shut down, before or while waiting; the task is then destroyed without running.
  // Submitting from a task while the queue is full blocks that worker; with every worker doing
  // so the pool deadlocks, so tasks that fan out should use TrySubmit or a second pool.
  Status Submit(Task task);

  // Queues `task` only if there is room now: kResourceExhausted when the queue is full,
  // kFailedPrecondition when the pool is shut down. On error the task is destroyed unrun.
  Status TrySubmit(Task task);

  // Stops accepting tasks, runs or drops the queued ones per `mode`, lets running tasks finish
  // and joins every worker. Idempotent: later calls (with either mode) return at once once the
  // first has joined. REQUIRES: not called from one of this pool's workers.
  void Shutdown(ShutdownMode mode);

  // True when the calling thread is one of this pool's workers.
  bool IsWorkerThread() const;

  int num_threads() const { return num_threads_; }
  size_t queue_capacity() const { return queue_.capacity(); }
  // Tasks waiting for a worker right now (a snapshot).
  size_t queued() const { return queue_.size(); }

 private:
  explicit ThreadPool(const ThreadPoolOptions& options);
  void WorkerLoop();

  const int num_threads_;
  BoundedQueue<Task> queue_;
  std::vector<std::thread> workers_;  // filled by Create, joined by Shutdown
  std::mutex shutdown_mu_;            // serializes Shutdown calls
  bool joined_ = false;               // guarded by shutdown_mu_
};

// Runs Status-returning tasks on a ThreadPool as one unit of work (like Go's errgroup):
//  - the first task to fail becomes the group's error and cancels the group: tasks that have not
//    started are skipped (destroyed without running) and later Adds do not submit at all;
//  - running tasks are not interrupted, but may poll cancelled() to stop early;
//  - Wait() blocks until every added task has finished or been skipped and returns the first
//    error (OK if none). The destructor waits too, so no task outlives its group.
// Errors of tasks that fail after the first are dropped.
//
// Thread safety: Add, Cancel and cancelled() may be called from any thread, including from the
// group's own tasks (but see ThreadPool::Submit about blocking inside a worker). Wait is for the
// owner; calling it from a worker of the same pool can deadlock when every worker waits.
// Ownership: the pool is not owned and must outlive the group; the group owns added tasks until
// they run.
class TaskGroup {
 public:
  using Fn = internal::UniqueFunction<Status>;

  explicit TaskGroup(ThreadPool* pool) : pool_(pool) {}
  // Waits for the tasks still pending; their error, if any, is dropped (call Wait to see it).
  ~TaskGroup();

  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Submits `fn` to the pool (waiting while its queue is full) unless the group is cancelled.
  // If the pool is shut down, or drops the task unrun (Shutdown(kCancel)), the group fails with
  // kCancelled.
  void Add(Fn fn);

  // Cancels the group with kCancelled unless it has already failed.
  void Cancel();

  // True once the group has failed or been cancelled; long tasks may poll it.
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // Blocks until no added task is pending; returns the first error. May be called again (after
  // more Adds, say); the first error sticks.
  Status Wait();

 private:
  class Runner;
  // Records the end of one task; `status` may become the group's first error.
  void Finish(Status status);
  // Records `status` as the first error if there is none yet. REQUIRES: mu_ held.
  void FailLocked(Status status);

  ThreadPool* const pool_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable idle_;  // signalled when pending_ drops to 0
  size_t pending_ = 0;            // guarded by mu_; added but neither finished nor skipped
  Status first_error_;            // guarded by mu_
};

}  // namespace cairn

#endif  // CAIRN_COMMON_THREAD_POOL_H_
