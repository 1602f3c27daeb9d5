#include "cairn/objstore/swift/client.h"

#include <random>

#include <nlohmann/json.hpp>

namespace cairn::objstore::swift {
namespace {

using json = nlohmann::json;

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

void AppendEncoded(std::string_view text, bool keep_slash, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

// The /info URL for a storage URL: ".../v1/AUTH_x" → ".../info" (Swift: /info; RGW:
// /swift/v1 → /swift/info).
std::string InfoUrl(std::string_view storage_url) {
  size_t v1 = storage_url.rfind("/v1");
  if (v1 != std::string_view::npos &&
      (v1 + 3 == storage_url.size() || storage_url[v1 + 3] == '/')) {
    return std::string(storage_url.substr(0, v1)) + "/info";
  }
  size_t scheme = storage_url.find("://");
  size_t path = storage_url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  return std::string(storage_url.substr(0, path)) + "/info";
}

}  // namespace

std::string EncodePath(std::string_view name, Slash slash) {
  std::string out;
  out.reserve(name.size() + 8);
  AppendEncoded(name, slash == Slash::kKeep, &out);
  return out;
}

std::string EncodeQuery(std::string_view value) {
  std::string out;
  AppendEncoded(value, false, &out);
  return out;
}

Result<SwiftInfo> ParseSwiftInfo(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError("Swift /info: not a JSON object");
  }
  SwiftInfo info;
  auto number = [](const json& section, const char* name, auto fallback) {
    using T = decltype(fallback);
    if (!section.is_object() || !section.contains(name) || !section[name].is_number()) {
      return fallback;
    }
    return section[name].get<T>();
  };
  if (doc.contains("swift")) {
    const json& swift = doc["swift"];
    info.max_file_size = number(swift, "max_file_size", info.max_file_size);
    info.container_listing_limit =
        number(swift, "container_listing_limit", info.container_listing_limit);
  }
  info.slo = doc.contains("slo");
  if (info.slo) {
    const json& slo = doc["slo"];
    info.slo_min_segment_size = number(slo, "min_segment_size", info.slo_min_segment_size);
    info.slo_max_manifest_segments =
        number(slo, "max_manifest_segments", info.slo_max_manifest_segments);
  }
  info.bulk_delete = doc.contains("bulk_delete");
  if (info.bulk_delete) {
    info.bulk_delete_max =
        number(doc["bulk_delete"], "max_deletes_per_request", info.bulk_delete_max);
  }
  if (info.slo_min_segment_size == 0) info.slo_min_segment_size = 1;
  return info;
}

Status SwiftErrorToStatus(const http::HttpResponse& reply, std::string_view what) {
  Status base = http::HttpStatusToStatus(reply.status_code, what);
  StatusCode code = base.code();
  // 498: Swift's ratelimit middleware; 429 already maps to kUnavailable.
  if (reply.status_code == 498) code = StatusCode::kUnavailable;
  ErrorDetail detail = base.detail();
  if (auto id = reply.headers.Get("X-Trans-Id")) {
    detail.request_id = std::string(*id);
  } else if (auto os_id = reply.headers.Get("X-Openstack-Request-Id")) {
    detail.request_id = std::string(*os_id);
  }
  // Status::ToString adds "(HTTP n, request id tx…)" from the detail.
  return Status(code, base.message(), std::move(detail));
}

Result<std::unique_ptr<SwiftClient>> SwiftClient::Create(SwiftSettings settings,
                                                         http::HttpClient* http, io::Env* env,
                                                         SwiftClientOptions options) {
  if (settings.version == AuthVersion::kPreauthenticated) {
    if (settings.storage_url.empty() || settings.token.empty()) {
      return InvalidArgumentError(
          "Swift client: a pre-authenticated client needs a storage URL "
          "and a token");
    }
  } else if (settings.auth_url.empty()) {
    return InvalidArgumentError("Swift client: no auth URL");
  }
  return std::unique_ptr<SwiftClient>(new SwiftClient(std::move(settings), http, env, options));
}

SwiftClient::SwiftClient(SwiftSettings settings, http::HttpClient* http, io::Env* env,
                         SwiftClientOptions options)
    : settings_(std::move(settings)),
      http_(http),
      env_(env),
      options_(options),
      retry_(options.retry, std::make_shared<RetryBudget>()),
      random_(std::random_device{}()) {
  tokens_ = std::make_unique<TokenCache>(
      [this]() -> Result<SwiftToken> {
        const int64_t now = env_->NowUnixSeconds();
        switch (settings_.version) {
          case AuthVersion::kPreauthenticated: {
            std::string url = settings_.storage_url;
            while (url.ends_with('/')) url.pop_back();
            return SwiftToken{
                .token = settings_.token, .storage_url = url, .obtained_at = now, .expires_at = 0};
          }
          case AuthVersion::kV1:
            return AuthenticateV1(http_, settings_, now);
          case AuthVersion::kV3:
            return AuthenticateV3(http_, settings_, now);
        }
        return InternalError("unknown Swift auth version");
      },
      env_);
}

SwiftClient::~SwiftClient() = default;

Result<http::HttpResponse> SwiftClient::ExecuteOnce(const Call& call, const SwiftToken& token) {
  http::HttpRequest request;
  request.method = std::string(call.method);
  request.url = token.storage_url;
  if (!call.container.empty()) {
    request.url += "/" + EncodePath(call.container, Slash::kEncode);
    if (!call.object.empty()) request.url += "/" + EncodePath(call.object, Slash::kKeep);
  }
  request.url_for_messages = request.url;
  char sep = '?';
  for (const auto& [name, value] : call.query) {
    request.url += sep + name;
    if (!value.empty()) request.url += "=" + EncodeQuery(value);
    sep = '&';
  }
  request.headers = call.headers;
  request.headers.emplace_back("X-Auth-Token", token.token);
  if (call.body != nullptr) request.body = *call.body;
  http::ResponseBody response_body = call.sink != nullptr
                                         ? http::ResponseBody::Stream(*call.sink, call.on_headers)
                                         : http::ResponseBody::Collect(options_.max_reply_bytes);
  Result<http::HttpResponse> response = http_->Send(request, response_body);
  if (!response.ok()) return response.status().WithContext(call.what);
  return response;
}

Result<http::HttpResponse> SwiftClient::ExecuteAuthenticated(const Call& call) {
  CAIRN_ASSIGN_OR_RETURN(TokenCache::Snapshot token, tokens_->Get());
  for (int attempt = 1;; ++attempt) {
    CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, ExecuteOnce(call, *token));
    if (response.status_code != 401) {
      if (response.status_code >= 200 && response.status_code < 300) return response;
      return SwiftErrorToStatus(response, call.what);
    }
    if (attempt >= options_.max_auth_attempts) return SwiftErrorToStatus(response, call.what);
    // The token expired or was revoked: one thread renews it, the others wait for that one.
    Result<TokenCache::Snapshot> fresh = tokens_->Refresh(token);
    if (!fresh.ok()) return fresh.status().WithContext(call.what);
    token = *fresh;
    if (call.body != nullptr && !call.body->empty()) {
      Status rewound = call.body->Rewind();
      if (!rewound.ok()) {
        return AbortedError(call.what + ": the token expired and the body cannot be sent again");
      }
    }
  }
}

