// SwiftClient: requests to an OpenStack Swift (or Ceph RGW Swift API) account over an injected
// HttpClient, with the token of a shared TokenCache, re-authentication on 401, retries of
// transient failures (retry.h) and errors as Status with the HTTP status and transaction id.
//
// This is the transport under SwiftObjectStore (swift_object_store.h), which speaks in objects;
// this class speaks in requests: a method, a container and object name (encoded here), a query,
// headers and a body.
//
// Thread safety: thread-safe. The HttpClient and Env are not owned and must outlive the client.
#ifndef CAIRN_OBJSTORE_SWIFT_CLIENT_H_
#define CAIRN_OBJSTORE_SWIFT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/http/http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/retry.h"
#include "cairn/objstore/swift/auth.h"
#include "cairn/objstore/swift/settings.h"

namespace cairn::objstore::swift {

// What /info says about the cluster (defaults: Swift's own when /info is missing or silent).
struct SwiftInfo {
  uint64_t max_file_size = 5368709122;  // Swift constraints: 5 GiB + 2 bytes
  bool slo = true;
  uint64_t slo_min_segment_size = 1;  // Swift >= 2.x enforces none (reports 1)
  int slo_max_manifest_segments = 1000;
  bool bulk_delete = false;
  int bulk_delete_max = 10000;  // bulk.py max_deletes_per_request
  int container_listing_limit = 10000;
};

// Parses a GET /info reply body. kInvalidArgument for a body that is not a JSON object.
Result<SwiftInfo> ParseSwiftInfo(std::string_view body);

struct SwiftClientOptions {
  RetryOptions retry;
  size_t max_reply_bytes = 16 << 20;  // collected replies (listings, manifests, errors)
  int max_auth_attempts = 3;          // requests sent with a fresh token after a 401
};

enum class Slash { kKeep, kEncode };
// Percent-encodes a container (Slash::kEncode) or object name (kKeep) for a URL path.
std::string EncodePath(std::string_view name, Slash slash);
// Percent-encodes a query value.
std::string EncodeQuery(std::string_view value);

class SwiftClient {
 public:
  // One request. container "" addresses the account (the storage URL itself).
  struct Call {
    std::string_view method = {};
    std::string_view container = {};
    std::string_view object = {};
    std::vector<std::pair<std::string, std::string>> query = {};  // values encoded here
    std::vector<std::pair<std::string, std::string>> headers = {};
    const http::RequestBody* body = nullptr;
    const http::BodySink* sink = nullptr;  // stream a 2xx body there instead of collecting it
    http::HeadersCallback on_headers = nullptr;
    std::string what = {};  // "get swift://c/o", for messages
  };

  // Errors: kInvalidArgument for settings without an auth URL (or storage URL and token).
  static Result<std::unique_ptr<SwiftClient>> Create(SwiftSettings settings, http::HttpClient* http,
                                                     io::Env* env, SwiftClientOptions options = {});
  ~SwiftClient();

  // Sends `call` (re-authenticating on 401, retrying transient failures) and returns the 2xx
  // reply, or the error as a Status: HttpStatusToStatus's code (498 and 429 kUnavailable), detail
  // with the HTTP status and the transaction id (X-Trans-Id) as request_id, message
  // "<what>: <reason>" (ToString adds "(HTTP n, request id tx…)"). Other 2xx/3xx handling is the
  // caller's.
  Result<http::HttpResponse> Execute(const Call& call);

  // GET /info once (later calls return the first answer); defaults when the cluster has none.
  SwiftInfo Info();

  TokenCache& tokens() { return *tokens_; }
  const SwiftSettings& settings() const { return settings_; }
  io::Env* env() const { return env_; }

 private:
  SwiftClient(SwiftSettings settings, http::HttpClient* http, io::Env* env,
              SwiftClientOptions options);
  Result<http::HttpResponse> ExecuteOnce(const Call& call, const SwiftToken& token);
  Result<http::HttpResponse> ExecuteAuthenticated(const Call& call);

  const SwiftSettings settings_;
  http::HttpClient* const http_;
  io::Env* const env_;
  const SwiftClientOptions options_;
  RetryPolicy retry_;
  SeededRandom random_;
  std::unique_ptr<TokenCache> tokens_;

  std::mutex info_mu_;
  std::optional<SwiftInfo> info_;  // guarded by info_mu_
};

// Status for a non-2xx Swift reply (see Execute).
Status SwiftErrorToStatus(const http::HttpResponse& reply, std::string_view what);

}  // namespace cairn::objstore::swift

#endif  // CAIRN_OBJSTORE_SWIFT_CLIENT_H_
