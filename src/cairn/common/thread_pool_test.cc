#include "cairn/common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "cairn/testing/status_matchers.h"
#include "cairn/testing/watchdog.h"

namespace cairn {
namespace {

using ::cairn::testing::StatusIs;
using std::chrono::milliseconds;

using ::cairn::testing::Watchdog;

// Long enough for a thread that should block to have reached the wait; checks that use it can
// only pass falsely, never fail spuriously.
constexpr milliseconds kSettle{50};

std::unique_ptr<ThreadPool> MakePool(int num_threads, size_t queue_capacity) {
  Result<std::unique_ptr<ThreadPool>> pool =
      ThreadPool::Create({.num_threads = num_threads, .queue_capacity = queue_capacity});
  EXPECT_OK(pool);
  return pool.ok() ? std::move(pool).value() : nullptr;
}

// Spins (with short sleeps) until `done` holds; the watchdog bounds it.
template <typename Pred>
void WaitUntil(Pred done) {
  while (!done()) std::this_thread::sleep_for(milliseconds(1));
}

TEST(ThreadPoolTest, CreateRejectsBadOptions) {
  EXPECT_THAT(ThreadPool::Create({.num_threads = 0, .queue_capacity = 1}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ThreadPool::Create({.num_threads = -3, .queue_capacity = 1}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ThreadPool::Create({.num_threads = 1, .queue_capacity = 0}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ThreadPoolTest, Accessors) {
  auto pool = MakePool(3, 5);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->num_threads(), 3);
  EXPECT_EQ(pool->queue_capacity(), 5u);
  EXPECT_EQ(pool->queued(), 0u);
}

TEST(ThreadPoolTest, RunsManyTasks) {
  Watchdog watchdog(std::chrono::seconds(20));
  auto pool = MakePool(4, 16);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> count{0};
  for (int i = 0; i < 20000; ++i) {
    ASSERT_OK(pool->Submit([&count] { count.fetch_add(1, std::memory_order_relaxed); }));
  }
  pool->Shutdown(ThreadPool::ShutdownMode::kDrain);
  EXPECT_EQ(count.load(), 20000);
}

TEST(ThreadPoolTest, DestructorDrainsAndJoins) {
  Watchdog watchdog(std::chrono::seconds(10));
  std::atomic<int> count{0};
  {
    auto pool = MakePool(2, 64);
    ASSERT_NE(pool, nullptr);
    for (int i = 0; i < 50; ++i) {
      ASSERT_OK(pool->Submit([&count] {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        count.fetch_add(1);
      }));
    }
  }
  EXPECT_EQ(count.load(), 50);
}

TEST(ThreadPoolTest, TaskTypesAreChecked) {
  auto returns_void = [] {};
  auto returns_status = [] { return Status(); };
  static_assert(std::is_constructible_v<ThreadPool::Task, decltype(returns_void)>);
  // A pool task may not silently drop a Status; such work belongs in a TaskGroup.
  static_assert(!std::is_constructible_v<ThreadPool::Task, decltype(returns_status)>);
  static_assert(std::is_constructible_v<TaskGroup::Fn, decltype(returns_status)>);
  static_assert(!std::is_constructible_v<TaskGroup::Fn, decltype(returns_void)>);
  ThreadPool::Task empty;
  EXPECT_FALSE(empty);
  ThreadPool::Task task(returns_void);
  EXPECT_TRUE(task);
}

TEST(ThreadPoolTest, AcceptsMoveOnlyTasks) {
  auto pool = MakePool(1, 1);
  ASSERT_NE(pool, nullptr);
  int out = 0;
  auto buffer = std::make_unique<int>(42);
  ASSERT_OK(pool->Submit([buffer = std::move(buffer), &out] { out = *buffer; }));
  pool->Shutdown(ThreadPool::ShutdownMode::kDrain);
  EXPECT_EQ(out, 42);
}

TEST(ThreadPoolTest, IsWorkerThread) {
  auto pool = MakePool(1, 1);
  ASSERT_NE(pool, nullptr);
  auto other = MakePool(1, 1);
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(pool->IsWorkerThread());
  std::atomic<bool> inside{false};
  std::atomic<bool> other_inside{true};
  ASSERT_OK(pool->Submit([&] {
    inside = pool->IsWorkerThread();
    other_inside = other->IsWorkerThread();
  }));
  pool->Shutdown(ThreadPool::ShutdownMode::kDrain);
  EXPECT_TRUE(inside.load());
  EXPECT_FALSE(other_inside.load());
}

// One worker held inside a task, so the queue behind it fills deterministically.
class BlockedPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = MakePool(1, 2);
    ASSERT_NE(pool_, nullptr);
    ASSERT_OK(pool_->Submit([this] {
      started_.count_down();
      release_.wait();
      ran_.fetch_add(1);
    }));
    started_.wait();  // the worker holds the first task; the queue is empty
  }
  void TearDown() override {
    Release();
    if (pool_ != nullptr) pool_->Shutdown(ThreadPool::ShutdownMode::kDrain);
  }
  void Release() {
    if (!released_) release_.count_down();
    released_ = true;
  }

  Watchdog watchdog_{std::chrono::seconds(10)};
  std::unique_ptr<ThreadPool> pool_;
  std::latch started_{1};
  std::latch release_{1};
  bool released_ = false;
  std::atomic<int> ran_{0};
};

TEST_F(BlockedPoolTest, TrySubmitReportsFullQueue) {
  ASSERT_OK(pool_->TrySubmit([this] { ran_.fetch_add(1); }));
  ASSERT_OK(pool_->TrySubmit([this] { ran_.fetch_add(1); }));
  EXPECT_EQ(pool_->queued(), 2u);
  EXPECT_THAT(pool_->TrySubmit([this] { ran_.fetch_add(1); }),
              StatusIs(StatusCode::kResourceExhausted));
  Release();
  pool_->Shutdown(ThreadPool::ShutdownMode::kDrain);
  EXPECT_EQ(ran_.load(), 3);
}

TEST_F(BlockedPoolTest, SubmitBlocksWhileQueueFull) {
  ASSERT_OK(pool_->Submit([this] { ran_.fetch_add(1); }));
  ASSERT_OK(pool_->Submit([this] { ran_.fetch_add(1); }));
  std::atomic<bool> submitted{false};
  std::thread submitter([&] {
    EXPECT_OK(pool_->Submit([this] { ran_.fetch_add(1); }));
    submitted = true;
  });
  std::this_thread::sleep_for(kSettle);
  EXPECT_FALSE(submitted.load());
  Release();
  submitter.join();
  EXPECT_TRUE(submitted.load());
  pool_->Shutdown(ThreadPool::ShutdownMode::kDrain);
  EXPECT_EQ(ran_.load(), 4);
}

TEST_F(BlockedPoolTest, ShutdownWakesBlockedSubmitter) {
  ASSERT_OK(pool_->Submit([] {}));
  ASSERT_OK(pool_->Submit([] {}));
  std::thread submitter(
      [&] { EXPECT_THAT(pool_->Submit([] {}), StatusIs(StatusCode::kFailedPrecondition)); });
  std::this_thread::sleep_for(kSettle);
  // Shutdown closes the queue first (waking the submitter), then joins the held worker.
  std::thread shutdown([&] { pool_->Shutdown(ThreadPool::ShutdownMode::kCancel); });
  submitter.join();
  Release();
  shutdown.join();
}

TEST_F(BlockedPoolTest, CancelDropsQueuedTasksUnrun) {
  auto token = std::make_shared<int>(0);
  ASSERT_OK(pool_->Submit([this, token] { ran_.fetch_add(1); }));
  ASSERT_OK(pool_->Submit([this, token] { ran_.fetch_add(1); }));
  EXPECT_EQ(token.use_count(), 3);
  std::thread shutdown([&] { pool_->Shutdown(ThreadPool::ShutdownMode::kCancel); });
  WaitUntil([&] { return pool_->queued() == 0; });
  Release();
  shutdown.join();
  EXPECT_EQ(ran_.load(), 1);  // only the task that was running
  EXPECT_EQ(token.use_count(), 1);
}

TEST_F(BlockedPoolTest, DrainRunsQueuedTasks) {
  ASSERT_OK(pool_->Submit([this] { ran_.fetch_add(1); }));
  ASSERT_OK(pool_->Submit([this] { ran_.fetch_add(1); }));
  std::thread shutdown([&] { pool_->Shutdown(ThreadPool::ShutdownMode::kDrain); });
  std::this_thread::sleep_for(kSettle);
  Release();
  shutdown.join();
  EXPECT_EQ(ran_.load(), 3);
}

TEST(ThreadPoolTest, SubmitAfterShutdownFails) {
  auto pool = MakePool(2, 2);
  ASSERT_NE(pool, nullptr);
  pool->Shutdown(ThreadPool::ShutdownMode::kDrain);
  pool->Shutdown(ThreadPool::ShutdownMode::kCancel);  // idempotent
  bool ran = false;
  EXPECT_THAT(pool->Submit([&] { ran = true; }), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(pool->TrySubmit([&] { ran = true; }), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_FALSE(ran);
}

TEST(ThreadPoolTest, ConcurrentShutdownCallsAllReturn) {
  Watchdog watchdog(std::chrono::seconds(10));
  auto pool = MakePool(2, 8);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> count{0};
  for (int i = 0; i < 8; ++i) ASSERT_OK(pool->Submit([&] { count.fetch_add(1); }));
  std::vector<std::thread> closers;
  for (int i = 0; i < 3; ++i) {
    closers.emplace_back([&] { pool->Shutdown(ThreadPool::ShutdownMode::kDrain); });
  }
  for (std::thread& t : closers) t.join();
  EXPECT_EQ(count.load(), 8);
}

TEST(ThreadPoolTest, ManySubmittersNoDeadlock) {
  Watchdog watchdog(std::chrono::seconds(20));
  auto pool = MakePool(3, 4);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> count{0};
  std::vector<std::thread> submitters;
  for (int s = 0; s < 4; ++s) {
    submitters.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        EXPECT_OK(pool->Submit([&count] { count.fetch_add(1, std::memory_order_relaxed); }));
      }
    });
  }
  for (std::thread& t : submitters) t.join();
  pool->Shutdown(ThreadPool::ShutdownMode::kDrain);
  EXPECT_EQ(count.load(), 8000);
}

TEST(ThreadPoolDeathTest, ShutdownFromOwnWorkerAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto pool = MakePool(1, 1);
        ThreadPool* raw = pool.get();
        (void)raw->Submit([raw] { raw->Shutdown(ThreadPool::ShutdownMode::kDrain); });
        std::this_thread::sleep_for(std::chrono::seconds(5));
      },
      "Shutdown called from one of its own workers");
}

