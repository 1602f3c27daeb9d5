#include "cairn/common/text.h"

#include <charconv>
#include <cstdint>
#include <cstdio>

namespace cairn {

size_t Utf8SequenceLength(const unsigned char* p, size_t avail) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t min;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (avail < len) return 0;
  uint32_t cp = c & (0x7f >> len);
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

std::string QuoteForMessage(std::string_view text, size_t max_bytes) {
  std::string out = "\"";
  const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t shown = text.size() < max_bytes ? text.size() : max_bytes;
  size_t i = 0;
  while (i < shown) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      size_t len = c >= 0x80 ? Utf8SequenceLength(p + i, shown - i) : 0;
      // C1 controls (U+0080..U+009F, encoded 0xc2 0x80..0x9f) are escaped like C0 ones.
      bool c1 = len == 2 && c == 0xc2 && p[i + 1] < 0xa0;
      if (len > 0 && !c1) {
        out.append(text.data() + i, len);
        i += len;
      } else {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02x", c);
        out.append(buf);
        ++i;
      }
    }
  }
  out.push_back('"');
  if (shown < text.size()) {
    out += "… (" + std::to_string(text.size()) + " bytes)";
  }
  return out;
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace cairn
