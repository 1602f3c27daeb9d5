#include "cairn/metadata/api_handler.h"

#include <charconv>
#include <exception>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cairn/manifest/locator.h"
#include "cairn/metadata/ids.h"

namespace cairn::metadata {
namespace {

using Json = nlohmann::json;

// --- Requests.

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; `plus_is_space` for query strings (HTML forms).
std::string Unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty()) {
    if (path[0] == '/') {
      path.remove_prefix(1);
      continue;
    }
    size_t slash = path.find('/');
    segments.push_back(Unescape(path.substr(0, slash), false));
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash);
  }
  return segments;
}

std::map<std::string, std::string> QueryParams(std::string_view query) {
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = Unescape(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : Unescape(pair.substr(eq + 1), true);
    params.emplace(std::move(key), std::move(value));
  }
  return params;
}

// A JSON request body's fields, checked by name and type. Unknown fields are errors.
class Fields {
 public:
  explicit Fields(Json object) : object_(std::move(object)) {}

  Status Allow(std::initializer_list<std::string_view> names) const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      bool known = false;
      for (std::string_view n : names) known = known || it.key() == n;
      if (!known) return InvalidArgumentError("unknown field \"" + it.key().substr(0, 64) + "\"");
    }
    return Status::OK();
  }
  const Json* Get(std::string_view name) const {
    auto it = object_.find(name);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  Result<std::optional<std::string>> String(std::string_view name) const {
    const Json* v = Get(name);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) return TypeError(name, "a string");
    return std::optional<std::string>(v->get<std::string>());
  }
  Result<std::optional<int64_t>> Int(std::string_view name) const {
    const Json* v = Get(name);
    if (v == nullptr) return std::optional<int64_t>();
    if (!v->is_number_integer()) return TypeError(name, "an integer");
    return std::optional<int64_t>(v->get<int64_t>());
  }
  Result<std::optional<bool>> Bool(std::string_view name) const {
    const Json* v = Get(name);
    if (v == nullptr) return std::optional<bool>();
    if (!v->is_boolean()) return TypeError(name, "true or false");
    return std::optional<bool>(v->get<bool>());
  }
  // A JSON object, returned as its text.
  Result<std::optional<std::string>> Object(std::string_view name) const {
    const Json* v = Get(name);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_object()) return TypeError(name, "a JSON object");
    return std::optional<std::string>(v->dump());
  }

 private:
  static Status TypeError(std::string_view name, std::string_view what) {
    return InvalidArgumentError("field \"" + std::string(name) + "\" must be " + std::string(what));
  }
  Json object_;
};

// --- Replies.

Json TimeOrNull(const std::optional<int64_t>& micros) {
  return micros ? Json(FormatTime(*micros)) : Json(nullptr);
}

Json ToJson(const User& u, bool full) {
  Json j = {{"uuid", u.uuid}, {"username", u.username}};
  if (full) {
    j["is_admin"] = u.is_admin;
    j["created_at"] = FormatTime(u.created_at);
  }
  return j;
}

Json ToJson(const ApiToken& t) {
  Json j = {{"uuid", t.uuid},
            {"user_uuid", t.user_uuid},
            {"expires_at", TimeOrNull(t.expires_at)},
            {"created_at", FormatTime(t.created_at)}};
  if (!t.secret.empty()) j["api_token"] = t.secret;
  return j;
}

Json ToJson(const Collection& c, bool with_manifest) {
  Json properties = Json::parse(c.properties, nullptr, /*allow_exceptions=*/false);
  if (!properties.is_object()) properties = Json::object();
  Json j = {{"uuid", c.uuid},
            {"portable_data_hash", c.portable_data_hash},
            {"name", c.name},
            {"owner_uuid", c.owner_uuid},
            {"properties", std::move(properties)},
            {"version", c.version},
            {"replication_desired", c.replication_desired ? Json(*c.replication_desired) : Json()},
            {"file_count", c.file_count},
            {"file_size_total", c.file_size_total},
            {"created_at", FormatTime(c.created_at)},
            {"modified_at", FormatTime(c.modified_at)},
            {"modified_by_user_uuid", c.modified_by_user_uuid},
            {"is_trashed", c.is_trashed},
            {"trash_at", TimeOrNull(c.trash_at)}};
  if (with_manifest) j["manifest_text"] = c.manifest_text;
  return j;
}

