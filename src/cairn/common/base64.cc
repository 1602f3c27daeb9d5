#include "cairn/common/base64.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cairn {
namespace {

constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr uint8_t kInvalid = 0xff;

// Character -> 6-bit value, kInvalid for characters outside the alphabet.
constexpr std::array<uint8_t, 256> ReverseTable(const char* alphabet) {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = i;
  return table;
}

constexpr std::array<uint8_t, 256> kStdReverse = ReverseTable(kStdAlphabet);
constexpr std::array<uint8_t, 256> kUrlReverse = ReverseTable(kUrlAlphabet);

enum class Padding { kRequired, kOptional };

std::string Encode(std::string_view data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (n - i == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

// "'*'" for printable characters, "byte 0x0a" otherwise, so messages stay one readable line.
std::string DescribeChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  return buf;
}

Status BadChar(std::string_view what, char c, size_t pos) {
  return InvalidArgumentError(std::string(what) + ": invalid character " + DescribeChar(c) +
                              " at position " + std::to_string(pos));
}

Status BadLength(std::string_view what, size_t len, std::string_view why) {
  return InvalidArgumentError(std::string(what) + ": bad length " + std::to_string(len) + " (" +
                              std::string(why) + ")");
}

Result<std::string> Decode(std::string_view text, const std::array<uint8_t, 256>& reverse,
                           Padding padding, std::string_view what) {
  // Trailing '=' are padding; any other '=' is reported by the alphabet check below.
  size_t pads = 0;
  while (pads < text.size() && text[text.size() - 1 - pads] == '=') ++pads;
  if (pads > 2) {
    return InvalidArgumentError(std::string(what) + ": more than two '=' at position " +
                                std::to_string(text.size() - pads));
  }
  if (padding == Padding::kRequired || pads > 0) {
    if (text.size() % 4 != 0) return BadLength(what, text.size(), "not a multiple of 4");
  }
  size_t n = text.size() - pads;
  // A trailing group of one character carries only 6 bits: no byte can end there.
  if (n % 4 == 1) return BadLength(what, text.size(), "a group of 1 character encodes nothing");
  // Padding must fill exactly the last group: "AA==" and "AAA=" but not "AAAA==" or "A===".
  if (pads > 0 && (n % 4) + pads != 4) {
    return InvalidArgumentError(std::string(what) + ": misplaced '=' at position " +
                                std::to_string(n));
  }

  std::string out;
  out.resize(n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1));
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  char* o = out.data();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint8_t a = reverse[p[i]], b = reverse[p[i + 1]], c = reverse[p[i + 2]], d = reverse[p[i + 3]];
    // Valid values are < 64, so any kInvalid shows in the top two bits of the OR.
    if (((a | b | c | d) & 0xc0) != 0) {
      for (size_t j = i; j < i + 4; ++j) {
        if (reverse[p[j]] == kInvalid) return BadChar(what, text[j], j);
      }
    }
    uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>((v >> 8) & 0xff);
    *o++ = static_cast<char>(v & 0xff);
  }
  size_t rest = n - i;
  if (rest == 0) return out;
  uint32_t v = 0;
  for (size_t j = 0; j < rest; ++j) {
    uint8_t x = reverse[p[i + j]];
    if (x == kInvalid) return BadChar(what, text[i + j], i + j);
    v |= uint32_t{x} << (18 - 6 * j);
  }
  // RFC 4648 §3.5: the bits after the last byte must be zero, else two texts decode alike.
  uint32_t unused_mask = rest == 2 ? 0xffff : 0xff;
  if ((v & unused_mask) != 0) {
    return InvalidArgumentError(std::string(what) + ": non-zero unused bits in character " +
                                DescribeChar(text[n - 1]) + " at position " +
                                std::to_string(n - 1));
  }
  *o++ = static_cast<char>(v >> 16);
  if (rest == 3) *o++ = static_cast<char>((v >> 8) & 0xff);
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view data) { return Encode(data, kStdAlphabet, true); }

Result<std::string> Base64Decode(std::string_view text) {
  return Decode(text, kStdReverse, Padding::kRequired, "base64");
}

std::string Base64UrlEncode(std::string_view data) { return Encode(data, kUrlAlphabet, false); }

Result<std::string> Base64UrlDecode(std::string_view text) {
  return Decode(text, kUrlReverse, Padding::kOptional, "base64url");
}

}  // namespace cairn
