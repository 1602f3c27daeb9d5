#include "cairn/objstore/retry.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

namespace cairn::objstore {

namespace {

using std::chrono::microseconds;

// Service error codes that mean "slow down", from the AWS SDKs' standard retry mode (the
// "throttling errors" of botocore/retries/standard.py and the SDK retry specification), plus
// S3's SlowDown. Compared exactly: they are case-sensitive identifiers.
constexpr std::array<std::string_view, 14> kThrottlingCodes = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

// "1 attempt", "3 attempts".
std::string Attempts(int n) { return std::to_string(n) + (n == 1 ? " attempt" : " attempts"); }

// Seconds with one decimal, for messages: "41.3".
std::string Seconds(int64_t micros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(micros) / 1e6);
  return buf;
}

// Parses exactly `n` decimal digits at text[pos..pos+n).
std::optional<int> Digits(std::string_view text, size_t pos, size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Unix seconds of an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
std::optional<int64_t> ParseImfFixdate(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // Fixed layout: day-name "," SP day SP month SP year SP hh ":" mm ":" ss SP "GMT".
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (std::find(kDays.begin(), kDays.end(), text.substr(0, 3)) == kDays.end()) return std::nullopt;
  auto month_it = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
  if (month_it == kMonths.end()) return std::nullopt;
  std::optional<int> day = Digits(text, 5, 2);
  std::optional<int> year = Digits(text, 12, 4);
  std::optional<int> hour = Digits(text, 17, 2);
  std::optional<int> minute = Digits(text, 20, 2);
  std::optional<int> second = Digits(text, 23, 2);
  if (!day || !year || !hour || !minute || !second) return std::nullopt;
  // A leap second (60) is allowed by the grammar; it counts as the next second.
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  std::chrono::year_month_day date{
      std::chrono::year(*year),
      std::chrono::month(static_cast<unsigned>(month_it - kMonths.begin() + 1)),
      std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  return days * 86400 + *hour * 3600 + *minute * 60 + *second;
}

// What RunWithRetries does after a failed attempt.
struct Decision {
  bool retry = false;
  std::string why;        // when giving up: why, or empty when max_attempts is the reason
  microseconds delay{0};  // when retrying: how long to wait first
  int cost = 0;           // when retrying: the tokens taken from the budget
};

// The rules in the order documented in retry.h; the budget comes last so that no tokens are taken
// for a retry that another rule forbids.
Decision Decide(const RetryPolicy& policy, const Status& status, const RetryAttempt& attempt,
                int data_loss_failures, microseconds elapsed, Random* random) {
  const RetryOptions& options = policy.options();
  Decision decision;
  if (!policy.IsRetryable(status)) {
    decision.why = "last error not retryable";
    return decision;
  }
  if (!policy.ShouldRetry(status, attempt.number)) return decision;
  if (status.code() == StatusCode::kDataLoss &&
      data_loss_failures >= options.max_data_loss_retries) {
    decision.why = "data loss repeated";
    return decision;
  }
  if (attempt.retry_after && *attempt.retry_after > options.max_retry_after) {
    decision.why = "server asked to wait " + Seconds(attempt.retry_after->count()) +
                   " s, more than " + Seconds(options.max_retry_after.count()) + " s";
    return decision;
  }
  decision.delay = policy.Delay(status, attempt.number, attempt.retry_after, random);
  if (options.deadline > microseconds(0)) {
    const microseconds remaining = options.deadline - elapsed;
    if (remaining <= microseconds(0) || attempt.retry_after.value_or(microseconds(0)) > remaining) {
      decision.why = "deadline of " + Seconds(options.deadline.count()) + " s reached";
      return decision;
    }
    // Jitter is arbitrary anyway: cut it so that one more attempt starts at the deadline.
    decision.delay = std::min(decision.delay, remaining);
  }
  if (policy.budget() != nullptr) {
    std::optional<int> cost = policy.budget()->TryAcquire(status);
    if (!cost) {
      decision.why = "retry budget exhausted";
      return decision;
    }
    decision.cost = *cost;
  }
  decision.retry = true;
  return decision;
}

}  // namespace

uint64_t SeededRandom::Uniform(uint64_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  if (max == std::numeric_limits<uint64_t>::max()) return engine_();
  // Rejection sampling: drop the lowest (2^64 mod range) outputs so that every remainder is
  // equally likely (the modulo bias would otherwise favour small waits, slightly).
  const uint64_t range = max + 1;
  const uint64_t threshold = (0 - range) % range;
  uint64_t x;
  do {
    x = engine_();
  } while (x < threshold);
  return x % range;
}

RetryBudget::RetryBudget(RetryBudgetOptions options)
    : options_{.capacity = std::max(options.capacity, 0),
               .retry_cost = std::max(options.retry_cost, 1),
               .timeout_retry_cost = std::max(options.timeout_retry_cost, 1),
               .success_reward = std::max(options.success_reward, 0)},
      available_(options_.capacity) {}

std::optional<int> RetryBudget::TryAcquire(const Status& error) {
  const int cost = error.code() == StatusCode::kDeadlineExceeded ? options_.timeout_retry_cost
                                                                 : options_.retry_cost;
  std::lock_guard<std::mutex> lock(mu_);
  if (available_ < cost) return std::nullopt;
  available_ -= cost;
  return cost;
}

void RetryBudget::OnSuccess(int last_retry_cost) {
  const int refund = last_retry_cost > 0 ? last_retry_cost : options_.success_reward;
  std::lock_guard<std::mutex> lock(mu_);
  available_ = std::min(options_.capacity, available_ + refund);
}

int RetryBudget::available() const {
  std::lock_guard<std::mutex> lock(mu_);
  return available_;
}

RetryPolicy::RetryPolicy(RetryOptions options, std::shared_ptr<RetryBudget> budget)
    : options_(std::move(options)), budget_(std::move(budget)) {
  options_.max_attempts = std::max(options_.max_attempts, 1);
  options_.max_data_loss_retries = std::max(options_.max_data_loss_retries, 0);
  for (microseconds* d : {&options_.base_delay, &options_.throttle_base_delay, &options_.max_delay,
                          &options_.deadline, &options_.max_retry_after}) {
    *d = std::max(*d, microseconds(0));
  }
}

bool RetryPolicy::IsRetryable(const Status& error) const {
  switch (error.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return true;
    case StatusCode::kAborted:
      return options_.restartable == Restartable::kYes;
    case StatusCode::kDataLoss:
      return options_.max_data_loss_retries > 0;
    default:
      return false;
  }
}

bool RetryPolicy::ShouldRetry(const Status& error, int attempt) const {
  return IsRetryable(error) && attempt + 1 < options_.max_attempts;
}

microseconds RetryPolicy::BackoffCeiling(const Status& error, int attempt) const {
  const microseconds cap = options_.max_delay;
  microseconds ceiling = IsThrottling(error) ? options_.throttle_base_delay : options_.base_delay;
  // Doubling step by step rather than shifting by `attempt`, which may exceed 63: the loop ends at
  // the cap within 64 steps, and the guard keeps a cap near the maximum from overflowing.
  for (int i = 0; i < attempt && ceiling < cap && ceiling > microseconds(0); ++i) {
    ceiling = ceiling > microseconds::max() / 2 ? microseconds::max() : ceiling * 2;
  }
  return std::min(ceiling, cap);
}

microseconds RetryPolicy::Delay(const Status& error, int attempt,
                                std::optional<microseconds> retry_after, Random* random) const {
  const microseconds ceiling = BackoffCeiling(error, attempt);
  const microseconds jitter(
      static_cast<int64_t>(random->Uniform(static_cast<uint64_t>(ceiling.count()))));
  return retry_after ? std::max(jitter, *retry_after) : jitter;
}

bool IsThrottling(const Status& error) {
  if (error.ok()) return false;
  const int http = error.detail().http_status;
  // 498: Swift's ratelimit middleware ("Slow down").
  if (http == 429 || http == 503 || http == 498) return true;
  const std::string& code = error.detail().service_code;
  return std::find(kThrottlingCodes.begin(), kThrottlingCodes.end(), code) !=
         kThrottlingCodes.end();
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    int64_t now_unix_seconds) {
  // Optional whitespace around a field value is not part of it (RFC 9110 §5.5).
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    // delay-seconds = 1*DIGIT. Saturate absurd values instead of overflowing: anything past a
    // year is "too long" to every caller anyway.
    constexpr int64_t kSaturate = int64_t{366} * 86400;
    int64_t seconds = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return std::nullopt;
      seconds = std::min(seconds * 10 + (c - '0'), kSaturate);
    }
    return std::chrono::seconds(seconds);
  }
  std::optional<int64_t> when = ParseImfFixdate(value);
  if (!when) return std::nullopt;
  return std::chrono::seconds(std::max<int64_t>(*when - now_unix_seconds, 0));
}