Json ToJson(const CollectionVersion& v) {
  return {{"version", v.version},
          {"portable_data_hash", v.portable_data_hash},
          {"modified_at", FormatTime(v.modified_at)},
          {"modified_by_user_uuid", v.modified_by_user_uuid},
          {"name", v.name}};
}

Json ToJson(const Permission& p) {
  return {{"uuid", p.uuid},
          {"target_uuid", p.target_uuid},
          {"user_uuid", p.user_uuid},
          {"level", std::string(AccessLevelName(p.level))},
          {"created_at", FormatTime(p.created_at)}};
}

Json ToJson(const KeepService& s) {
  return {{"uuid", s.uuid},
          {"service_host", s.service_host},
          {"service_port", s.service_port},
          {"service_ssl_flag", s.service_ssl_flag},
          {"service_type", s.service_type},
          {"read_only", s.read_only}};
}

Json ToJson(const Remote& r) {
  return {{"uuid", r.uuid},
          {"name", r.name},
          {"kind", r.kind},
          {"endpoint", r.endpoint},
          {"region", r.region},
          {"buckets", r.buckets},
          {"owner_uuid", r.owner_uuid},
          {"created_at", FormatTime(r.created_at)}};
}

template <typename T, typename F>
Json PageJson(const Page<T>& page, F&& to_json) {
  Json items = Json::array();
  for (const T& item : page.items) items.push_back(to_json(item));
  return {{"items", std::move(items)},
          {"items_available", page.items_available},
          {"limit", page.limit},
          {"offset", page.offset}};
}

// --- The handler.

class ApiHandler {
 public:
  ApiHandler(Catalog* catalog, ApiHandlerOptions options)
      : catalog_(catalog), options_(std::move(options)) {}

  void Handle(httpd::ServerRequest& request, httpd::ResponseWriter& response) {
    Result<Json> reply = InternalError("no reply");
    try {
      reply = Dispatch(request);
    } catch (const std::exception& e) {  // nlohmann::json throws; nothing else here does
      reply = InternalError(std::string("JSON: ") + e.what());
    }
    int status = 200;
    Json body;
    if (reply.ok()) {
      body = std::move(reply).value();
    } else {
      status = HttpStatusFor(reply.status().code());
      body = {{"errors", Json::array({std::string(reply.status().message())})}};
    }
    if (status == 401) response.SetHeader("WWW-Authenticate", "Bearer");
    std::string text = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    text += '\n';
    response.Send(status, "application/json", text).IgnoreError();  // peer gone: nothing to do
  }

 private:
  Result<Json> Dispatch(httpd::ServerRequest& request) {
    std::vector<std::string> path = PathSegments(request.path);
    const std::string& method = request.method;
    if (path.size() == 2 && path[0] == "_health" && path[1] == "ping") {
      if (method != "GET") return MethodNotAllowed(method, request.path);
      return Json{{"health", "OK"}};
    }
    if (path.empty() || path[0] != "v1") {
      return NotFoundError("no route for " + std::string(request.path.substr(0, 200)));
    }
    path.erase(path.begin());
    if (path.size() == 1 && path[0] == "config") {
      if (method != "GET") return MethodNotAllowed(method, request.path);
      return Json{{"cluster_id", catalog_->options().cluster_id},
                  {"blob_signature_ttl", catalog_->options().signing.ttl_seconds},
                  {"max_block_size", manifest::kMaxBlockSize},
                  {"version", options_.version}};
    }
    std::string_view token;
    if (auto auth = request.Header("Authorization")) token = TokenFromAuthorization(*auth);
    CAIRN_ASSIGN_OR_RETURN(Caller caller, catalog_->Authenticate(token));
    Request r{.method = method,
              .path = std::move(path),
              .query = QueryParams(request.query),
              .caller = std::move(caller),
              .http = &request};
    const std::string& resource = r.path.empty() ? std::string() : r.path[0];
    if (resource == "users") return Users(r);
    if (resource == "api_tokens") return Tokens(r);
    if (resource == "collections") return Collections(r);
    if (resource == "permissions") return Permissions(r);
    if (resource == "keep_services") return KeepServices(r);
    if (resource == "remotes") return Remotes(r);
    return NotFoundError("no route for " + std::string(request.path.substr(0, 200)));
  }

  struct Request {
    std::string method;
    std::vector<std::string> path;  // after /v1
    std::map<std::string, std::string> query;
    Caller caller;
    httpd::ServerRequest* http;

