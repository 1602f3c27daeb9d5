// ProgressBar: bytes done of a total, with rate and time left, redrawn in place on stderr while
// a transfer runs (DESIGN.md §9: progress on a TTY, quiet when piped or with --json).
//
//   ProgressBar bar(total_bytes, ProgressBar::ShouldDraw(json || quiet));
//   engine->Upload(source, bucket, key, {}, bar.ForFile());   // one callback per file
//   bar.Finish();
//
// Thread safety: Add, the callbacks of ForFile and Finish may be called from any thread. It
// draws at most ten times a second (under a mutex), so the callbacks stay cheap.
#ifndef CAIRN_CLI_PROGRESS_H_
#define CAIRN_CLI_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace cairn::cli {

class ProgressBar {
 public:
  // True when stderr is a terminal and the user did not ask for quiet or JSON output.
  static bool ShouldDraw(bool quiet);

  // `total` may be 0 (unknown: standard input); then no percentage or ETA is shown.
  ProgressBar(uint64_t total, bool draw);
  ~ProgressBar();  // Finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Adds `bytes` to the done count.
  void Add(uint64_t bytes);
  // A callback for one file's transfer (done, total), adding what it reports to this bar.
  std::function<void(uint64_t, uint64_t)> ForFile();
  // Erases the bar line (the summary is printed by the command). Idempotent.
  void Finish();

  // "12.3 MiB", "512 B": binary units, one decimal.
  static std::string FormatBytes(double bytes);
  // The bar's text for these numbers (for tests and for drawing).
  static std::string Render(uint64_t done, uint64_t total, double seconds);

 private:
  void MaybeDraw(bool force);

  const uint64_t total_;
  const bool draw_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_draw_;  // guarded by mu_
  bool drawn_ = false;                               // guarded by mu_
  bool finished_ = false;                            // guarded by mu_
};

}  // namespace cairn::cli

#endif  // CAIRN_CLI_PROGRESS_H_
