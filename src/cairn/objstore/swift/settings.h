// Where a Swift client's credentials and endpoint come from, resolved the way the `swift` CLI
// (python-swiftclient) resolves them, so that `cairn obj ... swift://` works wherever `swift`
// does.
//
//   v1 (tempauth, RGW):  ST_AUTH, ST_USER, ST_KEY
//   v3 (Keystone):       OS_AUTH_URL, OS_USERNAME (or OS_USER_ID), OS_PASSWORD, OS_PROJECT_NAME
//                        (or OS_PROJECT_ID, OS_TENANT_NAME), OS_USER_DOMAIN_NAME (or _ID),
//                        OS_PROJECT_DOMAIN_NAME (or _ID), OS_REGION_NAME, OS_INTERFACE
//   pre-authenticated:   OS_STORAGE_URL + OS_AUTH_TOKEN (no auth request; no re-auth either)
//
// As in swiftclient: ST_AUTH wins when both ST_* and OS_* are set unless ST_AUTH_VERSION or
// OS_AUTH_VERSION (or OS_IDENTITY_API_VERSION) says 3; OS_STORAGE_URL overrides the storage URL
// the auth service returns (with a token it skips auth). The auth version also follows the URL:
// ".../v3" means Keystone v3, ".../v1.0" and ".../auth/v1.0" tempauth.
//
// Pure: the caller (cli/ or apps/) passes the environment. Secrets never appear in errors.
#ifndef CAIRN_OBJSTORE_SWIFT_SETTINGS_H_
#define CAIRN_OBJSTORE_SWIFT_SETTINGS_H_

#include <functional>
#include <map>
#include <string>

#include "cairn/common/result.h"

namespace cairn::objstore::swift {

enum class AuthVersion {
  kPreauthenticated,  // OS_STORAGE_URL + OS_AUTH_TOKEN
  kV1,                // tempauth / RGW: GET auth_url with X-Auth-User, X-Auth-Key
  kV3,                // Keystone v3 password auth: POST auth_url/auth/tokens
};

struct SwiftSettings {
  AuthVersion version = AuthVersion::kV1;
  std::string auth_url;  // v1: the full URL (http://host/auth/v1.0); v3: the identity base (…/v3)
  // v1
  std::string user;  // "account:user"
  std::string key;
  // v3
  std::string username;
  std::string user_id;
  std::string password;
  std::string project_name;
  std::string project_id;
  std::string user_domain_name;
  std::string user_domain_id;
  std::string project_domain_name;
  std::string project_domain_id;
  std::string region;                // picks the catalog endpoint; "" = the first object-store one
  std::string interface = "public";  // catalog interface: public, internal or admin
  // Given: replaces the storage URL from auth; with `token`, skips auth.
  std::string storage_url;
  std::string token;
};

using SwiftEnvironment = std::map<std::string, std::string, std::less<>>;

// kUnauthenticated when no usable set of variables is present (the message names what to set),
// kInvalidArgument for a half-given set (a user without a key, an unknown auth version).
Result<SwiftSettings> ResolveSwiftSettings(const SwiftEnvironment& environment);

// How a Swift remote keeps its settings in the catalog's sealed credentials (cairn remote add,
// the gateway's OpenRemoteStore): `endpoint` is the auth URL, `user` and `secret` the tempauth
// user and key or the Keystone user name and password, and `scope` the rest of a Keystone v3
// sign-in ("keystone-v3" then "\nfield=value" lines: user id, project, domains, interface);
// empty for tempauth. The region travels as the remote's region. Every part is sealed but the
// endpoint and region.
struct SwiftRemoteFields {
  std::string endpoint;
  std::string user;
  std::string secret;
  std::string scope;
};

// kInvalidArgument for pre-authenticated settings (a token expires; a remote must sign in) and
// for a field holding a newline.
Result<SwiftRemoteFields> ToRemoteFields(const SwiftSettings& settings);

// The settings ToRemoteFields was given (region from the remote). kInvalidArgument for a scope
// it did not write (the message does not echo it).
Result<SwiftSettings> FromRemoteFields(const SwiftRemoteFields& fields, const std::string& region);

}  // namespace cairn::objstore::swift

#endif  // CAIRN_OBJSTORE_SWIFT_SETTINGS_H_
