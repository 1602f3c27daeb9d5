// Authenticator: how a keepstore learns who an API token belongs to (DESIGN.md §2: services meet
// only through interfaces that apps/ back with an HTTP client or a direct adapter).
//
//   FixedTokenAuthenticator   a fixed token -> caller table (tests, single-user setups)
//   CatalogAuthenticator      asks the catalog `GET /v1/users/current` (docs/catalog-api.md) and
//                             remembers positive answers for a short time
//
// Thread safety: Authenticate may be called concurrently. Implementations own nothing they are
// given; the HttpClient and Env must outlive them.
#ifndef CAIRN_BLOCKSTORE_AUTHENTICATOR_H_
#define CAIRN_BLOCKSTORE_AUTHENTICATOR_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "cairn/common/lru_map.h"
#include "cairn/common/result.h"
#include "cairn/http/http_client.h"
#include "cairn/io/env.h"

namespace cairn::blockstore {

struct Caller {
  std::string user_uuid;
  bool is_admin = false;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The caller `token` belongs to. kUnauthenticated for an unknown, expired or revoked token;
  // kUnavailable when the answer cannot be had now (catalog down).
  virtual Result<Caller> Authenticate(std::string_view token) = 0;
};

class FixedTokenAuthenticator final : public Authenticator {
 public:
  // Not thread-safe: add every token before the first Authenticate.
  void Add(std::string token, Caller caller) { callers_[std::move(token)] = std::move(caller); }
  Result<Caller> Authenticate(std::string_view token) override;

 private:
  std::map<std::string, Caller, std::less<>> callers_;
};

struct CatalogAuthenticatorOptions {
  // The catalog's root URL, "http://127.0.0.1:9000" (no trailing slash needed).
  std::string api_url;
  // How long a positive answer is trusted; a revoked token keeps working this long at most.
  std::chrono::milliseconds cache_ttl{5000};
  size_t max_cached_tokens = 4096;
  std::chrono::milliseconds request_timeout{10'000};
};

class CatalogAuthenticator final : public Authenticator {
 public:
  CatalogAuthenticator(http::HttpClient* client, io::Env* env, CatalogAuthenticatorOptions options);
  Result<Caller> Authenticate(std::string_view token) override;

 private:
  struct Entry {
    Caller caller;
    int64_t expires_micros = 0;
  };

  http::HttpClient* const client_;
  io::Env* const env_;
  const CatalogAuthenticatorOptions options_;
  std::mutex mu_;
  // Keyed by SHA-256 of the token, so the cache holds no usable secret. Guarded by mu_.
  LruMap<std::string, Entry> cache_;
};

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_AUTHENTICATOR_H_
