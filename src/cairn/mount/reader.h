// HandleReader: the reading state of one open file of the mount. Reads are served from whole,
// hash-checked Keep blocks (BlockSource::Get; the KeepClient keeps them in its byte-bounded LRU
// cache). While reads move forward, the blocks after the current one are prefetched, and the
// window grows: one block after the first sequential read that enters a new block, then
// doubling on each new block up to `max_readahead_blocks`. A read elsewhere (a seek) drops the
// window to zero, so random readers do not pull blocks they will not use.
//
// Reads that are not part of a forward stream (a stream starts at offset 0, or once the handle
// has read kStreamAfter bytes forward without a seek) of a block that is not cached and whose
// source serves ranges (external objects: BlockSource::CanReadRange) fetch only a window of
// the block: kRangeWindow bytes (or the read, if larger) from the read's offset rounded down to
// kRangeAlign, clipped to the file's extent. The handle keeps its last window, so the next small
// reads inside it (the kernel splits and re-reads) cost nothing. Streams still read whole blocks.
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
#include <string>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/manifest/manifest.h"
#include "cairn/mount/sources.h"
#include "cairn/mount/tree.h"

namespace cairn::mount {

class HandleReader {
 public:
  // Bytes of a partial read of a block (a random 4 KiB read costs at most this, plus alignment).
  static constexpr uint64_t kRangeWindow = uint64_t{256} << 10;
  // Partial reads start at a multiple of this within the block.
  static constexpr uint64_t kRangeAlign = uint64_t{64} << 10;
  // Forward reading without a seek after which whole blocks (and readahead) are used.
  static constexpr uint64_t kStreamAfter = uint64_t{1} << 20;

  // REQUIRES: `file` is a file node of collection->manifest; max_readahead_blocks >= 0.
  HandleReader(BlockSource* blocks, std::shared_ptr<const LoadedCollection> collection,
               manifest::Manifest::NodeId file, int max_readahead_blocks);

  uint64_t size() const { return size_; }
  // Blocks prefetched ahead of the reader on its last read (for tests and logs).
  int readahead_blocks() const { return window_; }
  // Partial reads of blocks made by this handle, and their bytes (for tests and logs).
  uint64_t range_reads() const { return range_reads_; }
  uint64_t range_bytes() const { return range_bytes_; }

  // Reads up to out.size() bytes at `offset` (fewer only at the end of the file, 0 past it).
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out);

 private:
  // Index of the extent holding byte `offset`. REQUIRES: offset < size_.
  size_t ExtentAt(uint64_t offset) const;
  // Prefetches the next window_ distinct blocks after extent `extent`.
  void PrefetchAfter(size_t extent);
  // Copies bytes at `within` of extent `extent` into `out` (at most out.size(); at least one)
  // from the last range window, after fetching a new one if it does not hold them.
  Result<size_t> ReadFromRange(size_t extent, uint64_t within, std::span<char> out);

  BlockSource* const blocks_;
  const std::shared_ptr<const LoadedCollection> collection_;
  const int max_window_;
  std::vector<manifest::Extent> extents_;
  std::vector<uint64_t> starts_;  // file offset of each extent
  uint64_t size_ = 0;
  uint64_t last_end_ = 0;  // where the previous read ended (0: a first read at 0 is sequential)
  size_t last_extent_ = SIZE_MAX;  // extent the previous read ended in
  int window_ = 0;
  uint64_t run_start_ = 0;  // where the current forward run of reads began
  bool streaming_ = false;  // the previous read was part of a forward stream
  // The last partial read: bytes [range_start_, +range_data_.size()) of block range_block_.
  uint32_t range_block_ = UINT32_MAX;
  uint64_t range_start_ = 0;
  std::string range_data_;
  uint64_t range_reads_ = 0;
  uint64_t range_bytes_ = 0;
};

}  // namespace cairn::mount

#endif  // CAIRN_MOUNT_READER_H_
