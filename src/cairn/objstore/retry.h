// Retries for object-store requests: which errors to retry, how long to wait, when to give up.
//
//   auto budget = std::make_shared<RetryBudget>();          // one per endpoint
//   RetryPolicy policy(RetryOptions{}, budget);              // a value; copy it freely
//   Status s = RunWithRetries(policy, env, &random, [&](RetryAttempt* attempt) {
//     CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply, http->Send(request, body));
//     if (auto value = reply.headers.Get("Retry-After")) {  // a server that names a delay
//       attempt->retry_after = ParseRetryAfter(*value, env->NowUnixSeconds());
//     }
//     return S3ErrorOf(reply);                               // OK for a 2xx
//   }, "upload part 3 of s3://b/k");
//
// Waits follow "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015), full jitter:
// sleep = random(0, min(max_delay, base * 2^attempt)). Full jitter spreads the retries of many
// clients hit by the same outage over the whole window instead of synchronising them in waves.
// Throttling replies (S3 SlowDown, HTTP 503 and 429) use a larger base, since the server asked us
// to send less. A RetryBudget shared by every request to one endpoint stops retries once most of
// them fail, so a dead endpoint sees one attempt per request instead of max_attempts.
//
// Time and randomness are injected (io::Env for the clock and sleeping, Random for jitter), so
// every decision here is a deterministic unit test.
//
// Which codes are retried (after common/status.h, where codes mean what the caller should do):
//   kUnavailable, kDeadlineExceeded   always: the call may succeed as it is (503, reset, timeout)
//   kAborted                          only with Restartable::kYes: kAborted means "redo the whole
//                                     operation" (a race lost, a body that could not be rewound
//                                     for a resend), which a retry loop may do only if the callable
//                                     starts the operation over from its beginning
//   kDataLoss                         at most max_data_loss_retries times per run (default once):
//                                     S3 BadDigest (the Content-MD5 we sent did not match what
//                                     arrived) or a downloaded range that failed its hash. A
//                                     transient corruption (a flaky NIC or proxy; TCP's checksum
//                                     is weak) passes on the second try; corruption at rest or a
//                                     bug in our buffer fails again, and a second kDataLoss is
//                                     reported rather than retried ten times.
//   everything else                   never: kNotFound, kPermissionDenied, kInvalidArgument,
//                                     kFailedPrecondition (If-Match failed: the object changed),
//                                     kAlreadyExists, kOutOfRange, kUnimplemented,
//                                     kResourceExhausted, kCancelled, kInternal, kUnknown and
//                                     kUnauthenticated. An expired token is re-authenticated by the
//                                     client that owns the credentials (Swift's re-auth on 401),
//                                     not by blind retries.
// Service error codes that HTTP status alone misclassifies (S3 400 RequestTimeout is transient)
// must be mapped to the right code by the store's client before they get here.
//
// Idempotency: S3 and Swift requests are idempotent at the HTTP level (PUT, GET, DELETE, UploadPart
// of a given number) except CompleteMultipartUpload, whose retry after a lost reply may see
// NoSuchUpload; the multipart code handles that, not this file.
//
// Thread safety: RetryPolicy is immutable after construction and may be shared. RetryBudget and
// SeededRandom are thread-safe. RunWithRetries is thread-safe if its callable is.
#ifndef CAIRN_OBJSTORE_RETRY_H_
#define CAIRN_OBJSTORE_RETRY_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <type_traits>

#include "cairn/common/status.h"
#include "cairn/io/env.h"

namespace cairn::objstore {

// A source of uniformly distributed integers for jitter. An interface so tests can pin the draws.
class Random {
 public:
  virtual ~Random() = default;
  // A number drawn uniformly from [0, max] (max included, so a wait can reach its ceiling).
  virtual uint64_t Uniform(uint64_t max) = 0;
};

// std::mt19937_64 from a seed. The draws depend only on the seed (the engine's output is fixed by
// the C++ standard and Uniform does its own unbiased reduction instead of
// std::uniform_int_distribution, whose output differs between standard libraries).
// Production code seeds it once per process (e.g. from std::random_device).
//
// Thread-safe: one instance may serve every request to an endpoint (a draw per retry is cheap
// next to a network round trip, so a mutex costs nothing that matters).
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t Uniform(uint64_t max) override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // guarded by mu_
};

