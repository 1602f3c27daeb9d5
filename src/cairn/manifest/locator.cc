#include "cairn/manifest/locator.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "cairn/common/base64.h"
#include "cairn/common/text.h"
#include "cairn/manifest/external.h"

namespace cairn::manifest {
namespace {

// Character classes, one bit each, looked up once per byte: Parse runs on every locator of
// manifests with millions of them, so no regex and no per-character branching chains.
enum : uint8_t {
  kLowerHex = 1 << 0,    // 0-9 a-f
  kAnyHex = 1 << 1,      // 0-9 a-f A-F
  kDigit = 1 << 2,       // 0-9
  kUpper = 1 << 3,       // A-Z
  kLowerAlnum = 1 << 4,  // 0-9 a-z
  kHintChar = 1 << 5,    // A-Z a-z 0-9 @ _ -   (the hint grammar of DESIGN.md §3)
};

constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] |= kLowerHex | kAnyHex | kDigit | kLowerAlnum | kHintChar;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kLowerAlnum | kHintChar;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kLowerHex | kAnyHex;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kUpper | kHintChar;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kAnyHex;
  t['@'] |= kHintChar;
  t['_'] |= kHintChar;
  t['-'] |= kHintChar;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

inline bool Is(char c, uint8_t cls) { return (kClass[static_cast<unsigned char>(c)] & cls) != 0; }

// True if every character of `s` is in `cls` (a single class bit). Branch-free over the string:
// the common case is that all characters pass, and the compiler unrolls this loop.
inline bool AllAre(std::string_view s, uint8_t cls) {
  uint8_t all = 0xff;
  for (char c : s) all &= kClass[static_cast<unsigned char>(c)];
  return (all & cls) != 0;
}

std::string DescribeChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  return buf;
}

// Why `hex` is not a block hash; empty if it is one.
std::string HashProblem(std::string_view hex) {
  if (hex.size() == 32 && AllAre(hex, kLowerHex)) return {};
  if (hex.size() != 32) {
    return "hash has " + std::to_string(hex.size()) + " characters, not 32 lowercase hex digits";
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    if (Is(hex[i], kLowerHex)) continue;
    if (Is(hex[i], kAnyHex)) {
      return "hash has uppercase hex digit " + DescribeChar(hex[i]) + " at offset " +
             std::to_string(i) + " (Cairn requires lowercase)";
    }
    return "hash has non-hex character " + DescribeChar(hex[i]) + " at offset " + std::to_string(i);
  }
  return {};
}

// Parses a canonical decimal number: digits only, no leading zero (so that the text is the one
// ToString and DeriveExternalHash write back), at most 2^64-1. Returns a reason on failure.
std::string ParseDecimal(std::string_view s, uint64_t* value) {
  if (s.empty()) return "is empty";
  uint64_t v = 0;
  bool overflow = false;
  for (char c : s) {
    auto digit = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
    if (digit > 9) return "is not a decimal number";
    overflow |= v > (UINT64_MAX - digit) / 10;
    v = v * 10 + digit;
  }
  if (s.size() > 1 && s[0] == '0') return "has a leading zero";
  if (overflow) return "does not fit in 64 bits";
  *value = v;
  return {};
}

// `A<40 lowercase hex>@<1..8 lowercase hex>` without the leading type letter, i.e. from
// position `at` of `h`.
bool IsSignatureAt(std::string_view h, size_t at) {
  // 40 hex digits of HMAC-SHA1, '@', then the expiry: 8 digits as Go writes it, fewer as Ruby.
  if (h.size() < at + 42 || h.size() > at + 49) return false;
  return AllAre(h.substr(at, 40), kLowerHex) && h[at + 40] == '@' &&
         AllAre(h.substr(at + 41), kLowerHex);
}

bool IsClusterId(std::string_view s) { return s.size() == 5 && AllAre(s, kLowerAlnum); }

// An Arvados uuid: <5-char cluster>-<5-char type>-<15 chars>, e.g. zzzzz-bi6l4-0123456789abcde.
bool IsUuid(std::string_view s) {
  return s.size() == 27 && s[5] == '-' && s[11] == '-' && AllAre(s.substr(0, 5), kLowerAlnum) &&
         AllAre(s.substr(6, 5), kLowerAlnum) && AllAre(s.substr(12), kLowerAlnum);
}

