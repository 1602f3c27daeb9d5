// The part-number plan and the joins, checked on every layout the design names and on random ones:
// every part but the last is at least the minimum, numbers ascend, joins stay in their slots and
// cover every head exactly once, and the coordinator's bytes stay bounded.
#include "cairn/objstore/mpu/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::mpu {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kMin = 100;

// The heads a worker leaves for a partition of n bytes (plan.h's table).
HeadInfo HeadFor(uint64_t n) {
  if (n >= 2 * kMin) return {.head_size = kMin, .has_parts = true};
  return {.head_size = n, .has_parts = false};
}

// Checks PlanJoins for these partition sizes against the rules a store enforces.
void CheckLayout(const std::vector<uint64_t>& sizes) {
  SCOPED_TRACE(::testing::PrintToString(sizes));
  ASSERT_OK_AND_ASSIGN(PartPlan plan, PartPlan::Create(static_cast<int>(sizes.size())));
  std::vector<HeadInfo> heads;
  for (uint64_t n : sizes) heads.push_back(HeadFor(n));
  ASSERT_OK_AND_ASSIGN(std::vector<JoinStep> steps, PlanJoins(plan, heads, kMin));
  // Lay the object out as (part number, size), regular parts as the worker cuts them (one part
  // of n - min bytes stands for all of them: each is >= min either way).
  std::vector<std::pair<int, uint64_t>> parts;
  std::vector<int> covered(sizes.size(), 0);
  for (const JoinStep& step : steps) {
    uint64_t size = 0;
    for (int w : step.workers) {
      ++covered[w];
      size += heads[w].head_size;
      // A join lives in the head slot of its last worker.
      EXPECT_LE(plan.Slots(step.workers.front()).head_part, step.part_number);
    }
    EXPECT_EQ(size, step.size);
    if (step.kind == JoinKind::kCopy) {
      EXPECT_EQ(step.workers.size(), 1u);
    }
    if (!step.workers.empty()) {
      EXPECT_EQ(step.part_number, plan.Slots(step.workers.back()).head_part);
    }
    parts.push_back({step.part_number, size});
  }
  uint64_t total = 0;
  for (size_t w = 0; w < sizes.size(); ++w) {
    total += sizes[w];
    if (heads[w].head_size > 0) {
      EXPECT_EQ(covered[w], 1) << "worker " << w;
    }
    if (heads[w].has_parts) parts.push_back({plan.Slots(int(w)).first_part, sizes[w] - kMin});
  }
  std::sort(parts.begin(), parts.end());
  ASSERT_FALSE(parts.empty());
  uint64_t sum = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(parts[i - 1].first, parts[i].first);
    }
    if (i + 1 < parts.size()) {
      EXPECT_GE(parts[i].second, kMin) << "part " << parts[i].first;
    }
    sum += parts[i].second;
  }
  EXPECT_EQ(sum, total);
  // The coordinator moves at most the minimum part size per worker, on average.
  EXPECT_LE(JoinedBytes(steps), kMin * sizes.size());
}

TEST(PartPlanTest, SplitsPartNumbersEvenly) {
  ASSERT_OK_AND_ASSIGN(PartPlan plan, PartPlan::Create(1000));
  EXPECT_EQ(plan.slots_per_worker(), 10);
  WorkerSlots last = plan.Slots(999);
  EXPECT_EQ(last.head_part, 9991);
  EXPECT_EQ(last.first_part, 9992);
  EXPECT_EQ(last.last_part, 10000);
  EXPECT_EQ(last.part_count(), 9);
  EXPECT_EQ(plan.OwnerOf(1), 0);
  EXPECT_EQ(plan.OwnerOf(10), 0);
  EXPECT_EQ(plan.OwnerOf(11), 1);
  EXPECT_EQ(plan.OwnerOf(10001), -1);

  ASSERT_OK_AND_ASSIGN(PartPlan one, PartPlan::Create(1));
  EXPECT_EQ(one.Slots(0).last_part, 10000);
  ASSERT_OK_AND_ASSIGN(PartPlan three, PartPlan::Create(3));
  EXPECT_EQ(three.Slots(2).last_part, 9999);  // 10,000 / 3 = 3,333 each; part 10,000 unused
}

