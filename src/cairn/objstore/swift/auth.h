// Swift authentication: tempauth v1 and Keystone v3 password requests, and TokenCache, the token
// every request of one client shares, refreshed by one thread at a time.
//
// Tokens expire (tempauth: token_life, a day by default; Keystone: expires_at). A request that
// gets 401 hands the token it used to TokenCache::Refresh: the first such caller authenticates
// again while every other caller (whether it also got a 401 or just wants a token) waits for that
// one result, so a burst of 401s from N threads costs one auth request, not N (no "re-auth
// storm"). No lock is held across network I/O: the refreshing thread marks a refresh in flight,
// unlocks, authenticates and publishes an immutable token snapshot (shared_ptr<const>), so a
// thread holding an old snapshot is never blocked by one that refreshes.
#ifndef CAIRN_OBJSTORE_SWIFT_AUTH_H_
#define CAIRN_OBJSTORE_SWIFT_AUTH_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/http/http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/swift/settings.h"

namespace cairn::objstore::swift {

struct SwiftToken {
  std::string token;        // the X-Auth-Token value: a secret, never logged
  std::string storage_url;  // http(s)://host[:port]/v1/AUTH_account, no trailing slash
  int64_t obtained_at = 0;  // Unix seconds
  int64_t expires_at = 0;   // Unix seconds; 0 when the service did not say
};

// Tempauth / RGW: GET auth_url with X-Auth-User and X-Auth-Key; the reply's X-Auth-Token,
// X-Storage-Url and X-Auth-Token-Expires (seconds left). kUnauthenticated on 401/403.
Result<SwiftToken> AuthenticateV1(http::HttpClient* http, const SwiftSettings& settings,
                                  int64_t now_unix_seconds);

// The JSON body of a Keystone v3 password auth request scoped to the settings' project.
std::string KeystoneV3RequestBody(const SwiftSettings& settings);

// The token of a Keystone v3 reply: X-Subject-Token, and from the body's token.catalog the
// object-store service's endpoint for the settings' interface and region (or
// settings.storage_url when given), and token.expires_at. kNotFound when the catalog has no
// object-store endpoint, kInvalidArgument for a malformed reply.
Result<SwiftToken> ParseKeystoneV3Reply(const http::HttpResponse& reply,
                                        const SwiftSettings& settings, int64_t now_unix_seconds);

// POST <auth_url>/auth/tokens with KeystoneV3RequestBody, then ParseKeystoneV3Reply.
Result<SwiftToken> AuthenticateV3(http::HttpClient* http, const SwiftSettings& settings,
                                  int64_t now_unix_seconds);

// "2024-05-01T12:00:00.000000Z" (or without fraction, or with +00:00) → Unix seconds.
Result<int64_t> ParseIsoTime(std::string_view text);

// The shared token of one Swift client.
//
// Thread safety: thread-safe. `authenticate` is called by at most one thread at a time, without
// any lock of the cache held. The Env is not owned.
class TokenCache {
 public:
  using Authenticator = std::function<Result<SwiftToken>()>;
  using Snapshot = std::shared_ptr<const SwiftToken>;

  TokenCache(Authenticator authenticate, io::Env* env);

  // The current token; authenticates first when there is none or it is about to expire (within a
  // quarter of its lifetime, at most 30 s). Callers that arrive during an authentication wait for
  // it and share its result, success or error.
  Result<Snapshot> Get();

  // After a 401 with `rejected`: if the cache still holds that token, it is dropped and a new one
  // fetched (by one caller; the rest wait); if another caller already replaced it, the newer
  // token is returned at once. kUnauthenticated when authentication hands back the same token
  // (a pre-authenticated OS_AUTH_TOKEN cannot be renewed).
  Result<Snapshot> Refresh(const Snapshot& rejected);

  // Installs `token` as the current one: a token obtained elsewhere, or (tests) one the server
  // will reject, to exercise re-authentication against a real server.
  void Replace(SwiftToken token);

  // Authentication requests made so far (for tests and metrics).
  int64_t authentications() const;

 private:
  bool Fresh(const SwiftToken& token, int64_t now) const;
  // REQUIRES: lock holds mu_. Authenticates (or waits for the authentication in flight) and
  // returns its outcome.
  Result<Snapshot> AuthenticateLocked(std::unique_lock<std::mutex>& lock);

  const Authenticator authenticate_;
  io::Env* const env_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Snapshot current_;             // guarded by mu_
  bool in_flight_ = false;       // guarded by mu_
  uint64_t round_ = 0;           // guarded by mu_: authentications finished
  Status last_error_;            // guarded by mu_: the outcome of round_ when it failed
  int64_t authentications_ = 0;  // guarded by mu_
};

}  // namespace cairn::objstore::swift

#endif  // CAIRN_OBJSTORE_SWIFT_AUTH_H_
