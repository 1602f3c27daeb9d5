// SwiftObjectStore's static large objects: uploads in segments, manifests, copy and rename.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cairn/objstore/swift/object_store_internal.h"
#include "cairn/objstore/swift/swift_object_store.h"

namespace cairn::objstore::swift {
namespace {

using json = nlohmann::json;
using internal::SwiftUri;

// "/container/object" → {container, object}.
bool SplitPath(std::string_view path, std::string* container, std::string* object) {
  if (path.starts_with('/')) path.remove_prefix(1);
  size_t slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == path.size()) return false;
  *container = std::string(path.substr(0, slash));
  *object = std::string(path.substr(slash + 1));
  return true;
}

// The byte count of `body` once sent: known up front, or counted as the source is read.
struct CountedBody {
  http::RequestBody body;
  std::shared_ptr<uint64_t> counted;
};

CountedBody Count(const http::RequestBody& body) {
  auto counted = std::make_shared<uint64_t>(0);
  if (!body.is_stream() || body.length() != http::RequestBody::kUnknownLength) {
    *counted = static_cast<uint64_t>(std::max<int64_t>(body.length(), 0));
    return {body, counted};
  }
  http::BodySource source = [inner = body.source(), counted](std::span<char> buffer) {
    Result<size_t> n = inner(buffer);
    if (n.ok()) *counted += *n;
    return n;
  };
  http::BodyRewinder rewind = nullptr;
  if (body.rewindable()) {
    rewind = [body, counted]() {
      *counted = 0;
      return body.Rewind();
    };
  }
  return {http::RequestBody::FromSource(std::move(source), http::RequestBody::kUnknownLength,
                                        std::move(rewind)),
          counted};
}

}  // namespace

Result<std::vector<SloSegment>> ParseSloManifest(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) {
    if (body.empty()) return UnimplementedError("SLO manifest: the server sent none");
    return InvalidArgumentError("SLO manifest: not a JSON list");
  }
  std::vector<SloSegment> segments;
  for (const json& item : doc) {
    SloSegment s;
    std::string path = item.is_object() ? item.value("name", item.value("path", "")) : "";
    if (!SplitPath(path, &s.container, &s.object)) {
      return InvalidArgumentError("SLO manifest: a segment without a /container/object name");
    }
    if (item.contains("range")) {
      return UnimplementedError("SLO manifest: segments with ranges are not supported");
    }
    s.etag = internal::Unquote(item.value("hash", item.value("etag", "")));
    if (item.contains("bytes") && item["bytes"].is_number()) {
      s.size = item["bytes"].get<uint64_t>();
    } else if (item.contains("size_bytes") && item["size_bytes"].is_number()) {
      s.size = item["size_bytes"].get<uint64_t>();
    }
    segments.push_back(std::move(s));
  }
  return segments;
}

std::string BuildSloManifest(const std::vector<SloSegment>& segments) {
  json doc = json::array();
  for (const SloSegment& s : segments) {
    doc.push_back(
        {{"path", "/" + s.container + "/" + s.object}, {"etag", s.etag}, {"size_bytes", s.size}});
  }
  return doc.dump();
}

std::string SwiftObjectStore::SegmentContainer(std::string_view container) {
  return std::string(container) + "_segments";
}

std::string SwiftObjectStore::SegmentName(std::string_view key, std::string_view upload_id,
                                          int part) {
  char number[16];
  std::snprintf(number, sizeof(number), "%08d", part);
  return std::string(key) + "/" + std::string(upload_id) + "/" + number;
}

Result<std::vector<std::string>> SwiftObjectStore::ListAll(std::string_view container,
                                                           std::string_view prefix) {
  std::vector<std::string> names;
  ListOptions options{
      .prefix = std::string(prefix), .delimiter = "", .marker = "", .max_keys = 1000};
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(ListPage page, List(container, options));
    for (ListedObject& o : page.objects) names.push_back(std::move(o.key));
    if (page.next_marker.empty()) break;
    options.marker = page.next_marker;
  }
  return names;
}

Result<std::string> SwiftObjectStore::BeginUpload(std::string_view container, std::string_view key,
                                                  const WriteOptions& options) {
  const std::string what = "start upload of " + SwiftUri(container, key);
  if (key.empty()) return InvalidArgumentError(what + ": empty key");
  // The segments' container, created on first use (PUT of an existing container is a no-op).
  Status made = CreateContainer(SegmentContainer(container));
  if (!made.ok()) return made.WithContext(what);
  std::lock_guard lock(mu_);
  // Microseconds and a counter: unique per store, sorted by time as swift CLI's are.
  std::string id =
      std::to_string(client_->env()->NowUnixMicros()) + "-" + std::to_string(++upload_counter_);
  upload_options_[id] = options;
  return id;
}

