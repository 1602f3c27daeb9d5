#include "cairn/objstore/swift/settings.h"

#include <string>
#include <string_view>

namespace cairn::objstore::swift {
namespace {

// The first of `names` that is set to a non-empty value, or "".
std::string First(const SwiftEnvironment& env, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    auto it = env.find(name);
    if (it != env.end() && !it->second.empty()) return it->second;
  }
  return "";
}

}  // namespace

Result<SwiftSettings> ResolveSwiftSettings(const SwiftEnvironment& env) {
  SwiftSettings s;
  s.storage_url = First(env, {"OS_STORAGE_URL"});
  s.token = First(env, {"OS_AUTH_TOKEN"});
  s.region = First(env, {"OS_REGION_NAME"});
  if (std::string interface = First(env, {"OS_INTERFACE", "OS_ENDPOINT_TYPE"});
      !interface.empty()) {
    if (interface.ends_with("URL")) interface.resize(interface.size() - 3);  // "publicURL"
    s.interface = interface;
  }
  if (!s.storage_url.empty() && !s.token.empty()) {
    s.version = AuthVersion::kPreauthenticated;
    return s;
  }
  const std::string st_auth = First(env, {"ST_AUTH"});
  const std::string os_auth = First(env, {"OS_AUTH_URL"});
  std::string version =
      First(env, {"ST_AUTH_VERSION", "OS_AUTH_VERSION", "OS_IDENTITY_API_VERSION"});
  if (version.empty()) {
    const std::string& url = !st_auth.empty() ? st_auth : os_auth;
    std::string_view trimmed = url;
    while (trimmed.ends_with('/')) trimmed.remove_suffix(1);
    version = trimmed.ends_with("/v3") || (st_auth.empty() && !os_auth.empty()) ? "3" : "1";
  }
  if (version == "1" || version == "1.0") {
    s.version = AuthVersion::kV1;
    s.auth_url = !st_auth.empty() ? st_auth : os_auth;
    s.user = First(env, {"ST_USER", "OS_USERNAME"});
    s.key = First(env, {"ST_KEY", "OS_PASSWORD"});
    if (s.auth_url.empty() && s.user.empty() && s.key.empty()) {
      return UnauthenticatedError(
          "no Swift credentials: set ST_AUTH, ST_USER and ST_KEY (tempauth), OS_AUTH_URL, "
          "OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME (Keystone v3), or OS_STORAGE_URL and "
          "OS_AUTH_TOKEN");
    }
    const char* missing = s.auth_url.empty() ? "ST_AUTH"
                          : s.user.empty()   ? "ST_USER"
                          : s.key.empty()    ? "ST_KEY"
                                             : nullptr;
    if (missing != nullptr) {
      return InvalidArgumentError(std::string("Swift v1 auth: ") + missing + " is not set");
    }
    return s;
  }
  if (version == "3" || version == "3.0") {
    s.version = AuthVersion::kV3;
    s.auth_url = !os_auth.empty() ? os_auth : st_auth;
    while (s.auth_url.ends_with('/')) s.auth_url.pop_back();
    s.username = First(env, {"OS_USERNAME", "ST_USER"});
    s.user_id = First(env, {"OS_USER_ID"});
    s.password = First(env, {"OS_PASSWORD", "ST_KEY"});
    s.project_name = First(env, {"OS_PROJECT_NAME", "OS_TENANT_NAME"});
    s.project_id = First(env, {"OS_PROJECT_ID", "OS_TENANT_ID"});
    s.user_domain_name = First(env, {"OS_USER_DOMAIN_NAME"});
    s.user_domain_id = First(env, {"OS_USER_DOMAIN_ID"});
    s.project_domain_name = First(env, {"OS_PROJECT_DOMAIN_NAME"});
    s.project_domain_id = First(env, {"OS_PROJECT_DOMAIN_ID"});
    // Keystone's default domain, as devstack and most clouds name it.
    if (s.user_domain_name.empty() && s.user_domain_id.empty()) s.user_domain_id = "default";
    if (s.project_domain_name.empty() && s.project_domain_id.empty()) {
      s.project_domain_id = "default";
    }
    const char* missing = s.auth_url.empty()                        ? "OS_AUTH_URL"
                          : s.username.empty() && s.user_id.empty() ? "OS_USERNAME (or OS_USER_ID)"
                          : s.password.empty()                      ? "OS_PASSWORD"
                          : s.project_name.empty() && s.project_id.empty()
                              ? "OS_PROJECT_NAME (or OS_PROJECT_ID)"
                              : nullptr;
    if (missing != nullptr) {
      return InvalidArgumentError(std::string("Keystone v3 auth: ") + missing + " is not set");
    }
    return s;
  }
  return InvalidArgumentError("Swift auth version \"" + version +
                              "\" is not supported (use 1 for tempauth or 3 for Keystone)");
}

