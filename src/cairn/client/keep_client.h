// KeepClient: stores and fetches Keep blocks on the keepstores the catalog lists
// (DESIGN.md §3 and §7; arvados-keep.md §5-§6).
//
// Writes: a block goes to the writable services in rendezvous order (md5(hash + last 15 of
// uuid), descending) until the wanted number of replicas is stored, counting each reply's
// X-Keep-Replicas-Stored (1 when absent). A service that fails (after retries on 5xx, 408, 429
// and transport errors, with exponential backoff; never on 507 full) is skipped for the next.
//
// Reads: services named by +K@<service uuid> hints first, then every readable service in
// rendezvous order. Each reply is checked while it arrives: a body longer than the size hint is
// cut, and the MD5 and length are compared at the end; a mismatch (a corrupt replica, a cut
// reply) moves on to the next service, as does a 404. Blocks go through a BlockCache (LRU by
// bytes), then, when enabled, a DiskBlockCache (Cairn's own blocks only, MD5-checked when read
// back); Prefetch fetches blocks in the background for sequential readers. External-object
// locators (+B/+C) go to +K services first, then to `gateway` services in rendezvous order; their
// hash is derived, so only their length is checked (the gateway pins the object's ETag/version).
// GetRange reads part of an external-object chunk (`Range: bytes=a-b`, answered 206 by a
// gateway) from the same services in the same order; it is refused for Cairn's own blocks, whose
// parts cannot be checked against their MD5.
//
// The service list comes from the catalog (GET /v1/keep_services) and is cached for
// `services_ttl`. The token travels in the Authorization header only; error messages name blocks
// as hash+size, never with their +A signature.
//
// Thread safety: every method may be called concurrently. Ownership: the HttpClient, the
// CatalogClient and the Env are not owned and must outlive the KeepClient; the destructor drops
// queued prefetches and waits for running ones.
#ifndef CAIRN_CLIENT_KEEP_CLIENT_H_
#define CAIRN_CLIENT_KEEP_CLIENT_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/client/block_cache.h"
#include "cairn/client/catalog_client.h"
#include "cairn/client/disk_block_cache.h"
#include "cairn/common/result.h"
#include "cairn/common/thread_pool.h"
#include "cairn/http/http_client.h"
#include "cairn/io/env.h"
#include "cairn/manifest/locator.h"
#include "cairn/objstore/retry.h"

namespace cairn::client {

struct KeepClientOptions {
  std::string token{};
  // Bytes of blocks kept in memory for readers (Python SDK default: 256 MiB).
  size_t cache_bytes = size_t{256} << 20;
  // Background fetches at once for readahead (Python SDK: 2 prefetch threads).
  int prefetch_threads = 2;
  // Deadline of one block request (64 MiB at ~1 MB/s still fits).
  std::chrono::milliseconds request_timeout{120'000};
  // Attempts per service before moving on to the next. Hash mismatches are never retried on
  // the same service: the next replica is tried instead.
  objstore::RetryOptions retry{.max_attempts = 3, .max_data_loss_retries = 0};
  // How long the service list is trusted (Go SDK: re-polls every 5 minutes).
  std::chrono::seconds services_ttl{300};
  // Second cache level on disk (DiskBlockCache), consulted after a miss in memory and filled
  // after a verified whole-block read of Cairn's own blocks; off (0 bytes) by default.
  std::string disk_cache_dir{};
  uint64_t disk_cache_bytes = 0;
};

// Bytes received from services by reads (whole blocks and ranges; failed attempts included).
struct FetchStats {
  uint64_t blocks = 0;       // whole-block GETs answered 200
  uint64_t block_bytes = 0;  // body bytes received by whole-block GETs
  uint64_t ranges = 0;       // ranged GETs answered 206 (or 200)
  uint64_t range_bytes = 0;  // body bytes received by ranged GETs
};

struct PutResult {
  manifest::Locator locator;  // hash+size with the +A signature of a service that stored it
  int replicas = 0;           // replicas stored in all
};

class KeepClient {
 public:
  // REQUIRES: http, catalog and env outlive the client. kInvalidArgument for bad options.
  static Result<std::unique_ptr<KeepClient>> Create(http::HttpClient* http, CatalogClient* catalog,
                                                    io::Env* env, KeepClientOptions options);
  ~KeepClient();

