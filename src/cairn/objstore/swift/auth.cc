#include "cairn/objstore/swift/auth.h"

#include <algorithm>
#include <ctime>

#include <nlohmann/json.hpp>

namespace cairn::objstore::swift {
namespace {

using json = nlohmann::json;

// How an auth failure reads: never with the key, the password or the token.
Status AuthFailure(const http::HttpResponse& reply, std::string_view what) {
  Status status = http::HttpStatusToStatus(reply.status_code, what);
  ErrorDetail detail = status.detail();
  if (auto id = reply.headers.Get("X-Trans-Id")) detail.request_id = std::string(*id);
  if (auto id = reply.headers.Get("X-Openstack-Request-Id")) detail.request_id = std::string(*id);
  StatusCode code = status.code();
  if (reply.status_code == 401 || reply.status_code == 403) code = StatusCode::kUnauthenticated;
  // Status::ToString adds "(HTTP n, request id …)" from the detail.
  return Status(code, status.message(), detail);
}

std::string TrimSlashes(std::string url) {
  while (url.ends_with('/')) url.pop_back();
  return url;
}

json Domain(const std::string& name, const std::string& id) {
  return id.empty() ? json{{"name", name}} : json{{"id", id}};
}

}  // namespace

Result<int64_t> ParseIsoTime(std::string_view text) {
  std::tm tm{};
  int year, month, day, hour, minute, second;
  if (text.size() < 19 ||
      std::sscanf(std::string(text.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month,
                  &day, &hour, &minute, &second) != 6) {
    return InvalidArgumentError("not an ISO 8601 time: \"" + std::string(text.substr(0, 40)) +
                                "\"");
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm));
}

Result<SwiftToken> AuthenticateV1(http::HttpClient* http, const SwiftSettings& settings,
                                  int64_t now_unix_seconds) {
  const std::string what = "Swift v1 auth at " + http::RedactUrl(settings.auth_url);
  http::HttpRequest request;
  request.method = "GET";
  request.url = settings.auth_url;
  request.headers = {{"X-Auth-User", settings.user}, {"X-Auth-Key", settings.key}};
  Result<http::HttpResponse> reply = http->Send(request, http::ResponseBody::Collect(64 << 10));
  if (!reply.ok()) return reply.status().WithContext(what);
  if (reply->status_code < 200 || reply->status_code >= 300) return AuthFailure(*reply, what);
  SwiftToken token;
  auto value = reply->headers.Get("X-Auth-Token");
  if (!value) value = reply->headers.Get("X-Storage-Token");
  auto url = reply->headers.Get("X-Storage-Url");
  if (!value || value->empty() || !url || url->empty()) {
    return InvalidArgumentError(what + ": the reply has no X-Auth-Token or X-Storage-Url");
  }
  token.token = std::string(*value);
  token.storage_url =
      TrimSlashes(settings.storage_url.empty() ? std::string(*url) : settings.storage_url);
  token.obtained_at = now_unix_seconds;
  if (auto expires = reply->headers.Get("X-Auth-Token-Expires")) {
    int64_t seconds = std::strtoll(std::string(*expires).c_str(), nullptr, 10);
    if (seconds > 0) token.expires_at = now_unix_seconds + seconds;
  }
  return token;
}

std::string KeystoneV3RequestBody(const SwiftSettings& settings) {
  json user = settings.user_id.empty()
                  ? json{{"name", settings.username},
                         {"domain", Domain(settings.user_domain_name, settings.user_domain_id)}}
                  : json{{"id", settings.user_id}};
  user["password"] = settings.password;
  json project =
      settings.project_id.empty()
          ? json{{"name", settings.project_name},
                 {"domain", Domain(settings.project_domain_name, settings.project_domain_id)}}
          : json{{"id", settings.project_id}};
  json body = {{"auth",
                {{"identity", {{"methods", {"password"}}, {"password", {{"user", user}}}}},
                 {"scope", {{"project", project}}}}}};
  return body.dump();
}

Result<SwiftToken> ParseKeystoneV3Reply(const http::HttpResponse& reply,
                                        const SwiftSettings& settings, int64_t now_unix_seconds) {
  const std::string what = "Keystone v3 auth at " + http::RedactUrl(settings.auth_url);
  if (reply.status_code < 200 || reply.status_code >= 300) return AuthFailure(reply, what);
  auto subject = reply.headers.Get("X-Subject-Token");
  if (!subject || subject->empty()) {
    return InvalidArgumentError(what + ": the reply has no X-Subject-Token");
  }
  json doc = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("token") ||
      !doc["token"].is_object()) {
    return InvalidArgumentError(what + ": the reply is not a Keystone token document");
  }
  const json& token_doc = doc["token"];
  SwiftToken token;
  token.token = std::string(*subject);
  token.obtained_at = now_unix_seconds;
  if (token_doc.contains("expires_at") && token_doc["expires_at"].is_string()) {
    CAIRN_ASSIGN_OR_RETURN(token.expires_at,
                           ParseIsoTime(token_doc["expires_at"].get<std::string>()));
  }
  if (!settings.storage_url.empty()) {
    token.storage_url = TrimSlashes(settings.storage_url);
    return token;
  }
  std::string found;
  if (token_doc.contains("catalog") && token_doc["catalog"].is_array()) {
    for (const json& service : token_doc["catalog"]) {
      if (!service.is_object() || service.value("type", "") != "object-store") continue;
      if (!service.contains("endpoints") || !service["endpoints"].is_array()) continue;
      for (const json& endpoint : service["endpoints"]) {
        if (!endpoint.is_object()) continue;
        if (endpoint.value("interface", "") != settings.interface) continue;
        if (!settings.region.empty() && endpoint.value("region", "") != settings.region &&
            endpoint.value("region_id", "") != settings.region) {
          continue;
        }
        found = endpoint.value("url", "");
        if (!found.empty()) break;
      }
      if (!found.empty()) break;
    }
  }
  if (found.empty()) {
    return NotFoundError(what + ": the catalog has no object-store endpoint for interface " +
                         settings.interface +
                         (settings.region.empty() ? "" : " in region " + settings.region));
  }
  token.storage_url = TrimSlashes(found);
  return token;
}

