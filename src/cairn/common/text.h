// Small text helpers shared by modules.
#ifndef CAIRN_COMMON_TEXT_H_
#define CAIRN_COMMON_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

// `text` in double quotes for an error message: printable ASCII and valid UTF-8 as they are, '"'
// and '\' backslash-escaped, control characters and invalid bytes as \xNN (so untrusted input
// cannot garble a terminal or a log line), cut after `max_bytes` bytes with the full length noted.
std::string QuoteForMessage(std::string_view text, size_t max_bytes = 96);

// Length of the valid UTF-8 sequence starting at `p` (at most `avail` bytes available), or 0 if
// none starts there: overlong forms, surrogates and code points above U+10FFFF are invalid, as
// RFC 3629 says. REQUIRES: avail > 0.
size_t Utf8SequenceLength(const unsigned char* p, size_t avail);

// The unsigned decimal number that is all of `text` (digits only: no sign, spaces or prefix), or
// nullopt when it is anything else or does not fit in 64 bits.
std::optional<uint64_t> ParseDecimal(std::string_view text);

}  // namespace cairn

#endif  // CAIRN_COMMON_TEXT_H_
