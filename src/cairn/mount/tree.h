// CollectionTree: the file tree `cairn mount` shows, resolved path by path.
//
//   /by_id/<uuid or PDH>/…   any readable collection, looked up on demand (never listed)
//   /home/<name>/…           the caller's own collections
//   /shared/<name>/…         collections other users shared with the caller
//
// or, with TreeOptions::collection_id, that one collection at the root. Listings of home/ and
// shared/ are fetched from the catalog and trusted for `ttl`, so collections created or shared
// later appear within that time. A collection's manifest is parsed once and kept (at most
// `max_collections` of them, least recently used dropped first; open files keep theirs alive):
// a directory of a million files is listed from the manifest, without reading any block. A
// collection reached by uuid is reloaded when its listing shows a new portable data hash, or
// through by_id/ after `ttl`; one reached by PDH never changes. Stat of a collection's directory
// in home/ or shared/ does not load its manifest: until it is loaded, its nlink is 1 ("unknown",
// as btrfs and many network file systems say; find and fts then do not guess subdirectories).
//
// Names in home/ and shared/: the collection's name with '/' replaced by '_' (its uuid when the
// name is empty, "." or ".."); when several collections share a name, the oldest keeps it and
// the others are shown as "<name> (<uuid>)".
//
// Thread safety: every method may be called concurrently; network calls run outside the cache
// lock (a listing refresh holds its scope's own lock, so one refresh runs at a time). Ownership:
// the CollectionSource and Env are not owned and must outlive the tree.
#ifndef CAIRN_MOUNT_TREE_H_
#define CAIRN_MOUNT_TREE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/client/catalog_client.h"
#include "cairn/common/lru_map.h"
#include "cairn/common/result.h"
#include "cairn/io/env.h"
#include "cairn/manifest/manifest.h"
#include "cairn/mount/sources.h"

namespace cairn::mount {

struct TreeOptions {
  // Non-empty: this collection (uuid or PDH) is the root of the tree.
  std::string collection_id{};
  // How long listings (and collections reached by uuid through by_id/) are trusted.
  std::chrono::seconds ttl{60};
  // Parsed manifests kept in memory.
  size_t max_collections = 64;
};

// A collection as the mount serves it: immutable once loaded.
struct LoadedCollection {
  client::Collection meta;  // manifest_text dropped once parsed
  manifest::Manifest manifest;
  // Subdirectories of each directory node (index: NodeId), for nlink.
  std::vector<uint32_t> subdirs;
  int64_t mtime = 0;  // modified_at, Unix seconds
};

struct Attr {
  bool is_directory = false;
  uint64_t size = 0;
  int64_t mtime = 0;
  uint32_t nlink = 1;
};

// What a path resolves to.
struct Node {
  Attr attr;
  // The collection the path lies in (null above collections).
  std::shared_ptr<const LoadedCollection> collection{};
  manifest::Manifest::NodeId node = manifest::Manifest::kRoot;
  bool is_collection_root = false;
  // Collection roots: the collection's uuid and PDH (also when `collection` is not loaded).
  std::string uuid{};
  std::string pdh{};
};

class CollectionTree {
 public:
  // REQUIRES: source and env outlive the tree.
  CollectionTree(CollectionSource* source, io::Env* env, TreeOptions options);

  CollectionTree(const CollectionTree&) = delete;
  CollectionTree& operator=(const CollectionTree&) = delete;

  // `path` is absolute ("/", "/home/x/a.txt"). kNotFound when nothing is there.
  Result<Node> Resolve(std::string_view path);
  // The entries of the directory at `path` (without "." and ".."), in name order.
  // kNotFound, or kFailedPrecondition for a file.
  Result<std::vector<std::pair<std::string, Attr>>> List(std::string_view path);

  // Shows `saved` (a collection just saved through the mount, with its manifest text) at once:
  // it replaces the cached collection of its uuid and its entry in the home/ listing (a new
  // collection makes the listing be fetched again).
  Status Saved(client::Collection saved);

  // "2026-11-22T03:10:14.123456Z" -> Unix seconds (0 when it does not parse).
  static int64_t ParseTime(std::string_view rfc3339);

 private:
  struct Listing {
    std::mutex refresh_mu;                              // one refresh at a time; taken before mu_
    int64_t fetched_at = 0;                             // guarded by mu_ (Unix micros; 0: never)
    std::map<std::string, client::Collection> by_name;  // guarded by mu_
    int64_t mtime = 0;                                  // guarded by mu_
  };
  struct Cached {
    std::shared_ptr<const LoadedCollection> collection;
    int64_t fetched_at = 0;  // Unix micros
  };

  // Resolve; with `load`, a collection's directory in home/ or shared/ is loaded too.
  Result<Node> Resolve(std::string_view path, bool load);
  // The listing of `scope`, refreshed when older than the TTL; a copy of its entries.
  Result<std::map<std::string, client::Collection>> Entries(Scope scope, int64_t* mtime);
  // The collection `id`; `expected_pdh` (when known from a listing) forces a reload on change.
  Result<std::shared_ptr<const LoadedCollection>> Load(const std::string& id,
                                                       std::string_view expected_pdh);
  static Result<std::shared_ptr<const LoadedCollection>> Parse(client::Collection collection);
  // The node at `rest` (a relative path) inside `collection`.
  static Result<Node> Within(std::shared_ptr<const LoadedCollection> collection,
                             std::string_view rest);
  // A collection's directory known only from a listing (its manifest not loaded).
  static Node RootOf(const client::Collection& c);
  // The directory of a listed collection: loaded if it is cached at the listed PDH, else RootOf.
  Node ListedRoot(const client::Collection& c);
  static Attr AttrOf(const LoadedCollection& c, manifest::Manifest::NodeId node);
  Attr TopDirectory(uint32_t subdirs, int64_t mtime) const;

  CollectionSource* const source_;
  io::Env* const env_;
  const TreeOptions options_;
  const int64_t started_at_;  // Unix seconds: the time of the top directories

  std::mutex mu_;
  Listing owned_;
  Listing shared_;
  LruMap<std::string, Cached> collections_;  // guarded by mu_
};

}  // namespace cairn::mount

#endif  // CAIRN_MOUNT_TREE_H_
