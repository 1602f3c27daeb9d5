#include "cairn/objstore/retry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cairn/common/status.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"
#include "cairn/testing/watchdog.h"

namespace cairn::objstore {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using testing::FakeEnv;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::StatusIs;

// Draws a fixed fraction of the range: 0 gives the shortest wait, 1 the ceiling.
class FractionRandom final : public Random {
 public:
  explicit FractionRandom(double fraction) : fraction_(fraction) {}
  uint64_t Uniform(uint64_t max) override {
    return static_cast<uint64_t>(static_cast<double>(max) * fraction_);
  }

 private:
  double fraction_;
};

Status WithHttp(StatusCode code, int http_status, std::string service_code = "") {
  ErrorDetail detail;
  detail.http_status = http_status;
  detail.service_code = std::move(service_code);
  return Status(code, "PUT /b/k: HTTP " + std::to_string(http_status), std::move(detail));
}

Status SlowDown() { return WithHttp(StatusCode::kUnavailable, 503, "SlowDown"); }

// --- SeededRandom ---------------------------------------------------------------------------

TEST(SeededRandomTest, SameSeedSameDraws) {
  SeededRandom a(7), b(7), c(8);
  std::vector<uint64_t> from_a, from_b, from_c;
  for (int i = 0; i < 32; ++i) {
    from_a.push_back(a.Uniform(1'000'000));
    from_b.push_back(b.Uniform(1'000'000));
    from_c.push_back(c.Uniform(1'000'000));
  }
  EXPECT_EQ(from_a, from_b);
  EXPECT_NE(from_a, from_c);
}

TEST(SeededRandomTest, StaysInRangeAndReachesBothEnds) {
  SeededRandom random(1);
  EXPECT_EQ(random.Uniform(0), 0u);
  bool saw_zero = false, saw_three = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = random.Uniform(3);
    ASSERT_LE(x, 3u);
    saw_zero |= x == 0;
    saw_three |= x == 3;
  }
  EXPECT_TRUE(saw_zero);
  EXPECT_TRUE(saw_three);  // max is included
  // The full range takes the engine's output as it is.
  random.Uniform(UINT64_MAX);
}

// --- Backoff --------------------------------------------------------------------------------

TEST(RetryPolicyTest, CeilingDoublesFromBaseUpToMaxDelay) {
  RetryPolicy policy;  // 100 ms base, 20 s cap
  const Status reset = UnavailableError("connection reset");
  std::vector<int64_t> ms;
  for (int attempt = 0; attempt < 10; ++attempt) {
    ms.push_back(
        std::chrono::duration_cast<milliseconds>(policy.BackoffCeiling(reset, attempt)).count());
  }
  EXPECT_THAT(ms, ElementsAre(100, 200, 400, 800, 1600, 3200, 6400, 12800, 20000, 20000));
  // Absurd attempt numbers stay at the cap instead of overflowing.
  EXPECT_EQ(policy.BackoffCeiling(reset, 1'000'000), seconds(20));
}

TEST(RetryPolicyTest, ThrottlingUsesTheLargerBase) {
  RetryPolicy policy;
  EXPECT_EQ(policy.BackoffCeiling(SlowDown(), 0), milliseconds(500));
  EXPECT_EQ(policy.BackoffCeiling(SlowDown(), 3), milliseconds(4000));
  EXPECT_EQ(policy.BackoffCeiling(WithHttp(StatusCode::kUnavailable, 429), 1), milliseconds(1000));
  EXPECT_EQ(policy.BackoffCeiling(SlowDown(), 20), seconds(20));
  EXPECT_EQ(policy.BackoffCeiling(WithHttp(StatusCode::kUnavailable, 500), 0), milliseconds(100));
}

