#include "cairn/manifest/escape.h"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cairn::manifest {

// Both scanners look at 16 bytes at a time with SSE2 (part of every x86-64 CPU); names and tokens
// in large manifests are 20-100 bytes long, so this is where parse and write time goes.
size_t FindSpaceControlOrNonAscii(const char* data, size_t size) {
  size_t i = 0;
#if defined(__SSE2__)
  // As signed bytes, 0x80-0xff are negative: "signed byte < 0x21" is exactly the set wanted.
  const __m128i limit = _mm_set1_epi8(0x21);
  for (; i + 16 <= size; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    int mask = _mm_movemask_epi8(_mm_cmplt_epi8(v, limit));
    if (mask != 0) return i + static_cast<size_t>(std::countr_zero(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < size; ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (c <= 0x20 || c >= 0x80) return i;
  }
  return size;
}

size_t FindByteNeedingEscape(const char* data, size_t size) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i colon = _mm_set1_epi8(':');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= size; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    // Unsigned v <= 0x20  <=>  min(v, 0x20) == v.
    __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, space), v);
    __m128i hit =
        _mm_or_si128(low, _mm_or_si128(_mm_cmpeq_epi8(v, colon), _mm_cmpeq_epi8(v, backslash)));
    int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + static_cast<size_t>(std::countr_zero(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < size; ++i) {
    if (NeedsEscape(static_cast<unsigned char>(data[i]))) return i;
  }
  return size;
}

void AppendEscaped(std::string_view name, std::string* out) {
  size_t first = FindByteNeedingEscape(name.data(), name.size());
  if (first == name.size()) {
    out->append(name);
    return;
  }
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = first; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (!NeedsEscape(c)) continue;
    out->append(name.data() + run, i - run);
    char esc[4] = {'\\', static_cast<char>('0' + (c >> 6)), static_cast<char>('0' + ((c >> 3) & 7)),
                   static_cast<char>('0' + (c & 7))};
    out->append(esc, 4);
    run = i + 1;
  }
  out->append(name.data() + run, name.size() - run);
}

std::string Escape(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  AppendEscaped(name, &out);
  return out;
}

bool Unescape(std::string_view escaped, std::string* out, size_t* error_offset) {
  out->clear();
  const char* backslash =
      static_cast<const char*>(std::memchr(escaped.data(), '\\', escaped.size()));
  if (backslash == nullptr) {
    out->assign(escaped);
    return true;
  }
  out->reserve(escaped.size());
  size_t i = 0;
  while (i < escaped.size()) {
    char c = escaped[i];
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    // Exactly three octal digits, the first 0-3 so the value fits in one byte.
    if (escaped.size() - i < 4) {
      *error_offset = i;
      return false;
    }
    char d0 = escaped[i + 1], d1 = escaped[i + 2], d2 = escaped[i + 3];
    if (d0 < '0' || d0 > '3' || d1 < '0' || d1 > '7' || d2 < '0' || d2 > '7') {
      *error_offset = i;
      return false;
    }
    out->push_back(static_cast<char>(((d0 - '0') << 6) | ((d1 - '0') << 3) | (d2 - '0')));
    i += 4;
  }
  return true;
}

}  // namespace cairn::manifest
