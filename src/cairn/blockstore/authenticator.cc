#include "cairn/blockstore/authenticator.h"

#include <nlohmann/json.hpp>

#include <utility>

#include "cairn/common/hash.h"

namespace cairn::blockstore {

Result<Caller> FixedTokenAuthenticator::Authenticate(std::string_view token) {
  for (const auto& [known, caller] : callers_) {
    if (ConstantTimeEquals(known, token)) return caller;
  }
  return UnauthenticatedError("invalid or revoked token");
}

CatalogAuthenticator::CatalogAuthenticator(http::HttpClient* client, io::Env* env,
                                           CatalogAuthenticatorOptions options)
    : client_(client),
      env_(env),
      options_(std::move(options)),
      cache_(std::max<size_t>(1, options_.max_cached_tokens)) {}

Result<Caller> CatalogAuthenticator::Authenticate(std::string_view token) {
  if (token.empty()) return UnauthenticatedError("no token");
  const std::string key = Sha256Hex(token);
  {
    std::lock_guard lock(mu_);
    if (Entry* e = cache_.Get(key)) {
      if (env_->NowUnixMicros() < e->expires_micros) return e->caller;
      cache_.Erase(key);
    }
  }
  std::string url = options_.api_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  http::HttpRequest request;
  request.method = "GET";
  request.url = url + "/v1/users/current";
  request.headers = {{"Authorization", "Bearer " + std::string(token)}};
  request.timeout = options_.request_timeout;
  Result<http::HttpResponse> reply = client_->Send(request, http::ResponseBody::Collect(64 << 10));
  if (!reply.ok()) {
    return UnavailableError("ask the catalog who a token belongs to: " +
                            std::string(reply.status().message()));
  }
  if (reply->status_code == 401 || reply->status_code == 403) {
    return UnauthenticatedError("token not accepted by the catalog");
  }
  if (reply->status_code != 200) {
    return UnavailableError(
        http::HttpStatusToStatus(reply->status_code, "ask the catalog who a token belongs to")
            .message());
  }
  nlohmann::json doc = nlohmann::json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("uuid") || !doc["uuid"].is_string()) {
    return UnavailableError("the catalog's GET /v1/users/current reply has no user uuid");
  }
  Caller caller;
  caller.user_uuid = doc["uuid"].get<std::string>();
  if (doc.contains("is_admin") && doc["is_admin"].is_boolean()) {
    caller.is_admin = doc["is_admin"].get<bool>();
  }
  if (options_.cache_ttl.count() > 0) {
    std::lock_guard lock(mu_);
    cache_.Put(key,
               Entry{.caller = caller,
                     .expires_micros = env_->NowUnixMicros() +
                                       static_cast<int64_t>(options_.cache_ttl.count()) * 1000});
  }
  return caller;
}

}  // namespace cairn::blockstore
