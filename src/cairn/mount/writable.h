// WriteLayer: the write path of `cairn mount --read-write` (docs/mount.md "Writing").
//
// A file opened for writing (or created) is staged in a spool file on local disk: writes at any
// offset, truncation and reads of it go to that file, and the mount shows the staged size. A
// file that already exists is copied into the spool when it is opened for writing without
// O_TRUNC. When the last writer of a file flushes (close) or fsyncs, its spool file is uploaded
// in blocks of `block_size` (64 MiB; KeepClient::Put, the MD5 checks of `cairn put`) and the file
// is saved as a new version of its collection: the collection's current manifest is fetched
// again, the file replaced in it, and the catalog updated, so changes made elsewhere meanwhile
// are kept. Unlink, rename, mkdir and rmdir save a new version at once. mkdir in home/ creates
// a new, empty collection.
//
// Writable: the collections the caller owns (home/, and by_id/<uuid> or --collection of an owned
// collection). shared/ and collections reached by PDH are read-only (kPermissionDenied).
//
// The spool holds at most `max_spool_bytes` of staged data (kResourceExhausted past it): staged
// bytes live on disk, never in memory, and an upload reads one block at a time, so a file
// larger than RAM is written in bounded memory. A failed upload or save leaves the file staged
// (and dirty) so that a later flush, fsync or FlushAll retries it; nothing saved before is lost.
//
// Thread safety: every method may be called concurrently (FUSE runs many threads); the writes
// of one staged file are serialized by its own lock, and saves of manifests by one lock of the
// layer (read-modify-write of a collection never interleaves). Ownership: the tree, sources and
// store are not owned and must outlive the layer; handles are owned by the layer from Open or
// Create to Release.
#ifndef CAIRN_MOUNT_WRITABLE_H_
#define CAIRN_MOUNT_WRITABLE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/client/catalog_client.h"
#include "cairn/client/keep_client.h"
#include "cairn/common/result.h"
#include "cairn/manifest/locator.h"
#include "cairn/manifest/manifest.h"
#include "cairn/mount/sources.h"
#include "cairn/mount/tree.h"

namespace cairn::mount {

// Where new data and manifests are saved. An interface so that the layer is tested in memory.
class CollectionStore {
 public:
  virtual ~CollectionStore() = default;
  // Stores one block (at most 64 MiB); its signed locator.
  virtual Result<manifest::Locator> PutBlock(std::string_view data) = 0;
  // Saves `manifest_text` as the new version of collection `uuid`.
  virtual Result<client::Collection> Save(std::string_view uuid,
                                          const std::string& manifest_text) = 0;
  // Creates an empty collection named `name`, owned by the caller.
  virtual Result<client::Collection> Create(std::string_view name) = 0;
};

// CollectionStore over the Keep and catalog clients: blocks with `replication` copies (0: two,
// or one when only one service can write, as `cairn put`).
class ClientCollectionStore : public CollectionStore {
 public:
  ClientCollectionStore(client::KeepClient* keep, client::CatalogClient* catalog, int replication)
      : keep_(keep), catalog_(catalog), replication_(replication) {}
  Result<manifest::Locator> PutBlock(std::string_view data) override;
  Result<client::Collection> Save(std::string_view uuid, const std::string& manifest_text) override;
  Result<client::Collection> Create(std::string_view name) override;

 private:
  client::KeepClient* const keep_;
  client::CatalogClient* const catalog_;
  std::mutex mu_;
  int replication_;  // guarded by mu_ (resolved on first use when 0)
};

struct WriteOptions {
  // The caller's user uuid (owner of the writable collections).
  std::string user_uuid{};
  // Non-empty: the tree shows this one collection at the root (TreeOptions::collection_id).
  std::string collection_id{};
  // A directory of this layer's own (created if missing; spool files are removed when saved).
  std::string spool_dir{};
  uint64_t max_spool_bytes = uint64_t{16} << 30;
  uint64_t block_size = manifest::kMaxBlockSize;
  // Where failures of background saves (on release) are reported; null: stderr.
  std::function<void(std::string_view)> log = nullptr;
};

class WriteLayer {
 public:
  // One open file of the layer (staged). Opaque to callers.
  struct Handle;