Result<UploadedPart> SwiftObjectStore::PutPart(std::string_view container, std::string_view key,
                                               std::string_view upload_id, int part_number,
                                               const http::RequestBody& body,
                                               std::optional<Md5Digest> content_md5) {
  const std::string what =
      "upload part " + std::to_string(part_number) + " of " + SwiftUri(container, key);
  const int max_parts = limits().max_parts;
  if (part_number < 1 || part_number > max_parts) {
    return InvalidArgumentError(what + ": part number outside 1.." + std::to_string(max_parts));
  }
  if (upload_id.empty()) return InvalidArgumentError(what + ": no upload id");
  CountedBody counted = Count(body);
  const std::string segment_container = SegmentContainer(container);
  const std::string segment = SegmentName(key, upload_id, part_number);
  Result<WriteResult> put =
      Put(segment_container, segment, counted.body,
          WriteOptions{.content_md5 = content_md5, .content_type = "", .metadata = {}});
  if (!put.ok()) return put.status().WithContext(what);
  return UploadedPart{.part_number = part_number, .etag = put->etag, .size = *counted.counted};
}

Result<WriteResult> SwiftObjectStore::PutManifest(std::string_view container, std::string_view key,
                                                  const std::vector<SloSegment>& segments,
                                                  const WriteOptions& options,
                                                  std::string_view what) {
  std::string manifest = BuildSloManifest(segments);
  http::RequestBody body = http::RequestBody::FromBytes(manifest);
  SwiftClient::Call call{.method = "PUT",
                         .container = container,
                         .object = key,
                         .query = {{"multipart-manifest", "put"}},
                         .body = &body,
                         .what = std::string(what)};
  internal::AddWriteHeaders(options, &call.headers);
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply, client_->Execute(call));
  std::vector<UploadedPart> parts;
  for (const SloSegment& s : segments) parts.push_back({0, s.etag, s.size});
  const std::string expected = SwiftSloEtag(parts);
  std::string etag;
  if (auto v = reply.headers.Get("Etag")) etag = internal::Unquote(*v);
  if (etag != expected) {
    // Some servers answer with the manifest's own MD5: the object's HEAD has the SLO ETag.
    CAIRN_ASSIGN_OR_RETURN(ObjectAttributes attributes, Head(container, key));
    etag = attributes.etag;
    if (etag != expected) {
      return DataLossError(std::string(what) + ": the large object's ETag " + etag +
                           " is not the one its segments imply (" + expected + ")");
    }
  }
  return WriteResult{.etag = etag, .version_id = ""};
}

Result<WriteResult> SwiftObjectStore::CompleteUpload(std::string_view container,
                                                     std::string_view key,
                                                     std::string_view upload_id,
                                                     std::span<const UploadedPart> parts) {
  const std::string what = "complete upload of " + SwiftUri(container, key);
  const StoreLimits limits = this->limits();
  CAIRN_ASSIGN_OR_RETURN(std::vector<UploadedPart> sorted,
                         SortedParts(parts, limits.max_parts, what));
  std::vector<SloSegment> segments;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const UploadedPart& part = sorted[i];
    if (part.size == 0 || (i + 1 < sorted.size() && part.size < limits.min_part_size)) {
      return InvalidArgumentError(what + ": part " + std::to_string(part.part_number) + " has " +
                                  std::to_string(part.size) + " bytes, below the " +
                                  std::to_string(limits.min_part_size) + " a segment needs");
    }
    segments.push_back({SegmentContainer(container), SegmentName(key, upload_id, part.part_number),
                        part.etag, part.size});
  }
  WriteOptions options;
  {
    std::lock_guard lock(mu_);
    auto it = upload_options_.find(upload_id);
    if (it != upload_options_.end()) options = it->second;
  }
  CAIRN_ASSIGN_OR_RETURN(WriteResult result, PutManifest(container, key, segments, options, what));
  std::lock_guard lock(mu_);
  upload_options_.erase(std::string(upload_id));
  return result;
}