// Why `hint` (without '+') is not a well-formed hint; empty if it is one.
std::string HintProblem(std::string_view hint) {
  if (hint.empty()) return "is empty (\"++\" or a trailing \"+\")";
  if (Is(hint[0], kDigit)) {
    return "is a second numeric part (only the size, right after the hash, may be a number)";
  }
  if (!Is(hint[0], kUpper)) return "must start with an uppercase letter";
  // The strict forms of A, R and K imply the generic grammar, so a well-formed signed locator is
  // scanned once; only when they fail is the grammar checked, to name an illegal character.
  switch (hint[0]) {
    case 'A':
      if (IsSignatureAt(hint, 1)) return {};
      break;
    case 'R':
      if (hint.size() >= 7 && IsClusterId(hint.substr(1, 5)) && hint[6] == '-' &&
          IsSignatureAt(hint, 7)) {
        return {};
      }
      break;
    case 'K': {
      std::string_view target = hint.substr(1);
      if (!target.empty() && target[0] == '@') target.remove_prefix(1);
      if (IsClusterId(target) || IsUuid(target)) return {};
      break;
    }
    default:
      break;
  }
  if (!AllAre(hint, kHintChar)) {
    for (size_t i = 1; i < hint.size(); ++i) {
      if (!Is(hint[i], kHintChar)) {
        return "has illegal character " + DescribeChar(hint[i]) + " at offset " +
               std::to_string(i) + " (allowed: A-Z a-z 0-9 @ _ -)";
      }
    }
  }
  switch (hint[0]) {
    case 'A':
      return "is not a permission signature A<40 lowercase hex>@<1 to 8 hex digit expiry>";
    case 'R':
      return "is not a remote signature R<5-char cluster id>-<40 lowercase hex>@<1 to 8 hex "
             "digit expiry>";
    case 'K':
      return "is not a service hint K@<5-char cluster id> or K@<27-char service uuid>";
    case 'B': {
      std::string_view b64 = hint.substr(1);
      if (b64.empty()) return "is an empty external object URL";
      Result<std::string> url = Base64UrlDecode(b64);
      if (!url.ok()) return "is not an external object URL: " + std::string(url.status().message());
      // Without padding Base64UrlDecode is canonical: each URL has exactly one +B text.
      Result<ExternalObject> object = ExternalObject::ParseUrl(*url);
      if (!object.ok()) {
        return "is not an external object URL: " + std::string(object.status().message());
      }
      return {};
    }
    case 'C': {
      uint64_t offset = 0;
      std::string why = ParseDecimal(hint.substr(1), &offset);
      if (!why.empty()) return "is not an external offset C<decimal>: the offset " + why;
      return {};
    }
    default:
      return {};
  }
}

Status LocatorError(std::string_view text, std::string_view why) {
  return InvalidArgumentError("locator " + QuoteForMessage(text) + ": " + std::string(why));
}

// "hint 3 \"Zfoo*\"" or "hint 3" when empty. Hints are numbered from the size, which is hint 1
// in the Arvados grammar (size-hint).
std::string NameHint(size_t number, std::string_view hint) {
  std::string out = "hint " + std::to_string(number);
  if (!hint.empty()) out += " " + QuoteForMessage(hint);
  return out;
}

}  // namespace

// ---- BlockHash ----------------------------------------------------------------------------------

Result<BlockHash> BlockHash::Parse(std::string_view hex) {
  std::string why = HashProblem(hex);
  if (!why.empty()) return InvalidArgumentError(QuoteForMessage(hex) + ": " + why);
  BlockHash hash;
  std::memcpy(hash.hex_.data(), hex.data(), 32);
  return hash;
}

