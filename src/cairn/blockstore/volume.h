// Volume: where a keepstore keeps blocks (a local directory today; object stores later).
//
// Blocks are named by their MD5 (manifest::BlockHash) and are at most 64 MiB. A volume streams
// them both ways in pieces, so no request holds a whole block in memory:
//  - NewWriter returns a BlockWriter that hashes what it is given and, on Commit, makes the block
//    visible atomically only if the bytes hash to the name (a crash or an error before Commit
//    leaves no block and no visible partial file);
//  - Open returns a BlockReader for ranged reads; the caller verifies the hash as bytes go out
//    (see keepstore.h), because a stored block can rot after it was written.
//
// Thread safety: every Volume method may be called concurrently. Writers and readers are used by
// one thread at a time. A volume must outlive its writers and readers.
#ifndef CAIRN_BLOCKSTORE_VOLUME_H_
#define CAIRN_BLOCKSTORE_VOLUME_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/manifest/locator.h"

namespace cairn::blockstore {

struct BlockInfo {
  uint64_t size = 0;
  int64_t mtime_nanos = 0;  // last write or touch, ns since the Unix epoch
};

// What GET /mounts reports of a volume (the Arvados KeepMount fields, and space).
struct MountInfo {
  std::string uuid;       // "cairn-nyw5e-<15 chars>"
  std::string device_id;  // e.g. "local:/srv/keep0"
  bool allow_write = true;
  bool allow_trash = true;
  int replication = 1;
  std::vector<std::string> storage_classes{"default"};
  uint64_t bytes_free = 0;
  uint64_t bytes_total = 0;
};

// Receives one block. Not thread-safe. Destroying a writer that was not committed discards what
// it received.
class BlockWriter {
 public:
  virtual ~BlockWriter() = default;
  // Appends the next piece of the block (kResourceExhausted when the disk is full).
  virtual Status Append(std::string_view piece) = 0;
  // Makes the block visible if the bytes appended hash to the name it was opened with; otherwise
  // kInvalidArgument ("content hash … does not match …") and nothing is stored. Durable on OK.
  virtual Result<BlockInfo> Commit() = 0;
};

// Reads one stored block. Not thread-safe.
class BlockReader {
 public:
  virtual ~BlockReader() = default;
  virtual const BlockInfo& info() const = 0;
  // Reads up to out.size() bytes at `offset`; 0 at the end.
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<char> out) = 0;
};

struct IndexEntry {
  manifest::BlockHash hash;
  BlockInfo info;
};

class Volume {
 public:
  virtual ~Volume() = default;

  virtual const std::string& uuid() const = 0;
  virtual bool writable() const = 0;

  // A writer for the block named `hash`. If the volume already holds that block, the writer only
  // checks the bytes and Commit refreshes the block's mtime (no second copy is written).
  virtual Result<std::unique_ptr<BlockWriter>> NewWriter(const manifest::BlockHash& hash) = 0;
  // kNotFound when the volume does not hold the block.
  virtual Result<std::unique_ptr<BlockReader>> Open(const manifest::BlockHash& hash) = 0;
  virtual Result<BlockInfo> Stat(const manifest::BlockHash& hash) = 0;
  // kNotFound when the volume does not hold the block.
  virtual Status Delete(const manifest::BlockHash& hash) = 0;
  // Calls `emit` for every block whose hash starts with `prefix` (lowercase hex, may be empty),
  // in no particular order; stops at the first error `emit` returns. Partial files never appear.
  virtual Status Index(std::string_view prefix,
                       const std::function<Status(const IndexEntry&)>& emit) = 0;
  // Bytes free for new blocks.
  virtual Result<uint64_t> FreeBytes() = 0;
  virtual MountInfo Mount() = 0;
};

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_VOLUME_H_
