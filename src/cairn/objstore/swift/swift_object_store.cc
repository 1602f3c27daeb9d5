#include "cairn/objstore/swift/swift_object_store.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "cairn/objstore/swift/object_store_internal.h"

namespace cairn::objstore::swift {

namespace internal {

std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

std::string SwiftUri(std::string_view container, std::string_view key) {
  std::string uri = "swift://" + std::string(container);
  if (!key.empty()) uri += "/" + std::string(key);
  return uri;
}

ObjectAttributes AttributesFromHeaders(const http::HttpHeaders& headers) {
  ObjectAttributes a;
  if (auto v = headers.Get("Content-Length")) {
    a.size = std::strtoull(std::string(*v).c_str(), nullptr, 10);
  }
  if (auto v = headers.Get("Content-Range")) {  // "bytes 0-99/1234"
    size_t slash = v->rfind('/');
    if (slash != std::string_view::npos && v->substr(slash + 1) != "*") {
      a.size = std::strtoull(std::string(v->substr(slash + 1)).c_str(), nullptr, 10);
    }
  }
  if (auto v = headers.Get("Etag")) a.etag = Unquote(*v);
  if (auto v = headers.Get("Content-Type")) a.content_type = std::string(*v);
  if (auto v = headers.Get("X-Timestamp")) {
    a.last_modified = std::strtoll(std::string(*v).c_str(), nullptr, 10);
  } else if (auto lm = headers.Get("Last-Modified")) {
    std::tm tm{};
    if (strptime(std::string(*lm).c_str(), "%a, %d %b %Y %H:%M:%S", &tm) != nullptr) {
      a.last_modified = timegm(&tm);
    }
  }
  if (auto v = headers.Get("X-Static-Large-Object")) {
    a.composite = *v == "True" || *v == "true" || *v == "1";
  }
  if (auto v = headers.Get("X-Object-Version-Id")) a.version_id = std::string(*v);
  constexpr std::string_view kMeta = "x-object-meta-";
  for (const auto& [name, value] : headers.entries()) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.starts_with(kMeta)) a.metadata[lower.substr(kMeta.size())] = value;
  }
  return a;
}

void AddWriteHeaders(const WriteOptions& options,
                     std::vector<std::pair<std::string, std::string>>* headers) {
  if (!options.content_type.empty()) headers->emplace_back("Content-Type", options.content_type);
  for (const auto& [name, value] : options.metadata) {
    headers->emplace_back("X-Object-Meta-" + name, value);
  }
}

}  // namespace internal

namespace {

using json = nlohmann::json;
using internal::SwiftUri;

ErrorDetail HttpDetail(int code) {
  ErrorDetail detail;
  detail.http_status = code;
  return detail;
}

int64_t ParseListingTime(const json& item) {
  if (!item.contains("last_modified") || !item["last_modified"].is_string()) return 0;
  Result<int64_t> t = ParseIsoTime(item["last_modified"].get<std::string>());
  return t.ok() ? *t : 0;
}

}  // namespace

SwiftObjectStore::SwiftObjectStore(SwiftClient* client, SwiftObjectStoreOptions options)
    : client_(client), options_(options) {}

std::string SwiftObjectStore::Uri(std::string_view container, std::string_view key) const {
  return SwiftUri(container, key);
}

StoreLimits SwiftObjectStore::limits() const {
  SwiftInfo info = client_->Info();
  StoreLimits limits;
  limits.max_single_put = info.max_file_size;
  limits.min_part_size = options_.min_part_size.value_or(info.slo_min_segment_size);
  limits.max_parts = info.slo_max_manifest_segments;
  limits.bulk_delete = info.bulk_delete;
  limits.max_delete_batch = info.bulk_delete ? info.bulk_delete_max : 1;
  return limits;
}

Status SwiftObjectStore::CreateContainer(std::string_view container) {
  if (container.empty()) return InvalidArgumentError("make container: empty name");
  return client_
      ->Execute({.method = "PUT",
                 .container = container,
                 .what = "make container " + SwiftUri(container, "")})
      .status();
}

Status SwiftObjectStore::DeleteContainer(std::string_view container) {
  Status status = client_
                      ->Execute({.method = "DELETE",
                                 .container = container,
                                 .what = "remove container " + SwiftUri(container, "")})
                      .status();
  if (status.detail().http_status == 409) {  // Swift: the container is not empty
    return Status(StatusCode::kFailedPrecondition, std::string(status.message()) + ": not empty",
                  status.detail());
  }
  return status;
}

