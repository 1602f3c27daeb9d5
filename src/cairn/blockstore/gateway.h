// Gateway: the keep service of type `gateway` (DESIGN.md §3, §7) that serves external-object
// locators, so a reader needs no cloud credentials of its own.
//
//   GET /<hash>+<size>+B<b64url>+C<offset>+A<sig>@<expiry>[+…]
//     a valid token (401) and a valid +A signature the catalog made for that token (400 missing
//     or wrong, 401 expired); the hash re-derived from +B/+C (400 when altered); the remote that
//     holds the bucket found through `resolve` (404 when none); then exactly bytes
//     [offset, offset+size) of the object, pinned with If-Match to the recorded ETag (or the
//     recorded version id), streamed as they arrive.
//     With `Range: bytes=a-b` (or `a-`, `-n`; offsets within the chunk, one range only): 206
//     with `Content-Range: bytes a-b/size` and exactly those bytes, fetched as that sub-range of
//     the object under the same ETag/version pin; a range outside the chunk, several ranges or
//     another unit: 416 with `Content-Range: bytes */size` (never the whole chunk instead).
//     The object changed: 412; gone: 404; the remote refuses: 403 — each naming the object
//     (s3://bucket/key), never sending other bytes. A store that sends fewer bytes than asked
//     cuts the reply short (the client sees a short body).
//   GET /_health/ping   {"health":"OK"}
// Anything else is 404 (a gateway stores nothing). Error bodies never hold tokens, signatures or
// credentials.
//
// Thread safety: Handle may be called concurrently. One ObjectStore (S3 or Swift) per remote is
// created on first use and kept (guarded by a mutex). The gateway owns nothing it is given:
// authenticator, http client and env must outlive it.
#ifndef CAIRN_BLOCKSTORE_GATEWAY_H_
#define CAIRN_BLOCKSTORE_GATEWAY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/blockstore/authenticator.h"
#include "cairn/common/result.h"
#include "cairn/http/http_client.h"
#include "cairn/httpd/http_server.h"
#include "cairn/io/env.h"
#include "cairn/manifest/external.h"
#include "cairn/objstore/object_store.h"
#include "cairn/objstore/s3/client.h"

namespace cairn::blockstore {

// What a gateway needs of a remote: where it is and how to sign in. Secrets: never logged.
//   s3:    endpoint is the S3 endpoint URL; credentials the access key, secret and session token.
//   swift: endpoint is the auth URL (tempauth v1, ".../auth/v1.0"); access_key_id the user
//          ("account:user") and secret_access_key the key.
struct GatewayRemote {
  std::string name;
  manifest::ObjectStoreKind kind = manifest::ObjectStoreKind::kS3;
  std::string endpoint;  // http(s)://host[:port][/path]
  std::string region;
  objstore::s3::Credentials credentials;
};

// The remote holding `bucket`: kNotFound when none does. Called on every read (may cache).
using RemoteResolver =
    std::function<Result<GatewayRemote>(manifest::ObjectStoreKind kind, std::string_view bucket)>;

// Opens a client for a remote. The returned pointer keeps whatever the store needs alive.
using StoreOpener =
    std::function<Result<std::shared_ptr<objstore::ObjectStore>>(const GatewayRemote& remote)>;

// The default StoreOpener: an S3ObjectStore or SwiftObjectStore over `http` (not owned).
Result<std::shared_ptr<objstore::ObjectStore>> OpenRemoteStore(const GatewayRemote& remote,
                                                               http::HttpClient* http,
                                                               io::Env* env);

struct GatewayOptions {
  Authenticator* authenticator = nullptr;  // required
  std::string blob_signing_key;            // required: the catalog's
  int64_t blob_signing_ttl_seconds = int64_t{14} * 24 * 3600;
  RemoteResolver resolve;                     // required
  http::HttpClient* http = nullptr;           // required: for the object stores
  StoreOpener open_store;                     // empty: OpenRemoteStore over `http`
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
  Result<std::shared_ptr<objstore::ObjectStore>> StoreFor(const GatewayRemote& remote);

  GatewayOptions options_;
  std::mutex mu_;
  // By remote name; an entry is replaced when the remote's endpoint or credentials change (a
  // request still using the old store holds its own reference).
  struct CachedStore {
    GatewayRemote remote;
    std::shared_ptr<objstore::ObjectStore> store;
  };
  std::map<std::string, CachedStore, std::less<>> stores_;
};

// One range of a `Range: bytes=…` header, resolved against a chunk of `size` bytes.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;  // >= 1
};
// `bytes=a-b` (b clipped to the chunk), `bytes=a-` or `bytes=-n` (the last n bytes); kOutOfRange
// for anything else: another unit, several ranges, a start at or past `size`, b < a, -0.
Result<ByteRange> ParseByteRange(std::string_view header, uint64_t size);

// The gateway's HTTP status for an error: kInvalidArgument 400, kUnauthenticated 401,
// kPermissionDenied 403, kNotFound 404, kFailedPrecondition 412, kOutOfRange 416,
// kUnavailable/kDeadlineExceeded 503, anything else 502 (the object store failed).
int GatewayHttpStatusFor(const Status& status);

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_GATEWAY_H_
