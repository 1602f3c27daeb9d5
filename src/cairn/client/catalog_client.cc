#include "cairn/client/catalog_client.h"

#include <random>
#include <utility>

#include "cairn/client/json_internal.h"

namespace cairn::client {
namespace {

using internal::Json;
using internal::JsonBool;
using internal::JsonInt;
using internal::JsonString;

// Catalog replies are JSON documents; a manifest of millions of files stays under this
// (docs/catalog-api.md: bodies up to 256 MiB).
constexpr size_t kMaxReplyBytes = size_t{256} << 20;

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

User ParseUser(const Json& j) {
  return User{.uuid = JsonString(j, "uuid"),
              .username = JsonString(j, "username"),
              .is_admin = JsonBool(j, "is_admin"),
              .created_at = JsonString(j, "created_at")};
}

Collection ParseCollection(const Json& j) {
  return Collection{.uuid = JsonString(j, "uuid"),
                    .portable_data_hash = JsonString(j, "portable_data_hash"),
                    .manifest_text = JsonString(j, "manifest_text"),
                    .name = JsonString(j, "name"),
                    .owner_uuid = JsonString(j, "owner_uuid"),
                    .version = JsonInt(j, "version"),
                    .replication_desired = JsonInt(j, "replication_desired"),
                    .file_count = JsonInt(j, "file_count"),
                    .file_size_total = JsonInt(j, "file_size_total"),
                    .created_at = JsonString(j, "created_at"),
                    .modified_at = JsonString(j, "modified_at"),
                    .is_trashed = JsonBool(j, "is_trashed")};
}

Permission ParsePermission(const Json& j) {
  return Permission{.uuid = JsonString(j, "uuid"),
                    .target_uuid = JsonString(j, "target_uuid"),
                    .user_uuid = JsonString(j, "user_uuid"),
                    .level = JsonString(j, "level"),
                    .created_at = JsonString(j, "created_at")};
}

// The "items" array of a list reply (an empty array when missing).
Json Items(const Json& j) {
  if (j.is_object()) {
    auto it = j.find("items");
    if (it != j.end() && it->is_array()) return *it;
  }
  return Json::array();
}

Result<std::string> FieldsBody(const CollectionFields& fields) {
  Json body = Json::object();
  if (fields.manifest_text) body["manifest_text"] = *fields.manifest_text;
  if (fields.name) body["name"] = *fields.name;
  if (fields.replication_desired) body["replication_desired"] = *fields.replication_desired;
  if (fields.properties_json) {
    CAIRN_ASSIGN_OR_RETURN(Json properties,
                           internal::ParseJson(*fields.properties_json, "collection properties"));
    if (!properties.is_object()) return InvalidArgumentError("properties must be a JSON object");
    body["properties"] = std::move(properties);
  }
  return internal::DumpJson(body);
}

}  // namespace

std::string KeepService::BaseUrl() const {
  std::string url = ssl ? "https://" : "http://";
  if (host.find(':') != std::string::npos && !host.starts_with("[")) {
    url += "[" + host + "]";
  } else {
    url += host;
  }
  return url + ":" + std::to_string(port);
}

Result<std::string> ApiBaseUrl(std::string_view api_host) {
  while (api_host.ends_with('/')) api_host.remove_suffix(1);
  if (api_host.empty()) return InvalidArgumentError("the API host is empty");
  std::string_view rest = api_host;
  std::string scheme;
  if (rest.starts_with("http://")) {
    scheme = "http://";
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    scheme = "https://";
    rest.remove_prefix(8);
  }
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return InvalidArgumentError("API host \"" + std::string(api_host) +
                                "\" must be host:port or http(s)://host:port");
  }
  if (scheme.empty()) {
    std::string_view host = rest;
    if (host.starts_with("[")) {
      host = host.substr(0, host.find(']') + 1);
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
      host = host.substr(0, host.find(':'));
    }
    scheme = IsLoopbackHost(host) ? "http://" : "https://";
  }
  return scheme + std::string(rest);
}

