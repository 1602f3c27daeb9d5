// Escaping of stream and file names in manifest text (arvados-keep.md §2.2).
//
// Writers escape every byte 0x00-0x20, ':' and '\' as a backslash and exactly three octal digits
// (`\040` is a space). Readers decode `\ooo` with a value up to 0377 into that byte; any other
// backslash is an error. Decoding happens before a name is split on '/', so `\057` is a real path
// separator and no name can contain a literal '/'.
#ifndef CAIRN_MANIFEST_ESCAPE_H_
#define CAIRN_MANIFEST_ESCAPE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::manifest {

// True if `c` must be written as an octal escape.
inline bool NeedsEscape(unsigned char c) { return c <= 0x20 || c == ':' || c == '\\'; }

// Offset of the first byte of [data, data+size) that is a space, a control character or
// non-ASCII (<= 0x20 or >= 0x80), or `size` if there is none. The manifest scanner's fast path.
size_t FindSpaceControlOrNonAscii(const char* data, size_t size);

// Offset of the first byte that needs an escape, or `size` if there is none.
size_t FindByteNeedingEscape(const char* data, size_t size);

// Appends the escaped form of `name` to *out.
void AppendEscaped(std::string_view name, std::string* out);
std::string Escape(std::string_view name);

// Decodes `escaped` into *out (replacing its contents). On a malformed escape returns false and
// sets *error_offset to the offset of the offending backslash in `escaped`.
bool Unescape(std::string_view escaped, std::string* out, size_t* error_offset);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_ESCAPE_H_
