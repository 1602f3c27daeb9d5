// Identifiers and times of the catalog (docs/catalog-api.md): Arvados-style UUIDs
// `<cluster>-<type>-<15 [a-z0-9]>`, API tokens of 50 random [a-z0-9], RFC 3339 times with
// microseconds.
//
// Thread safety: the functions are thread-safe (randomness from the kernel, getrandom(2)).
#ifndef CAIRN_METADATA_IDS_H_
#define CAIRN_METADATA_IDS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/common/result.h"

namespace cairn::metadata {

// Object types (Arvados's five-letter infixes; `rm0te` is Cairn's own).
inline constexpr std::string_view kUserType = "tpzed";
inline constexpr std::string_view kTokenType = "gj3su";
inline constexpr std::string_view kCollectionType = "4zz18";
inline constexpr std::string_view kPermissionType = "o0j2j";
inline constexpr std::string_view kKeepServiceType = "bi6l4";
inline constexpr std::string_view kRemoteType = "rm0te";

// Length of an API token (characters of [a-z0-9]), as Arvados v1 tokens.
inline constexpr size_t kTokenLength = 50;

// `n` characters drawn uniformly from [a-z0-9] with the kernel's CSPRNG.
std::string RandomAlphanumeric(size_t n);

// "<cluster_id>-<type>-<15 random [a-z0-9]>".
std::string NewUuid(std::string_view cluster_id, std::string_view type);

// True when `uuid` has the form of a UUID of `type` (any cluster id).
bool IsUuidOfType(std::string_view uuid, std::string_view type);

// True for a 5-character [a-z0-9] cluster id.
bool IsValidClusterId(std::string_view id);

// Unix microseconds as "2026-11-22T03:10:14.123456Z".
std::string FormatTime(int64_t unix_micros);

// Parses RFC 3339 ("2026-11-22T03:10:14Z", with an optional fraction of up to 6 digits and a 'Z'
// or ±hh:mm offset) into Unix microseconds. kInvalidArgument otherwise.
Result<int64_t> ParseTime(std::string_view text);

}  // namespace cairn::metadata

#endif  // CAIRN_METADATA_IDS_H_
