#include "cairn/manifest/escape.h"

#include <cstring>

namespace cairn::manifest {

void AppendEscaped(std::string_view name, std::string* out) {
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < name.size(); ++i) {
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
