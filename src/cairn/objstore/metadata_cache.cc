#include "cairn/objstore/metadata_cache.h"

#include <utility>

namespace cairn::objstore {

MetadataCache::MetadataCache(MetadataCacheOptions options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : io::Env::Default()),
      entries_(LruLimits{.max_entries = options.max_entries},
               // Called under mu_ (from Put); only the key index is touched.
               [this](const std::string& cache_key, Entry&&) { keys_.erase(cache_key); }) {}

std::string MetadataCache::CacheKey(std::string_view container, std::string_view key) {
  std::string out;
  out.reserve(container.size() + 1 + key.size());
  out.append(container);
  out.push_back('\0');
  out.append(key);
  return out;
}

void MetadataCache::EraseLocked(const std::string& cache_key) {
  entries_.Erase(cache_key);
  keys_.erase(cache_key);
}

std::optional<ObjectAttributes> MetadataCache::Get(std::string_view container,
                                                   std::string_view key) {
  const std::string cache_key = CacheKey(container, key);
  const int64_t now = clock_->NowUnixMicros();
  std::lock_guard lock(mu_);
  Entry* entry = entries_.Get(cache_key);
  if (entry == nullptr) {
    ++stats_.misses;
    return std::nullopt;
  }
  if (now - entry->stored_at_micros >= options_.ttl_micros) {
    EraseLocked(cache_key);
    ++stats_.misses;
    ++stats_.expired;
    return std::nullopt;
  }
  ++stats_.hits;
  return entry->attributes;
}

uint64_t MetadataCache::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

void MetadataCache::Put(std::string_view container, std::string_view key,
                        const ObjectAttributes& attributes,
                        std::optional<uint64_t> since_generation) {
  if (options_.ttl_micros <= 0) return;
  std::string cache_key = CacheKey(container, key);
  const int64_t now = clock_->NowUnixMicros();
  std::lock_guard lock(mu_);
  if (since_generation && *since_generation != generation_) return;
  if (entries_.Put(cache_key, Entry{.attributes = attributes, .stored_at_micros = now})) {
    keys_.insert(std::move(cache_key));
  } else {
    keys_.erase(cache_key);  // max_entries == 0: nothing is kept
  }
}

void MetadataCache::Invalidate(std::string_view container, std::string_view key) {
  const std::string cache_key = CacheKey(container, key);
  std::lock_guard lock(mu_);
  ++generation_;
  EraseLocked(cache_key);
}

void MetadataCache::InvalidatePrefix(std::string_view container, std::string_view prefix) {
  const std::string start = CacheKey(container, prefix);
  std::lock_guard lock(mu_);
  ++generation_;
  auto it = keys_.lower_bound(start);
  while (it != keys_.end() && it->starts_with(start)) {
    entries_.Erase(*it);
    it = keys_.erase(it);
  }
}

void MetadataCache::Clear() {
  std::lock_guard lock(mu_);
  ++generation_;
  entries_.Clear();
  keys_.clear();
}

size_t MetadataCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

MetadataCache::Stats MetadataCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

CachingObjectStore::CachingObjectStore(ObjectStore* base, MetadataCacheOptions options)
    : ForwardingObjectStore(base), cache_(options) {}

Result<ObjectAttributes> CachingObjectStore::Head(std::string_view container,
                                                  std::string_view key) {
  if (std::optional<ObjectAttributes> cached = cache_.Get(container, key)) return *cached;
  const uint64_t generation = cache_.generation();
  Result<ObjectAttributes> head = base()->Head(container, key);
  if (head.ok()) cache_.Put(container, key, *head, generation);
  return head;
}

Result<ObjectAttributes> CachingObjectStore::Get(std::string_view container, std::string_view key,
                                                 const ReadOptions& options,
                                                 const http::BodySink& sink) {
  Result<ObjectAttributes> got = base()->Get(container, key, options, sink);
  if (!got.ok() && (got.status().code() == StatusCode::kFailedPrecondition ||
                    got.status().code() == StatusCode::kNotFound)) {
    cache_.Invalidate(container, key);
  }
  return got;
}

Result<WriteResult> CachingObjectStore::Put(std::string_view container, std::string_view key,
                                            const http::RequestBody& body,
                                            const WriteOptions& options) {
  Result<WriteResult> result = base()->Put(container, key, body, options);
  cache_.Invalidate(container, key);
  return result;
}

Status CachingObjectStore::Delete(std::string_view container, std::string_view key) {
  Status status = base()->Delete(container, key);
  cache_.Invalidate(container, key);
  return status;
}

Result<std::vector<DeleteFailure>> CachingObjectStore::DeleteMany(
    std::string_view container, std::span<const std::string> keys) {
  Result<std::vector<DeleteFailure>> result = base()->DeleteMany(container, keys);
  for (const std::string& key : keys) cache_.Invalidate(container, key);
  return result;
}

Result<WriteResult> CachingObjectStore::Copy(std::string_view source_container,
                                             std::string_view source_key,
                                             std::string_view container, std::string_view key) {
  Result<WriteResult> result = base()->Copy(source_container, source_key, container, key);
  cache_.Invalidate(container, key);
  return result;
}

Result<WriteResult> CachingObjectStore::Rename(std::string_view source_container,
                                               std::string_view source_key,
                                               std::string_view container, std::string_view key) {
  Result<WriteResult> result = base()->Rename(source_container, source_key, container, key);
  cache_.Invalidate(source_container, source_key);
  cache_.Invalidate(container, key);
  return result;
}

Result<WriteResult> CachingObjectStore::CompleteUpload(std::string_view container,
                                                       std::string_view key,
                                                       std::string_view upload_id,
                                                       std::span<const UploadedPart> parts) {
  Result<WriteResult> result = base()->CompleteUpload(container, key, upload_id, parts);
  cache_.Invalidate(container, key);
  return result;
}

Status CachingObjectStore::DeleteContainer(std::string_view container) {
  Status status = base()->DeleteContainer(container);
  cache_.InvalidatePrefix(container, "");
  return status;
}

}  // namespace cairn::objstore
