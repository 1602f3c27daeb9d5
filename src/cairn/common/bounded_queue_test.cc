#include "cairn/common/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cairn/testing/watchdog.h"

namespace cairn {
namespace {

using std::chrono::milliseconds;

using ::cairn::testing::Watchdog;

// Long enough for a thread that should block to have run into the wait on a loaded machine;
// the checks that use it can only pass falsely, never fail spuriously.
constexpr milliseconds kSettle{50};

TEST(BoundedQueueTest, FifoOrderAndSize) {
  BoundedQueue<int> q(4);
  EXPECT_EQ(q.capacity(), 4u);
  ASSERT_TRUE(q.Push(1));
  ASSERT_TRUE(q.Push(2));
  const int three = 3;
  ASSERT_TRUE(q.TryPush(three));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.Pop(), 1);
  EXPECT_EQ(q.TryPop(), 2);
  EXPECT_EQ(q.PopFor(milliseconds(0)), 3);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.TryPop(), std::nullopt);
}

TEST(BoundedQueueTest, ZeroCapacityIsTreatedAsOne) {
  BoundedQueue<int> q(0);
  EXPECT_EQ(q.capacity(), 1u);
  EXPECT_TRUE(q.TryPush(1));
  EXPECT_FALSE(q.TryPush(2));
}

TEST(BoundedQueueTest, TryPushWhenFullLeavesItemWithCaller) {
  BoundedQueue<std::unique_ptr<int>> q(1);
  ASSERT_TRUE(q.TryPush(std::make_unique<int>(1)));
  auto item = std::make_unique<int>(2);
  EXPECT_FALSE(q.TryPush(std::move(item)));
  ASSERT_NE(item, nullptr);  // NOLINT(bugprone-use-after-move): untouched on failure by contract
  EXPECT_EQ(*item, 2);
  EXPECT_FALSE(q.closed());
}

TEST(BoundedQueueTest, PushBlocksWhileFull) {
  Watchdog watchdog(std::chrono::seconds(10));
  BoundedQueue<int> q(1);
  ASSERT_TRUE(q.Push(1));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    EXPECT_TRUE(q.Push(2));
    pushed = true;
  });
  std::this_thread::sleep_for(kSettle);
  EXPECT_FALSE(pushed.load());
  EXPECT_EQ(q.Pop(), 1);  // makes room
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(q.Pop(), 2);
}

TEST(BoundedQueueTest, PopBlocksWhileEmpty) {
  Watchdog watchdog(std::chrono::seconds(10));
  BoundedQueue<int> q(2);
  std::atomic<bool> popped{false};
  std::thread consumer([&] {
    EXPECT_EQ(q.Pop(), 7);
    popped = true;
  });
  std::this_thread::sleep_for(kSettle);
  EXPECT_FALSE(popped.load());
  ASSERT_TRUE(q.Push(7));
  consumer.join();
  EXPECT_TRUE(popped.load());
}

TEST(BoundedQueueTest, CloseWakesBlockedConsumers) {
  Watchdog watchdog(std::chrono::seconds(10));
  BoundedQueue<int> q(2);
  std::vector<std::thread> consumers;
  for (int i = 0; i < 3; ++i) {
    consumers.emplace_back([&] { EXPECT_EQ(q.Pop(), std::nullopt); });
  }
  std::this_thread::sleep_for(kSettle);
  q.Close();
  for (std::thread& t : consumers) t.join();
}

TEST(BoundedQueueTest, CloseWakesBlockedProducerAndLeavesItsItem) {
  Watchdog watchdog(std::chrono::seconds(10));
  BoundedQueue<std::unique_ptr<int>> q(1);
  ASSERT_TRUE(q.Push(std::make_unique<int>(1)));
  std::thread producer([&] {
    auto item = std::make_unique<int>(2);
    EXPECT_FALSE(q.Push(std::move(item)));
    EXPECT_NE(item, nullptr);  // NOLINT(bugprone-use-after-move): untouched on failure
  });
  std::this_thread::sleep_for(kSettle);
  q.Close();
  producer.join();
  // The item queued before Close is still delivered.
  std::optional<std::unique_ptr<int>> first = q.Pop();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(**first, 1);
  EXPECT_EQ(q.Pop(), std::nullopt);
}

TEST(BoundedQueueTest, ClosedQueueDrainsThenReportsEnd) {
  BoundedQueue<int> q(4);
  ASSERT_TRUE(q.Push(1));
  ASSERT_TRUE(q.Push(2));
  q.Close();
  q.Close();  // idempotent
  EXPECT_TRUE(q.closed());
  EXPECT_FALSE(q.Push(3));
  EXPECT_FALSE(q.TryPush(3));
  EXPECT_EQ(q.Pop(), 1);
  EXPECT_EQ(q.PopFor(milliseconds(10)), 2);
  EXPECT_EQ(q.Pop(), std::nullopt);
  EXPECT_EQ(q.TryPop(), std::nullopt);
  EXPECT_EQ(q.PopFor(std::chrono::seconds(10)), std::nullopt);  // returns at once, not in 10 s
}

TEST(BoundedQueueTest, PopForTimesOut) {
  BoundedQueue<int> q(1);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(q.PopFor(milliseconds(20)), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(20));
}

TEST(BoundedQueueTest, PopForReturnsItemPushedWhileWaiting) {
  Watchdog watchdog(std::chrono::seconds(10));
  BoundedQueue<int> q(1);
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(10));
    EXPECT_TRUE(q.Push(5));
  });
  EXPECT_EQ(q.PopFor(std::chrono::seconds(5)), 5);
  producer.join();
}

TEST(BoundedQueueTest, ManyProducersManyConsumersDeliverEachItemOnce) {
  Watchdog watchdog(std::chrono::seconds(20));
  constexpr int kProducers = 4;
  constexpr int kConsumers = 3;
  constexpr int kPerProducer = 5000;
  BoundedQueue<int> q(8);
  std::vector<std::atomic<int>> seen(kProducers * kPerProducer);
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      while (std::optional<int> item = q.Pop()) seen[static_cast<size_t>(*item)]++;
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) EXPECT_TRUE(q.Push(p * kPerProducer + i));
    });
  }
  for (std::thread& t : producers) t.join();
  q.Close();
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

TEST(BoundedQueueTest, OneConsumerSeesEachProducersItemsInOrder) {
  Watchdog watchdog(std::chrono::seconds(20));
  constexpr int kProducers = 3;
  constexpr int kPerProducer = 3000;
  BoundedQueue<std::pair<int, int>> q(4);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) EXPECT_TRUE(q.Push({p, i}));
    });
  }
  std::vector<int> next(kProducers, 0);
  for (int n = 0; n < kProducers * kPerProducer; ++n) {
    std::optional<std::pair<int, int>> item = q.Pop();
    ASSERT_TRUE(item.has_value());
    ASSERT_EQ(item->second, next[static_cast<size_t>(item->first)]++);
  }
  for (std::thread& t : producers) t.join();
  EXPECT_EQ(q.TryPop(), std::nullopt);
}

}  // namespace
}  // namespace cairn