Result<std::vector<std::string>> SwiftObjectStore::ListContainers() {
  std::vector<std::string> names;
  std::string marker;
  while (true) {
    SwiftClient::Call call{.method = "GET", .what = "list containers"};
    call.query = {{"format", "json"}};
    if (!marker.empty()) call.query.emplace_back("marker", marker);
    CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply, client_->Execute(call));
    if (reply.status_code == 204 || reply.body.empty()) break;
    json doc = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_array()) {
      return InvalidArgumentError("list containers: the reply is not a JSON list");
    }
    if (doc.empty()) break;
    for (const json& item : doc) {
      if (item.is_object() && item.contains("name") && item["name"].is_string()) {
        names.push_back(item["name"].get<std::string>());
      }
    }
    if (names.empty() || names.back() == marker) break;
    marker = names.back();
  }
  return names;
}

Result<ObjectAttributes> SwiftObjectStore::Head(std::string_view container, std::string_view key) {
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply,
                         client_->Execute({.method = "HEAD",
                                           .container = container,
                                           .object = key,
                                           .what = "stat " + SwiftUri(container, key)}));
  return internal::AttributesFromHeaders(reply.headers);
}

Result<ObjectAttributes> SwiftObjectStore::Get(std::string_view container, std::string_view key,
                                               const ReadOptions& options,
                                               const http::BodySink& sink) {
  SwiftClient::Call call{.method = "GET",
                         .container = container,
                         .object = key,
                         .sink = &sink,
                         .what = "get " + SwiftUri(container, key)};
  // The pin is checked here, on the reply's headers before any byte reaches the sink, rather
  // than sent as If-Match: RGW compares If-Match with a large object's manifest ETag, not the
  // ETag its HEAD and GET show.
  if (!options.version_id.empty()) {
    return InvalidArgumentError(call.what + ": Swift reads have no version ids; pin the ETag");
  }
  std::optional<uint64_t> first;
  if (options.range) {
    if (options.range->length == 0) return InvalidArgumentError(call.what + ": empty range");
    first = options.range->offset;
    uint64_t last = *first + options.range->length - 1;
    call.headers.emplace_back("Range",
                              "bytes=" + std::to_string(*first) + "-" + std::to_string(last));
  }
  call.on_headers = [first, pin = options.if_match](const http::HttpResponse& response) -> Status {
    if (response.status_code < 200 || response.status_code >= 300) return Status();
    if (!pin.empty()) {
      std::optional<std::string_view> etag = response.headers.Get("Etag");
      std::string got = etag ? internal::Unquote(*etag) : "";
      if (got != pin) {
        return FailedPreconditionError("the object changed: its ETag is " + got + ", pinned " +
                                       pin);
      }
    }
    if (!first) return Status();
    // A server that ignores Range answers 200 with the whole object: refuse it before a byte of
    // the wrong range reaches the sink.
    std::optional<std::string_view> content_range = response.headers.Get("Content-Range");
    std::string want = "bytes " + std::to_string(*first) + "-";
    if (response.status_code != 206 || !content_range || !content_range->starts_with(want)) {
      return DataLossError("asked for bytes from " + std::to_string(*first) + ", got HTTP " +
                           std::to_string(response.status_code));
    }
    return Status();
  };
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply, client_->Execute(call));
  ObjectAttributes attributes = internal::AttributesFromHeaders(reply.headers);
  uint64_t expected = attributes.size;
  if (options.range) {
    uint64_t available =
        attributes.size > options.range->offset ? attributes.size - options.range->offset : 0;
    expected = std::min(options.range->length, available);
  }
  if (reply.body_bytes != expected) {
    return DataLossError(call.what + ": received " + std::to_string(reply.body_bytes) +
                         " bytes, expected " + std::to_string(expected));
  }
  return attributes;
}

