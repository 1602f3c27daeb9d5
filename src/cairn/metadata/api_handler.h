// The catalog's HTTP API (docs/catalog-api.md): one httpd::Handler serving every route over a
// Catalog, JSON in and out, errors as {"errors": ["…"]} with the status chosen by HttpStatusFor.
//
// Thread safety: the handler may run on many server threads at once (the Catalog is
// thread-safe). It does not own the Catalog, which must outlive it.
#ifndef CAIRN_METADATA_API_HANDLER_H_
#define CAIRN_METADATA_API_HANDLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/common/status.h"
#include "cairn/httpd/http_server.h"
#include "cairn/metadata/catalog.h"
#include "cairn/sql/database.h"

namespace cairn::metadata {

struct ApiHandlerOptions {
  std::string version = "0.1.0";  // reported by GET /v1/config
  // Request bodies: a manifest of millions of files fits (docs/catalog-api.md).
  uint64_t max_body_bytes = uint64_t{256} << 20;
};

// The handler of every route of docs/catalog-api.md.
httpd::Handler MakeApiHandler(Catalog* catalog, ApiHandlerOptions options = {});

// What `cairn api` and `cairn server` run: the catalog over an open database (its migrations
// applied) and the handler serving it. Keep `catalog` for in-process checks of tokens
// (Catalog::Authenticate) and for Bootstrap on first start.
struct CatalogService {
  std::unique_ptr<Catalog> catalog;
  httpd::Handler handler;  // refers to *catalog: keep them together
};

// REQUIRES: `db` outlives the service.
Result<CatalogService> MakeCatalogService(sql::Database* db, CatalogOptions catalog_options,
                                          ApiHandlerOptions handler_options = {});

// The HTTP status for an error code — the one place the catalog maps them:
//   kInvalidArgument, kOutOfRange 400   kUnauthenticated 401   kPermissionDenied 403
//   kNotFound 404   kUnimplemented 405 (method)   kAlreadyExists, kAborted 409
//   kResourceExhausted 413   kFailedPrecondition 422 (an invalid manifest)
//   kUnavailable, kDeadlineExceeded 503   anything else 500.  kOk 200.
int HttpStatusFor(StatusCode code);

// The token of an Authorization header value, "Bearer <token>" or "OAuth2 <token>"; "" if none.
std::string_view TokenFromAuthorization(std::string_view value);

}  // namespace cairn::metadata

#endif  // CAIRN_METADATA_API_HANDLER_H_
