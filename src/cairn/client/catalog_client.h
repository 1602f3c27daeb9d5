// CatalogClient: typed calls to the catalog's JSON API (docs/catalog-api.md) for what the Keep
// client and the CLI need: cluster config, users, keep services, collections, versions and
// permissions.
//
// Errors carry the HTTP status mapped by http::HttpStatusToStatus (404 kNotFound, 403
// kPermissionDenied, 401 kUnauthenticated, 422 kInvalidArgument, 5xx kUnavailable, ...) and the
// server's own message from `{"errors": [...]}`, after the call's context:
//   "get collection cairn-4zz18-aaaaaaaaaaaaaaa: collection cairn-4zz18-…: not found".
// Idempotent calls (GET, DELETE) are retried on kUnavailable with backoff (objstore/retry.h);
// POST and PUT are not, since a lost reply may hide a success. The token never appears in errors.
//
// Thread safety: every method may be called concurrently. Ownership: the HttpClient and Env are
// not owned and must outlive the CatalogClient.
#ifndef CAIRN_CLIENT_CATALOG_CLIENT_H_
#define CAIRN_CLIENT_CATALOG_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/http/http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/retry.h"

namespace cairn::client {

// GET /v1/config.
struct ClusterConfig {
  std::string cluster_id;
  int64_t blob_signature_ttl = 0;
  uint64_t max_block_size = 0;
  std::string version;
};

struct User {
  std::string uuid;
  std::string username;
  bool is_admin = false;
  std::string created_at;
};

// An entry of GET /v1/keep_services.
struct KeepService {
  std::string uuid;
  std::string host;
  int port = 0;
  bool ssl = false;
  std::string type;  // "disk", "gateway" or "proxy"
  bool read_only = false;
  // "http://host:port" (IPv6 hosts bracketed), no trailing slash.
  std::string BaseUrl() const;
};

struct Collection {
  std::string uuid;
  std::string portable_data_hash;
  std::string manifest_text;  // empty in lists
  std::string name;
  std::string owner_uuid;
  int64_t version = 0;
  int64_t replication_desired = 0;
  int64_t file_count = 0;
  int64_t file_size_total = 0;
  std::string created_at;
  std::string modified_at;
  bool is_trashed = false;
};

struct CollectionVersion {
  int64_t version = 0;
  std::string portable_data_hash;
  std::string modified_at;
  std::string modified_by_user_uuid;
  std::string name;
};

struct Permission {
  std::string uuid;
  std::string target_uuid;
  std::string user_uuid;
  std::string level;
  std::string created_at;
};

// Fields of POST /v1/collections and PUT /v1/collections/<uuid>; unset fields are not sent.
struct CollectionFields {
  std::optional<std::string> manifest_text;
  std::optional<std::string> name;
  std::optional<int64_t> replication_desired;
  // A JSON object as text ("{\"k\": \"v\"}"); sent as is.
  std::optional<std::string> properties_json;
};

struct CollectionListOptions {
  std::string name{};   // exact name filter; empty: any
  std::string scope{};  // "owned", "shared" or "all"; empty: the server's default
  int limit = 100;
  int offset = 0;
};

struct CollectionList {
  std::vector<Collection> items;
  int64_t items_available = 0;
};

struct CatalogClientOptions {
  // "http://host:port" or "https://host:port" (see ApiBaseUrl).
  std::string base_url{};
  std::string token{};
  // Deadline of one request (a manifest of millions of files takes a while).
  std::chrono::milliseconds timeout{120'000};
  // Attempts of idempotent calls; their delays as in objstore::RetryOptions.
  objstore::RetryOptions retry{.max_attempts = 5};
};

// The base URL for a CAIRN_API_HOST value: "http(s)://host[:port]" is kept (trailing '/' cut);
// a bare "host:port" gets http:// when the host is a loopback name or address (127.0.0.0/8,
// localhost, ::1: `cairn server` on this machine speaks plain HTTP) and https:// otherwise.
// kInvalidArgument for an empty value or one with a path.
Result<std::string> ApiBaseUrl(std::string_view api_host);

class CatalogClient {
 public:
  // REQUIRES: http and env outlive the client.
  CatalogClient(http::HttpClient* http, io::Env* env, CatalogClientOptions options);

  CatalogClient(const CatalogClient&) = delete;
  CatalogClient& operator=(const CatalogClient&) = delete;

  const std::string& base_url() const { return options_.base_url; }

  Result<ClusterConfig> GetConfig();
  Result<User> CurrentUser();
  Result<std::vector<User>> ListUsers();
  Result<std::vector<KeepService>> ListKeepServices();

  Result<Collection> CreateCollection(const CollectionFields& fields);
  // `id` is a collection uuid or a portable data hash.
  Result<Collection> GetCollection(std::string_view id);
  Result<Collection> UpdateCollection(std::string_view uuid, const CollectionFields& fields);
  Result<CollectionList> ListCollections(const CollectionListOptions& options);
  // Trashes the collection.
  Status DeleteCollection(std::string_view uuid);
  Result<std::vector<CollectionVersion>> ListVersions(std::string_view uuid);

  // `user` is a user uuid or a username; `level` "read", "write" or "manage".
  Result<Permission> CreatePermission(std::string_view target_uuid, std::string_view user,
                                      std::string_view level);
  Result<std::vector<Permission>> ListPermissions(std::string_view target_uuid);

 private:
  // Sends one request and returns the parsed JSON reply text of a 2xx answer, or the error.
  Result<std::string> Call(std::string_view method, std::string_view path, std::string body,
                           std::string_view what);

  http::HttpClient* const http_;
  io::Env* const env_;
  const CatalogClientOptions options_;
  objstore::RetryPolicy retry_policy_;
  std::unique_ptr<objstore::SeededRandom> random_;
};

}  // namespace cairn::client

#endif  // CAIRN_CLIENT_CATALOG_CLIENT_H_
