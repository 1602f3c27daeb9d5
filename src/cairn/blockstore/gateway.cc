// Gateway (gateway.h) and CatalogRemoteResolver (gateway_remotes.h).
#include "cairn/blockstore/gateway.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "cairn/blockstore/gateway_remotes.h"
#include "cairn/blockstore/keepstore.h"
#include "cairn/common/text.h"
#include "cairn/manifest/locator.h"
#include "cairn/manifest/signature.h"
#include "cairn/objstore/s3/s3_object_store.h"
#include "cairn/objstore/s3/settings.h"
#include "cairn/objstore/swift/client.h"
#include "cairn/objstore/swift/settings.h"
#include "cairn/objstore/swift/swift_object_store.h"

namespace cairn::blockstore {
namespace {

std::string ObjectName(const manifest::ExternalObject& o) {
  return std::string(o.kind == manifest::ObjectStoreKind::kS3 ? "s3://" : "swift://") + o.bucket +
         "/" + o.key;
}

}  // namespace

Result<ByteRange> ParseByteRange(std::string_view header, uint64_t size) {
  const std::string why = "unsatisfiable range \"" + std::string(header.substr(0, 64)) +
                          "\" of a " + std::to_string(size) + "-byte chunk";
  constexpr std::string_view kUnit = "bytes=";
  if (!header.starts_with(kUnit)) return OutOfRangeError(why + " (only bytes=a-b)");
  std::string_view spec = header.substr(kUnit.size());
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return OutOfRangeError(why + " (one range only)");
  }
  std::string_view first = spec.substr(0, dash);
  std::string_view last = spec.substr(dash + 1);
  if (first.empty()) {  // bytes=-N: the last N bytes
    std::optional<uint64_t> n = ParseDecimal(last);
    if (!n || *n == 0 || size == 0) return OutOfRangeError(why);
    const uint64_t length = std::min(*n, size);
    return ByteRange{.offset = size - length, .length = length};
  }
  std::optional<uint64_t> a = ParseDecimal(first);
  if (!a || *a >= size) return OutOfRangeError(why);
  uint64_t end = size - 1;  // inclusive
  if (!last.empty()) {
    std::optional<uint64_t> b = ParseDecimal(last);
    if (!b || *b < *a) return OutOfRangeError(why);
    end = std::min(*b, size - 1);
  }
  return ByteRange{.offset = *a, .length = end - *a + 1};
}

// Bytes gathered from the store before each write to the client.
constexpr size_t kGatewayWriteBytes = size_t{1} << 20;

int GatewayHttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kFailedPrecondition:
      return 412;
    case StatusCode::kOutOfRange:
      return 416;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 502;
  }
}

Result<std::unique_ptr<Gateway>> Gateway::Create(GatewayOptions options) {
  if (options.authenticator == nullptr || options.http == nullptr || !options.resolve) {
    return InvalidArgumentError("a gateway needs an authenticator, an HTTP client and remotes");
  }
  if (options.blob_signing_key.empty()) {
    return InvalidArgumentError("a gateway needs the blob signing key");
  }
  if (options.env == nullptr) options.env = io::Env::Default();
  return std::unique_ptr<Gateway>(new Gateway(std::move(options)));
}

void Gateway::Handle(httpd::ServerRequest& request, httpd::ResponseWriter& response) {
  std::string_view path = request.path;
  Status s;
  if (path == "/_health/ping") {
    s = request.method == "GET" ? response.Send(200, "application/json", "{\"health\":\"OK\"}\n")
                                : UnimplementedError("method not allowed");
  } else if (request.method != "GET" && request.method != "HEAD") {
    s = UnimplementedError("a gateway only reads");
  } else {
    s = Get(path.empty() ? path : path.substr(1), request, response);
  }
  if (s.ok()) return;
  int code = s.code() == StatusCode::kUnimplemented ? 405 : GatewayHttpStatusFor(s);
  response.Send(code, "text/plain", std::string(s.message()) + "\n").IgnoreError();
}

