// MetadataCache: a bounded LRU of HEAD results with a time to live, and CachingObjectStore, an
// ObjectStore decorator that answers Head from it and forgets what this client's own writes
// change (reference notes, object-store-clients.md §3 trick 17: Swifta's TTL cache, mountpoint's
// --metadata-ttl, DuckDB). Other clients' writes are seen once an entry's TTL runs out.
//
//   CachingObjectStore store(&s3_store, {.max_entries = 10000, .ttl_micros = 5'000'000});
//   store.Head("b", "k");  // HEAD
//   store.Head("b", "k");  // from the cache
//   store.Put("b", "k", body, {});  // forgets "k"
//
// Only successful HEADs are cached (a missing object is asked again each time).
#ifndef CAIRN_OBJSTORE_METADATA_CACHE_H_
#define CAIRN_OBJSTORE_METADATA_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/lru_map.h"
#include "cairn/io/env.h"
#include "cairn/objstore/forwarding_object_store.h"
#include "cairn/objstore/object_store.h"

namespace cairn::objstore {

struct MetadataCacheOptions {
  size_t max_entries = 10000;
  // How long an entry is served after it was stored; 0 disables the cache.
  int64_t ttl_micros = 5'000'000;
  io::Env* clock = nullptr;  // for the TTL; io::Env::Default() when null
};

// Thread safety: thread-safe (one mutex). Ownership: the clock is not owned and must outlive the
// cache.
class MetadataCache {
 public:
  explicit MetadataCache(MetadataCacheOptions options = {});

  MetadataCache(const MetadataCache&) = delete;
  MetadataCache& operator=(const MetadataCache&) = delete;

  // The attributes stored for the object, unless absent or older than the TTL.
  std::optional<ObjectAttributes> Get(std::string_view container, std::string_view key);

  // A ticket for a lookup about to be made: Put with it stores nothing if anything was
  // invalidated in between, so a HEAD that raced a write cannot bring back what it replaced.
  uint64_t generation() const;
  // Stores (or replaces) the object's attributes, unless `since_generation` is given and an
  // invalidation happened after it was taken.
  void Put(std::string_view container, std::string_view key, const ObjectAttributes& attributes,
           std::optional<uint64_t> since_generation = std::nullopt);

  void Invalidate(std::string_view container, std::string_view key);
  // Every object of `container` whose key starts with `prefix` ("" for the whole container).
  void InvalidatePrefix(std::string_view container, std::string_view prefix);
  void Clear();

  size_t size() const;
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;   // absent or expired
    uint64_t expired = 0;  // of the misses, entries found past their TTL
  };
  Stats stats() const;

 private:
  struct Entry {
    ObjectAttributes attributes;
    int64_t stored_at_micros = 0;
  };
  // container + '\0' + key: container names never hold a NUL, so a prefix of this string is a
  // prefix of keys in one container.
  static std::string CacheKey(std::string_view container, std::string_view key);
  void EraseLocked(const std::string& cache_key);

  const MetadataCacheOptions options_;
  io::Env* const clock_;
  mutable std::mutex mu_;
  LruMap<std::string, Entry> entries_;  // guarded by mu_
  // The keys of entries_, ordered, for InvalidatePrefix (LruMap cannot be walked). Guarded by mu_;
  // kept in step by EraseLocked and entries_' eviction callback.
  std::set<std::string, std::less<>> keys_;
  uint64_t generation_ = 0;  // guarded by mu_; bumped by every invalidation
  Stats stats_;              // guarded by mu_
};

// An ObjectStore that serves Head from a MetadataCache and invalidates the objects its own writes
// touch: Put, Delete, DeleteMany, Copy and Rename (source and destination), CompleteUpload, and
// DeleteContainer (the whole container). A write invalidates even when it fails, since a failed
// request may still have changed the object. A Get that finds the object changed or gone
// (kFailedPrecondition, kNotFound) invalidates it too. Every other call is passed through.
//
// Thread safety: thread-safe. Ownership: owns its cache; the wrapped store is not owned and must
// outlive this one.
class CachingObjectStore final : public ForwardingObjectStore {
 public:
  CachingObjectStore(ObjectStore* base, MetadataCacheOptions options = {});

  MetadataCache& cache() { return cache_; }

  Result<ObjectAttributes> Head(std::string_view container, std::string_view key) override;
  Result<ObjectAttributes> Get(std::string_view container, std::string_view key,
                               const ReadOptions& options, const http::BodySink& sink) override;
  Result<WriteResult> Put(std::string_view container, std::string_view key,
                          const http::RequestBody& body, const WriteOptions& options) override;
  Status Delete(std::string_view container, std::string_view key) override;
  Result<std::vector<DeleteFailure>> DeleteMany(std::string_view container,
                                                std::span<const std::string> keys) override;
  Result<WriteResult> Copy(std::string_view source_container, std::string_view source_key,
                           std::string_view container, std::string_view key) override;
  Result<WriteResult> Rename(std::string_view source_container, std::string_view source_key,
                             std::string_view container, std::string_view key) override;
  Result<WriteResult> CompleteUpload(std::string_view container, std::string_view key,
                                     std::string_view upload_id,
                                     std::span<const UploadedPart> parts) override;
  Status DeleteContainer(std::string_view container) override;

 private:
  MetadataCache cache_;
};

}  // namespace cairn::objstore

#endif  // CAIRN_OBJSTORE_METADATA_CACHE_H_
