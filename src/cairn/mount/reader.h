// HandleReader: the reading state of one open file of the mount. Reads are served from whole,
// hash-checked Keep blocks (BlockSource::Get; the KeepClient keeps them in its byte-bounded LRU
// cache). While reads move forward, the blocks after the current one are prefetched, and the
// window grows: one block after the first sequential read that enters a new block, then
// doubling on each new block up to `max_readahead_blocks`. A read elsewhere (a seek) drops the
// window to zero, so random readers do not pull blocks they will not use.
//
// Thread safety: not thread-safe; the mount serializes the reads of one handle (each open file
// has its own HandleReader, so different handles read in parallel). Ownership: the BlockSource
// is not owned and must outlive the reader; the collection is shared (kept alive while open).
#ifndef CAIRN_MOUNT_READER_H_
#define CAIRN_MOUNT_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/manifest/manifest.h"
#include "cairn/mount/sources.h"
#include "cairn/mount/tree.h"

namespace cairn::mount {

class HandleReader {
 public:
  // REQUIRES: `file` is a file node of collection->manifest; max_readahead_blocks >= 0.
  HandleReader(BlockSource* blocks, std::shared_ptr<const LoadedCollection> collection,
               manifest::Manifest::NodeId file, int max_readahead_blocks);

  uint64_t size() const { return size_; }
  // Blocks prefetched ahead of the reader on its last read (for tests and logs).
  int readahead_blocks() const { return window_; }

  // Reads up to out.size() bytes at `offset` (fewer only at the end of the file, 0 past it).
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out);

 private:
  // Index of the extent holding byte `offset`. REQUIRES: offset < size_.
  size_t ExtentAt(uint64_t offset) const;
  // Prefetches the next window_ distinct blocks after extent `extent`.
  void PrefetchAfter(size_t extent);

  BlockSource* const blocks_;
  const std::shared_ptr<const LoadedCollection> collection_;
  const int max_window_;
  std::vector<manifest::Extent> extents_;
  std::vector<uint64_t> starts_;  // file offset of each extent
  uint64_t size_ = 0;
  uint64_t last_end_ = 0;  // where the previous read ended (0: a first read at 0 is sequential)
  size_t last_extent_ = SIZE_MAX;  // extent the previous read ended in
  int window_ = 0;
};

}  // namespace cairn::mount

#endif  // CAIRN_MOUNT_READER_H_
