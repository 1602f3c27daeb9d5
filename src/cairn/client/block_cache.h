// BlockCache: Keep blocks in memory, bounded by bytes, least recently used evicted first; a block
// that several threads want at once is fetched once (the others wait for that fetch).
//
// Thread safety: every method may be called concurrently. Ownership: blocks are shared,
// immutable strings; a reader keeps its block alive after eviction for as long as it holds it.
#ifndef CAIRN_CLIENT_BLOCK_CACHE_H_
#define CAIRN_CLIENT_BLOCK_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cairn/common/lru_map.h"
#include "cairn/common/result.h"

namespace cairn::client {

using Block = std::shared_ptr<const std::string>;

struct BlockCacheStats {
  uint64_t hits = 0;     // served from memory (or from a fetch already under way)
  uint64_t fetches = 0;  // fetch functions run
  size_t bytes = 0;      // held now
  size_t blocks = 0;
};

class BlockCache {
 public:
  // `max_bytes` bounds the bytes held; 0 caches nothing (fetches are still shared).
  explicit BlockCache(size_t max_bytes);

  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // The block cached under `key`; otherwise runs `fetch` (on this thread, once for all concurrent
  // callers of the same key) and caches what it returns. Errors are not cached.
  Result<Block> GetOrFetch(const std::string& key, const std::function<Result<Block>()>& fetch);

  // True if `key` is cached or being fetched (readahead uses it to skip work already done).
  bool ContainsOrPending(const std::string& key) const;

  BlockCacheStats stats() const;
  size_t max_bytes() const { return max_bytes_; }

 private:
  const size_t max_bytes_;
  mutable std::mutex mu_;
  LruMap<std::string, Block> lru_;                                    // guarded by mu_
  std::map<std::string, std::shared_future<Result<Block>>> pending_;  // guarded by mu_
  uint64_t hits_ = 0;                                                 // guarded by mu_
  uint64_t fetches_ = 0;                                              // guarded by mu_
};

}  // namespace cairn::client

#endif  // CAIRN_CLIENT_BLOCK_CACHE_H_
