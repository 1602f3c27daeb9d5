// What the mount reads from: CollectionSource (collections and their manifests, from the
// catalog) and BlockSource (verified Keep blocks). Both are interfaces so that the tree and the
// readers are tested with in-memory doubles; CatalogCollectionSource and KeepBlockSource back
// them with the client library.
//
// Thread safety: implementations must allow concurrent calls (FUSE runs many threads).
// Ownership: the adapters do not own the clients they are given; those must outlive them.
#ifndef CAIRN_MOUNT_SOURCES_H_
#define CAIRN_MOUNT_SOURCES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/client/block_cache.h"
#include "cairn/client/catalog_client.h"
#include "cairn/client/keep_client.h"
#include "cairn/common/result.h"
#include "cairn/manifest/locator.h"

namespace cairn::mount {

// Which collections a listing holds (the catalog's ?scope=).
enum class Scope { kOwned, kShared };

class CollectionSource {
 public:
  virtual ~CollectionSource() = default;
  // Every collection of `scope` the caller can read, without manifest text.
  virtual Result<std::vector<client::Collection>> List(Scope scope) = 0;
  // One collection by uuid or portable data hash, with its (signed) manifest text. kNotFound when
  // it does not exist or the caller may not read it.
  virtual Result<client::Collection> Get(std::string_view id) = 0;
};

class BlockSource {
 public:
  virtual ~BlockSource() = default;
  // The whole block, hash-checked (kDataLoss when no copy was intact).
  virtual Result<client::Block> Get(const manifest::Locator& locator) = 0;
  // Starts fetching the block in the background (readahead); may do nothing.
  virtual void Prefetch(const manifest::Locator& locator) = 0;

  // Partial reads, for random readers of blocks whose source serves ranges. Only blocks whose
  // bytes can be trusted in parts qualify: external-object blocks (the gateway pins the object's
  // ETag or version), never Cairn's own blocks (checked whole against their MD5).
  //
  // True when GetRange may be used for `locator`.
  virtual bool CanReadRange(const manifest::Locator& /*locator*/) { return false; }
  // True when Get would not go to the network (cached, or a fetch is under way).
  virtual bool IsCached(const manifest::Locator& /*locator*/) { return false; }
  // Bytes [offset, offset + length) of the block, not cached. REQUIRES: CanReadRange(locator).
  virtual Result<std::string> GetRange(const manifest::Locator& locator, uint64_t /*offset*/,
                                       uint64_t /*length*/) {
    return UnimplementedError("no partial reads of block " + locator.SizedDigest());
  }
  // What was fetched so far, as one line of JSON (the mount's user.cairn.stats xattr).
  virtual std::string StatsJson() { return "{}"; }
};

// CollectionSource over the catalog's API (all pages of a listing, 1,000 at a time).
class CatalogCollectionSource : public CollectionSource {
 public:
  explicit CatalogCollectionSource(client::CatalogClient* catalog) : catalog_(catalog) {}
  Result<std::vector<client::Collection>> List(Scope scope) override;
  Result<client::Collection> Get(std::string_view id) override;

 private:
  client::CatalogClient* const catalog_;
};

// BlockSource over a KeepClient (its byte-bounded LRU cache and prefetch pool); ranges of
// external-object blocks through KeepClient::GetRange.
class KeepBlockSource : public BlockSource {
 public:
  explicit KeepBlockSource(client::KeepClient* keep) : keep_(keep) {}
  Result<client::Block> Get(const manifest::Locator& locator) override {
    return keep_->Get(locator);
  }
  void Prefetch(const manifest::Locator& locator) override { keep_->Prefetch(locator); }
  bool CanReadRange(const manifest::Locator& locator) override { return locator.IsExternal(); }
  bool IsCached(const manifest::Locator& locator) override { return keep_->IsCached(locator); }
  Result<std::string> GetRange(const manifest::Locator& locator, uint64_t offset,
                               uint64_t length) override {
    return keep_->GetRange(locator, offset, length);
  }
  // {"blocks":…,"block_bytes":…,"ranges":…,"range_bytes":…} (client::FetchStats), then the
  // disk cache's "disk_hits", "disk_hit_bytes", "disk_writes", "disk_corrupt", "disk_bytes".
  std::string StatsJson() override;

 private:
  client::KeepClient* const keep_;
};

}  // namespace cairn::mount

#endif  // CAIRN_MOUNT_SOURCES_H_