Result<std::shared_ptr<objstore::ObjectStore>> OpenRemoteStore(const GatewayRemote& remote,
                                                               http::HttpClient* http,
                                                               io::Env* env) {
  std::string endpoint = remote.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (remote.kind == manifest::ObjectStoreKind::kSwift) {
    // Tempauth, or Keystone v3 when the sealed session token carries a scope.
    CAIRN_ASSIGN_OR_RETURN(
        objstore::swift::SwiftSettings settings,
        objstore::swift::FromRemoteFields({.endpoint = endpoint,
                                           .user = remote.credentials.access_key_id,
                                           .secret = remote.credentials.secret_access_key,
                                           .scope = remote.credentials.session_token},
                                          remote.region));
    struct Holder {
      std::unique_ptr<objstore::swift::SwiftClient> client;
      std::unique_ptr<objstore::swift::SwiftObjectStore> store;
    };
    auto holder = std::make_shared<Holder>();
    CAIRN_ASSIGN_OR_RETURN(holder->client,
                           objstore::swift::SwiftClient::Create(std::move(settings), http, env));
    holder->store = std::make_unique<objstore::swift::SwiftObjectStore>(holder->client.get());
    return std::shared_ptr<objstore::ObjectStore>(holder, holder->store.get());
  }
  objstore::s3::S3Settings settings;
  settings.credentials = remote.credentials;
  settings.region = remote.region.empty() ? "us-east-1" : remote.region;
  settings.endpoint_url = endpoint;
  settings.source = "remote " + remote.name;
  struct Holder {
    std::unique_ptr<objstore::s3::S3Client> client;
    std::unique_ptr<objstore::s3::S3ObjectStore> store;
  };
  auto holder = std::make_shared<Holder>();
  CAIRN_ASSIGN_OR_RETURN(holder->client, objstore::s3::S3Client::Create(settings, http, env));
  holder->store = std::make_unique<objstore::s3::S3ObjectStore>(holder->client.get());
  return std::shared_ptr<objstore::ObjectStore>(holder, holder->store.get());
}

Result<std::shared_ptr<objstore::ObjectStore>> Gateway::StoreFor(const GatewayRemote& remote) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stores_.find(remote.name);
  if (it != stores_.end() && it->second.remote.kind == remote.kind &&
      it->second.remote.endpoint == remote.endpoint && it->second.remote.region == remote.region &&
      it->second.remote.credentials.access_key_id == remote.credentials.access_key_id &&
      it->second.remote.credentials.secret_access_key == remote.credentials.secret_access_key &&
      it->second.remote.credentials.session_token == remote.credentials.session_token) {
    return it->second.store;
  }
  Result<std::shared_ptr<objstore::ObjectStore>> opened =
      options_.open_store ? options_.open_store(remote)
                          : OpenRemoteStore(remote, options_.http, options_.env);
  if (!opened.ok()) {
    return Status(opened.status().code(),
                  "remote " + remote.name + ": " + std::string(opened.status().message()));
  }
  stores_[remote.name] = CachedStore{.remote = remote, .store = *opened};
  return *opened;
}

