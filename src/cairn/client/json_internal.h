// JSON helpers of the client module over nlohmann::json, with no exceptions escaping: parsing
// returns a Status, field accessors check types and fall back to defaults.
//
// Thread safety: pure functions.
#ifndef CAIRN_CLIENT_JSON_INTERNAL_H_
#define CAIRN_CLIENT_JSON_INTERNAL_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/common/result.h"

namespace cairn::client::internal {

using Json = nlohmann::json;

// Parses `text`; kInvalidArgument naming `what` when it is not JSON.
Result<Json> ParseJson(std::string_view text, std::string_view what);

// Serializes `value`; kInvalidArgument when a string in it is not valid UTF-8.
Result<std::string> DumpJson(const Json& value);

// The member `key` of an object when it has the right type, else the fallback.
std::string JsonString(const Json& object, std::string_view key, std::string fallback = "");
int64_t JsonInt(const Json& object, std::string_view key, int64_t fallback = 0);
bool JsonBool(const Json& object, std::string_view key, bool fallback = false);

// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
std::string PercentEncode(std::string_view text);

}  // namespace cairn::client::internal

#endif  // CAIRN_CLIENT_JSON_INTERNAL_H_