  KeepClient(const KeepClient&) = delete;
  KeepClient& operator=(const KeepClient&) = delete;

  // The services, from the catalog or the cache of them.
  Result<std::vector<KeepService>> Services();
  // How many replicas a write can reach: the writable services (a proxy counts as many).
  Result<int> WritableServiceCount();

  // Stores `data` (at most 64 MiB) with `replicas` copies. kUnavailable when fewer copies could
  // be stored (the message says how many), or the error of the last service tried.
  Result<PutResult> Put(std::string_view data, int replicas);
  // The same when the caller already knows the MD5 of `data`.
  Result<PutResult> Put(std::string_view data, const manifest::BlockHash& hash, int replicas);

  // The block's bytes, verified (kDataLoss if no service had them intact, kNotFound if none had
  // them, or the most telling error of the services tried).
  Result<Block> Get(const manifest::Locator& locator);

  // Starts fetching `locator` into the cache in the background unless it is cached, being fetched,
  // or the prefetch queue is full. Errors are dropped (a later Get reports them).
  void Prefetch(const manifest::Locator& locator);

  // Bytes [offset, offset + length) of an external-object locator's chunk, not cached, asked of
  // the services Get would ask, in the same order, with `Range: bytes=a-b`. A 206 reply must say
  // `Content-Range: bytes a-b/<size>` and carry exactly `length` bytes; a 200 reply (a service
  // that ignores Range) must carry the whole chunk, of which the range is kept. The bytes are as
  // trustworthy as Get's for the same locator: the gateway pins the object's ETag or version.
  // kInvalidArgument for Cairn's own blocks (a range cannot be checked against their MD5) and for
  // a range outside [0, size); errors otherwise as Get.
  Result<std::string> GetRange(const manifest::Locator& locator, uint64_t offset, uint64_t length);

  // True if Get would answer `locator` from the cache (or from a fetch already under way).
  bool IsCached(const manifest::Locator& locator) const;

  BlockCacheStats cache_stats() const { return cache_.stats(); }
  // The disk cache's counters; all zero when it is off.
  DiskBlockCacheStats disk_cache_stats() const {
    return disk_cache_ ? disk_cache_->stats() : DiskBlockCacheStats{};
  }
  FetchStats fetch_stats() const;

 private:
  KeepClient(http::HttpClient* http, CatalogClient* catalog, io::Env* env,
             KeepClientOptions options);

  // Services to try for a read of `locator`, in order.
  Result<std::vector<KeepService>> ReadOrder(const manifest::Locator& locator);
  Result<Block> Fetch(const manifest::Locator& locator);
  // One GET from one service, with retries.
  Result<Block> FetchFrom(const KeepService& service, const manifest::Locator& locator);
  // One ranged GET from one service, with retries.
  Result<std::string> FetchRangeFrom(const KeepService& service, const manifest::Locator& locator,
                                     uint64_t offset, uint64_t length);
  // One PUT to one service, with retries; the reply's locator and replica count.
  Result<PutResult> PutTo(const KeepService& service, std::string_view data,
                          const manifest::BlockHash& hash, int wanted);

  http::HttpClient* const http_;
  CatalogClient* const catalog_;
  io::Env* const env_;
  const KeepClientOptions options_;
  objstore::RetryPolicy retry_policy_;
  std::unique_ptr<objstore::SeededRandom> random_;
  BlockCache cache_;
  std::unique_ptr<DiskBlockCache> disk_cache_;  // null when off
  std::unique_ptr<ThreadPool> prefetch_pool_;
  std::atomic<uint64_t> blocks_fetched_{0};
  std::atomic<uint64_t> block_bytes_{0};
  std::atomic<uint64_t> ranges_fetched_{0};
  std::atomic<uint64_t> range_bytes_{0};

  std::mutex services_mu_;
  std::vector<KeepService> services_;  // guarded by services_mu_
  int64_t services_fetched_at_ = 0;    // guarded by services_mu_ (Unix seconds; 0: never)
};

}  // namespace cairn::client

#endif  // CAIRN_CLIENT_KEEP_CLIENT_H_
