#include "cairn/manifest/signature.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>

#include "cairn/common/hash.h"

namespace cairn::manifest {
namespace {

// Lowercase hex without padding, with a '-' for negative values, as Go's fmt "%x" writes an int
// (the TTL is configuration, never negative in practice, but the text must match Go's).
std::string Hex(int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, 16);
  (void)ec;  // 17 characters always suffice.
  return std::string(buf, end);
}

// "2038-01-19T03:14:07Z". Computed by hand (civil_from_days, H. Hinnant) rather than gmtime_r so
// that the text does not depend on the C library or the time zone.
std::string IsoTime(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400;
  int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[160];  // room for six 20-digit numbers, so the compiler sees no truncation
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

}  // namespace

std::string PermissionSignature(std::string_view key, const BlockHash& hash, std::string_view token,
                                std::string_view expiry_hex, int64_t ttl_seconds) {
  std::string message;
  message.reserve(32 + token.size() + expiry_hex.size() + 24);
  message.append(hash.hex());
  message.push_back('@');
  message.append(token);
  message.push_back('@');
  message.append(expiry_hex);
  message.push_back('@');
  message.append(Hex(ttl_seconds));
  return HexEncode(HmacSha1(key, message));
}

Locator SignLocator(const Locator& locator, std::string_view key, std::string_view token,
                    int64_t expiry_unix, int64_t ttl_seconds) {
  // Go writes %08x and its verifier wants exactly 8 digits: past 0xffffffff it would not parse.
  int64_t expiry = std::clamp<int64_t>(expiry_unix, 0, 0xffffffff);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(expiry));
  PermissionHint hint{PermissionSignature(key, locator.hash(), token, buf, ttl_seconds), buf};
  Locator signed_locator = locator;
  signed_locator.SetPermission(hint);
  return signed_locator;
}

Status VerifySignature(const Locator& locator, std::string_view key, std::string_view token,
                       int64_t ttl_seconds, int64_t now_unix) {
  if (token.empty()) return UnauthenticatedError("missing token");
  std::optional<PermissionHint> hint = locator.permission();
  // A hand-built hint (SetPermission) could be malformed; treat it as absent, as Go's regex does.
  if (!hint || hint->signature.size() != 40 || hint->expiry_hex.empty() ||
      hint->expiry_hex.size() > 8) {
    return PermissionDeniedError("missing permission signature");
  }
  std::string expected =
      PermissionSignature(key, locator.hash(), token, hint->expiry_hex, ttl_seconds);
  if (!ConstantTimeEquals(expected, hint->signature)) {
    return PermissionDeniedError("invalid permission signature");
  }
  int64_t expiry = hint->expiry();
  if (expiry < now_unix) {
    return UnauthenticatedError("expired permission signature (expired at " + IsoTime(expiry) +
                                ")");
  }
  return Status();
}

}  // namespace cairn::manifest
