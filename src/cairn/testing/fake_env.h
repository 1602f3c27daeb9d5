// FakeEnv: an io::Env whose clock only moves when told, for tests of anything that waits.
//
//   testing::FakeEnv env(/*start_unix_micros=*/1'700'000'000'000'000);
//   Status s = RunWithRetries(policy, &env, &random, call, "get");
//   EXPECT_EQ(env.sleeps().size(), 2u);          // what the code slept, in order
//   EXPECT_EQ(env.NowUnixMicros(), start + total_slept);
//
// SleepForMicros returns at once and advances the clock by the amount asked, so a test of
// backoff runs in no real time and sees exact, reproducible times. Files live in memory:
// WriteFileAtomically stores, ReadFile returns a copy (kNotFound for a path never written).
//
// Thread-safe: every method may be called concurrently (one mutex). The clock is shared by all
// threads, so concurrent sleepers each advance it by their own amount.
#ifndef CAIRN_TESTING_FAKE_ENV_H_
#define CAIRN_TESTING_FAKE_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/io/env.h"

namespace cairn::testing {

class FakeEnv : public io::Env {
 public:
  explicit FakeEnv(int64_t start_unix_micros = 1'700'000'000'000'000) : now_(start_unix_micros) {}

  Result<std::unique_ptr<io::FileContents>> ReadFile(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return NotFoundError("read " + path + ": no such file (FakeEnv)");
    return std::unique_ptr<io::FileContents>(std::make_unique<Contents>(it->second));
  }

  Status WriteFileAtomically(const std::string& path, std::string_view data) override {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path] = std::string(data);
    return Status::OK();
  }

  int64_t NowUnixSeconds() override {
    std::lock_guard<std::mutex> lock(mu_);
    // Floor, not truncation, so that times before 1970 (never used, but possible) stay monotonic.
    return now_ >= 0 ? now_ / 1'000'000 : -((-now_ + 999'999) / 1'000'000);
  }
  int64_t NowUnixMicros() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  // Records the request and advances the clock by it (negative requests sleep for zero).
  void SleepForMicros(int64_t micros) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(micros);
    if (micros > 0) now_ += micros;
  }

  // Test controls.
  void AdvanceMicros(int64_t micros) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += micros;
  }
  void SetNowUnixMicros(int64_t micros) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = micros;
  }
  // Every SleepForMicros argument so far, in call order.
  std::vector<int64_t> sleeps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }
  int64_t total_slept_micros() const {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t total = 0;
    for (int64_t s : sleeps_) total += s > 0 ? s : 0;
    return total;
  }

 private:
  class Contents : public io::FileContents {
   public:
    explicit Contents(std::string data) : data_(std::move(data)) {}
    std::string_view data() const override { return data_; }

   private:
    std::string data_;
  };

  mutable std::mutex mu_;
  int64_t now_;                               // guarded by mu_
  std::vector<int64_t> sleeps_;               // guarded by mu_
  std::map<std::string, std::string> files_;  // guarded by mu_
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_FAKE_ENV_H_