Result<WriteResult> SwiftObjectStore::Put(std::string_view container, std::string_view key,
                                          const http::RequestBody& body,
                                          const WriteOptions& options) {
  SwiftClient::Call call{.method = "PUT",
                         .container = container,
                         .object = key,
                         .body = &body,
                         .what = "put " + SwiftUri(container, key)};
  if (key.empty()) return InvalidArgumentError(call.what + ": empty key");
  std::string md5_hex = options.content_md5 ? HexEncode(*options.content_md5) : "";
  if (!md5_hex.empty()) call.headers.emplace_back("ETag", md5_hex);  // Swift checks it: 422
  internal::AddWriteHeaders(options, &call.headers);
  Result<http::HttpResponse> reply = client_->Execute(call);
  if (!reply.ok()) {
    if (reply.status().detail().http_status == 422) {
      return Status(StatusCode::kDataLoss,
                    std::string(reply.status().message()) + ": the body's MD5 is not " + md5_hex,
                    reply.status().detail());
    }
    return reply.status();
  }
  WriteResult result;
  if (auto v = reply->headers.Get("Etag")) result.etag = internal::Unquote(*v);
  if (!md5_hex.empty() && result.etag != md5_hex) {
    return DataLossError(call.what + ": the server's ETag " + result.etag +
                         " is not the MD5 of what was sent (" + md5_hex + ")");
  }
  return result;
}

Status SwiftObjectStore::Delete(std::string_view container, std::string_view key) {
  const std::string what = "delete " + SwiftUri(container, key);
  // A large object goes with its segments; Swift deletes a plain object the same way.
  SwiftClient::Call call{.method = "DELETE",
                         .container = container,
                         .object = key,
                         .query = {{"multipart-manifest", "delete"}},
                         .headers = {{"Accept", "application/json"}},
                         .what = what};
  Result<http::HttpResponse> reply = client_->Execute(call);
  bool plain = false;  // not a large object: delete it the plain way
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kNotFound) return Status();
    if (reply.status().detail().http_status != 400) return reply.status();
    plain = true;
  } else if (reply->status_code == 200 && !reply->body.empty()) {
    // An SLO delete answers 200 with a bulk-delete report; "400 Bad Request" in it (Swift: "Not
    // an SLO manifest"; RGW also for a missing object) means a plain object, or none.
    json doc = json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object()) {
      std::string response_status = doc.value("Response Status", "200 OK");
      bool errors = doc.contains("Errors") && doc["Errors"].is_array() && !doc["Errors"].empty();
      if (response_status.starts_with("400")) {
        plain = true;
      } else if (errors ||
                 !(response_status.starts_with("2") || response_status.starts_with("404"))) {
        return UnavailableError(what + ": " + response_status +
                                (errors ? ", " + doc["Errors"].dump() : ""));
      }
    }
  }
  if (!plain) return Status();
  call.query.clear();
  reply = client_->Execute(call);
  if (!reply.ok() && reply.status().code() == StatusCode::kNotFound) return Status();
  return reply.status();
}

Result<std::vector<DeleteFailure>> SwiftObjectStore::DeleteEach(std::string_view container,
                                                                std::span<const std::string> keys) {
  std::vector<DeleteFailure> failures;
  for (const std::string& key : keys) {
    Status status = Delete(container, key);
    if (status.code() == StatusCode::kPermissionDenied) {
      failures.push_back({key, status});
    } else if (!status.ok()) {
      return status;
    }
  }
  return failures;
}

Result<std::vector<DeleteFailure>> SwiftObjectStore::BulkDelete(std::string_view container,
                                                                std::span<const std::string> keys) {
  const std::string what =
      "delete " + std::to_string(keys.size()) + " objects in " + SwiftUri(container, "");
  std::map<std::string, std::string> by_path;  // "/container/key" as sent → key
  std::string body;
  for (const std::string& key : keys) {
    std::string path =
        "/" + EncodePath(container, Slash::kEncode) + "/" + EncodePath(key, Slash::kKeep);
    body += path + "\n";
    by_path["/" + std::string(container) + "/" + key] = key;
    by_path[path] = key;
  }
  http::RequestBody request_body = http::RequestBody::FromBytes(body);
  SwiftClient::Call call{
      .method = "POST",
      .query = {{"bulk-delete", ""}},
      .headers = {{"Content-Type", "text/plain"}, {"Accept", "application/json"}},
      .body = &request_body,
      .what = what};
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply, client_->Execute(call));
  // Swift answers 200 whatever happened; the outcome is in the body.
  json doc = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgumentError(what + ": the bulk-delete reply is not a JSON object");
  }
  std::vector<DeleteFailure> failures;
  if (doc.contains("Errors") && doc["Errors"].is_array()) {
    for (const json& e : doc["Errors"]) {
      if (!e.is_array() || e.size() < 2 || !e[0].is_string() || !e[1].is_string()) continue;
      std::string path = e[0].get<std::string>();
      std::string status = e[1].get<std::string>();
      int code = std::atoi(status.c_str());
      if (code == 404) continue;
      auto it = by_path.find(path);
      std::string key = it != by_path.end() ? it->second : path;
      failures.push_back(
          {key, Status(http::HttpStatusToStatus(code, "").code(),
                       "delete " + SwiftUri(container, key) + ": " + status, HttpDetail(code))});
    }
  }
  std::string response_status = doc.value("Response Status", "200 OK");
  if (failures.empty() && !response_status.starts_with("2") &&
      !response_status.starts_with("404")) {
    int code = std::atoi(response_status.c_str());
    return Status(http::HttpStatusToStatus(code, "").code(),
                  what + ": " + response_status + " " + doc.value("Response Body", ""),
                  HttpDetail(code));
  }
  return failures;
}