TEST(PartPlanTest, RefusesPlansWithoutTwoSlotsPerWorker) {
  EXPECT_THAT(PartPlan::Create(0).status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(PartPlan::Create(5001).status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(PartPlan::Create(5000).status());
}

TEST(PlanJoinsTest, AllLargeCopiesEveryHeadServerSide) {
  ASSERT_OK_AND_ASSIGN(PartPlan plan, PartPlan::Create(3));
  std::vector<HeadInfo> heads(3, HeadFor(1000));
  ASSERT_OK_AND_ASSIGN(std::vector<JoinStep> steps, PlanJoins(plan, heads, kMin));
  ASSERT_EQ(steps.size(), 3u);
  for (int w = 0; w < 3; ++w) {
    EXPECT_EQ(steps[w].kind, JoinKind::kCopy);
    EXPECT_THAT(steps[w].workers, ElementsAre(w));
  }
  EXPECT_EQ(JoinedBytes(steps), 0u);
}

TEST(PlanJoinsTest, SmallPiecesJoinTheNextHead) {
  ASSERT_OK_AND_ASSIGN(PartPlan plan, PartPlan::Create(4));
  std::vector<HeadInfo> heads{HeadFor(1000), HeadFor(10), HeadFor(20), HeadFor(1000)};
  ASSERT_OK_AND_ASSIGN(std::vector<JoinStep> steps, PlanJoins(plan, heads, kMin));
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].kind, JoinKind::kCopy);
  EXPECT_EQ(steps[1].kind, JoinKind::kJoin);
  EXPECT_THAT(steps[1].workers, ElementsAre(1, 2, 3));
  EXPECT_EQ(steps[1].part_number, plan.Slots(3).head_part);  // where worker 3's head also went
  EXPECT_EQ(steps[1].size, 10u + 20u + kMin);
}

TEST(PlanJoinsTest, TrailingSmallPieceIsCopiedAsTheLastPart) {
  ASSERT_OK_AND_ASSIGN(PartPlan plan, PartPlan::Create(2));
  std::vector<HeadInfo> heads{HeadFor(1000), HeadFor(7)};
  ASSERT_OK_AND_ASSIGN(std::vector<JoinStep> steps, PlanJoins(plan, heads, kMin));
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[1].kind, JoinKind::kCopy);
  EXPECT_EQ(steps[1].size, 7u);
}

TEST(PlanJoinsTest, AllEmptyMakesOneEmptyPart) {
  ASSERT_OK_AND_ASSIGN(PartPlan plan, PartPlan::Create(3));
  std::vector<HeadInfo> heads(3);
  ASSERT_OK_AND_ASSIGN(std::vector<JoinStep> steps, PlanJoins(plan, heads, kMin));
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, JoinKind::kEmpty);
  EXPECT_EQ(steps[0].part_number, 1);
}

TEST(PlanJoinsTest, RejectsHeadsThatBreakTheRules) {
  ASSERT_OK_AND_ASSIGN(PartPlan plan, PartPlan::Create(2));
  std::vector<HeadInfo> bad_large{HeadFor(1000), {.head_size = 50, .has_parts = true}};
  EXPECT_THAT(PlanJoins(plan, bad_large, kMin).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("worker 1")));
  std::vector<HeadInfo> bad_small{{.head_size = 2 * kMin, .has_parts = false}, HeadFor(1)};
  EXPECT_THAT(PlanJoins(plan, bad_small, kMin).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("worker 0")));
  EXPECT_THAT(PlanJoins(plan, std::vector<HeadInfo>(3), kMin).status(),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(PlanJoinsTest, EveryNamedLayout) {
  const uint64_t small = 30, medium = 150, large = 1000;
  for (const std::vector<uint64_t>& sizes : std::vector<std::vector<uint64_t>>{
           {large, large, large},
           {0, large, large},
           {large, 0, large},
           {large, large, 0},
           {0, 0, 0},
           {small, large, large},
           {large, small, large},
           {large, large, small},
           {small, small, small},
           {small, 0, small, 0},
           {medium, medium, medium},
           {small, medium, small, medium},
           {large, medium, small, large, 0, small},
           {kMin, 2 * kMin - 1, 2 * kMin, 1},
           {1},
           {0},
           {large},
       }) {
    CheckLayout(sizes);
  }
}

TEST(PlanJoinsTest, RandomLayouts) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint64_t> sizes(1 + rng() % 40);
    for (uint64_t& n : sizes) {
      switch (rng() % 5) {
        case 0:
          n = 0;
          break;
        case 1:
          n = 1 + rng() % (kMin - 1);
          break;
        case 2:
          n = kMin + rng() % kMin;
          break;
        default:
          n = 2 * kMin + rng() % (10 * kMin);
          break;
      }
    }
    CheckLayout(sizes);
    if (HasFatalFailure()) return;
  }
}

TEST(PlanJoinsTest, AThousandSmallWorkersFitTheirSlots) {
  std::vector<uint64_t> sizes(1000, kMin / 3);
  CheckLayout(sizes);
  sizes.assign(1000, kMin - 1);
  CheckLayout(sizes);
  for (size_t i = 0; i < sizes.size(); i += 2) sizes[i] = 5 * kMin;  // alternating
  CheckLayout(sizes);
}

}  // namespace
}  // namespace cairn::objstore::mpu