// Tuning of RetryBudget; the defaults are those of the AWS SDKs' "standard" retry mode
// (retry quota: INITIAL_RETRY_TOKENS, RETRY_COST, TIMEOUT_RETRY_COST, NO_RETRY_INCREMENT, as in
// botocore/retries/quota.py and @aws-sdk/middleware-retry constants.ts).
struct RetryBudgetOptions {
  int capacity = 500;           // tokens when full (also the initial amount)
  int retry_cost = 5;           // taken by each retry
  int timeout_retry_cost = 10;  // taken by a retry after kDeadlineExceeded: timeouts cost more
                                // because each one held a connection for the whole timeout
  int success_reward = 1;       // given back by a request that succeeded at its first attempt
};

// A token bucket shared by every request to one endpoint that pays for retries.
//
// Each retry takes retry_cost tokens; when the bucket cannot pay, the request gives up with its
// last error instead of retrying. A request that succeeds after retrying gives back what its last
// retry took; one that succeeds at once adds success_reward, up to capacity. So while most requests
// succeed the bucket stays full, and when an endpoint is down the retries stop after
// capacity / retry_cost of them (100 by default) until successes refill it: a dead endpoint sees
// about one attempt per request rather than max_attempts.
//
// Thread-safe: every method may be called concurrently (a mutex; one lock per attempt).
class RetryBudget {
 public:
  // Options are clamped to sane values (costs >= 1, capacity >= 0, reward >= 0).
  explicit RetryBudget(RetryBudgetOptions options = {});
  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;

  // Takes the tokens one retry after `error` costs and returns how many, or nullopt when the budget
  // cannot pay (then nothing is taken and the caller must not retry).
  std::optional<int> TryAcquire(const Status& error);

  // Records a request that succeeded. `last_retry_cost` is what TryAcquire returned for the retry
  // that succeeded, or 0 when the first attempt did.
  void OnSuccess(int last_retry_cost);

  int available() const;
  int capacity() const { return options_.capacity; }

 private:
  const RetryBudgetOptions options_;
  mutable std::mutex mu_;
  int available_;  // guarded by mu_
};

// Whether a kAborted error may be retried: only when the callable redoes the whole operation.
enum class Restartable { kNo, kYes };

struct RetryOptions {
  // Attempts in all, the first included. 10, not the AWS SDK standard mode's 3: Cairn is the
  // outermost layer (nobody above retries a failed part), a failed part fails a transfer of up to
  // 5 TiB, and the RetryBudget already stops retries against a dead endpoint. The same as
  // aws-sdk-cpp's DefaultRetryStrategy (10) and rclone's --low-level-retries (10). With the
  // delays below the waits add up to at most 45.5 s (91.5 s when throttled), half that on average.
  int max_attempts = 10;
  // Wait ceilings: base * 2^attempt, capped at max_delay. 100 ms, 500 ms and 20 s are the AWS
  // SDKs' DEFAULT_RETRY_DELAY_BASE, THROTTLING_RETRY_DELAY_BASE and MAXIMUM_RETRY_DELAY.
  std::chrono::microseconds base_delay = std::chrono::milliseconds(100);
  std::chrono::microseconds throttle_base_delay = std::chrono::milliseconds(500);
  std::chrono::microseconds max_delay = std::chrono::seconds(20);
  // No attempt starts later than this after the first one began; zero means no deadline. Not set
  // by default because one value cannot fit both a HEAD and a 5 GiB part on a slow link; bounding
  // each attempt is the HTTP client's timeout, and max_attempts with max_delay bound the waits.
  std::chrono::microseconds deadline{0};
  // A Retry-After longer than this ends the retries at once: a server that asks for minutes is
  // down for a while, and reporting that beats a silent hang. Shorter ones are honoured.
  std::chrono::microseconds max_retry_after = std::chrono::minutes(5);
  // kDataLoss retries allowed per run (see the file comment).
  int max_data_loss_retries = 1;
  Restartable restartable = Restartable::kNo;
};

// When and how long to retry. A value: cheap to copy (the budget is shared, not copied).
class RetryPolicy {
 public:
  // Out-of-range options are clamped (max_attempts >= 1, delays >= 0). `budget` may be null (no
  // budget); otherwise it is shared by every copy of the policy.
  explicit RetryPolicy(RetryOptions options = {}, std::shared_ptr<RetryBudget> budget = nullptr);

  const RetryOptions& options() const { return options_; }
  RetryBudget* budget() const { return budget_.get(); }

