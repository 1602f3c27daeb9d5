#include "cairn/client/block_cache.h"

#include <utility>

namespace cairn::client {

BlockCache::BlockCache(size_t max_bytes)
    : max_bytes_(max_bytes), lru_(LruLimits{.max_charge = max_bytes}) {}

Result<Block> BlockCache::GetOrFetch(const std::string& key,
                                     const std::function<Result<Block>()>& fetch) {
  std::promise<Result<Block>> promise;
  {
    std::unique_lock lock(mu_);
    if (Block* cached = lru_.Get(key)) {
      ++hits_;
      return *cached;
    }
    auto it = pending_.find(key);
    if (it != pending_.end()) {
      ++hits_;
      std::shared_future<Result<Block>> future = it->second;
      lock.unlock();
      return future.get();
    }
    ++fetches_;
    pending_.emplace(key, promise.get_future().share());
  }
  Result<Block> result = fetch();
  {
    std::lock_guard lock(mu_);
    if (result.ok() && *result != nullptr) lru_.Put(key, *result, (*result)->size());
    pending_.erase(key);
  }
  promise.set_value(result);
  return result;
}

bool BlockCache::ContainsOrPending(const std::string& key) const {
  std::lock_guard lock(mu_);
  return lru_.Contains(key) || pending_.contains(key);
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard lock(mu_);
  return BlockCacheStats{
      .hits = hits_, .fetches = fetches_, .bytes = lru_.charge(), .blocks = lru_.size()};
}

}  // namespace cairn::client