BlockHash BlockHash::FromDigest(const Md5Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  BlockHash hash;
  for (size_t i = 0; i < digest.size(); ++i) {
    hash.hex_[2 * i] = kHex[digest[i] >> 4];
    hash.hex_[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hash;
}

BlockHash BlockHash::Of(std::string_view data) { return FromDigest(Md5Of(data)); }

// ---- hints --------------------------------------------------------------------------------------

int64_t PermissionHint::expiry() const {
  uint64_t value = 0;
  auto [end, ec] =
      std::from_chars(expiry_hex.data(), expiry_hex.data() + expiry_hex.size(), value, 16);
  // A malformed expiry (only possible for a hand-built hint) reads as the epoch: long expired.
  if (ec != std::errc() || end != expiry_hex.data() + expiry_hex.size() ||
      value > uint64_t{0xffffffff}) {
    return 0;
  }
  return static_cast<int64_t>(value);
}

Status ValidateHint(std::string_view hint) {
  std::string why = HintProblem(hint);
  if (why.empty()) return Status();
  return InvalidArgumentError(hint.empty() ? "hint " + why
                                           : "hint " + QuoteForMessage(hint) + " " + why);
}

// ---- Locator ------------------------------------------------------------------------------------

Result<Locator> Locator::Parse(std::string_view text) {
  if (text.empty()) return LocatorError(text, "is empty");
  const char* begin = text.data();
  const char* end = begin + text.size();
  const char* plus = static_cast<const char*>(std::memchr(begin, '+', text.size()));
  std::string_view hex(begin, (plus == nullptr ? end : plus) - begin);
  Result<BlockHash> hash = BlockHash::Parse(hex);
  if (!hash.ok()) return LocatorError(text, HashProblem(hex));
  if (plus == nullptr) return LocatorError(text, "missing size (Cairn requires hash+size)");

  // The size: the first part after the hash.
  const char* part = plus + 1;
  const char* next = static_cast<const char*>(std::memchr(part, '+', end - part));
  if (next == nullptr) next = end;
  std::string_view size_text(part, next - part);
  uint64_t size = 0;
  if (size_text.empty()) {
    return LocatorError(text, next == end ? "missing size after the hash (trailing \"+\")"
                                          : "size is empty (\"++\")");
  }
  if (Is(size_text[0], kUpper)) {
    return LocatorError(text, "missing size: " + NameHint(1, size_text) +
                                  " is where the size should be (Cairn requires hash+size)");
  }
  if (std::string why = ParseDecimal(size_text, &size); !why.empty()) {
    return LocatorError(text, "size " + QuoteForMessage(size_text) + " " + why);
  }

  Locator locator(*hash, size);
  size_t number = 1;
  while (next != end) {
    part = next + 1;
    next = static_cast<const char*>(std::memchr(part, '+', end - part));
    if (next == nullptr) next = end;
    std::string_view hint(part, next - part);
    ++number;
    if (std::string why = HintProblem(hint); !why.empty()) {
      return LocatorError(text, NameHint(number, hint) + " " + why);
    }
    locator.hints_.emplace_back(hint);
  }
  return locator;
}

bool Locator::LooksLikeLocator(std::string_view token) {
  // Any case: an uppercase hash is then rejected by Parse with a clear message instead of being
  // taken for a file segment.
  return token.size() >= 32 && (token.size() == 32 || token[32] == '+') &&
         AllAre(token.substr(0, 32), kAnyHex);
}

// No reserve() here: writers append millions of locators to one string, and an exact reserve
// per call would defeat the string's geometric growth on some standard libraries.
void Locator::AppendTo(std::string* out) const {
  out->append(hash_.hex());
  out->push_back('+');
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, size_);
  (void)ec;  // 20 digits always suffice for a uint64_t.
  out->append(buf, end);
  for (const std::string& h : hints_) {
    out->push_back('+');
    out->append(h);
  }
}

std::string Locator::ToString() const {
  std::string out;
  size_t total = 32 + 1 + 20;  // hash, '+', the digits of a uint64_t at most
  for (const std::string& h : hints_) total += 1 + h.size();
  out.reserve(total);
  AppendTo(&out);
  return out;
}

std::string Locator::SizedDigest() const { return WithoutHints().ToString(); }

std::optional<PermissionHint> Locator::permission() const {
  std::optional<std::string_view> body = FindHint('A');
  if (!body) return std::nullopt;
  // Parse and AddHint checked the form: <40 hex>@<expiry>.
  size_t at = body->find('@');
  if (at == std::string_view::npos) return std::nullopt;
  return PermissionHint{std::string(body->substr(0, at)), std::string(body->substr(at + 1))};
}

std::optional<RemoteHint> Locator::remote() const {
  std::optional<std::string_view> body = FindHint('R');
  if (!body) return std::nullopt;
  // <5-char cluster>-<40 hex>@<expiry>
  size_t dash = body->find('-');
  size_t at = body->find('@');
  if (dash == std::string_view::npos || at == std::string_view::npos || at < dash) {
    return std::nullopt;
  }
  return RemoteHint{std::string(body->substr(0, dash)),
                    std::string(body->substr(dash + 1, at - dash - 1)),
                    std::string(body->substr(at + 1))};
}

std::vector<ServiceHint> Locator::service_hints() const {
  std::vector<ServiceHint> out;
  for (const std::string& h : hints_) {
    if (h[0] != 'K') continue;
    std::string_view target = std::string_view(h).substr(1);
    bool legacy = target.empty() || target[0] != '@';
    if (!legacy) target.remove_prefix(1);
    out.push_back(ServiceHint{
        target.size() == 5 ? ServiceHint::Target::kCluster : ServiceHint::Target::kService,
        std::string(target), legacy});
  }
  return out;
}

bool Locator::IsExternal() const { return FindHint('B').has_value(); }

std::optional<std::string_view> Locator::FindHint(char type) const {
  for (const std::string& h : hints_) {
    // Hints are never empty: Parse and AddHint reject empty ones.
    if (h[0] == type) return std::string_view(h).substr(1);
  }
  return std::nullopt;
}

Status Locator::AddHint(std::string_view hint) {
  CAIRN_RETURN_IF_ERROR(ValidateHint(hint));
  hints_.emplace_back(hint);
  return Status();
}

void Locator::RemoveHints(char type) {
  std::erase_if(hints_, [type](const std::string& h) { return h[0] == type; });
}

void Locator::SetPermission(const PermissionHint& hint) {
  std::string text = "A" + hint.signature + "@" + hint.expiry_hex;
  assert(ValidateHint(text).ok() && "SetPermission: malformed PermissionHint");
  auto first =
      std::find_if(hints_.begin(), hints_.end(), [](const std::string& h) { return h[0] == 'A'; });
  if (first == hints_.end()) {
    hints_.insert(hints_.begin(), std::move(text));
    return;
  }
  // Keep the position of the first +A (so other hints stay where they were); drop the rest.
  *first = std::move(text);
  hints_.erase(
      std::remove_if(first + 1, hints_.end(), [](const std::string& h) { return h[0] == 'A'; }),
      hints_.end());
}

}  // namespace cairn::manifest