namespace {

constexpr std::string_view kKeystoneScope = "keystone-v3";

// The v3 fields a scope carries, by the names it writes them under.
struct ScopeField {
  std::string_view name;
  std::string SwiftSettings::*member;
};
constexpr ScopeField kScopeFields[] = {
    {"user_id", &SwiftSettings::user_id},
    {"project_name", &SwiftSettings::project_name},
    {"project_id", &SwiftSettings::project_id},
    {"user_domain_name", &SwiftSettings::user_domain_name},
    {"user_domain_id", &SwiftSettings::user_domain_id},
    {"project_domain_name", &SwiftSettings::project_domain_name},
    {"project_domain_id", &SwiftSettings::project_domain_id},
    {"interface", &SwiftSettings::interface},
};

}  // namespace

Result<SwiftRemoteFields> ToRemoteFields(const SwiftSettings& settings) {
  SwiftRemoteFields f;
  f.endpoint = settings.auth_url;
  if (settings.version == AuthVersion::kPreauthenticated) {
    return InvalidArgumentError(
        "a Swift remote signs in itself: give ST_AUTH/ST_USER/ST_KEY or OS_AUTH_URL/OS_USERNAME/"
        "OS_PASSWORD/OS_PROJECT_NAME, not OS_STORAGE_URL with OS_AUTH_TOKEN");
  }
  if (settings.version == AuthVersion::kV1) {
    f.user = settings.user;
    f.secret = settings.key;
  } else {
    f.user = settings.username;
    f.secret = settings.password;
    f.scope = std::string(kKeystoneScope);
    for (const ScopeField& field : kScopeFields) {
      const std::string& value = settings.*field.member;
      if (value.find('\n') != std::string::npos) {
        return InvalidArgumentError("Swift setting " + std::string(field.name) +
                                    " holds a newline");
      }
      if (!value.empty()) f.scope += "\n" + std::string(field.name) + "=" + value;
    }
  }
  if (f.user.find('\n') != std::string::npos) {
    return InvalidArgumentError("Swift user name holds a newline");
  }
  return f;
}

Result<SwiftSettings> FromRemoteFields(const SwiftRemoteFields& fields, const std::string& region) {
  SwiftSettings s;
  s.auth_url = fields.endpoint;
  s.region = region;
  if (fields.scope.empty()) {
    s.version = AuthVersion::kV1;
    s.user = fields.user;
    s.key = fields.secret;
    return s;
  }
  std::string_view rest = fields.scope;
  if (!rest.starts_with(kKeystoneScope) ||
      (rest.size() > kKeystoneScope.size() && rest[kKeystoneScope.size()] != '\n')) {
    return InvalidArgumentError("the Swift remote's sealed scope is not a Keystone v3 scope");
  }
  rest.remove_prefix(kKeystoneScope.size());
  s.version = AuthVersion::kV3;
  s.username = fields.user;
  s.password = fields.secret;
  s.user_domain_id.clear();
  s.project_domain_id.clear();
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the '\n' before each field
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    size_t eq = line.find('=');
    const ScopeField* match = nullptr;
    for (const ScopeField& field : kScopeFields) {
      if (eq != std::string_view::npos && line.substr(0, eq) == field.name) match = &field;
    }
    if (match == nullptr) {
      return InvalidArgumentError("the Swift remote's sealed scope has an unknown field");
    }
    s.*match->member = std::string(line.substr(eq + 1));
  }
  return s;
}

}  // namespace cairn::objstore::swift