Status SwiftObjectStore::AbortUpload(std::string_view container, std::string_view key,
                                     std::string_view upload_id) {
  const std::string what = "abort upload of " + SwiftUri(container, key);
  {
    std::lock_guard lock(mu_);
    upload_options_.erase(std::string(upload_id));
  }
  if (upload_id.empty() || key.empty()) return InvalidArgumentError(what + ": no upload id");
  const std::string segment_container = SegmentContainer(container);
  Result<std::vector<std::string>> names =
      ListAll(segment_container, std::string(key) + "/" + std::string(upload_id) + "/");
  if (!names.ok()) {
    if (names.status().code() == StatusCode::kNotFound) return Status();  // nothing was written
    return names.status().WithContext(what);
  }
  if (names->empty()) return Status();
  Result<std::vector<DeleteFailure>> failures = DeleteMany(segment_container, *names);
  if (!failures.ok()) return failures.status().WithContext(what);
  if (!failures->empty()) return failures->front().status.WithContext(what);
  return Status();
}

Result<std::vector<SloSegment>> SwiftObjectStore::GetManifest(std::string_view container,
                                                              std::string_view key) {
  SwiftClient::Call call{.method = "GET",
                         .container = container,
                         .object = key,
                         .query = {{"multipart-manifest", "get"}},
                         .what = "read the manifest of " + SwiftUri(container, key)};
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply, client_->Execute(call));
  Result<std::vector<SloSegment>> segments = ParseSloManifest(reply.body);
  if (!segments.ok()) return segments.status().WithContext(call.what);
  return segments;
}

Result<WriteResult> SwiftObjectStore::CopyLargeObject(std::string_view source_container,
                                                      std::string_view source_key,
                                                      std::string_view container,
                                                      std::string_view key,
                                                      const ObjectAttributes& source) {
  const std::string what =
      "copy " + SwiftUri(source_container, source_key) + " to " + SwiftUri(container, key);
  Result<std::vector<SloSegment>> manifest = GetManifest(source_container, source_key);
  if (!manifest.ok() || manifest->empty()) {
    // Ceph RGW 16 answers ?multipart-manifest=get with an empty body, and its server-side copy
    // of an SLO shares the segments. Copy through this client instead, a chunk at a time, into
    // a large object of our own.
    if (manifest.ok() || manifest.status().code() == StatusCode::kUnimplemented) {
      return CopyThroughClient(source_container, source_key, container, key, source);
    }
    return manifest.status();
  }
  const std::vector<SloSegment>& segments = *manifest;
  WriteOptions options{.content_md5 = std::nullopt,
                       .content_type = source.content_type,
                       .metadata = source.metadata};
  CAIRN_ASSIGN_OR_RETURN(std::string upload_id, BeginUpload(container, key, options));
  std::vector<SloSegment> copies;
  Status status;
  for (size_t i = 0; i < segments.size() && status.ok(); ++i) {
    SloSegment copy{SegmentContainer(container),
                    SegmentName(key, upload_id, static_cast<int>(i) + 1), segments[i].etag,
                    segments[i].size};
    SwiftClient::Call call{.method = "PUT",
                           .container = copy.container,
                           .object = copy.object,
                           .what = what + ": segment " + std::to_string(i + 1)};
    call.headers.emplace_back("X-Copy-From",
                              "/" + EncodePath(segments[i].container, Slash::kEncode) + "/" +
                                  EncodePath(segments[i].object, Slash::kKeep));
    http::RequestBody empty = http::RequestBody::FromBytes("");
    call.body = &empty;
    Result<http::HttpResponse> reply = client_->Execute(call);
    status = reply.status();
    copies.push_back(std::move(copy));
  }
  Result<WriteResult> result = status.ok() ? PutManifest(container, key, copies, options, what)
                                           : Result<WriteResult>(status);
  if (!result.ok()) AbortUpload(container, key, upload_id).IgnoreError();
  std::lock_guard lock(mu_);
  upload_options_.erase(upload_id);
  return result;
}

Result<WriteResult> SwiftObjectStore::CopyThroughClient(std::string_view source_container,
                                                        std::string_view source_key,
                                                        std::string_view container,
                                                        std::string_view key,
                                                        const ObjectAttributes& source) {
  // 64 MiB in memory at a time: the Keep block size, and well above any min_segment_size.
  const uint64_t chunk = std::max<uint64_t>(64 << 20, limits().min_part_size);
  WriteOptions options{.content_md5 = std::nullopt,
                       .content_type = source.content_type,
                       .metadata = source.metadata};
  CAIRN_ASSIGN_OR_RETURN(std::string upload_id, BeginUpload(container, key, options));
  std::vector<UploadedPart> parts;
  Status status;
  std::string buffer;
  for (uint64_t offset = 0; offset < source.size && status.ok(); offset += chunk) {
    buffer.clear();
    ReadOptions read{.range = ObjectRange{offset, std::min(chunk, source.size - offset)},
                     .if_match = source.etag,
                     .version_id = ""};
    Result<ObjectAttributes> got = Get(source_container, source_key, read, [&](std::string_view p) {
      buffer.append(p);
      return Status();
    });
    status = got.status();
    if (!status.ok()) break;
    Result<UploadedPart> part =
        PutPart(container, key, upload_id, static_cast<int>(parts.size()) + 1,
                http::RequestBody::FromBytes(buffer), Md5Of(buffer));
    status = part.status();
    if (part.ok()) parts.push_back(*part);
  }
  if (status.ok() && parts.empty()) {  // an empty source: an empty plain object
    AbortUpload(container, key, upload_id).IgnoreError();
    return Put(container, key, http::RequestBody::FromBytes(""), options);
  }
  if (status.ok()) {
    Result<WriteResult> done = CompleteUpload(container, key, upload_id, parts);
    if (done.ok()) return done;
    status = done.status();
  }
  AbortUpload(container, key, upload_id).IgnoreError();
  return status;
}