  // REQUIRES: everything given outlives the layer.
  WriteLayer(CollectionTree* tree, CollectionSource* collections, BlockSource* blocks,
             CollectionStore* store, WriteOptions options);
  // Saves what is still pending (FlushAll), then removes the spool files.
  ~WriteLayer();

  WriteLayer(const WriteLayer&) = delete;
  WriteLayer& operator=(const WriteLayer&) = delete;

  // The attributes of a staged file at `path` (a mount path), if one is staged there.
  std::optional<Attr> StagedAttr(std::string_view path);
  // Adds (or replaces) the staged files directly inside directory `dir` in `entries`.
  void AddStagedEntries(std::string_view dir, std::vector<std::pair<std::string, Attr>>* entries);
  // True when a file is staged at `path` (opens of it, even read-only, go through the layer).
  bool IsStaged(std::string_view path);

  // Opens the file at `path`: `flags` as open(2) (O_ACCMODE, O_TRUNC). A writable open stages
  // the file (copying its bytes unless O_TRUNC).
  Result<Handle*> Open(std::string_view path, int flags);
  // Creates (or truncates) the file at `path`, open for writing.
  Result<Handle*> Create(std::string_view path);
  Result<size_t> Read(Handle* handle, uint64_t offset, std::span<char> out);
  Result<size_t> Write(Handle* handle, uint64_t offset, std::span<const char> data);
  Status Truncate(Handle* handle, uint64_t size);
  // Truncates a file not open here: staged and saved at once.
  Status Truncate(std::string_view path, uint64_t size);
  // Saves the file when it has unsaved changes and `handle` is its last writer (close), or
  // always with `force` (fsync).
  Status Flush(Handle* handle, bool force);
  // Ends the handle; saves what is unsaved if it was the last writer (errors are logged).
  void Release(Handle* handle);

  Status Unlink(std::string_view path);
  Status Mkdir(std::string_view path);
  Status Rmdir(std::string_view path);
  Status Rename(std::string_view from, std::string_view to);

  // Saves every staged file with unsaved changes; the first error.
  Status FlushAll();

  // Bytes staged in the spool now.
  uint64_t spool_bytes();

 private:
  struct Staged;
  // A mount path split into its collection and the path inside it.
  struct Target {
    std::string uuid;
    std::string inner;  // "" for the collection's root
    std::string root;   // the mount path of the collection's root
  };

  // The writable collection holding `path`; kPermissionDenied when it is read-only.
  Result<Target> Locate(std::string_view path);
  // Fetches the collection's current manifest, applies `change`, saves the new version and
  // shows it in the tree.
  Status Modify(const std::string& uuid, const std::function<Status(manifest::Manifest*)>& change);
  // Uploads the staged file and saves it. REQUIRES: staged->mu held.
  Status Save(Staged* staged);
  Result<std::shared_ptr<Staged>> Stage(std::string_view path, bool copy_existing);
  void Log(std::string_view line) const;
  // Drops the staged entry when nothing refers to it any more. REQUIRES: staged->mu held.
  void MaybeUnstage(Staged* staged);

  CollectionTree* const tree_;
  CollectionSource* const collections_;
  BlockSource* const blocks_;
  CollectionStore* const store_;
  const WriteOptions options_;

  std::mutex save_mu_;  // one manifest read-modify-write at a time

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Staged>, std::less<>> staged_;  // guarded by mu_
  std::map<Handle*, std::unique_ptr<Handle>> handles_;                  // guarded by mu_
  uint64_t spool_bytes_ = 0;                                            // guarded by mu_
  uint64_t next_spool_id_ = 0;                                          // guarded by mu_
};

}  // namespace cairn::mount

#endif  // CAIRN_MOUNT_WRITABLE_H_