TEST(RetryPolicyTest, FullJitterStaysBelowTheCeilingAndFillsIt) {
  RetryPolicy policy;
  SeededRandom random(42);
  const Status reset = UnavailableError("connection reset");
  for (int attempt = 0; attempt < 12; ++attempt) {
    const microseconds ceiling = policy.BackoffCeiling(reset, attempt);
    microseconds lowest = microseconds::max(), highest(0);
    double sum = 0;
    constexpr int kDraws = 2000;
    for (int i = 0; i < kDraws; ++i) {
      const microseconds d = policy.Delay(reset, attempt, std::nullopt, &random);
      ASSERT_GE(d, microseconds(0));
      ASSERT_LE(d, ceiling);
      lowest = std::min(lowest, d);
      highest = std::max(highest, d);
      sum += static_cast<double>(d.count());
    }
    // Uniform over [0, ceiling]: the draws reach near both ends and average half the ceiling.
    EXPECT_LT(lowest.count(), ceiling.count() / 20) << "attempt " << attempt;
    EXPECT_GT(highest.count(), ceiling.count() * 19 / 20) << "attempt " << attempt;
    const double mean = sum / kDraws / static_cast<double>(ceiling.count());
    EXPECT_NEAR(mean, 0.5, 0.05) << "attempt " << attempt;
  }
}

TEST(RetryPolicyTest, DelayExtremesAreZeroAndTheCeiling) {
  RetryPolicy policy;
  FractionRandom zero(0), one(1);
  const Status reset = UnavailableError("reset");
  EXPECT_EQ(policy.Delay(reset, 4, std::nullopt, &zero), microseconds(0));
  EXPECT_EQ(policy.Delay(reset, 4, std::nullopt, &one), milliseconds(1600));
}

TEST(RetryPolicyTest, RetryAfterIsAFloorUnderTheJitter) {
  RetryPolicy policy;
  FractionRandom zero(0), one(1);
  const Status busy = SlowDown();
  // A long Retry-After wins over a short draw; a short one does not shorten a long draw.
  EXPECT_EQ(policy.Delay(busy, 0, seconds(3), &zero), seconds(3));
  EXPECT_EQ(policy.Delay(busy, 5, seconds(3), &one), seconds(16));
}

TEST(RetryPolicyTest, OptionsAreClamped) {
  RetryOptions options;
  options.max_attempts = 0;
  options.base_delay = microseconds(-5);
  RetryPolicy policy(options);
  EXPECT_EQ(policy.options().max_attempts, 1);
  EXPECT_EQ(policy.options().base_delay, microseconds(0));
  EXPECT_EQ(policy.BackoffCeiling(UnavailableError("x"), 1'000'000), microseconds(0));
}

// --- Which errors are retried -----------------------------------------------------------------

TEST(RetryPolicyTest, RetriesByCode) {
  RetryPolicy policy;
  struct Case {
    StatusCode code;
    bool retried;
  };
  const Case cases[] = {
      {StatusCode::kUnavailable, true},        {StatusCode::kDeadlineExceeded, true},
      {StatusCode::kDataLoss, true},           {StatusCode::kAborted, false},
      {StatusCode::kNotFound, false},          {StatusCode::kPermissionDenied, false},
      {StatusCode::kInvalidArgument, false},   {StatusCode::kFailedPrecondition, false},
      {StatusCode::kUnauthenticated, false},   {StatusCode::kAlreadyExists, false},
      {StatusCode::kOutOfRange, false},        {StatusCode::kUnimplemented, false},
      {StatusCode::kResourceExhausted, false}, {StatusCode::kCancelled, false},
      {StatusCode::kInternal, false},          {StatusCode::kUnknown, false},
  };
  for (const Case& c : cases) {
    const Status error(c.code, "x");
    EXPECT_EQ(policy.IsRetryable(error), c.retried) << StatusCodeName(c.code);
    EXPECT_EQ(policy.ShouldRetry(error, 0), c.retried) << StatusCodeName(c.code);
  }
  EXPECT_FALSE(policy.IsRetryable(Status::OK()));
}

TEST(RetryPolicyTest, AbortedOnlyWhenTheOperationRestarts) {
  RetryOptions options;
  options.restartable = Restartable::kYes;
  EXPECT_TRUE(RetryPolicy(options).ShouldRetry(AbortedError("body not rewindable"), 0));
  EXPECT_FALSE(RetryPolicy().ShouldRetry(AbortedError("body not rewindable"), 0));
}