Result<SwiftToken> AuthenticateV3(http::HttpClient* http, const SwiftSettings& settings,
                                  int64_t now_unix_seconds) {
  const std::string what = "Keystone v3 auth at " + http::RedactUrl(settings.auth_url);
  std::string body = KeystoneV3RequestBody(settings);
  http::HttpRequest request;
  request.method = "POST";
  request.url = settings.auth_url + "/auth/tokens";
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = http::RequestBody::FromBytes(body);
  // Catalogs of big clouds run to a few hundred KiB.
  Result<http::HttpResponse> reply = http->Send(request, http::ResponseBody::Collect(8 << 20));
  if (!reply.ok()) return reply.status().WithContext(what);
  return ParseKeystoneV3Reply(*reply, settings, now_unix_seconds);
}

TokenCache::TokenCache(Authenticator authenticate, io::Env* env)
    : authenticate_(std::move(authenticate)), env_(env) {}

bool TokenCache::Fresh(const SwiftToken& token, int64_t now) const {
  if (token.expires_at == 0) return true;
  int64_t margin = std::min<int64_t>(30, (token.expires_at - token.obtained_at) / 4);
  return now < token.expires_at - margin;
}

Result<TokenCache::Snapshot> TokenCache::AuthenticateLocked(std::unique_lock<std::mutex>& lock) {
  if (in_flight_) {
    // Share the outcome of the authentication in flight.
    const uint64_t round = round_;
    cv_.wait(lock, [&] { return round_ != round; });
    if (current_ != nullptr) return current_;
    return last_error_;
  }
  in_flight_ = true;
  ++authentications_;
  lock.unlock();
  Result<SwiftToken> token = authenticate_();  // no lock held across the network
  lock.lock();
  in_flight_ = false;
  ++round_;
  if (token.ok()) {
    current_ = std::make_shared<const SwiftToken>(std::move(*token));
    last_error_ = Status();
  } else {
    current_ = nullptr;
    last_error_ = token.status();
  }
  cv_.notify_all();
  if (current_ != nullptr) return current_;
  return last_error_;
}

Result<TokenCache::Snapshot> TokenCache::Get() {
  std::unique_lock lock(mu_);
  if (current_ != nullptr && !in_flight_ && Fresh(*current_, env_->NowUnixSeconds())) {
    return current_;
  }
  if (current_ != nullptr && in_flight_) return current_;  // still valid while it is renewed
  return AuthenticateLocked(lock);
}

Result<TokenCache::Snapshot> TokenCache::Refresh(const Snapshot& rejected) {
  std::unique_lock lock(mu_);
  if (current_ != nullptr && current_ != rejected && !in_flight_) return current_;
  if (current_ == rejected) current_ = nullptr;
  CAIRN_ASSIGN_OR_RETURN(Snapshot fresh, AuthenticateLocked(lock));
  if (rejected != nullptr && fresh->token == rejected->token) {
    return UnauthenticatedError("the Swift token was rejected and authentication gave it again");
  }
  return fresh;
}

void TokenCache::Replace(SwiftToken token) {
  std::lock_guard lock(mu_);
  current_ = std::make_shared<const SwiftToken>(std::move(token));
}

int64_t TokenCache::authentications() const {
  std::lock_guard lock(mu_);
  return authentications_;
}

}  // namespace cairn::objstore::swift
