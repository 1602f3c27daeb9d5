#include "cairn/metadata/ids.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace cairn::metadata {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

void FillRandom(unsigned char* buf, size_t n) {
  while (n > 0) {
    ssize_t got = getrandom(buf, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      // No kernel randomness means no safe tokens: stop rather than hand out guessable ones.
      std::perror("getrandom");
      std::abort();
    }
    buf += got;
    n -= static_cast<size_t>(got);
  }
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string RandomAlphanumeric(size_t n) {
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    FillRandom(buf, sizeof(buf));
    for (unsigned char b : buf) {
      // 252 = 7 × 36: bytes at or above it are dropped, so every character is equally likely.
      if (b >= 252) continue;
      out += kAlphabet[b % kAlphabet.size()];
      if (out.size() == n) break;
    }
  }
  return out;
}

std::string NewUuid(std::string_view cluster_id, std::string_view type) {
  std::string uuid(cluster_id);
  uuid += '-';
  uuid += type;
  uuid += '-';
  uuid += RandomAlphanumeric(15);
  return uuid;
}

bool IsValidClusterId(std::string_view id) {
  if (id.size() != 5) return false;
  for (char c : id) {
    if (!IsLowerAlnum(c)) return false;
  }
  return true;
}

bool IsUuidOfType(std::string_view uuid, std::string_view type) {
  if (uuid.size() != 27 || uuid[5] != '-' || uuid[11] != '-') return false;
  if (uuid.substr(6, 5) != type) return false;
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 5 || i == 11) continue;
    if (!IsLowerAlnum(uuid[i])) return false;
  }
  return true;
}

std::string FormatTime(int64_t unix_micros) {
  int64_t seconds =
      unix_micros >= 0 ? unix_micros / 1'000'000 : -((-unix_micros + 999'999) / 1'000'000);
  int64_t micros = unix_micros - seconds * 1'000'000;
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

Result<int64_t> ParseTime(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError("\"" + std::string(text.substr(0, 64)) +
                                "\" is not an RFC 3339 time (2026-11-22T03:10:14Z)");
  };
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, mon, day, hour, min, sec;
  if (!digits(0, 4, &year) || text.size() < 20 || text[4] != '-' || !digits(5, 2, &mon) ||
      text[7] != '-' || !digits(8, 2, &day) || (text[10] != 'T' && text[10] != 't') ||
      !digits(11, 2, &hour) || text[13] != ':' || !digits(14, 2, &min) || text[16] != ':' ||
      !digits(17, 2, &sec)) {
    return bad();
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return bad();
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 6) micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(pos + 4, 2, &om)) {
      return bad();
    }
    offset_seconds = (text[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset_seconds;
  return seconds * 1'000'000 + micros;
}

}  // namespace cairn::metadata