TEST(RetryPolicyTest, DataLossNotRetriedWhenDisabled) {
  RetryOptions options;
  options.max_data_loss_retries = 0;
  EXPECT_FALSE(RetryPolicy(options).ShouldRetry(DataLossError("BadDigest"), 0));
}

TEST(RetryPolicyTest, ShouldRetryStopsAtMaxAttempts) {
  RetryOptions options;
  options.max_attempts = 3;
  RetryPolicy policy(options);
  const Status reset = UnavailableError("reset");
  EXPECT_TRUE(policy.ShouldRetry(reset, 0));
  EXPECT_TRUE(policy.ShouldRetry(reset, 1));
  EXPECT_FALSE(policy.ShouldRetry(reset, 2));  // the third attempt was the last
}

TEST(IsThrottlingTest, ByHttpStatusAndServiceCode) {
  EXPECT_TRUE(IsThrottling(SlowDown()));
  EXPECT_TRUE(IsThrottling(WithHttp(StatusCode::kUnavailable, 429)));
  EXPECT_TRUE(IsThrottling(WithHttp(StatusCode::kUnavailable, 503)));
  EXPECT_TRUE(IsThrottling(WithHttp(StatusCode::kUnavailable, 498)));  // Swift ratelimit
  EXPECT_TRUE(IsThrottling(WithHttp(StatusCode::kUnavailable, 400, "RequestLimitExceeded")));
  EXPECT_TRUE(IsThrottling(WithHttp(StatusCode::kUnavailable, 400, "ThrottlingException")));
  EXPECT_FALSE(IsThrottling(WithHttp(StatusCode::kUnavailable, 500, "InternalError")));
  EXPECT_FALSE(IsThrottling(WithHttp(StatusCode::kUnavailable, 502)));
  EXPECT_FALSE(IsThrottling(UnavailableError("connection reset")));
  EXPECT_FALSE(IsThrottling(WithHttp(StatusCode::kUnavailable, 400, "slowdown")));  // exact case
  EXPECT_FALSE(IsThrottling(Status::OK()));
}

// --- Retry-After ----------------------------------------------------------------------------

TEST(ParseRetryAfterTest, DelaySeconds) {
  EXPECT_EQ(ParseRetryAfter("120", 0), seconds(120));
  EXPECT_EQ(ParseRetryAfter("0", 0), seconds(0));
  EXPECT_EQ(ParseRetryAfter(" 5\t", 0), seconds(5));
  // Huge values saturate at about a year instead of overflowing.
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", 0), seconds(366 * 86400));
}

