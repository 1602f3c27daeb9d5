// Gateway: the keep service of type `gateway` (DESIGN.md §3, §7) that serves external-object
// locators, so a reader needs no cloud credentials of its own.
//
//   GET /<hash>+<size>+B<b64url>+C<offset>+A<sig>@<expiry>[+…]
//     a valid token (401) and a valid +A signature the catalog made for that token (400 missing
//     or wrong, 401 expired); the hash re-derived from +B/+C (400 when altered); the remote that
//     holds the bucket found through `resolve` (404 when none); then exactly bytes
//     [offset, offset+size) of the object, pinned with If-Match to the recorded ETag (or the
//     recorded version id), streamed as they arrive.
//     The object changed: 412; gone: 404; the remote refuses: 403 — each naming the object
//     (s3://bucket/key), never sending other bytes. A store that sends fewer bytes than asked
//     cuts the reply short (the client sees a short body).
//   GET /_health/ping   {"health":"OK"}
// Anything else is 404 (a gateway stores nothing). Error bodies never hold tokens, signatures or
// credentials.
//
// Thread safety: Handle may be called concurrently. One S3Client per remote is created on first
// use and kept (guarded by a mutex). The gateway owns nothing it is given: authenticator, http
// client and env must outlive it.
#ifndef CAIRN_BLOCKSTORE_GATEWAY_H_
#define CAIRN_BLOCKSTORE_GATEWAY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/blockstore/authenticator.h"
#include "cairn/common/result.h"
#include "cairn/http/http_client.h"
#include "cairn/httpd/http_server.h"
#include "cairn/io/env.h"
#include "cairn/manifest/external.h"
#include "cairn/objstore/s3/client.h"

namespace cairn::blockstore {

// What a gateway needs of a remote: where it is and how to sign in. Secrets: never logged.
struct GatewayRemote {
  std::string name;
  std::string endpoint;  // http(s)://host[:port]
  std::string region;
  objstore::s3::Credentials credentials;
};

// The remote holding `bucket`: kNotFound when none does. Called on every read (may cache).
using RemoteResolver =
    std::function<Result<GatewayRemote>(manifest::ObjectStoreKind kind, std::string_view bucket)>;

struct GatewayOptions {
  Authenticator* authenticator = nullptr;  // required
  std::string blob_signing_key;            // required: the catalog's
  int64_t blob_signing_ttl_seconds = int64_t{14} * 24 * 3600;
  RemoteResolver resolve;                     // required
  http::HttpClient* http = nullptr;           // required: for the object stores
  io::Env* env = nullptr;                     // nullptr: io::Env::Default()
  std::function<void(std::string_view)> log;  // empty: standard error
};

class Gateway {
 public:
  // kInvalidArgument when a required option is missing.
  static Result<std::unique_ptr<Gateway>> Create(GatewayOptions options);

  void Handle(httpd::ServerRequest& request, httpd::ResponseWriter& response);
  httpd::Handler AsHandler() {
    return [this](httpd::ServerRequest& q, httpd::ResponseWriter& r) { Handle(q, r); };
  }

 private:
  explicit Gateway(GatewayOptions options) : options_(std::move(options)) {}
  Status Get(std::string_view name, httpd::ServerRequest& request, httpd::ResponseWriter& response);
  Result<objstore::s3::S3Client*> ClientFor(const GatewayRemote& remote);

  GatewayOptions options_;
  std::mutex mu_;
  // By remote name; an entry is replaced when the remote's endpoint or credentials change.
  struct CachedClient {
    GatewayRemote remote;
    std::unique_ptr<objstore::s3::S3Client> client;
  };
  std::map<std::string, CachedClient, std::less<>> clients_;
  std::vector<std::unique_ptr<objstore::s3::S3Client>> retired_;  // replaced clients
};

// The gateway's HTTP status for an error: kInvalidArgument 400, kUnauthenticated 401,
// kPermissionDenied 403, kNotFound 404, kFailedPrecondition 412, kUnavailable/kDeadlineExceeded
// 503, anything else 502 (the object store failed).
int GatewayHttpStatusFor(const Status& status);

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_GATEWAY_H_
