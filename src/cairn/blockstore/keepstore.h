// Keepstore: the Arvados-compatible Keep block API over a set of volumes (DESIGN.md §3;
// arvados-keep.md §4-6), as an httpd::Handler. No sockets here: tests drive Handle with
// httpd::StringBodyReader and httpd::BufferedResponseWriter.
//
//   PUT /<md5>[+…]          any valid token; body ≤ 64 MiB (413) whose MD5 is the name (400);
//                           stored on the first writable volume in rendezvous order that has room
//                           (507 when none has); replies "<md5>+<size>+A<sig>@<expiry>\n" and
//                           X-Keep-Replicas-Stored: 1
//   GET|HEAD /<locator>     a valid token (401) and, when a signing key is set, a valid +A
//                           signature made for that token (400 bad or missing, 401 expired);
//                           volumes probed in rendezvous order; the MD5 is checked as the bytes
//                           go out and a corrupt block is cut short (never sent whole) and logged;
//                           HEAD reads and checks the whole block (502 when corrupt)
//   DELETE /<md5>[+…]       admin: removes the block from every volume (404 when none has it)
//   GET /index[/<prefix>]   admin: "<md5>+<size> <mtime ns>\n" per block, then an empty line
//   GET /mounts             admin: the volumes as a JSON array (Arvados KeepMount fields)
//   GET /_health/ping       {"health":"OK"}
// Tokens come from "Authorization: Bearer <t>" or "OAuth2 <t>". Error bodies are "<message>\n"
// and never hold tokens or signatures.
//
// Thread safety: Handle may be called concurrently (the server's worker threads). The keepstore
// owns nothing it is given: volumes, authenticator and env must outlive it.
#ifndef CAIRN_BLOCKSTORE_KEEPSTORE_H_
#define CAIRN_BLOCKSTORE_KEEPSTORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/blockstore/authenticator.h"
#include "cairn/blockstore/volume.h"
#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/httpd/http_server.h"
#include "cairn/io/env.h"

namespace cairn::blockstore {

struct KeepstoreOptions {
  std::vector<Volume*> volumes;            // at least one
  Authenticator* authenticator = nullptr;  // required
  // The blob signing key shared with the catalog. Empty: PUT replies are unsigned and GET does
  // not check signatures (only the token).
  std::string blob_signing_key;
  // Arvados Collections.BlobSigningTTL default: 336 h. Part of every signature.
  int64_t blob_signing_ttl_seconds = int64_t{14} * 24 * 3600;
  io::Env* env = nullptr;  // the clock; nullptr: io::Env::Default()
  // Bytes moved per step between socket and disk: the memory a request holds (twice, for PUT).
  size_t piece_bytes = size_t{1} << 20;
  // Receives what an operator must see (a corrupt block). Empty: standard error.
  std::function<void(std::string_view message)> log;
};

class Keepstore {
 public:
  // kInvalidArgument without volumes or authenticator.
  static Result<std::unique_ptr<Keepstore>> Create(KeepstoreOptions options);

  void Handle(httpd::ServerRequest& request, httpd::ResponseWriter& response);
  // A Handler calling Handle on this keepstore (which must outlive it).
  httpd::Handler AsHandler() {
    return [this](httpd::ServerRequest& q, httpd::ResponseWriter& r) { Handle(q, r); };
  }

 private:
  explicit Keepstore(KeepstoreOptions options);

  Status Route(httpd::ServerRequest& request, httpd::ResponseWriter& response);
  Result<Caller> Authenticate(const httpd::ServerRequest& request);
  Status Put(std::string_view name, httpd::ServerRequest& request, httpd::ResponseWriter& response);
  Status Get(std::string_view name, httpd::ServerRequest& request, httpd::ResponseWriter& response);
  Status Delete(std::string_view name, const httpd::ServerRequest& request,
                httpd::ResponseWriter& response);
  Status Index(std::string_view prefix, const httpd::ServerRequest& request,
               httpd::ResponseWriter& response);
  Status Mounts(const httpd::ServerRequest& request, httpd::ResponseWriter& response);
  // Volumes in rendezvous order for `hash_hex`.
  std::vector<Volume*> Order(std::string_view hash_hex) const;
  void Log(std::string_view message) const;

  KeepstoreOptions options_;
  std::vector<std::string> volume_uuids_;
};

// The one mapping of Status to HTTP status for the keepstore:
//   kInvalidArgument 400, kUnauthenticated 401, kPermissionDenied 403, kNotFound 404,
//   kUnimplemented 405, kOutOfRange 413 (block too large), kDataLoss 502 (stored data corrupt),
//   kUnavailable / kDeadlineExceeded / kAborted 503, kResourceExhausted 507 (volumes full),
//   anything else 500.
int HttpStatusFor(const Status& status);

// The token of "Authorization: Bearer <t>" or "Authorization: OAuth2 <t>"; nullopt otherwise.
std::optional<std::string_view> RequestToken(const httpd::ServerRequest& request);

// `path` with every +A and +R signature replaced by "…", for logs:
// "/acbd18db4cc2f85cedef654fccc4a4d8+3+A…@7fffffff".
std::string RedactSignatures(std::string_view path);

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_KEEPSTORE_H_