Result<WriteResult> SwiftObjectStore::Copy(std::string_view source_container,
                                           std::string_view source_key, std::string_view container,
                                           std::string_view key) {
  const std::string what =
      "copy " + SwiftUri(source_container, source_key) + " to " + SwiftUri(container, key);
  Result<ObjectAttributes> source = Head(source_container, source_key);
  if (!source.ok()) return source.status().WithContext(what);
  if (source->composite) {
    return CopyLargeObject(source_container, source_key, container, key, *source);
  }
  http::RequestBody empty = http::RequestBody::FromBytes("");
  SwiftClient::Call call{
      .method = "PUT", .container = container, .object = key, .body = &empty, .what = what};
  call.headers.emplace_back("X-Copy-From", "/" + EncodePath(source_container, Slash::kEncode) +
                                               "/" + EncodePath(source_key, Slash::kKeep));
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse reply, client_->Execute(call));
  WriteResult result;
  if (auto v = reply.headers.Get("Etag")) result.etag = internal::Unquote(*v);
  if (!source->etag.empty() && !result.etag.empty() && result.etag != source->etag) {
    return DataLossError(what + ": the copy's ETag " + result.etag + " is not the source's " +
                         source->etag);
  }
  return result;
}

Result<WriteResult> SwiftObjectStore::Rename(std::string_view source_container,
                                             std::string_view source_key,
                                             std::string_view container, std::string_view key) {
  const std::string what =
      "rename " + SwiftUri(source_container, source_key) + " to " + SwiftUri(container, key);
  if (source_container == container && source_key == key) {
    return InvalidArgumentError(what + ": same name");
  }
  Result<ObjectAttributes> source = Head(source_container, source_key);
  if (!source.ok()) return source.status().WithContext(what);
  if (!source->composite) {
    CAIRN_ASSIGN_OR_RETURN(WriteResult result, Copy(source_container, source_key, container, key));
    CAIRN_RETURN_IF_ERROR(Delete(source_container, source_key));
    return result;
  }
  // Copy the manifest only: the new name refers to the same segments.
  http::RequestBody empty = http::RequestBody::FromBytes("");
  SwiftClient::Call call{.method = "PUT",
                         .container = container,
                         .object = key,
                         .query = {{"multipart-manifest", "get"}},
                         .body = &empty,
                         .what = what};
  call.headers.emplace_back("X-Copy-From", "/" + EncodePath(source_container, Slash::kEncode) +
                                               "/" + EncodePath(source_key, Slash::kKeep));
  CAIRN_RETURN_IF_ERROR(client_->Execute(call).status());
  CAIRN_ASSIGN_OR_RETURN(ObjectAttributes copied, Head(container, key));
  if (copied.size != source->size) {
    // The server stored the manifest's text instead of a manifest: copy the segments instead.
    CAIRN_ASSIGN_OR_RETURN(WriteResult result,
                           CopyLargeObject(source_container, source_key, container, key, *source));
    CAIRN_RETURN_IF_ERROR(Delete(source_container, source_key));
    return result;
  }
  if (copied.composite) {
    // The segments now belong to the new name: delete the old manifest alone.
    Status deleted = client_
                         ->Execute({.method = "DELETE",
                                    .container = source_container,
                                    .object = source_key,
                                    .what = what + ": delete the old manifest"})
                         .status();
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
  } else {
    // A full copy of the data: the source goes with its segments.
    CAIRN_RETURN_IF_ERROR(Delete(source_container, source_key));
  }
  return WriteResult{.etag = copied.etag, .version_id = copied.version_id};
}

}  // namespace cairn::objstore::swift