CatalogClient::CatalogClient(http::HttpClient* http, io::Env* env, CatalogClientOptions options)
    : http_(http),
      env_(env),
      options_(std::move(options)),
      retry_policy_(options_.retry),
      random_(std::make_unique<objstore::SeededRandom>(std::random_device{}())) {}

Result<std::string> CatalogClient::Call(std::string_view method, std::string_view path,
                                        std::string body, std::string_view what) {
  http::HttpRequest request;
  request.method = std::string(method);
  request.url = options_.base_url + std::string(path);
  request.headers.emplace_back("Authorization", "Bearer " + options_.token);
  request.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = http::RequestBody::FromBytes(body);
  }
  request.timeout = options_.timeout;
  const bool idempotent = method == "GET" || method == "DELETE";
  std::string reply;
  auto attempt = [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response,
                           http_->Send(request, http::ResponseBody::Collect(kMaxReplyBytes)));
    if (response.status_code >= 200 && response.status_code < 300) {
      reply = std::move(response.body);
      return Status();
    }
    Status status = http::HttpStatusToStatus(response.status_code, what);
    // The server's own words, when it sent {"errors": [...]}.
    Json doc = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    std::string message;
    if (doc.is_object()) {
      auto it = doc.find("errors");
      if (it != doc.end() && it->is_array()) {
        for (const Json& e : *it) {
          if (!e.is_string()) continue;
          if (!message.empty()) message += "; ";
          message += e.get<std::string>();
        }
      }
    }
    if (message.empty()) return status;
    return Status(status.code(), std::string(what) + ": " + message, status.detail());
  };
  if (!idempotent) {
    CAIRN_RETURN_IF_ERROR(attempt());
  } else {
    CAIRN_RETURN_IF_ERROR(
        objstore::RunWithRetries(retry_policy_, env_, random_.get(), attempt, what));
  }
  return reply;
}

Result<ClusterConfig> CatalogClient::GetConfig() {
  CAIRN_ASSIGN_OR_RETURN(std::string reply, Call("GET", "/v1/config", "", "get cluster config"));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, "get cluster config"));
  return ClusterConfig{.cluster_id = JsonString(j, "cluster_id"),
                       .blob_signature_ttl = JsonInt(j, "blob_signature_ttl"),
                       .max_block_size = static_cast<uint64_t>(JsonInt(j, "max_block_size")),
                       .version = JsonString(j, "version")};
}

Result<User> CatalogClient::CurrentUser() {
  CAIRN_ASSIGN_OR_RETURN(std::string reply,
                         Call("GET", "/v1/users/current", "", "get current user"));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, "get current user"));
  return ParseUser(j);
}

Result<std::vector<User>> CatalogClient::ListUsers() {
  CAIRN_ASSIGN_OR_RETURN(std::string reply, Call("GET", "/v1/users?limit=1000", "", "list users"));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, "list users"));
  std::vector<User> users;
  for (const Json& item : Items(j)) users.push_back(ParseUser(item));
  return users;
}

Result<std::vector<KeepService>> CatalogClient::ListKeepServices() {
  CAIRN_ASSIGN_OR_RETURN(std::string reply,
                         Call("GET", "/v1/keep_services", "", "list keep services"));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, "list keep services"));
  std::vector<KeepService> services;
  for (const Json& item : Items(j)) {
    services.push_back(KeepService{.uuid = JsonString(item, "uuid"),
                                   .host = JsonString(item, "service_host"),
                                   .port = static_cast<int>(JsonInt(item, "service_port")),
                                   .ssl = JsonBool(item, "service_ssl_flag"),
                                   .type = JsonString(item, "service_type", "disk"),
                                   .read_only = JsonBool(item, "read_only")});
  }
  return services;
}

Result<Collection> CatalogClient::CreateCollection(const CollectionFields& fields) {
  CAIRN_ASSIGN_OR_RETURN(std::string body, FieldsBody(fields));
  CAIRN_ASSIGN_OR_RETURN(std::string reply,
                         Call("POST", "/v1/collections", std::move(body), "create collection"));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, "create collection"));
  return ParseCollection(j);
}