Status Gateway::Get(std::string_view name, httpd::ServerRequest& request,
                    httpd::ResponseWriter& response) {
  Result<manifest::Locator> parsed = manifest::Locator::Parse(name);
  if (!parsed.ok()) {
    return InvalidArgumentError("malformed locator: " + std::string(parsed.status().message()));
  }
  const manifest::Locator& locator = *parsed;
  if (!locator.IsExternal()) {
    return NotFoundError("a gateway serves external-object locators only");
  }
  std::optional<std::string_view> token = RequestToken(request);
  if (!token) return UnauthenticatedError("no token provided in Authorization header");
  CAIRN_RETURN_IF_ERROR(options_.authenticator->Authenticate(*token).status());
  Status signature =
      manifest::VerifySignature(locator, options_.blob_signing_key, *token,
                                options_.blob_signing_ttl_seconds, options_.env->NowUnixSeconds());
  if (signature.code() == StatusCode::kPermissionDenied) {
    return InvalidArgumentError("invalid signature: " + std::string(signature.message()));
  }
  CAIRN_RETURN_IF_ERROR(signature);
  // The hash binds bucket, key, version and range: an edited locator fails here.
  CAIRN_ASSIGN_OR_RETURN(manifest::ExternalRange range, manifest::DecodeExternal(locator));
  const manifest::ExternalObject& object = range.object;
  const std::string what = ObjectName(object);
  // Range: a sub-range of the chunk (offsets within it), answered 206; the store is asked for
  // exactly those bytes of the object, still pinned to its ETag/version.
  std::optional<ByteRange> part;
  if (std::optional<std::string_view> header = request.Header("Range")) {
    Result<ByteRange> parsed_range = ParseByteRange(*header, range.size);
    if (!parsed_range.ok()) {
      response.SetHeader("Content-Range", "bytes */" + std::to_string(range.size));
      return Status(parsed_range.status().code(),
                    what + ": " + std::string(parsed_range.status().message()));
    }
    part = *parsed_range;
  }
  Result<GatewayRemote> remote = options_.resolve(object.kind, object.bucket);
  if (!remote.ok()) {
    return Status(remote.status().code(), what + ": " + std::string(remote.status().message()));
  }
  if (remote->kind != object.kind) {
    return NotFoundError(what + ": remote " + remote->name + " is of another kind");
  }
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<objstore::ObjectStore> store, StoreFor(*remote));

  response.SetHeader("Content-Type", "application/octet-stream");
  if (range.size == 0) return response.Start(200, 0);
  const uint64_t want = part ? part->length : range.size;
  const int reply_code = part ? 206 : 200;
  if (part) {
    response.SetHeader("Content-Range", "bytes " + std::to_string(part->offset) + "-" +
                                            std::to_string(part->offset + part->length - 1) + "/" +
                                            std::to_string(range.size));
  }
  objstore::ReadOptions get;
  get.range =
      objstore::ObjectRange{.offset = range.offset + (part ? part->offset : 0), .length = want};
  get.if_match = object.etag;
  get.version_id = object.version_id;
  const bool head = request.method == "HEAD";
  bool started = false;
  uint64_t sent = 0;
  Status sink_error;
  // The store's pieces are small (what one recv returns); each Write hands bytes to the server's
  // I/O thread, so they are gathered into writes of kGatewayWriteBytes.
  std::string pending;
  Result<objstore::ObjectAttributes> info =
      store->Get(object.bucket, object.key, get, [&](std::string_view piece) -> Status {
        if (sent + piece.size() > want) {
          sink_error = DataLossError(what + ": the store sent more bytes than the range");
          return sink_error;
        }
        if (!started) {
          started = true;
          Status s = response.Start(reply_code, want);
          if (!s.ok()) return sink_error = s;
        }
        sent += piece.size();
        if (head) return Status::OK();
        if (pending.empty() && piece.size() >= kGatewayWriteBytes) {
          Status s = response.Write(piece);
          if (!s.ok()) sink_error = s;
          return s;
        }
        if (pending.capacity() < kGatewayWriteBytes) pending.reserve(kGatewayWriteBytes);
        pending.append(piece);
        if (pending.size() < kGatewayWriteBytes) return Status::OK();
        Status s = response.Write(pending);
        pending.clear();
        if (!s.ok()) sink_error = s;
        return s;
      });
  if (!info.ok()) {
    if (started) return Status::OK();  // the reply is cut short; nothing else can be sent
    StatusCode code = info.status().code();
    std::string why = code == StatusCode::kFailedPrecondition
                          ? "changed since it was imported (ETag or version no longer matches)"
                      : code == StatusCode::kNotFound         ? "no longer exists"
                      : code == StatusCode::kPermissionDenied ? "the remote refuses access"
                                                              : "read failed";
    return Status(code, what + ": " + why + " (" + std::string(info.status().message()) + ")");
  }
  if (!started) return DataLossError(what + ": the store sent no bytes for the range");
  if (!pending.empty()) CAIRN_RETURN_IF_ERROR(response.Write(pending));
  if (sent != want) {
    if (options_.log) {
      options_.log(what + ": the store sent " + std::to_string(sent) + " of " +
                   std::to_string(want) + " bytes");
    }
  }
  return Status::OK();
}

