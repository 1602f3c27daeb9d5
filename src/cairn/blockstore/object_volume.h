// ObjectVolume: a Volume in an object store bucket (S3) or container (Swift), through the
// ObjectStore interface, so Cairn's own blocks can live in an object store (issue 7, item 5).
//
//   <prefix>/<hash[0:3]>/<hash>           a block: one object named by its MD5
//   <prefix>/recent/<hash[0:3]>/<hash>    an empty marker whose last-modified time is when the
//                                         block was last written again (see "mtime" below)
//
// Why `<hash[0:3]>/` in the name: the layout is DirectoryVolume's (and Arvados's unix volume), so
// a volume copied between a directory and a bucket (`cairn obj cp -r`, `aws s3 sync`) keeps
// working; `cairn obj ls s3://bucket/prefix/` shows 4,096 "directories", not millions of keys;
// and stores that partition their index by key prefix (S3, RGW bucket index shards) spread the
// load, since MD5s are uniform. Listings stay in hash order (the 3-digit directory is a prefix of
// the hash), which Index relies on.
//
// Writes: NewWriter HEADs the object; the writer buffers the block in memory (at most 64 MiB, the
// Keep block size: a larger one is kOutOfRange), hashing it as it arrives. Commit refuses bytes
// that do not hash to the name (kInvalidArgument, nothing stored), then sends one PUT with
// Content-MD5 — the store checks the body and the ObjectStore checks the reply's ETag — so the
// block becomes visible atomically, whole or not at all, by the store's own semantics.
// When the object already holds the right bytes (its ETag is the block's MD5), nothing is
// uploaded again; an object with another ETag (changed underneath) is overwritten by the good
// bytes.
//
// mtime: object stores cannot change an object's last-modified time without rewriting it (S3
// refuses a copy onto itself unless metadata change; a Swift copy rewrites the data). As
// Arvados's S3 volume does, a re-written block's time is recorded by PUTting the empty marker
// `recent/…` (one small request, no block bytes); a block's mtime is the later of the two
// objects' last-modified times (Stat and Open HEAD both, Index merges the two listings).
//
// Reads: Open HEADs the object (kNotFound when absent) and refuses one whose ETag is an MD5 other
// than the name (kDataLoss: it was changed underneath). ReadAt fetches ranged GETs of up to
// `read_chunk_bytes` pinned with If-Match to the ETag seen by Open, so a block replaced after Open
// is an error (kDataLoss), never other bytes; the keepstore still hashes what it sends.
//
// Index(prefix): a paged listing (1,000 keys a page, bounded memory) of the blocks and, beside it,
// of the markers, merged in hash order. FreeBytes: object stores have no fixed capacity; a
// constant 1 PiB is reported so the keepstore always considers the volume for new blocks (a
// quota error from the store surfaces at Commit).
//
// Thread safety: as Volume (every method may be called concurrently; the store is thread-safe and
// the volume has no mutable state). Ownership: the volume shares ownership of the store.
#ifndef CAIRN_BLOCKSTORE_OBJECT_VOLUME_H_
#define CAIRN_BLOCKSTORE_OBJECT_VOLUME_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/blockstore/volume.h"
#include "cairn/common/result.h"
#include "cairn/io/env.h"
#include "cairn/objstore/object_store.h"

namespace cairn::blockstore {

struct ObjectVolumeOptions {
  std::shared_ptr<objstore::ObjectStore> store;  // required
  std::string container;                         // bucket or container; required
  // Key prefix without leading or trailing "/" ("" for the container's root).
  std::string prefix{};
  // Empty: "cairn-nyw5e-" and 15 hex digits of the MD5 of the volume's URI, so every keepstore
  // serving the same bucket and prefix reports the same volume.
  std::string uuid{};
  bool read_only = false;
  // Bytes fetched per ranged GET when reading (a 64 MiB block is then 8 GETs), held once per
  // open reader.
  size_t read_chunk_bytes = size_t{8} << 20;
  // Keys per listing page in Index (1..1,000; S3's page limit).
  int list_page_keys = 1000;
  io::Env* env = nullptr;  // the clock for the mtime of a touched block; nullptr: Env::Default()
};

class ObjectVolume final : public Volume {
 public:
  // Object stores report no capacity; this stands for "unbounded" in FreeBytes and Mount.
  static constexpr uint64_t kReportedFreeBytes = uint64_t{1} << 50;  // 1 PiB

  // Checks that the container can be listed (kNotFound, kPermissionDenied, … otherwise) and, when
  // writable, nothing else: the store creates nothing until the first block.
  static Result<std::unique_ptr<ObjectVolume>> Open(ObjectVolumeOptions options);

  const std::string& uuid() const override { return uuid_; }
  bool writable() const override { return !options_.read_only; }
  // "s3://bucket/prefix" or "swift://container/prefix".
  const std::string& uri() const { return uri_; }

  Result<std::unique_ptr<BlockWriter>> NewWriter(const manifest::BlockHash& hash) override;
  Result<std::unique_ptr<BlockReader>> Open(const manifest::BlockHash& hash) override;
  Result<BlockInfo> Stat(const manifest::BlockHash& hash) override;
  Status Delete(const manifest::BlockHash& hash) override;
  Status Index(std::string_view prefix,
               const std::function<Status(const IndexEntry&)>& emit) override;
  Result<uint64_t> FreeBytes() override { return kReportedFreeBytes; }
  MountInfo Mount() override;

  // <prefix>/<hash[0:3]>/<hash> and <prefix>/recent/<hash[0:3]>/<hash>.
  std::string BlockKey(const manifest::BlockHash& hash) const;
  std::string MarkerKey(const manifest::BlockHash& hash) const;

 private:
  explicit ObjectVolume(ObjectVolumeOptions options);
  // The block's info from its HEAD and its marker's (if any).
  Result<BlockInfo> InfoFor(const manifest::BlockHash& hash,
                            const objstore::ObjectAttributes& attributes);

  const ObjectVolumeOptions options_;
  objstore::ObjectStore* const store_;
  const std::string base_;  // "<prefix>/" or ""
  std::string uri_;
  std::string uuid_;
};

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_OBJECT_VOLUME_H_