// --- TaskGroup -----------------------------------------------------------------------------------

TEST(TaskGroupTest, AllSucceed) {
  Watchdog watchdog(std::chrono::seconds(10));
  auto pool = MakePool(3, 4);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> count{0};
  TaskGroup group(pool.get());
  for (int i = 0; i < 200; ++i) {
    group.Add([&count] {
      count.fetch_add(1);
      return Status();
    });
  }
  EXPECT_OK(group.Wait());
  EXPECT_EQ(count.load(), 200);
  EXPECT_FALSE(group.cancelled());
}

TEST(TaskGroupTest, WaitWithNoTasksIsOk) {
  auto pool = MakePool(1, 1);
  ASSERT_NE(pool, nullptr);
  TaskGroup group(pool.get());
  EXPECT_OK(group.Wait());
}

TEST(TaskGroupTest, FirstErrorSkipsTasksNotStarted) {
  Watchdog watchdog(std::chrono::seconds(10));
  // One worker runs tasks in order, so everything queued behind the failure starts after it.
  auto pool = MakePool(1, 16);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> ran_after{0};
  TaskGroup group(pool.get());
  group.Add([] { return DataLossError("part 1: md5 mismatch"); });
  for (int i = 0; i < 10; ++i) {
    group.Add([&ran_after] {
      ran_after.fetch_add(1);
      return Status();
    });
  }
  EXPECT_THAT(group.Wait(), StatusIs(StatusCode::kDataLoss, "part 1: md5 mismatch"));
  EXPECT_EQ(ran_after.load(), 0);
  EXPECT_TRUE(group.cancelled());

  // A group that has failed submits nothing more and keeps its first error.
  group.Add([&ran_after] {
    ran_after.fetch_add(1);
    return Status();
  });
  EXPECT_THAT(group.Wait(), StatusIs(StatusCode::kDataLoss));
  EXPECT_EQ(ran_after.load(), 0);
}

