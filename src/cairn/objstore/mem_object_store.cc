#include "cairn/objstore/mem_object_store.h"

#include <algorithm>

namespace cairn::objstore {

Result<std::string> ReadWholeBody(const http::RequestBody& body) {
  if (body.empty()) return std::string();
  if (body.is_bytes()) return std::string(body.bytes());
  std::string out;
  char buffer[64 * 1024];
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, body.source()(std::span<char>(buffer, sizeof(buffer))));
    if (n == 0) break;
    out.append(buffer, n);
  }
  if (body.length() != http::RequestBody::kUnknownLength &&
      out.size() != static_cast<uint64_t>(body.length())) {
    return FailedPreconditionError("the body source ended after " + std::to_string(out.size()) +
                                   " of " + std::to_string(body.length()) + " bytes");
  }
  return out;
}

MemObjectStore::MemObjectStore(StoreLimits limits, io::Env* clock)
    : limits_(limits), clock_(clock) {}

int64_t MemObjectStore::Now() const { return clock_ != nullptr ? clock_->NowUnixSeconds() : 0; }

std::string MemObjectStore::Uri(std::string_view container, std::string_view key) const {
  return "mem://" + std::string(container) + (key.empty() ? "" : "/" + std::string(key));
}

Status MemObjectStore::CreateContainer(std::string_view container) {
  if (container.empty()) return InvalidArgumentError("make container: empty name");
  std::lock_guard lock(mu_);
  containers_.try_emplace(std::string(container));
  return Status();
}

Status MemObjectStore::DeleteContainer(std::string_view container) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(container);
  if (it == containers_.end())
    return NotFoundError("remove " + Uri(container, "") + ": no such container");
  if (!it->second.empty()) {
    return FailedPreconditionError("remove " + Uri(container, "") + ": not empty");
  }
  containers_.erase(it);
  return Status();
}

Result<std::vector<std::string>> MemObjectStore::ListContainers() {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, c] : containers_) names.push_back(name);
  return names;
}

Result<ObjectAttributes> MemObjectStore::Head(std::string_view container, std::string_view key) {
  std::lock_guard lock(mu_);
  auto c = containers_.find(container);
  if (c == containers_.end())
    return NotFoundError("stat " + Uri(container, key) + ": no such container");
  auto o = c->second.find(key);
  if (o == c->second.end())
    return NotFoundError("stat " + Uri(container, key) + ": no such object");
  return o->second.attributes;
}

Result<ObjectAttributes> MemObjectStore::Get(std::string_view container, std::string_view key,
                                             const ReadOptions& options,
                                             const http::BodySink& sink) {
  const std::string what = "get " + Uri(container, key);
  if (!options.version_id.empty()) {
    return InvalidArgumentError(what + ": this store has no version ids; pin the ETag");
  }
  std::string data;
  ObjectAttributes attributes;
  {
    std::lock_guard lock(mu_);
    auto c = containers_.find(container);
    if (c == containers_.end()) return NotFoundError(what + ": no such container");
    auto o = c->second.find(key);
    if (o == c->second.end()) return NotFoundError(what + ": no such object");
    attributes = o->second.attributes;
    if (!options.if_match.empty() && options.if_match != attributes.etag) {
      return FailedPreconditionError(what + ": the object changed (ETag " + attributes.etag +
                                     ", pinned " + options.if_match + ")");
    }
    data = o->second.data;
  }
  std::string_view bytes = data;
  if (options.range) {
    if (options.range->length == 0) return InvalidArgumentError(what + ": empty range");
    if (options.range->offset >= bytes.size()) {
      return OutOfRangeError(what + ": range starts at " + std::to_string(options.range->offset) +
                             ", past the end (" + std::to_string(bytes.size()) + " bytes)");
    }
    bytes = bytes.substr(options.range->offset, options.range->length);
  }
  // Pieces of 64 KiB, as a network transfer would arrive.
  while (!bytes.empty()) {
    size_t n = std::min<size_t>(bytes.size(), 64 * 1024);
    CAIRN_RETURN_IF_ERROR(sink(bytes.substr(0, n)));
    bytes.remove_prefix(n);
  }
  return attributes;
}

