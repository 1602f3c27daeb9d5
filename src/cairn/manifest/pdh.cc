#include "cairn/manifest/pdh.h"

#include <cstring>

#include "cairn/common/hash.h"

namespace cairn::manifest {
namespace {

// A locator starts after a space: the first token of a line is the stream name, never a locator
// (as in the Rails rule; Go's fast scan would take a 32-character escaped stream name for one).
bool IsLocatorStart(std::string_view text, size_t pos) { return pos > 0 && text[pos - 1] == ' '; }

// Calls keep(begin, end) for each run of text the portable form keeps, in order. Hints are found
// from the '+' signs, so the scan skips through file names at memchr speed.
template <typename Keep>
void ScanPortable(std::string_view text, Keep keep) {
  const char* base = text.data();
  size_t kept_from = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const void* hit = std::memchr(base + pos, '+', text.size() - pos);
    if (hit == nullptr) break;
    size_t plus = static_cast<const char*>(hit) - base;
    pos = plus + 1;
    if (plus < 32 || !IsLocatorStart(text, plus - 32) || base[plus - 32] == '.' ||
        std::memchr(base + plus - 32, ':', 32) != nullptr) {
      continue;
    }
    // A locator: keep hash+size, drop everything from the next '+' to the end of the token.
    size_t i = plus + 1;
    while (i < text.size() && text[i] != '+' && text[i] != ' ' && text[i] != '\n') ++i;
    if (i < text.size() && text[i] == '+') {
      keep(kept_from, i);
      while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
      kept_from = i;
    }
    pos = i;
  }
  keep(kept_from, text.size());
}

}  // namespace

std::string PortableDataHash(std::string_view manifest_text) {
  Md5 md5;
  size_t length = 0;
  ScanPortable(manifest_text, [&](size_t begin, size_t end) {
    md5.Update(manifest_text.data() + begin, end - begin);
    length += end - begin;
  });
  std::string out = HexEncode(md5.Finish());
  out += '+';
  out += std::to_string(length);
  return out;
}

std::string PortableManifestText(std::string_view manifest_text) {
  std::string out;
  ScanPortable(manifest_text, [&](size_t begin, size_t end) {
    out.append(manifest_text.data() + begin, end - begin);
  });
  return out;
}

}  // namespace cairn::manifest