Result<Collection> CatalogClient::GetCollection(std::string_view id) {
  const std::string what = "get collection " + std::string(id);
  CAIRN_ASSIGN_OR_RETURN(std::string reply,
                         Call("GET", "/v1/collections/" + internal::PercentEncode(id), "", what));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, what));
  return ParseCollection(j);
}

Result<Collection> CatalogClient::UpdateCollection(std::string_view uuid,
                                                   const CollectionFields& fields) {
  const std::string what = "update collection " + std::string(uuid);
  CAIRN_ASSIGN_OR_RETURN(std::string body, FieldsBody(fields));
  CAIRN_ASSIGN_OR_RETURN(
      std::string reply,
      Call("PUT", "/v1/collections/" + internal::PercentEncode(uuid), std::move(body), what));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, what));
  return ParseCollection(j);
}

Result<CollectionList> CatalogClient::ListCollections(const CollectionListOptions& options) {
  std::string path = "/v1/collections?limit=" + std::to_string(options.limit) +
                     "&offset=" + std::to_string(options.offset);
  if (!options.name.empty()) path += "&name=" + internal::PercentEncode(options.name);
  if (!options.scope.empty()) path += "&scope=" + internal::PercentEncode(options.scope);
  CAIRN_ASSIGN_OR_RETURN(std::string reply, Call("GET", path, "", "list collections"));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, "list collections"));
  CollectionList list;
  for (const Json& item : Items(j)) list.items.push_back(ParseCollection(item));
  list.items_available = JsonInt(j, "items_available", static_cast<int64_t>(list.items.size()));
  return list;
}

Status CatalogClient::DeleteCollection(std::string_view uuid) {
  return Call("DELETE", "/v1/collections/" + internal::PercentEncode(uuid), "",
              "delete collection " + std::string(uuid))
      .status();
}

Result<std::vector<CollectionVersion>> CatalogClient::ListVersions(std::string_view uuid) {
  const std::string what = "list versions of " + std::string(uuid);
  CAIRN_ASSIGN_OR_RETURN(
      std::string reply,
      Call("GET", "/v1/collections/" + internal::PercentEncode(uuid) + "/versions", "", what));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, what));
  std::vector<CollectionVersion> versions;
  for (const Json& item : Items(j)) {
    versions.push_back(
        CollectionVersion{.version = JsonInt(item, "version"),
                          .portable_data_hash = JsonString(item, "portable_data_hash"),
                          .modified_at = JsonString(item, "modified_at"),
                          .modified_by_user_uuid = JsonString(item, "modified_by_user_uuid"),
                          .name = JsonString(item, "name")});
  }
  return versions;
}

Result<Permission> CatalogClient::CreatePermission(std::string_view target_uuid,
                                                   std::string_view user, std::string_view level) {
  const std::string what = "share " + std::string(target_uuid) + " with " + std::string(user);
  Json body = {{"target_uuid", target_uuid}, {"user", user}, {"level", level}};
  CAIRN_ASSIGN_OR_RETURN(std::string text, internal::DumpJson(body));
  CAIRN_ASSIGN_OR_RETURN(std::string reply, Call("POST", "/v1/permissions", std::move(text), what));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, what));
  return ParsePermission(j);
}

Result<std::vector<Permission>> CatalogClient::ListPermissions(std::string_view target_uuid) {
  const std::string what = "list permissions on " + std::string(target_uuid);
  CAIRN_ASSIGN_OR_RETURN(
      std::string reply,
      Call("GET", "/v1/permissions?target_uuid=" + internal::PercentEncode(target_uuid), "", what));
  CAIRN_ASSIGN_OR_RETURN(Json j, internal::ParseJson(reply, what));
  std::vector<Permission> permissions;
  for (const Json& item : Items(j)) permissions.push_back(ParsePermission(item));
  return permissions;
}

}  // namespace cairn::client
