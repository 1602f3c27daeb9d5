#include "cairn/common/lru_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cairn {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(LruMapTest, PutGetAndSize) {
  LruMap<std::string, int> map(3);
  EXPECT_TRUE(map.empty());
  EXPECT_TRUE(map.Put("a", 1));
  EXPECT_TRUE(map.Put("b", 2));
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.charge(), 2u);
  ASSERT_NE(map.Get("a"), nullptr);
  EXPECT_EQ(*map.Get("a"), 1);
  EXPECT_EQ(map.Get("zzz"), nullptr);
  EXPECT_TRUE(map.Contains("b"));
  EXPECT_FALSE(map.Contains("zzz"));
  EXPECT_EQ(map.limits().max_entries, 3u);
}

TEST(LruMapTest, EvictsLeastRecentlyUsedEntry) {
  LruMap<int, std::string> map(2);
  map.Put(1, "one");
  map.Put(2, "two");
  map.Put(3, "three");  // evicts 1
  EXPECT_FALSE(map.Contains(1));
  EXPECT_TRUE(map.Contains(2));
  EXPECT_TRUE(map.Contains(3));
  EXPECT_EQ(map.size(), 2u);
}

TEST(LruMapTest, GetRefreshesButPeekDoesNot) {
  LruMap<int, int> map(2);
  map.Put(1, 10);
  map.Put(2, 20);
  ASSERT_NE(map.Get(1), nullptr);  // 2 is now the oldest
  map.Put(3, 30);
  EXPECT_TRUE(map.Contains(1));
  EXPECT_FALSE(map.Contains(2));

  ASSERT_NE(map.Peek(1), nullptr);  // 1 stays the oldest
  EXPECT_EQ(*map.Peek(1), 10);
  EXPECT_EQ(map.Peek(2), nullptr);
  map.Put(4, 40);
  EXPECT_FALSE(map.Contains(1));
  EXPECT_TRUE(map.Contains(3));
}

TEST(LruMapTest, PutReplacesValueAndRefreshes) {
  std::vector<int> evicted;
  LruMap<int, int> map({.max_entries = 2},
                       [&evicted](const int& key, int&&) { evicted.push_back(key); });
  map.Put(1, 10);
  map.Put(2, 20);
  map.Put(1, 11);  // replaces without eviction; 2 becomes the oldest
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(*map.Get(1), 11);
  EXPECT_TRUE(evicted.empty());
  map.Put(3, 30);
  EXPECT_THAT(evicted, ElementsAre(2));
}

TEST(LruMapTest, ChargeBoundsTotalWeight) {
  LruMap<std::string, std::string> map({.max_charge = 100});
  map.Put("a", "A", 40);
  map.Put("b", "B", 40);
  EXPECT_EQ(map.charge(), 80u);
  map.Put("c", "C", 40);  // 120 > 100: evicts a
  EXPECT_EQ(map.charge(), 80u);
  EXPECT_FALSE(map.Contains("a"));
  map.Put("d", "D", 100);  // needs the whole budget: evicts b and c
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.charge(), 100u);
  EXPECT_TRUE(map.Contains("d"));
}

TEST(LruMapTest, ReplacementUpdatesCharge) {
  LruMap<int, int> map({.max_charge = 10});
  map.Put(1, 0, 3);
  map.Put(2, 0, 3);
  map.Put(2, 0, 7);  // 3 + 7 = 10 fits
  EXPECT_EQ(map.charge(), 10u);
  EXPECT_EQ(map.size(), 2u);
  map.Put(1, 0, 5);  // 5 + 7 > 10: evicts 2, never the entry just put
  EXPECT_EQ(map.charge(), 5u);
  EXPECT_TRUE(map.Contains(1));
  EXPECT_FALSE(map.Contains(2));
}

