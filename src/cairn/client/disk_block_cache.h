// DiskBlockCache: Cairn's own Keep blocks kept in files on local disk, bounded by bytes, least
// recently used evicted first (the mount's second cache level, after BlockCache in RAM).
//
// Layout: one file per block, named by the block's MD5 (32 lowercase hex digits), in a directory
// of mode 0700; files are mode 0600. A block is written to a temporary file (".tmp-…") and
// renamed into place, so a name only ever holds a whole block. Files are never trusted: Lookup
// reads the whole file, checks its length and MD5 against the name, and deletes a file that does
// not match (the caller then fetches the block again). External-object locators (+B/+C) are not
// cached here: their hash is derived from the object's name, not its content, so a file could not
// be checked.
//
// Several processes may share one directory. Names are content hashes, so two processes writing
// the same block write the same bytes, and a file removed by another process's eviction is just a
// miss. Each process keeps its own index (rebuilt from the directory at Create, oldest mtime
// evicted first; a hit refreshes the file's mtime) and enforces the bound on the files it knows;
// files that other processes add are learned when they are hit, so the directory can exceed the
// bound by what the other processes added until those processes evict.
//
// Thread safety: every method may be called concurrently. Ownership: Lookup returns a block the
// caller shares; the cache holds no block in memory.
#ifndef CAIRN_CLIENT_DISK_BLOCK_CACHE_H_
#define CAIRN_CLIENT_DISK_BLOCK_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/client/block_cache.h"
#include "cairn/common/lru_map.h"
#include "cairn/common/result.h"
#include "cairn/manifest/locator.h"

namespace cairn::client {

struct DiskBlockCacheStats {
  uint64_t hits = 0;       // lookups served from a file
  uint64_t hit_bytes = 0;  // bytes served from files
  uint64_t misses = 0;     // lookups with no (usable) file
  uint64_t writes = 0;     // blocks written
  uint64_t write_bytes = 0;
  uint64_t evictions = 0;  // files deleted to stay within the bound
  uint64_t corrupt = 0;    // files deleted because their length or MD5 did not match the name
  uint64_t bytes = 0;      // bytes of the files in the index now
  uint64_t files = 0;
};

class DiskBlockCache {
 public:
  // Opens (creating it, mode 0700, if needed) the cache in `dir` bounded by `max_bytes`, indexes
  // the block files already there (oldest first), evicts down to the bound and deletes
  // temporary files left by crashed writers. kInvalidArgument for an empty dir or max_bytes 0;
  // the error of mkdir or opendir otherwise.
  static Result<std::unique_ptr<DiskBlockCache>> Create(std::string dir, uint64_t max_bytes);

  // The default bound for a cache in `dir`: min(10 GiB, 10% of the free space of the file system
  // that holds `dir`, or of its nearest existing parent); 0 if statvfs fails.
  static uint64_t DefaultMaxBytes(const std::string& dir);

  DiskBlockCache(const DiskBlockCache&) = delete;
  DiskBlockCache& operator=(const DiskBlockCache&) = delete;

  // The block named `hash` of `size` bytes if a file holds exactly those bytes; nullptr on a miss
  // (no file, a short or corrupt file, which is deleted, or a read error).
  Block Lookup(const manifest::BlockHash& hash, uint64_t size);

  // Stores `data`, which the caller has verified to be the block named `hash`, unless it is
  // larger than the bound; evicts least recently used files to stay within it. Errors (a full
  // disk) are returned for logging; the cache stays consistent.
  Status Insert(const manifest::BlockHash& hash, std::string_view data);

  DiskBlockCacheStats stats() const;
  const std::string& dir() const { return dir_; }
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  DiskBlockCache(std::string dir, uint64_t max_bytes);

  std::string PathOf(std::string_view hex) const { return dir_ + "/" + std::string(hex); }
  // Adds or refreshes `hex` in the index; collects evicted names into *evicted.
  void Index(const std::string& hex, uint64_t size, std::vector<std::string>* evicted);
  // Deletes the files of evicted entries (outside mu_).
  void Remove(const std::vector<std::string>& evicted);
  void Forget(const std::string& hex);

  const std::string dir_;
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  LruMap<std::string, uint64_t> lru_;  // guarded by mu_; hex -> size, charge = size
  std::vector<std::string> evicted_;   // guarded by mu_; filled by lru_'s eviction callback
  std::atomic<uint64_t> temp_counter_{0};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> hit_bytes_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> write_bytes_{0};
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> corrupt_{0};
};

}  // namespace cairn::client

#endif  // CAIRN_CLIENT_DISK_BLOCK_CACHE_H_