Result<std::vector<DeleteFailure>> SwiftObjectStore::DeleteMany(std::string_view container,
                                                                std::span<const std::string> keys) {
  StoreLimits limits = this->limits();
  if (!limits.bulk_delete) return DeleteEach(container, keys);
  std::vector<DeleteFailure> failures;
  const size_t batch = static_cast<size_t>(std::max(limits.max_delete_batch, 1));
  for (size_t i = 0; i < keys.size(); i += batch) {
    CAIRN_ASSIGN_OR_RETURN(
        std::vector<DeleteFailure> some,
        BulkDelete(container, keys.subspan(i, std::min(batch, keys.size() - i))));
    for (DeleteFailure& f : some) failures.push_back(std::move(f));
  }
  return failures;
}

namespace {
constexpr std::string_view kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";
}  // namespace

Result<ListPage> SwiftObjectStore::List(std::string_view container, const ListOptions& options) {
  SwiftClient::Call call{.method = "GET",
                         .container = container,
                         .what = "list " + SwiftUri(container, options.prefix)};
  if (options.max_keys < 1 || options.max_keys > 10000) {
    return InvalidArgumentError(call.what + ": max_keys must be in 1..10000");
  }
  call.query = {{"format", "json"}, {"limit", std::to_string(options.max_keys)}};
  if (!options.prefix.empty()) call.query.emplace_back("prefix", options.prefix);
  if (!options.delimiter.empty()) call.query.emplace_back("delimiter", options.delimiter);
  if (!options.marker.empty()) call.query.emplace_back("marker", options.marker);
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply, client_->Execute(call));
  ListPage page;
  if (reply.status_code == 204 || reply.body.empty()) return page;
  json doc = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) {
    return InvalidArgumentError(call.what + ": the reply is not a JSON list");
  }
  std::string last;
  for (const json& item : doc) {
    if (!item.is_object()) continue;
    if (item.contains("subdir") && item["subdir"].is_string()) {
      last = item["subdir"].get<std::string>();
      // The prefix the previous page ended with comes back first: it was shown already.
      if (last != options.marker) page.common_prefixes.push_back(last);
      continue;
    }
    if (!item.contains("name") || !item["name"].is_string()) continue;
    ListedObject object;
    object.key = item["name"].get<std::string>();
    if (item.contains("bytes") && item["bytes"].is_number()) {
      object.size = item["bytes"].get<uint64_t>();
    }
    if (item.contains("hash") && item["hash"].is_string()) {
      object.etag = internal::Unquote(item["hash"].get<std::string>());
    }
    if (item.contains("slo_etag") && item["slo_etag"].is_string()) {
      object.etag = internal::Unquote(item["slo_etag"].get<std::string>());
    }
    object.last_modified = ParseListingTime(item);
    // RGW lists a static large object as its manifest: the MD5 of nothing and the manifest's
    // size. No plain object of that ETag has bytes, so HEAD it for the size and ETag a GET shows.
    if (object.etag == kEmptyMd5 && object.size > 0) {
      CAIRN_ASSIGN_OR_RETURN(ObjectAttributes head, Head(container, object.key));
      object.size = head.size;
      object.etag = head.etag;
    }
    last = object.key;
    page.objects.push_back(std::move(object));
  }
  if (doc.size() >= static_cast<size_t>(options.max_keys)) page.next_marker = last;
  return page;
}

}  // namespace cairn::objstore::swift