  // Whether `error`'s code is one that a retry may fix (the table in the file comment; kDataLoss
  // counts as retryable when max_data_loss_retries > 0). False for OK.
  bool IsRetryable(const Status& error) const;

  // Whether to retry after attempt number `attempt` (0 for the first) failed with `error`:
  // IsRetryable and attempts remain. Neither the budget, the deadline nor the kDataLoss count is
  // consulted here; RunWithRetries applies those, since they depend on state across attempts.
  bool ShouldRetry(const Status& error, int attempt) const;

  // min(max_delay, base * 2^attempt), with base = throttle_base_delay when IsThrottling(error).
  std::chrono::microseconds BackoffCeiling(const Status& error, int attempt) const;

  // How long to wait after attempt `attempt` failed with `error`: a full-jitter draw below
  // BackoffCeiling, but never less than `retry_after` (the server's Retry-After, if any). Taking
  // the larger keeps the spread of jitter when the server's delay is short and never comes back
  // before the server asked.
  std::chrono::microseconds Delay(const Status& error, int attempt,
                                  std::optional<std::chrono::microseconds> retry_after,
                                  Random* random) const;

 private:
  RetryOptions options_;
  std::shared_ptr<RetryBudget> budget_;
};

// Whether `error` says the server is shedding load: HTTP 429 or 503, Swift's 498 (ratelimit
// middleware), or a throttling service code from the AWS SDKs' standard-mode list ("SlowDown",
// "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", ...).
bool IsThrottling(const Status& error);

// The delay a Retry-After header value asks for (RFC 9110 §10.2.3): either delay-seconds ("120")
// or an HTTP-date in the IMF-fixdate form every server must send ("Sun, 06 Nov 1994 08:49:37
// GMT"), measured from `now_unix_seconds` (a date in the past means zero). nullopt when the value
// is neither (including the obsolete RFC 850 and asctime date forms, which no store sends).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    int64_t now_unix_seconds);

// What RunWithRetries tells each attempt, and what the attempt may tell it back.
struct RetryAttempt {
  int number = 0;  // 0 for the first attempt
  // Set by the callable when the failed reply named a delay (ParseRetryAfter of Retry-After).
  std::optional<std::chrono::microseconds> retry_after;
};

// A non-owning reference to a callable `Status(RetryAttempt*)` or `Status()` (after
// absl::FunctionRef): two pointers, no allocation. It must not outlive the callable, which a
// temporary lambda passed straight to RunWithRetries never does.
class AttemptFunction {
 public:
  template <typename F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, AttemptFunction> &&
           (std::is_invocable_r_v<Status, F&, RetryAttempt*> || std::is_invocable_r_v<Status, F&>))
      AttemptFunction(F&& f)  // NOLINT: implicit so that lambdas convert at call sites
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        invoke_(&Invoke<std::remove_reference_t<F>>) {}

  Status operator()(RetryAttempt* attempt) const { return invoke_(object_, attempt); }

 private:
  template <typename F>
  static Status Invoke(void* object, RetryAttempt* attempt) {
    F& f = *static_cast<F*>(object);
    if constexpr (std::is_invocable_r_v<Status, F&, RetryAttempt*>) {
      return f(attempt);
    } else {
      return f();
    }
  }

  void* object_;
  Status (*invoke_)(void*, RetryAttempt*);
};

// Calls `attempt` until it returns OK or the policy gives up, sleeping through `env` between
// attempts (Delay, drawn from `random`).
//
// Gives up when the error is not retryable, max_attempts is reached, a second kDataLoss (more than
// max_data_loss_retries) arrives, the budget cannot pay for the retry, a Retry-After exceeds
// max_retry_after, or the deadline would pass. Near the deadline a jittered wait is cut short so
// one last attempt starts at the deadline; a Retry-After that ends past it gives up at once.
//
// Returns OK, or the last error with its code and detail unchanged. An error that is not retryable
// at the first attempt comes back untouched (it already names what failed); otherwise the message
// gains the context "<what> (gave up after N attempts over T s[; why])", e.g.
// "upload part 3 of s3://b/k (gave up after 10 attempts over 41.3 s): SlowDown (HTTP 503, ...)".
//
// REQUIRES: env and random are non-null and outlive the call.
Status RunWithRetries(const RetryPolicy& policy, io::Env* env, Random* random,
                      AttemptFunction attempt, std::string_view what);

}  // namespace cairn::objstore

#endif  // CAIRN_OBJSTORE_RETRY_H_