// --- CatalogRemoteResolver (gateway_remotes.h).

namespace {

// The string member `key` of `j`, "" when absent or of another type (never throws).
std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::string> CatalogRemoteResolver::Get(const std::string& path, std::string_view what) {
  std::string url = options_.api_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  http::HttpRequest request;
  request.method = "GET";
  request.url = url + path;
  request.headers = {{"Authorization", "Bearer " + options_.admin_token}};
  request.timeout = options_.request_timeout;
  Result<http::HttpResponse> reply = http_->Send(request, http::ResponseBody::Collect(16 << 20));
  if (!reply.ok()) {
    return UnavailableError(std::string(what) + ": " + std::string(reply.status().message()));
  }
  if (reply->status_code == 401 || reply->status_code == 403) {
    return PermissionDeniedError(std::string(what) +
                                 ": the gateway's token is not an admin's (HTTP " +
                                 std::to_string(reply->status_code) + ")");
  }
  if (reply->status_code == 404) return NotFoundError(std::string(what) + ": not found");
  if (reply->status_code != 200) {
    return UnavailableError(http::HttpStatusToStatus(reply->status_code, what).message());
  }
  return std::move(reply->body);
}

Result<GatewayRemote> CatalogRemoteResolver::Resolve(manifest::ObjectStoreKind kind,
                                                     std::string_view bucket) {
  const std::string kind_name = kind == manifest::ObjectStoreKind::kS3 ? "s3" : "swift";
  const std::string cache_key = kind_name + "/" + std::string(bucket);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end()) {
      if (env_->NowUnixMicros() < it->second.expires_micros) return it->second.remote;
      cache_.erase(it);
    }
  }
  using Json = nlohmann::json;
  CAIRN_ASSIGN_OR_RETURN(std::string list_text, Get("/v1/remotes", "list remotes"));
  Json list = Json::parse(list_text, nullptr, /*allow_exceptions=*/false);
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) {
    return UnavailableError("list remotes: the catalog's reply is not a list");
  }
  std::string name;
  for (const Json& r : list["items"]) {
    if (!r.is_object() || Str(r, "kind") != kind_name) continue;
    auto buckets = r.find("buckets");
    if (buckets == r.end() || !buckets->is_array()) continue;
    for (const Json& b : *buckets) {
      if (b.is_string() && b.get<std::string>() == bucket) name = Str(r, "name");
    }
  }
  if (name.empty()) {
    return NotFoundError("no remote holds " + kind_name + " bucket " + std::string(bucket));
  }
  CAIRN_ASSIGN_OR_RETURN(std::string text,
                         Get("/v1/remotes/" + name + "/credentials", "get remote credentials"));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return UnavailableError("get remote credentials: not a JSON object");
  GatewayRemote remote{.name = name,
                       .kind = kind,
                       .endpoint = Str(j, "endpoint"),
                       .region = Str(j, "region"),
                       .credentials = {.access_key_id = Str(j, "access_key_id"),
                                       .secret_access_key = Str(j, "secret_access_key"),
                                       .session_token = Str(j, "session_token")}};
  if (options_.cache_ttl.count() > 0) {
    std::lock_guard lock(mu_);
    cache_[cache_key] = Entry{
        .remote = remote,
        .expires_micros =
            env_->NowUnixMicros() +
            std::chrono::duration_cast<std::chrono::microseconds>(options_.cache_ttl).count()};
  }
  return remote;
}

}  // namespace cairn::blockstore
