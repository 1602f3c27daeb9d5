#include <cstdio>
#include <exception>

#include "cairn/client/json_internal.h"

namespace cairn::client::internal {

Result<Json> ParseJson(std::string_view text, std::string_view what) {
  Json value = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return InvalidArgumentError(std::string(what) + ": the reply is not valid JSON");
  }
  return value;
}

Result<std::string> DumpJson(const Json& value) {
  try {
    return value.dump();
  } catch (const std::exception&) {  // nlohmann throws type_error 316 on invalid UTF-8
    return InvalidArgumentError("a name or text is not valid UTF-8");
  }
}

std::string JsonString(const Json& object, std::string_view key, std::string fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

int64_t JsonInt(const Json& object, std::string_view key, int64_t fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return fallback;
  return it->get<int64_t>();
}

bool JsonBool(const Json& object, std::string_view key, bool fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace cairn::client::internal