    std::optional<std::string> Query(const std::string& name) const {
      auto it = query.find(name);
      return it == query.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    bool Is(std::string_view m, size_t segments) const {
      return method == m && path.size() == segments;
    }
  };

  static Status MethodNotAllowed(std::string_view method, std::string_view path) {
    return UnimplementedError(std::string(method) + " is not allowed on " +
                              std::string(path.substr(0, 200)));
  }
  static Status NoRoute(const Request& r) {
    if (r.path.size() <= 3) return MethodNotAllowed(r.method, r.http->path);
    return NotFoundError("no route for " + r.http->path.substr(0, 200));
  }

  Result<Fields> Body(const Request& r) {
    httpd::ServerRequest& req = *r.http;
    if (req.content_length && *req.content_length > options_.max_body_bytes) {
      return ResourceExhaustedError("request body of " + std::to_string(*req.content_length) +
                                    " bytes is over the limit of " +
                                    std::to_string(options_.max_body_bytes));
    }
    std::string body;
    if (req.content_length) body.reserve(*req.content_length);
    char buf[64 * 1024];
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(size_t n, req.body->Read(std::span<char>(buf, sizeof(buf))));
      if (n == 0) break;
      if (body.size() + n > options_.max_body_bytes) {
        return ResourceExhaustedError("request body is over the limit of " +
                                      std::to_string(options_.max_body_bytes) + " bytes");
      }
      body.append(buf, n);
    }
    Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return InvalidArgumentError("request body is not valid JSON");
    if (!j.is_object()) return InvalidArgumentError("request body must be a JSON object");
    return Fields(std::move(j));
  }

