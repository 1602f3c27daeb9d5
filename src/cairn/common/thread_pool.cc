#include "cairn/common/thread_pool.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>

namespace cairn {
namespace {

// The pool whose WorkerLoop runs on this thread, so Shutdown can refuse to join itself.
thread_local const ThreadPool* current_pool = nullptr;

}  // namespace

Result<std::unique_ptr<ThreadPool>> ThreadPool::Create(const ThreadPoolOptions& options) {
  if (options.num_threads < 1) {
    return InvalidArgumentError("thread pool: num_threads must be >= 1, got " +
                                std::to_string(options.num_threads));
  }
  if (options.queue_capacity < 1) {
    return InvalidArgumentError("thread pool: queue_capacity must be >= 1");
  }
  std::unique_ptr<ThreadPool> pool(new ThreadPool(options));
  pool->workers_.reserve(static_cast<size_t>(options.num_threads));
  for (int i = 0; i < options.num_threads; ++i) {
    // std::thread reports failure (EAGAIN: thread limit, memory) only by throwing; we never let
    // exceptions out, so this is the adapter. The destructor joins the workers already started.
    try {
      pool->workers_.emplace_back([p = pool.get()] { p->WorkerLoop(); });
    } catch (const std::system_error& e) {
      return ResourceExhaustedError("thread pool: cannot start worker " + std::to_string(i) +
                                    " of " + std::to_string(options.num_threads) + ": " + e.what());
    }
  }
  return pool;
}

ThreadPool::ThreadPool(const ThreadPoolOptions& options)
    : num_threads_(options.num_threads), queue_(options.queue_capacity) {}

ThreadPool::~ThreadPool() { Shutdown(ShutdownMode::kDrain); }

Status ThreadPool::Submit(Task task) {
  if (!queue_.Push(std::move(task))) return FailedPreconditionError("thread pool is shut down");
  return Status();
}

Status ThreadPool::TrySubmit(Task task) {
  if (queue_.TryPush(std::move(task))) return Status();
  if (queue_.closed()) return FailedPreconditionError("thread pool is shut down");
  return ResourceExhaustedError("thread pool queue is full (capacity " +
                                std::to_string(queue_.capacity()) + ")");
}

void ThreadPool::Shutdown(ShutdownMode mode) {
  if (IsWorkerThread()) {
    // Joining ourselves would throw (EDEADLK) or hang; this is a bug in the caller.
    std::fprintf(stderr, "cairn: ThreadPool::Shutdown called from one of its own workers\n");
    std::abort();
  }
  std::lock_guard lock(shutdown_mu_);
  if (joined_) return;
  queue_.Close();
  if (mode == ShutdownMode::kCancel) {
    // Workers may still take a few tasks while we drain; those run, the rest are destroyed here.
    while (queue_.TryPop().has_value()) {
    }
  }
  for (std::thread& worker : workers_) worker.join();
  joined_ = true;
}

bool ThreadPool::IsWorkerThread() const { return current_pool == this; }

void ThreadPool::WorkerLoop() {
  current_pool = this;
  while (std::optional<Task> task = queue_.Pop()) {
    (*task)();
  }
  current_pool = nullptr;
}

// The task a TaskGroup hands to the pool. Exactly one Finish per Runner: after running, or from
// the destructor when the pool destroys it unrun (Submit failed, or Shutdown(kCancel)).
class TaskGroup::Runner {
 public:
  Runner(TaskGroup* group, Fn fn) : group_(group), fn_(std::move(fn)) {}
  Runner(Runner&& other) noexcept
      : group_(std::exchange(other.group_, nullptr)), fn_(std::move(other.fn_)) {}
  Runner& operator=(Runner&&) = delete;
  ~Runner() {
    if (group_ == nullptr) return;
    fn_ = Fn();  // see operator()
    group_->Finish(CancelledError("task group: thread pool shut down before the task ran"));
  }

  void operator()() {
    TaskGroup* group = std::exchange(group_, nullptr);
    Status status;
    if (!group->cancelled()) status = fn_();
    // Destroy what the task captured before the group can look idle: once Wait returns, the
    // owner may free what those captures refer to.
    fn_ = Fn();
    group->Finish(std::move(status));
  }

 private:
  TaskGroup* group_;
  Fn fn_;
};

TaskGroup::~TaskGroup() { Wait().IgnoreError(); }

void TaskGroup::Add(Fn fn) {
  {
    std::lock_guard lock(mu_);
    if (cancelled()) return;  // fn is destroyed unrun
    ++pending_;
  }
  // On failure the pool destroys the Runner, whose destructor records the error and the finish.
  pool_->Submit(Runner(this, std::move(fn))).IgnoreError();
}

void TaskGroup::Cancel() {
  std::lock_guard lock(mu_);
  FailLocked(CancelledError("task group cancelled"));
}

Status TaskGroup::Wait() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return pending_ == 0; });
  return first_error_;
}

void TaskGroup::Finish(Status status) {
  // Notify while holding mu_: once it is released, Wait may return and the group be destroyed.
  std::lock_guard lock(mu_);
  if (!status.ok()) FailLocked(std::move(status));
  if (--pending_ == 0) idle_.notify_all();
}

void TaskGroup::FailLocked(Status status) {
  if (!first_error_.ok()) return;
  first_error_ = std::move(status);
  cancelled_.store(true, std::memory_order_release);
}

}  // namespace cairn
