// Base64 (RFC 4648 §4, standard alphabet, padded) and base64url (RFC 4648 §5, URL- and
// filename-safe alphabet "-_"). Cairn writes base64url without padding: it travels inside Keep
// locator hints, whose grammar `[A-Za-z0-9@_-]` has no room for '=' (DESIGN.md §3, +B hints).
//
// The decoders are strict so that every byte string has exactly one accepted text: characters
// outside the alphabet, a length that no encoding can have, misplaced padding and non-zero bits
// after the last encoded byte (RFC 4648 §3.5) are all errors. Hence Encode(Decode(t)) == t for
// every t that Decode accepts (Base64UrlDecode: for every unpadded t).
//
// Thread safety: pure functions.
#ifndef CAIRN_COMMON_BASE64_H_
#define CAIRN_COMMON_BASE64_H_

#include <string>
#include <string_view>

#include "cairn/common/result.h"

namespace cairn {

// Standard alphabet "+/", padded with '=' to a multiple of 4 characters.
std::string Base64Encode(std::string_view data);
// Decodes padded standard base64. kInvalidArgument, naming the position, for a character outside
// the alphabet, a length that is not a multiple of 4, misplaced '=' or non-zero trailing bits.
Result<std::string> Base64Decode(std::string_view text);

// URL alphabet "-_", no padding.
std::string Base64UrlEncode(std::string_view data);
// Decodes base64url with or without '=' padding (if present it must be complete). Errors as
// Base64Decode; an unpadded text of length 4k+1 is a bad length.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace cairn

#endif  // CAIRN_COMMON_BASE64_H_