Result<WriteResult> MemObjectStore::Put(std::string_view container, std::string_view key,
                                        const http::RequestBody& body,
                                        const WriteOptions& options) {
  const std::string what = "put " + Uri(container, key);
  if (key.empty()) return InvalidArgumentError(what + ": empty key");
  Result<std::string> data = ReadWholeBody(body);
  if (!data.ok()) return data.status().WithContext(what);
  if (data->size() > limits_.max_single_put) {
    return ResourceExhaustedError(what + ": larger than one request allows");
  }
  std::string etag = Md5Hex(*data);
  if (options.content_md5 && HexEncode(*options.content_md5) != etag) {
    return DataLossError(what + ": the body's MD5 " + etag + " is not the one given (" +
                         HexEncode(*options.content_md5) + ")");
  }
  std::lock_guard lock(mu_);
  auto c = containers_.find(container);
  if (c == containers_.end()) return NotFoundError(what + ": no such container");
  Object& object = c->second[std::string(key)];
  object.attributes =
      ObjectAttributes{.size = data->size(),
                       .etag = etag,
                       .version_id = "",
                       .last_modified = Now(),
                       .content_type = options.content_type.empty() ? "application/octet-stream"
                                                                    : options.content_type,
                       .metadata = options.metadata,
                       .composite = false};
  object.data = std::move(*data);
  return WriteResult{.etag = etag, .version_id = ""};
}

Status MemObjectStore::Delete(std::string_view container, std::string_view key) {
  std::lock_guard lock(mu_);
  auto c = containers_.find(container);
  if (c == containers_.end())
    return NotFoundError("delete " + Uri(container, key) + ": no such container");
  auto o = c->second.find(key);
  if (o != c->second.end()) c->second.erase(o);
  return Status();
}

Result<std::vector<DeleteFailure>> MemObjectStore::DeleteMany(std::string_view container,
                                                              std::span<const std::string> keys) {
  std::vector<DeleteFailure> failures;
  for (const std::string& key : keys) CAIRN_RETURN_IF_ERROR(Delete(container, key));
  return failures;
}

Result<ListPage> MemObjectStore::List(std::string_view container, const ListOptions& options) {
  const std::string what = "list " + Uri(container, options.prefix);
  if (options.max_keys < 1 || options.max_keys > 1000) {
    return InvalidArgumentError(what + ": max_keys must be in 1..1000");
  }
  std::lock_guard lock(mu_);
  auto c = containers_.find(container);
  if (c == containers_.end()) return NotFoundError(what + ": no such container");
  ListPage page;
  auto it = options.marker.empty() ? c->second.lower_bound(options.prefix)
                                   : c->second.upper_bound(options.marker);
  int count = 0;
  std::string last;
  for (; it != c->second.end(); ++it) {
    const std::string& key = it->first;
    if (!key.starts_with(options.prefix)) {
      if (key > options.prefix) break;
      continue;
    }
    std::string prefix;
    if (!options.delimiter.empty()) {
      size_t d = key.find(options.delimiter, options.prefix.size());
      if (d != std::string::npos) prefix = key.substr(0, d + options.delimiter.size());
    }
    // Keys under the prefix the previous page (or this one) ended with are already shown.
    if (!prefix.empty() && (prefix == options.marker || prefix == last)) continue;
    if (count == options.max_keys) {
      page.next_marker = last;
      break;
    }
    ++count;
    last = prefix.empty() ? key : prefix;
    if (!prefix.empty()) {
      page.common_prefixes.push_back(prefix);
      continue;
    }
    page.objects.push_back(ListedObject{.key = key,
                                        .size = it->second.attributes.size,
                                        .etag = it->second.attributes.etag,
                                        .last_modified = it->second.attributes.last_modified});
  }
  return page;
}

Result<WriteResult> MemObjectStore::Copy(std::string_view source_container,
                                         std::string_view source_key, std::string_view container,
                                         std::string_view key) {
  const std::string what =
      "copy " + Uri(source_container, source_key) + " to " + Uri(container, key);
  std::lock_guard lock(mu_);
  auto sc = containers_.find(source_container);
  if (sc == containers_.end()) return NotFoundError(what + ": no such container");
  auto so = sc->second.find(source_key);
  if (so == sc->second.end()) return NotFoundError(what + ": no such object");
  auto dc = containers_.find(container);
  if (dc == containers_.end()) return NotFoundError(what + ": no such container");
  Object copy = so->second;
  copy.attributes.last_modified = Now();
  WriteResult result{.etag = copy.attributes.etag, .version_id = ""};
  dc->second[std::string(key)] = std::move(copy);
  return result;
}

Result<WriteResult> MemObjectStore::Rename(std::string_view source_container,
                                           std::string_view source_key, std::string_view container,
                                           std::string_view key) {
  CAIRN_ASSIGN_OR_RETURN(WriteResult result, Copy(source_container, source_key, container, key));
  if (source_container != container || source_key != key) {
    CAIRN_RETURN_IF_ERROR(Delete(source_container, source_key));
  }
  return result;
}

