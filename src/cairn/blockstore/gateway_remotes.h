// CatalogRemoteResolver: a gateway's RemoteResolver for a gateway in its own process
// (`cairn keepstore --gateway`): asks the catalog over HTTP with an admin token —
// `GET /v1/remotes` to find the remote holding a bucket, then the admin-only
// `GET /v1/remotes/<name>/credentials` (docs/catalog-api.md "Remotes") — and remembers answers
// for `cache_ttl`, so a removed remote or new credentials take effect within that time.
//
// Thread safety: Resolve may be called concurrently (one mutex over the cache; requests run
// outside it). The HttpClient and Env are not owned and must outlive the resolver; the admin
// token is kept in memory only and never logged or put in an error message.
#ifndef CAIRN_BLOCKSTORE_GATEWAY_REMOTES_H_
#define CAIRN_BLOCKSTORE_GATEWAY_REMOTES_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "cairn/blockstore/gateway.h"
#include "cairn/common/result.h"
#include "cairn/http/http_client.h"
#include "cairn/io/env.h"

namespace cairn::blockstore {

struct CatalogRemoteResolverOptions {
  std::string api_url;      // "http://127.0.0.1:9100"
  std::string admin_token;  // a token of an admin user (secret)
  std::chrono::milliseconds cache_ttl{30'000};
  std::chrono::milliseconds request_timeout{10'000};
};

class CatalogRemoteResolver {
 public:
  CatalogRemoteResolver(http::HttpClient* http, io::Env* env, CatalogRemoteResolverOptions options)
      : http_(http), env_(env), options_(std::move(options)) {}

  // kNotFound when no remote holds the bucket; kUnavailable when the catalog cannot answer;
  // kPermissionDenied when the token is not an admin's.
  Result<GatewayRemote> Resolve(manifest::ObjectStoreKind kind, std::string_view bucket);

  // A RemoteResolver calling Resolve (this resolver must outlive it).
  RemoteResolver AsResolver() {
    return [this](manifest::ObjectStoreKind kind, std::string_view bucket) {
      return Resolve(kind, bucket);
    };
  }

 private:
  Result<std::string> Get(const std::string& path, std::string_view what);

  http::HttpClient* const http_;
  io::Env* const env_;
  const CatalogRemoteResolverOptions options_;
  struct Entry {
    GatewayRemote remote;
    int64_t expires_micros = 0;
  };
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> cache_;  // by "<kind>/<bucket>"
};

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_GATEWAY_REMOTES_H_
