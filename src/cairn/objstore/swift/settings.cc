#include "cairn/objstore/swift/settings.h"

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
    if (s.auth_url.empty() || s.user.empty() || s.key.empty()) {
      return InvalidArgumentError(
          "Swift v1 auth needs all of ST_AUTH, ST_USER and ST_KEY (one is missing)");
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
    if (s.auth_url.empty() || (s.username.empty() && s.user_id.empty()) || s.password.empty()) {
      return InvalidArgumentError(
          "Keystone v3 auth needs OS_AUTH_URL, OS_USERNAME (or OS_USER_ID) and OS_PASSWORD");
    }
    if (s.project_name.empty() && s.project_id.empty()) {
      return InvalidArgumentError("Keystone v3 auth needs OS_PROJECT_NAME (or OS_PROJECT_ID)");
    }
    return s;
  }
  return InvalidArgumentError("Swift auth version \"" + version +
                              "\" is not supported (use 1 for tempauth or 3 for Keystone)");
}

}  // namespace cairn::objstore::swift