TEST(TaskGroupTest, FirstErrorWinsAndRunningTasksFinish) {
  Watchdog watchdog(std::chrono::seconds(10));
  auto pool = MakePool(2, 4);
  ASSERT_NE(pool, nullptr);
  std::latch slow_started(1);
  std::atomic<bool> slow_saw_cancel{false};
  TaskGroup group(pool.get());
  group.Add([&] {
    slow_started.count_down();
    // Running tasks are not interrupted; they may notice the cancellation and stop early.
    WaitUntil([&] { return group.cancelled(); });
    slow_saw_cancel = true;
    return AbortedError("slow task: stopped early");  // a later error: dropped
  });
  slow_started.wait();
  group.Add([] { return UnavailableError("fast task: SlowDown"); });
  EXPECT_THAT(group.Wait(), StatusIs(StatusCode::kUnavailable, "fast task: SlowDown"));
  EXPECT_TRUE(slow_saw_cancel.load());
}

TEST(TaskGroupTest, CancelSkipsPendingAndLaterTasks) {
  Watchdog watchdog(std::chrono::seconds(10));
  auto pool = MakePool(1, 8);
  ASSERT_NE(pool, nullptr);
  std::latch started(1);
  std::latch release(1);
  std::atomic<int> ran{0};
  TaskGroup group(pool.get());
  group.Add([&] {
    started.count_down();
    release.wait();
    ran.fetch_add(1);
    return Status();
  });
  started.wait();
  group.Add([&] {
    ran.fetch_add(1);
    return Status();
  });
  group.Cancel();
  group.Add([&] {
    ran.fetch_add(1);
    return Status();
  });
  release.count_down();
  EXPECT_THAT(group.Wait(), StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(ran.load(), 1);
}

TEST(TaskGroupTest, CapturesAreDestroyedBeforeWaitReturns) {
  Watchdog watchdog(std::chrono::seconds(10));
  auto pool = MakePool(2, 4);
  ASSERT_NE(pool, nullptr);
  auto token = std::make_shared<int>(0);
  {
    TaskGroup group(pool.get());
    for (int i = 0; i < 20; ++i) group.Add([token] { return Status(); });
    group.Add([token] { return InternalError("boom"); });
    for (int i = 0; i < 20; ++i) group.Add([token] { return Status(); });
    EXPECT_THAT(group.Wait(), StatusIs(StatusCode::kInternal, "boom"));
    // Ran, skipped or never submitted: no task still holds what it captured.
    EXPECT_EQ(token.use_count(), 1);
  }
}

TEST(TaskGroupTest, PoolShutDownBeforeAddFailsTheGroup) {
  auto pool = MakePool(1, 1);
  ASSERT_NE(pool, nullptr);
  pool->Shutdown(ThreadPool::ShutdownMode::kDrain);
  bool ran = false;
  TaskGroup group(pool.get());
  group.Add([&] {
    ran = true;
    return Status();
  });
  EXPECT_THAT(group.Wait(), StatusIs(StatusCode::kCancelled));
  EXPECT_FALSE(ran);
}

TEST(TaskGroupTest, PoolCancelShutdownDoesNotStrandWait) {
  Watchdog watchdog(std::chrono::seconds(10));
  auto pool = MakePool(1, 8);
  ASSERT_NE(pool, nullptr);
  std::latch started(1);
  std::latch release(1);
  TaskGroup group(pool.get());
  group.Add([&] {
    started.count_down();
    release.wait();
    return Status();
  });
  started.wait();
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) {
    group.Add([&] {
      ran.fetch_add(1);
      return Status();
    });
  }
  std::thread shutdown([&] { pool->Shutdown(ThreadPool::ShutdownMode::kCancel); });
  WaitUntil([&] { return pool->queued() == 0; });
  release.count_down();
  shutdown.join();
  EXPECT_THAT(group.Wait(), StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(ran.load(), 0);
}

TEST(TaskGroupTest, DestructorWaitsForTasks) {
  Watchdog watchdog(std::chrono::seconds(10));
  auto pool = MakePool(2, 4);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> done{0};
  {
    TaskGroup group(pool.get());
    for (int i = 0; i < 10; ++i) {
      group.Add([&done] {
        std::this_thread::sleep_for(milliseconds(2));
        done.fetch_add(1);
        return Status();
      });
    }
  }
  EXPECT_EQ(done.load(), 10);
}

TEST(TaskGroupTest, ManyGroupsShareOnePool) {
  Watchdog watchdog(std::chrono::seconds(20));
  auto pool = MakePool(3, 4);
  ASSERT_NE(pool, nullptr);
  constexpr int kGroups = 4;
  constexpr int kTasks = 500;
  std::vector<std::thread> owners;
  std::vector<std::atomic<int>> ran(kGroups);
  for (int g = 0; g < kGroups; ++g) {
    owners.emplace_back([&, g] {
      TaskGroup group(pool.get());
      for (int i = 0; i < kTasks; ++i) {
        group.Add([&, g, i]() -> Status {
          ran[static_cast<size_t>(g)].fetch_add(1);
          // Odd groups fail half way; the failure must stay inside its group.
          if (g % 2 == 1 && i == kTasks / 2) return AbortedError("group " + std::to_string(g));
          return Status();
        });
      }
      if (g % 2 == 1) {
        EXPECT_THAT(group.Wait(), StatusIs(StatusCode::kAborted, "group " + std::to_string(g)));
      } else {
        EXPECT_OK(group.Wait());
      }
    });
  }
  for (std::thread& t : owners) t.join();
  // Groups that did not fail ran everything (how early the others stopped depends on timing).
  for (int g = 0; g < kGroups; g += 2) EXPECT_EQ(ran[static_cast<size_t>(g)].load(), kTasks);
}

}  // namespace
}  // namespace cairn