TEST(ParseRetryAfterTest, HttpDate) {
  // RFC 9110's own example date: 1994-11-06T08:49:37Z = 784111777.
  constexpr int64_t kWhen = 784111777;
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kWhen - 10), seconds(10));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kWhen + 10), seconds(0));  // past
  EXPECT_EQ(ParseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", -60), seconds(60));
  EXPECT_EQ(ParseRetryAfter("Tue, 29 Feb 2028 23:59:59 GMT", 1'835'481'599 - 1), seconds(1));
}

TEST(ParseRetryAfterTest, RejectsOtherForms) {
  for (std::string_view bad : {
           "",
           "  ",
           "-5",
           "1.5",
           "5s",
           "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850, obsolete
           "Sun Nov  6 08:49:37 1994",        // asctime, obsolete
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "Sun, 31 Nov 1994 08:49:37 GMT",  // no such day
           "Sun, 06 Nov 1994 24:00:00 GMT",
           "Xyz, 06 Nov 1994 08:49:37 GMT",
           "Sun, 06 Foo 1994 08:49:37 GMT",
       }) {
    EXPECT_EQ(ParseRetryAfter(bad, 0), std::nullopt) << "\"" << bad << "\"";
  }
}

// --- RetryBudget ----------------------------------------------------------------------------

TEST(RetryBudgetTest, PaysForRetriesUntilEmpty) {
  RetryBudget budget;  // 500 tokens, 5 per retry
  EXPECT_EQ(budget.available(), 500);
  const Status reset = UnavailableError("reset");
  for (int i = 0; i < 100; ++i) ASSERT_EQ(budget.TryAcquire(reset), 5) << i;
  EXPECT_EQ(budget.available(), 0);
  EXPECT_EQ(budget.TryAcquire(reset), std::nullopt);
  EXPECT_EQ(budget.available(), 0);
}

TEST(RetryBudgetTest, TimeoutsCostMore) {
  RetryBudget budget;
  EXPECT_EQ(budget.TryAcquire(DeadlineExceededError("idle")), 10);
  EXPECT_EQ(budget.available(), 490);
}

TEST(RetryBudgetTest, DeniesWhenTheCostDoesNotFit) {
  RetryBudget budget({.capacity = 12});
  const Status timeout = DeadlineExceededError("t");
  EXPECT_EQ(budget.TryAcquire(timeout), 10);
  EXPECT_EQ(budget.TryAcquire(timeout), std::nullopt);                // 2 left, 10 asked
  EXPECT_EQ(budget.available(), 2);                                   // nothing taken on denial
  EXPECT_EQ(budget.TryAcquire(UnavailableError("r")), std::nullopt);  // 5 asked
}

TEST(RetryBudgetTest, RefillsFromSuccesses) {
  RetryBudget budget({.capacity = 20});
  const Status reset = UnavailableError("reset");
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(budget.TryAcquire(reset).has_value());
  EXPECT_EQ(budget.available(), 0);
  budget.OnSuccess(5);  // a retried request succeeded: its last retry's tokens come back
  EXPECT_EQ(budget.available(), 5);
  budget.OnSuccess(0);  // a first-attempt success adds one
  budget.OnSuccess(0);
  EXPECT_EQ(budget.available(), 7);
  for (int i = 0; i < 100; ++i) budget.OnSuccess(0);
  EXPECT_EQ(budget.available(), 20);  // never above capacity
  budget.OnSuccess(5);
  EXPECT_EQ(budget.available(), 20);
}

TEST(RetryBudgetTest, ConcurrentUseKeepsTheBooks) {
  testing::Watchdog watchdog(std::chrono::seconds(60));
  RetryBudget budget({.capacity = 1000});
  constexpr int kThreads = 8;
  constexpr int kRounds = 5000;
  std::atomic<int> denied{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Status error =
          t % 2 == 0 ? UnavailableError("reset") : DeadlineExceededError("timeout");
      for (int i = 0; i < kRounds; ++i) {
        std::optional<int> cost = budget.TryAcquire(error);
        if (!cost) {
          denied.fetch_add(1);
          continue;
        }
        const int available = budget.available();
        EXPECT_GE(available, 0);
        EXPECT_LE(available, 1000);
        budget.OnSuccess(*cost);  // every retry pays back exactly what it took
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // Each acquisition was refunded exactly, so the bucket is full again.
  EXPECT_EQ(budget.available(), 1000);
  EXPECT_EQ(denied.load(), 0);  // 8 threads hold at most 80 tokens at once
}

// --- RunWithRetries -------------------------------------------------------------------------

// Returns the scripted statuses in order, then OK; records attempt numbers.
class Script {
 public:
  explicit Script(std::vector<Status> failures) : failures_(std::move(failures)) {}
  Status operator()(RetryAttempt* attempt) {
    numbers_.push_back(attempt->number);
    if (static_cast<size_t>(attempt->number) < failures_.size()) {
      return failures_[attempt->number];
    }
    return Status::OK();
  }
  int calls() const { return static_cast<int>(numbers_.size()); }
  const std::vector<int>& numbers() const { return numbers_; }

 private:
  std::vector<Status> failures_;
  std::vector<int> numbers_;
};

TEST(RunWithRetriesTest, SucceedsAfterTransientFailures) {
  FakeEnv env;
  FractionRandom one(1);
  Script script({UnavailableError("reset"), SlowDown()});
  ASSERT_OK(RunWithRetries(RetryPolicy(), &env, &one, script, "get s3://b/k"));
  EXPECT_THAT(script.numbers(), ElementsAre(0, 1, 2));
  // Ceiling waits: 100 ms after the reset, then 1 s (throttled base 500 ms, attempt 1).
  EXPECT_THAT(env.sleeps(), ElementsAre(100'000, 1'000'000));
}

TEST(RunWithRetriesTest, FirstAttemptSuccessDoesNotSleep) {
  FakeEnv env;
  SeededRandom random(3);
  int calls = 0;
  ASSERT_OK(RunWithRetries(
      RetryPolicy(), &env, &random,
      [&] {
        ++calls;
        return Status::OK();
      },
      "head"));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(env.sleeps().empty());
}

TEST(RunWithRetriesTest, GivesUpWithTheLastErrorAndTheCount) {
  FakeEnv env;
  FractionRandom one(1);
  int calls = 0;
  Status result = RunWithRetries(
      RetryPolicy(), &env, &one,
      [&] {
        ++calls;
        return WithHttp(StatusCode::kUnavailable, 500 + calls % 2, "");  // 501, 500, 501, ...
      },
      "upload part 3 of s3://b/k");
  EXPECT_EQ(calls, 10);
  // The tenth error (500), with its code and detail, and the whole story in front.
  EXPECT_THAT(result, StatusIs(StatusCode::kUnavailable,
                               "upload part 3 of s3://b/k (gave up after 10 attempts over 45.5 s): "
                               "PUT /b/k: HTTP 500"));
  EXPECT_EQ(result.detail().http_status, 500);
  EXPECT_EQ(env.total_slept_micros(), 45'500'000);  // 0.1+0.2+...+12.8+20 s at the ceiling
}

TEST(RunWithRetriesTest, PermanentErrorAtOnceComesBackUntouched) {
  FakeEnv env;
  SeededRandom random(3);
  const Status missing = NotFoundError("GET s3://b/k: NoSuchKey (HTTP 404)");
  Script script({missing});
  Status result = RunWithRetries(RetryPolicy(), &env, &random, script, "download s3://b/k");
  EXPECT_EQ(result, missing);
  EXPECT_EQ(script.calls(), 1);
  EXPECT_TRUE(env.sleeps().empty());
}

TEST(RunWithRetriesTest, PermanentErrorAfterRetriesSaysSo) {
  FakeEnv env;
  FractionRandom zero(0);
  Script script({UnavailableError("reset"), NotFoundError("NoSuchUpload")});
  Status result = RunWithRetries(RetryPolicy(), &env, &zero, script, "complete");
  EXPECT_THAT(result,
              StatusIs(StatusCode::kNotFound,
                       "complete (gave up after 2 attempts over 0.0 s; last error not retryable): "
                       "NoSuchUpload"));
}

TEST(RunWithRetriesTest, AbortedRetriedOnlyWhenRestartable) {
  FakeEnv env;
  FractionRandom zero(0);
  Script once({AbortedError("lost race")});
  EXPECT_THAT(RunWithRetries(RetryPolicy(), &env, &zero, once, "x"),
              StatusIs(StatusCode::kAborted, "lost race"));
  RetryOptions options;
  options.restartable = Restartable::kYes;
  Script again({AbortedError("lost race")});
  EXPECT_OK(RunWithRetries(RetryPolicy(options), &env, &zero, again, "x"));
  EXPECT_EQ(again.calls(), 2);
}

TEST(RunWithRetriesTest, DataLossRetriedOnce) {
  FakeEnv env;
  FractionRandom zero(0);
  Script flaky({DataLossError("BadDigest")});
  EXPECT_OK(RunWithRetries(RetryPolicy(), &env, &zero, flaky, "upload part 1"));
  EXPECT_EQ(flaky.calls(), 2);

  // A transient error in between does not earn a second kDataLoss retry.
  Script broken({DataLossError("BadDigest 1"), UnavailableError("reset"),
                 DataLossError("BadDigest 2"), Status::OK()});
  EXPECT_THAT(RunWithRetries(RetryPolicy(), &env, &zero, broken, "upload part 1"),
              StatusIs(StatusCode::kDataLoss,
                       "upload part 1 (gave up after 3 attempts over 0.0 s; data loss repeated): "
                       "BadDigest 2"));
  EXPECT_EQ(broken.calls(), 3);
}

TEST(RunWithRetriesTest, RetryAfterIsHonoured) {
  FakeEnv env;
  FractionRandom zero(0);
  int calls = 0;
  ASSERT_OK(RunWithRetries(
      RetryPolicy(), &env, &zero,
      [&](RetryAttempt* attempt) {
        if (calls++ > 0) return Status::OK();
        attempt->retry_after = seconds(7);
        return SlowDown();
      },
      "put"));
  EXPECT_THAT(env.sleeps(), ElementsAre(7'000'000));
}

TEST(RunWithRetriesTest, RetryAfterTooLongGivesUp) {
  FakeEnv env;
  FractionRandom zero(0);
  RetryOptions options;
  options.max_retry_after = seconds(60);
  Status result = RunWithRetries(
      RetryPolicy(options), &env, &zero,
      [&](RetryAttempt* attempt) {
        attempt->retry_after = seconds(3600);
        return SlowDown();
      },
      "put");
  EXPECT_THAT(result, StatusIs(StatusCode::kUnavailable,
                               HasSubstr("(gave up after 1 attempt over 0.0 s; server asked to "
                                         "wait 3600.0 s, more than 60.0 s)")));
  EXPECT_TRUE(env.sleeps().empty());
}

TEST(RunWithRetriesTest, StopsAtTheDeadline) {
  FakeEnv env;
  FractionRandom one(1);
  RetryOptions options;
  options.base_delay = seconds(1);
  options.max_delay = seconds(60);
  options.deadline = seconds(10);
  int calls = 0;
  Status result = RunWithRetries(
      RetryPolicy(options), &env, &one,
      [&] {
        ++calls;
        return UnavailableError("reset");
      },
      "get");
  // Waits of 1, 2, 4 s, then 8 s cut to the 3 s left: the last attempt starts at the deadline.
  EXPECT_THAT(env.sleeps(), ElementsAre(1'000'000, 2'000'000, 4'000'000, 3'000'000));
  EXPECT_EQ(calls, 5);
  EXPECT_THAT(result, StatusIs(StatusCode::kUnavailable,
                               "get (gave up after 5 attempts over 10.0 s; deadline of 10.0 s "
                               "reached): reset"));
}

TEST(RunWithRetriesTest, DeadlineCountsTimeSpentInAttempts) {
  FakeEnv env;
  FractionRandom zero(0);
  RetryOptions options;
  options.deadline = seconds(10);
  int calls = 0;
  Status result = RunWithRetries(
      RetryPolicy(options), &env, &zero,
      [&] {
        ++calls;
        env.AdvanceMicros(4'000'000);  // each attempt times out after 4 s
        return DeadlineExceededError("idle timeout");
      },
      "get");
  EXPECT_EQ(calls, 3);  // starts at 0, 4 and 8 s; at 12 s the deadline has passed
  EXPECT_THAT(result, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("over 12.0 s; deadline")));
}

TEST(RunWithRetriesTest, RetryAfterPastTheDeadlineGivesUpAtOnce) {
  FakeEnv env;
  FractionRandom zero(0);
  RetryOptions options;
  options.deadline = seconds(10);
  Status result = RunWithRetries(
      RetryPolicy(options), &env, &zero,
      [&](RetryAttempt* attempt) {
        attempt->retry_after = seconds(30);
        return SlowDown();
      },
      "get");
  EXPECT_THAT(result,
              StatusIs(StatusCode::kUnavailable, HasSubstr("1 attempt over 0.0 s; deadline")));
  EXPECT_TRUE(env.sleeps().empty());
}

TEST(RunWithRetriesTest, EmptyBudgetStopsRetriesAndSuccessesRefillIt) {
  FakeEnv env;
  FractionRandom zero(0);
  auto budget = std::make_shared<RetryBudget>(RetryBudgetOptions{.capacity = 10});
  RetryPolicy policy(RetryOptions{}, budget);
  auto always_down = [] { return UnavailableError("connection refused"); };

  // 10 tokens pay for two retries: three attempts, then the budget says no.
  int calls = 0;
  Status first = RunWithRetries(
      policy, &env, &zero,
      [&] {
        ++calls;
        return always_down();
      },
      "get a");
  EXPECT_EQ(calls, 3);
  EXPECT_THAT(first, StatusIs(StatusCode::kUnavailable,
                              "get a (gave up after 3 attempts over 0.0 s; retry budget "
                              "exhausted): connection refused"));
  EXPECT_EQ(budget->available(), 0);

  // While it is empty every request makes exactly one attempt: no load multiplication.
  calls = 0;
  EXPECT_THAT(RunWithRetries(
                  policy, &env, &zero,
                  [&] {
                    ++calls;
                    return always_down();
                  },
                  "get b"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("1 attempt")));
  EXPECT_EQ(calls, 1);

  // First-attempt successes refill it one token each; five buy the next retry.
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(RunWithRetries(
        policy, &env, &zero, [] { return Status::OK(); }, "get c"));
  }
  EXPECT_EQ(budget->available(), 5);
  Script recovers({UnavailableError("reset")});
  ASSERT_OK(RunWithRetries(policy, &env, &zero, recovers, "get d"));
  EXPECT_EQ(recovers.calls(), 2);
  EXPECT_EQ(budget->available(), 5);  // the retry's 5 tokens came back with its success
}

TEST(RunWithRetriesTest, OnlyTheLastRetryIsRefunded) {
  FakeEnv env;
  FractionRandom zero(0);
  auto budget = std::make_shared<RetryBudget>();
  Script script({UnavailableError("reset"), UnavailableError("reset")});
  ASSERT_OK(RunWithRetries(RetryPolicy(RetryOptions{}, budget), &env, &zero, script, "get"));
  EXPECT_EQ(budget->available(), 495);  // two retries took 10; the success gave 5 back
}

TEST(RunWithRetriesTest, CopiesOfAPolicyShareTheBudget) {
  auto budget = std::make_shared<RetryBudget>();
  RetryPolicy a(RetryOptions{}, budget);
  RetryPolicy b = a;
  EXPECT_EQ(a.budget(), b.budget());
}

TEST(RunWithRetriesTest, ConcurrentRequestsShareBudgetRandomAndEnv) {
  testing::Watchdog watchdog(std::chrono::seconds(60));
  FakeEnv env;
  SeededRandom random(11);
  auto budget = std::make_shared<RetryBudget>();
  RetryPolicy policy(RetryOptions{}, budget);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Script script({SlowDown()});
        Status s =
            RunWithRetries(policy, &env, &random, script, "part " + std::to_string(t * 1000 + i));
        if (!s.ok() || script.calls() != 2) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Each request's one retry was refunded by its success, so the budget is whole again. (Only the
  // last retry of a request is refunded, as in the AWS SDKs: a request that needed several
  // retries costs the endpoint's budget the rest.)
  EXPECT_EQ(budget->available(), 500);
}

TEST(RunWithRetriesTest, ContextNamesTheRequestWhenWhatIsEmpty) {
  FakeEnv env;
  FractionRandom zero(0);
  RetryOptions options;
  options.max_attempts = 1;
  EXPECT_THAT(RunWithRetries(
                  RetryPolicy(options), &env, &zero, [] { return UnavailableError("reset"); }, ""),
              StatusIs(StatusCode::kUnavailable,
                       AllOf(StartsWith("request (gave up after 1 attempt over 0.0 s)"),
                             Not(HasSubstr(";")))));
}

}  // namespace
}  // namespace cairn::objstore