  static Result<Paging> PagingOf(const Request& r) {
    Paging p;
    auto number = [](const std::string& text, std::string_view name) -> Result<int64_t> {
      int64_t v = -1;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || v < 0) {
        return InvalidArgumentError(std::string(name) + " must be a non-negative integer");
      }
      return v;
    };
    if (auto limit = r.Query("limit")) {
      CAIRN_ASSIGN_OR_RETURN(p.limit, number(*limit, "limit"));
      // docs/catalog-api.md: at most 1000 items a page.
      if (p.limit < 1 || p.limit > 1000) return InvalidArgumentError("limit must be 1..1000");
    }
    if (auto offset = r.Query("offset")) {
      CAIRN_ASSIGN_OR_RETURN(p.offset, number(*offset, "offset"));
    }
    return p;
  }

  Result<Json> Users(const Request& r) {
    if (r.Is("GET", 2) && r.path[1] == "current") return ToJson(r.caller.user, true);
    if (r.Is("GET", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Paging paging, PagingOf(r));
      CAIRN_ASSIGN_OR_RETURN(Page<User> page, catalog_->ListUsers(r.caller, paging));
      bool full = r.caller.user.is_admin;
      return PageJson(page, [full](const User& u) { return ToJson(u, full); });
    }
    if (r.Is("POST", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Fields f, Body(r));
      CAIRN_RETURN_IF_ERROR(f.Allow({"username", "is_admin"}));
      CAIRN_ASSIGN_OR_RETURN(auto username, f.String("username"));
      CAIRN_ASSIGN_OR_RETURN(auto is_admin, f.Bool("is_admin"));
      if (!username) return InvalidArgumentError("username is required");
      CAIRN_ASSIGN_OR_RETURN(
          User u, catalog_->CreateUser(
                      r.caller, {.username = *username, .is_admin = is_admin.value_or(false)}));
      return ToJson(u, true);
    }
    return NoRoute(r);
  }

  Result<Json> Tokens(const Request& r) {
    if (r.Is("POST", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Fields f, Body(r));
      CAIRN_RETURN_IF_ERROR(f.Allow({"user_uuid", "expires_at"}));
      CAIRN_ASSIGN_OR_RETURN(auto user_uuid, f.String("user_uuid"));
      CAIRN_ASSIGN_OR_RETURN(auto expires_text, f.String("expires_at"));
      std::optional<int64_t> expires_at;
      if (expires_text) {
        CAIRN_ASSIGN_OR_RETURN(expires_at, ParseTime(*expires_text));
      }
      CAIRN_ASSIGN_OR_RETURN(ApiToken t, catalog_->CreateToken(r.caller, user_uuid, expires_at));
      return ToJson(t);
    }
    if (r.Is("GET", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Paging paging, PagingOf(r));
      CAIRN_ASSIGN_OR_RETURN(Page<ApiToken> page,
                             catalog_->ListTokens(r.caller, r.Query("user_uuid"), paging));
      return PageJson(page, [](const ApiToken& t) { return ToJson(t); });
    }
    if (r.Is("DELETE", 2)) {
      CAIRN_ASSIGN_OR_RETURN(ApiToken t, catalog_->RevokeToken(r.caller, r.path[1]));
      return ToJson(t);
    }
    return NoRoute(r);
  }

  static Result<CollectionFields> CollectionFieldsOf(const Fields& f) {
    CAIRN_RETURN_IF_ERROR(f.Allow({"manifest_text", "name", "properties", "replication_desired"}));
    CollectionFields c;
    CAIRN_ASSIGN_OR_RETURN(c.manifest_text, f.String("manifest_text"));
    CAIRN_ASSIGN_OR_RETURN(c.name, f.String("name"));
    CAIRN_ASSIGN_OR_RETURN(c.properties, f.Object("properties"));
    CAIRN_ASSIGN_OR_RETURN(c.replication_desired, f.Int("replication_desired"));
    if (c.replication_desired && (*c.replication_desired < 1 || *c.replication_desired > 100)) {
      return InvalidArgumentError("replication_desired must be 1..100");
    }
    return c;
  }

  static Result<bool> Flag(const Request& r, const std::string& name) {
    std::optional<std::string> v = r.Query(name);
    if (!v || *v == "false" || *v == "0") return false;
    if (*v == "true" || *v == "1" || v->empty()) return true;
    return InvalidArgumentError(name + " must be true or false");
  }

  Result<Json> Collections(const Request& r) {
    if (r.Is("POST", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Fields f, Body(r));
      CAIRN_ASSIGN_OR_RETURN(CollectionFields fields, CollectionFieldsOf(f));
      // ?manifest=false: the reply leaves the (signed) manifest out, for writers that need only
      // the uuid and PDH of what they saved (an import of 100,000 objects: ~20 MB less to send).
      CAIRN_ASSIGN_OR_RETURN(bool with_manifest, Flag(r, "manifest"));
      if (!r.Query("manifest").has_value()) with_manifest = true;
      CAIRN_ASSIGN_OR_RETURN(Collection c, catalog_->CreateCollection(r.caller, fields));
      return ToJson(c, with_manifest);
    }
    if (r.Is("GET", 1)) {
      CollectionFilter filter;
      CAIRN_ASSIGN_OR_RETURN(filter.paging, PagingOf(r));
      filter.name = r.Query("name");
      filter.owner_uuid = r.Query("owner_uuid");
      CAIRN_ASSIGN_OR_RETURN(filter.include_trash, Flag(r, "include_trash"));
      std::string scope = r.Query("scope").value_or("all");
      if (scope == "owned") {
        filter.scope = CollectionScope::kOwned;
      } else if (scope == "shared") {
        filter.scope = CollectionScope::kShared;
      } else if (scope != "all") {
        return InvalidArgumentError("scope must be owned, shared or all");
      }
      CAIRN_ASSIGN_OR_RETURN(Page<Collection> page, catalog_->ListCollections(r.caller, filter));
      return PageJson(page, [](const Collection& c) { return ToJson(c, false); });
    }
    if (r.path.size() < 2) return NoRoute(r);
    const std::string& id = r.path[1];
    if (r.Is("GET", 2)) {
      std::optional<int64_t> version;
      if (auto v = r.Query("version")) {
        int64_t n = 0;
        auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc() || ptr != v->data() + v->size() || n < 1) {
          return InvalidArgumentError("version must be a positive integer");
        }
        version = n;
      }
      CAIRN_ASSIGN_OR_RETURN(bool include_trash, Flag(r, "include_trash"));
      CAIRN_ASSIGN_OR_RETURN(Collection c,
                             catalog_->GetCollection(r.caller, id, version, include_trash));
      return ToJson(c, true);
    }
    if (r.Is("PUT", 2)) {
      CAIRN_ASSIGN_OR_RETURN(Fields f, Body(r));
      CAIRN_ASSIGN_OR_RETURN(CollectionFields fields, CollectionFieldsOf(f));
      CAIRN_ASSIGN_OR_RETURN(Collection c, catalog_->UpdateCollection(r.caller, id, fields));
      return ToJson(c, true);
    }
    if (r.Is("DELETE", 2)) {
      CAIRN_ASSIGN_OR_RETURN(Collection c, catalog_->TrashCollection(r.caller, id));
      return ToJson(c, false);
    }
    if (r.Is("GET", 3) && r.path[2] == "versions") {
      CAIRN_ASSIGN_OR_RETURN(std::vector<CollectionVersion> versions,
                             catalog_->ListVersions(r.caller, id));
      Json items = Json::array();
      for (const CollectionVersion& v : versions) items.push_back(ToJson(v));
      int64_t n = static_cast<int64_t>(versions.size());
      return Json{{"items", std::move(items)}, {"items_available", n}};
    }
    if (r.Is("POST", 3) && r.path[2] == "untrash") {
      CAIRN_ASSIGN_OR_RETURN(Collection c, catalog_->UntrashCollection(r.caller, id));
      return ToJson(c, false);
    }
    return NoRoute(r);
  }

  Result<Json> Permissions(const Request& r) {
    if (r.Is("POST", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Fields f, Body(r));
      CAIRN_RETURN_IF_ERROR(f.Allow({"target_uuid", "user", "level"}));
      CAIRN_ASSIGN_OR_RETURN(auto target, f.String("target_uuid"));
      CAIRN_ASSIGN_OR_RETURN(auto user, f.String("user"));
      CAIRN_ASSIGN_OR_RETURN(auto level_name, f.String("level"));
      if (!target || !user || !level_name) {
        return InvalidArgumentError("target_uuid, user and level are required");
      }
      CAIRN_ASSIGN_OR_RETURN(AccessLevel level, ParseAccessLevel(*level_name));
      CAIRN_ASSIGN_OR_RETURN(Permission p, catalog_->Grant(r.caller, *target, *user, level));
      return ToJson(p);
    }
    if (r.Is("GET", 1)) {
      std::optional<std::string> target = r.Query("target_uuid");
      if (!target) return InvalidArgumentError("target_uuid is required");
      CAIRN_ASSIGN_OR_RETURN(Paging paging, PagingOf(r));
      CAIRN_ASSIGN_OR_RETURN(Page<Permission> page,
                             catalog_->ListPermissions(r.caller, *target, paging));
      return PageJson(page, [](const Permission& p) { return ToJson(p); });
    }
    if (r.Is("DELETE", 2)) {
      CAIRN_ASSIGN_OR_RETURN(Permission p, catalog_->RevokePermission(r.caller, r.path[1]));
      return ToJson(p);
    }
    return NoRoute(r);
  }

  Result<Json> KeepServices(const Request& r) {
    if (r.Is("GET", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Paging paging, PagingOf(r));
      CAIRN_ASSIGN_OR_RETURN(Page<KeepService> page, catalog_->ListKeepServices(r.caller, paging));
      return PageJson(page, [](const KeepService& s) { return ToJson(s); });
    }
    if (r.Is("POST", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Fields f, Body(r));
      CAIRN_RETURN_IF_ERROR(f.Allow(
          {"service_host", "service_port", "service_type", "service_ssl_flag", "read_only"}));
      KeepService s;
      CAIRN_ASSIGN_OR_RETURN(auto host, f.String("service_host"));
      CAIRN_ASSIGN_OR_RETURN(auto port, f.Int("service_port"));
      CAIRN_ASSIGN_OR_RETURN(auto type, f.String("service_type"));
      CAIRN_ASSIGN_OR_RETURN(auto ssl, f.Bool("service_ssl_flag"));
      CAIRN_ASSIGN_OR_RETURN(auto read_only, f.Bool("read_only"));
      if (!host || !port) return InvalidArgumentError("service_host and service_port are required");
      s.service_host = *host;
      s.service_port = *port;
      s.service_type = type.value_or("disk");
      s.service_ssl_flag = ssl.value_or(false);
      s.read_only = read_only.value_or(false);
      CAIRN_ASSIGN_OR_RETURN(KeepService added, catalog_->AddKeepService(r.caller, s));
      return ToJson(added);
    }
    if (r.Is("DELETE", 2)) {
      CAIRN_ASSIGN_OR_RETURN(KeepService removed, catalog_->RemoveKeepService(r.caller, r.path[1]));
      return ToJson(removed);
    }
    return NoRoute(r);
  }

  // docs/catalog-api.md "Remotes": credentials go in, never out (except to admins on the
  // gateway's credentials route).
  Result<Json> Remotes(const Request& r) {
    if (r.Is("POST", 1)) {
      CAIRN_ASSIGN_OR_RETURN(Fields f, Body(r));
      CAIRN_RETURN_IF_ERROR(f.Allow({"name", "kind", "endpoint", "region", "buckets",
                                     "access_key_id", "secret_access_key", "session_token"}));
      NewRemote n;
      CAIRN_ASSIGN_OR_RETURN(auto name, f.String("name"));
      CAIRN_ASSIGN_OR_RETURN(auto kind, f.String("kind"));
      CAIRN_ASSIGN_OR_RETURN(auto endpoint, f.String("endpoint"));
      CAIRN_ASSIGN_OR_RETURN(auto region, f.String("region"));
      CAIRN_ASSIGN_OR_RETURN(auto key_id, f.String("access_key_id"));
      CAIRN_ASSIGN_OR_RETURN(auto secret, f.String("secret_access_key"));
      CAIRN_ASSIGN_OR_RETURN(auto session, f.String("session_token"));
      if (const Json* buckets = f.Get("buckets")) {
        if (!buckets->is_array()) return InvalidArgumentError("buckets must be a list of strings");
        for (const Json& b : *buckets) {
          if (!b.is_string()) return InvalidArgumentError("buckets must be a list of strings");
          n.buckets.push_back(b.get<std::string>());
        }
      }
      n.name = name.value_or("");
      n.kind = kind.value_or("s3");
      n.endpoint = endpoint.value_or("");
      n.region = region.value_or("");
      n.credentials = {.access_key_id = key_id.value_or(""),
                       .secret_access_key = secret.value_or(""),
                       .session_token = session.value_or("")};
      CAIRN_ASSIGN_OR_RETURN(Remote added, catalog_->AddRemote(r.caller, n));
      return ToJson(added);
    }
    if (r.Is("GET", 1)) {
      CAIRN_ASSIGN_OR_RETURN(std::vector<Remote> remotes, catalog_->ListRemotes(r.caller));
      Json items = Json::array();
      for (const Remote& remote : remotes) items.push_back(ToJson(remote));
      int64_t n = static_cast<int64_t>(remotes.size());
      return Json{{"items", std::move(items)}, {"items_available", n}};
    }
    if (r.Is("GET", 2)) {
      CAIRN_ASSIGN_OR_RETURN(Remote remote, catalog_->GetRemote(r.caller, r.path[1]));
      return ToJson(remote);
    }
    if (r.Is("DELETE", 2)) {
      CAIRN_ASSIGN_OR_RETURN(Remote removed, catalog_->RemoveRemote(r.caller, r.path[1]));
      return ToJson(removed);
    }
    if (r.Is("GET", 3) && r.path[2] == "credentials") {
      CAIRN_ASSIGN_OR_RETURN(Remote remote, catalog_->GetRemote(r.caller, r.path[1]));
      CAIRN_ASSIGN_OR_RETURN(RemoteCredentials c,
                             catalog_->RemoteCredentialsFor(r.caller, r.path[1]));
      Json j = ToJson(remote);
      j["access_key_id"] = c.access_key_id;
      j["secret_access_key"] = c.secret_access_key;
      j["session_token"] = c.session_token;
      return j;
    }
    return NoRoute(r);
  }

  Catalog* catalog_;
  ApiHandlerOptions options_;
};

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnimplemented:
      return 405;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kFailedPrecondition:
      return 422;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

std::string_view TokenFromAuthorization(std::string_view value) {
  for (std::string_view scheme : {"Bearer ", "OAuth2 "}) {
    if (value.size() > scheme.size() && value.substr(0, scheme.size()) == scheme) {
      std::string_view token = value.substr(scheme.size());
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
      return token;
    }
  }
  return {};
}

httpd::Handler MakeApiHandler(Catalog* catalog, ApiHandlerOptions options) {
  auto handler = std::make_shared<ApiHandler>(catalog, std::move(options));
  return [handler](httpd::ServerRequest& request, httpd::ResponseWriter& response) {
    handler->Handle(request, response);
  };
}

Result<CatalogService> MakeCatalogService(sql::Database* db, CatalogOptions catalog_options,
                                          ApiHandlerOptions handler_options) {
  CatalogService service;
  CAIRN_ASSIGN_OR_RETURN(service.catalog, Catalog::Open(db, std::move(catalog_options)));
  service.handler = MakeApiHandler(service.catalog.get(), std::move(handler_options));
  return service;
}

}  // namespace cairn::metadata