Result<http::HttpResponse> SwiftClient::Execute(const Call& call) {
  Result<http::HttpResponse> result = InternalError("not sent");
  uint64_t delivered = 0;
  Call attempt_call = call;
  http::BodySink counting;
  if (call.sink != nullptr) {
    counting = [&delivered, &call](std::string_view piece) {
      delivered += piece.size();
      return (*call.sink)(piece);
    };
    attempt_call.sink = &counting;
  }
  Status status = RunWithRetries(
      retry_, env_, &random_,
      [&](RetryAttempt* attempt) -> Status {
        if (attempt->number > 0) {
          if (delivered > 0) {
            return AbortedError("the reply was cut after " + std::to_string(delivered) +
                                " bytes had been delivered");
          }
          if (call.body != nullptr && !call.body->empty()) {
            CAIRN_RETURN_IF_ERROR(call.body->Rewind());
          }
        }
        result = ExecuteAuthenticated(attempt_call);
        return result.status();
      },
      call.what);
  if (!status.ok()) return status;
  return result;
}

SwiftInfo SwiftClient::Info() {
  std::lock_guard lock(info_mu_);
  if (info_) return *info_;
  SwiftInfo info;
  Result<TokenCache::Snapshot> token = tokens_->Get();
  if (token.ok()) {
    http::HttpRequest request;
    request.method = "GET";
    request.url = InfoUrl((*token)->storage_url);
    Result<http::HttpResponse> reply =
        http_->Send(request, http::ResponseBody::Collect(options_.max_reply_bytes));
    if (reply.ok() && reply->status_code == 200) {
      if (Result<SwiftInfo> parsed = ParseSwiftInfo(reply->body); parsed.ok()) info = *parsed;
    }
    info_ = info;  // a cluster without /info keeps the defaults
  }
  return info;
}

}  // namespace cairn::objstore::swift
