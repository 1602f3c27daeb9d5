#include "cairn/cli/progress.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

namespace cairn::cli {

bool ProgressBar::ShouldDraw(bool quiet) { return !quiet && ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(uint64_t total, bool draw)
    : total_(total), draw_(draw), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Add(uint64_t bytes) {
  done_.fetch_add(bytes, std::memory_order_relaxed);
  if (draw_) MaybeDraw(false);
}

std::function<void(uint64_t, uint64_t)> ProgressBar::ForFile() {
  // Each file reports its own running count; the bar adds the increments.
  auto last = std::make_shared<std::atomic<uint64_t>>(0);
  return [this, last](uint64_t done, uint64_t) {
    uint64_t before = last->exchange(done);
    if (done > before) Add(done - before);
  };
}

std::string ProgressBar::FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return buf;
}

std::string ProgressBar::Render(uint64_t done, uint64_t total, double seconds) {
  double rate = seconds > 0 ? double(done) / seconds : 0;
  std::string text = FormatBytes(double(done));
  if (total > 0) {
    int percent = static_cast<int>(100.0 * double(done) / double(total));
    text += " / " + FormatBytes(double(total)) + " (" + std::to_string(percent) + "%)";
  }
  text += "  " + FormatBytes(rate) + "/s";
  if (total > 0 && rate > 0 && done < total) {
    auto left = static_cast<int64_t>(double(total - done) / rate);
    char eta[32];
    std::snprintf(eta, sizeof(eta), "  ETA %lld:%02lld", static_cast<long long>(left / 60),
                  static_cast<long long>(left % 60));
    text += eta;
  }
  return text;
}

void ProgressBar::MaybeDraw(bool force) {
  std::lock_guard lock(mu_);
  if (finished_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  double seconds = std::chrono::duration<double>(now - start_).count();
  std::string line = "\r\033[K" + Render(done_.load(std::memory_order_relaxed), total_, seconds);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  std::lock_guard lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (draw_ && drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
}

}  // namespace cairn::cli