TEST(LruMapTest, BothLimitsApply) {
  LruMap<int, int> map({.max_entries = 3, .max_charge = 10});
  map.Put(1, 0, 1);
  map.Put(2, 0, 1);
  map.Put(3, 0, 1);
  map.Put(4, 0, 1);  // entry limit
  EXPECT_FALSE(map.Contains(1));
  map.Put(5, 0, 9);  // evicting 2 meets the entry limit; the charge limit also needs 3 gone
  EXPECT_FALSE(map.Contains(2));
  EXPECT_FALSE(map.Contains(3));
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.charge(), 10u);
}

TEST(LruMapTest, EntryLargerThanBudgetIsNotStored) {
  std::vector<int> evicted;
  LruMap<int, int> map({.max_charge = 10},
                       [&evicted](const int& key, int&&) { evicted.push_back(key); });
  map.Put(1, 100, 5);
  map.Put(2, 200, 5);
  EXPECT_FALSE(map.Put(3, 300, 11));
  EXPECT_FALSE(map.Contains(3));
  EXPECT_EQ(map.size(), 2u);  // nothing was evicted for it
  EXPECT_TRUE(evicted.empty());
  // A stale smaller value for the same key must not survive a rejected replacement.
  EXPECT_FALSE(map.Put(1, 101, 11));
  EXPECT_FALSE(map.Contains(1));
  EXPECT_EQ(map.charge(), 5u);
}

TEST(LruMapTest, ZeroEntriesStoresNothing) {
  LruMap<int, int> map(0);
  EXPECT_FALSE(map.Put(1, 1));
  EXPECT_TRUE(map.empty());
}

TEST(LruMapTest, EvictionCallbackGetsOwnershipInLruOrder) {
  std::vector<std::pair<int, int>> evicted;
  LruMap<int, std::unique_ptr<int>> map({.max_entries = 2},
                                        [&evicted](const int& key, std::unique_ptr<int>&& value) {
                                          std::unique_ptr<int> taken = std::move(value);
                                          evicted.emplace_back(key, *taken);
                                        });
  map.Put(1, std::make_unique<int>(10));
  map.Put(2, std::make_unique<int>(20));
  map.Put(3, std::make_unique<int>(30));
  map.Put(4, std::make_unique<int>(40));
  EXPECT_THAT(evicted, ElementsAre(Pair(1, 10), Pair(2, 20)));
  ASSERT_NE(map.Get(4), nullptr);
  EXPECT_EQ(**map.Get(4), 40);
}

TEST(LruMapTest, EraseAndClearDoNotCallCallback) {
  int callbacks = 0;
  LruMap<int, int> map({.max_entries = 4}, [&callbacks](const int&, int&&) { ++callbacks; });
  map.Put(1, 1, 2);
  map.Put(2, 2, 3);
  EXPECT_TRUE(map.Erase(1));
  EXPECT_FALSE(map.Erase(1));
  EXPECT_EQ(map.charge(), 3u);
  map.Clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.charge(), 0u);
  EXPECT_EQ(map.Get(2), nullptr);
  map.Put(3, 3);  // still usable after Clear
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(callbacks, 0);
}

TEST(LruMapTest, PointersStayValidWhileEntryIsPresent) {
  LruMap<int, std::string> map(3);
  map.Put(1, "one");
  std::string* one = map.Get(1);
  map.Put(2, "two");
  map.Put(3, "three");
  map.Get(2);
  map.Put(1, "uno");  // replacement keeps the slot
  EXPECT_EQ(one, map.Get(1));
  EXPECT_EQ(*one, "uno");
}

TEST(LruMapTest, ManyEntriesKeepsNewest) {
  LruMap<int, int> map(100);
  for (int i = 0; i < 10000; ++i) map.Put(i, i * 2);
  EXPECT_EQ(map.size(), 100u);
  for (int i = 0; i < 9900; ++i) ASSERT_FALSE(map.Contains(i)) << i;
  for (int i = 9900; i < 10000; ++i) ASSERT_EQ(*map.Peek(i), i * 2);
}

}  // namespace
}  // namespace cairn
