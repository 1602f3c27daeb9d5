// Keep permission signatures, the +A hint (DESIGN.md §3; arvados-keep.md §4):
//
//   signature = lowercase hex( HMAC-SHA1(key, "<hash>@<token>@<expiry_hex>@<ttl_hex>") )
//   hint      = "A" signature "@" expiry_hex
//
// `hash` is the 32-hex block hash alone (size and other hints are not signed), `token` the whole
// API token exactly as the client presented it, `expiry_hex` the Unix expiry in hex exactly as
// written in the locator (Cairn and Go write 8 digits, Ruby fewer), `ttl_hex` the cluster's
// signing TTL in seconds, lowercase hex without padding. Changing the key or the TTL therefore
// invalidates every outstanding signature, as in Arvados.
//
// Thread safety: pure functions. Time is a parameter (`now_unix`), never read from a clock here.
#ifndef CAIRN_MANIFEST_SIGNATURE_H_
#define CAIRN_MANIFEST_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/common/status.h"
#include "cairn/manifest/locator.h"

namespace cairn::manifest {

// The 40 lowercase hex digits of the signature above.
std::string PermissionSignature(std::string_view key, const BlockHash& hash, std::string_view token,
                                std::string_view expiry_hex, int64_t ttl_seconds);

// `locator` with its +A hints replaced by one signing it for `token` until `expiry_unix`
// (written as %08x; clamped to 0..0xffffffff, i.e. until the year 2106, the range 8 hex digits
// hold). A new +A goes right after the size; an existing one keeps its place.
Locator SignLocator(const Locator& locator, std::string_view key, std::string_view token,
                    int64_t expiry_unix, int64_t ttl_seconds);

// Checks the first +A hint of `locator` for `token` at time `now_unix`:
//   empty token                 kUnauthenticated "missing token"
//   no +A hint                  kPermissionDenied "missing permission signature"
//   signature does not match    kPermissionDenied "invalid permission signature"
//   expiry < now                kUnauthenticated "expired permission signature (expired at
//                               2038-01-19T03:14:07Z)"
// The signature is checked before the expiry (Go checks the expiry first) so that a forged
// locator is reported as invalid, not as expired, which would invite a refresh. The comparison
// takes constant time.
Status VerifySignature(const Locator& locator, std::string_view key, std::string_view token,
                       int64_t ttl_seconds, int64_t now_unix);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_SIGNATURE_H_
