#include "cairn/mount/sources.h"

#include <string>
#include <utility>

namespace cairn::mount {

Result<std::vector<client::Collection>> CatalogCollectionSource::List(Scope scope) {
  std::vector<client::Collection> out;
  const std::string scope_name = scope == Scope::kOwned ? "owned" : "shared";
  // docs/catalog-api.md: at most 1,000 items a page.
  for (int offset = 0;;) {
    CAIRN_ASSIGN_OR_RETURN(
        client::CollectionList page,
        catalog_->ListCollections({.scope = scope_name, .limit = 1000, .offset = offset}));
    offset += static_cast<int>(page.items.size());
    for (client::Collection& c : page.items) out.push_back(std::move(c));
    if (page.items.empty() || offset >= page.items_available) break;
  }
  return out;
}

Result<client::Collection> CatalogCollectionSource::Get(std::string_view id) {
  return catalog_->GetCollection(id);
}

std::string KeepBlockSource::StatsJson() {
  client::FetchStats f = keep_->fetch_stats();
  client::DiskBlockCacheStats d = keep_->disk_cache_stats();
  return "{\"blocks\":" + std::to_string(f.blocks) +
         ",\"block_bytes\":" + std::to_string(f.block_bytes) +
         ",\"ranges\":" + std::to_string(f.ranges) +
         ",\"range_bytes\":" + std::to_string(f.range_bytes) +
         ",\"disk_hits\":" + std::to_string(d.hits) +
         ",\"disk_hit_bytes\":" + std::to_string(d.hit_bytes) +
         ",\"disk_writes\":" + std::to_string(d.writes) +
         ",\"disk_corrupt\":" + std::to_string(d.corrupt) +
         ",\"disk_bytes\":" + std::to_string(d.bytes) + "}";
}

}  // namespace cairn::mount