Status RunWithRetries(const RetryPolicy& policy, io::Env* env, Random* random,
                      AttemptFunction attempt, std::string_view what) {
  const int64_t start = env->NowUnixMicros();
  int data_loss_failures = 0;
  int last_retry_cost = 0;  // tokens the retry in flight took from the budget

  for (int number = 0;; ++number) {
    RetryAttempt state;
    state.number = number;
    Status status = attempt(&state);
    if (status.ok()) {
      if (policy.budget() != nullptr) policy.budget()->OnSuccess(last_retry_cost);
      return status;
    }
    // A permanent error at once already names what failed: nothing to add.
    if (number == 0 && !policy.IsRetryable(status)) return status;

    // A clock that went backwards (Env is wall-clock time) counts as no time passed.
    const microseconds elapsed(std::max<int64_t>(env->NowUnixMicros() - start, 0));
    Decision decision = Decide(policy, status, state, data_loss_failures, elapsed, random);
    if (!decision.retry) {
      std::string context(what.empty() ? "request" : what);
      context +=
          " (gave up after " + Attempts(number + 1) + " over " + Seconds(elapsed.count()) + " s";
      if (!decision.why.empty()) context += "; " + decision.why;
      context += ")";
      return std::move(status).WithContext(context);
    }
    last_retry_cost = decision.cost;
    if (status.code() == StatusCode::kDataLoss) ++data_loss_failures;
    env->SleepForMicros(decision.delay.count());
  }
}

}  // namespace cairn::objstore