Result<std::string> MemObjectStore::BeginUpload(std::string_view container, std::string_view key,
                                                const WriteOptions& options) {
  std::lock_guard lock(mu_);
  if (!containers_.contains(container)) {
    return NotFoundError("start upload of " + Uri(container, key) + ": no such container");
  }
  std::string id = "mem-upload-" + std::to_string(next_upload_++);
  uploads_[id] = Upload{.container = std::string(container),
                        .key = std::string(key),
                        .options = options,
                        .parts = {}};
  return id;
}

Result<UploadedPart> MemObjectStore::PutPart(std::string_view container, std::string_view key,
                                             std::string_view upload_id, int part_number,
                                             const http::RequestBody& body,
                                             std::optional<Md5Digest> content_md5) {
  const std::string what =
      "upload part " + std::to_string(part_number) + " of " + Uri(container, key);
  if (part_number < 1 || part_number > limits_.max_parts) {
    return InvalidArgumentError(what + ": part number outside 1.." +
                                std::to_string(limits_.max_parts));
  }
  Result<std::string> data = ReadWholeBody(body);
  if (!data.ok()) return data.status().WithContext(what);
  std::string etag = Md5Hex(*data);
  if (content_md5 && HexEncode(*content_md5) != etag) {
    return DataLossError(what + ": the body's MD5 " + etag + " is not the one given");
  }
  std::lock_guard lock(mu_);
  auto u = uploads_.find(upload_id);
  if (u == uploads_.end() || u->second.container != container || u->second.key != key) {
    return NotFoundError(what + ": no such upload");
  }
  uint64_t size = data->size();
  u->second.parts[part_number] = std::move(*data);
  return UploadedPart{.part_number = part_number, .etag = etag, .size = size};
}

Result<WriteResult> MemObjectStore::CompleteUpload(std::string_view container, std::string_view key,
                                                   std::string_view upload_id,
                                                   std::span<const UploadedPart> parts) {
  const std::string what = "complete upload of " + Uri(container, key);
  CAIRN_ASSIGN_OR_RETURN(std::vector<UploadedPart> sorted,
                         SortedParts(parts, limits_.max_parts, what));
  std::lock_guard lock(mu_);
  auto u = uploads_.find(upload_id);
  if (u == uploads_.end() || u->second.container != container || u->second.key != key) {
    return NotFoundError(what + ": no such upload");
  }
  auto c = containers_.find(container);
  if (c == containers_.end()) return NotFoundError(what + ": no such container");
  std::string data;
  for (size_t i = 0; i < sorted.size(); ++i) {
    auto p = u->second.parts.find(sorted[i].part_number);
    if (p == u->second.parts.end() || Md5Hex(p->second) != sorted[i].etag) {
      return InvalidArgumentError(what + ": part " + std::to_string(sorted[i].part_number) +
                                  " was not uploaded with that ETag");
    }
    if (i + 1 < sorted.size() && p->second.size() < limits_.min_part_size) {
      return InvalidArgumentError(what + ": part " + std::to_string(sorted[i].part_number) +
                                  " is smaller than " + std::to_string(limits_.min_part_size) +
                                  " bytes");
    }
    data += p->second;
  }
  std::string etag = S3CompositeEtag(sorted);
  Object& object = c->second[std::string(key)];
  object.attributes = ObjectAttributes{.size = data.size(),
                                       .etag = etag,
                                       .version_id = "",
                                       .last_modified = Now(),
                                       .content_type = u->second.options.content_type.empty()
                                                           ? "application/octet-stream"
                                                           : u->second.options.content_type,
                                       .metadata = u->second.options.metadata,
                                       .composite = true};
  object.data = std::move(data);
  uploads_.erase(u);
  return WriteResult{.etag = etag, .version_id = ""};
}

Status MemObjectStore::AbortUpload(std::string_view container, std::string_view key,
                                   std::string_view upload_id) {
  std::lock_guard lock(mu_);
  auto u = uploads_.find(upload_id);
  if (u == uploads_.end() || u->second.container != container || u->second.key != key) {
    return NotFoundError("abort upload of " + Uri(container, key) + ": no such upload");
  }
  uploads_.erase(u);
  return Status();
}

size_t MemObjectStore::open_uploads() const {
  std::lock_guard lock(mu_);
  return uploads_.size();
}

}  // namespace cairn::objstore
