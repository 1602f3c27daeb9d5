#include "cairn/mount/reader.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

namespace cairn::mount {

HandleReader::HandleReader(BlockSource* blocks, std::shared_ptr<const LoadedCollection> collection,
                           manifest::Manifest::NodeId file, int max_readahead_blocks)
    : blocks_(blocks),
      collection_(std::move(collection)),
      max_window_(std::max(0, max_readahead_blocks)) {
  for (const manifest::Extent& e : collection_->manifest.Extents(file)) {
    starts_.push_back(size_);
    extents_.push_back(e);
    size_ += e.length;
  }
}

size_t HandleReader::ExtentAt(uint64_t offset) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<size_t>(it - starts_.begin()) - 1;
}

void HandleReader::PrefetchAfter(size_t extent) {
  const std::vector<manifest::Locator>& blocks = collection_->manifest.blocks();
  uint32_t last = extents_[extent].block;
  int queued = 0;
  for (size_t i = extent + 1; i < extents_.size() && queued < window_; ++i) {
    if (extents_[i].block == last) continue;
    last = extents_[i].block;
    blocks_->Prefetch(blocks[last]);
    ++queued;
  }
}

Result<size_t> HandleReader::ReadFromRange(size_t extent, uint64_t within, std::span<char> out) {
  const manifest::Extent& e = extents_[extent];
  const uint64_t at = e.offset + within;  // offset in the block
  const bool held =
      range_block_ == e.block && at >= range_start_ && at < range_start_ + range_data_.size();
  if (!held) {
    const uint64_t extent_end = uint64_t{e.offset} + e.length;
    const uint64_t start = std::max<uint64_t>(e.offset, at - at % kRangeAlign);
    const uint64_t end =
        std::min(extent_end, std::max(start + kRangeWindow, at + uint64_t{out.size()}));
    const manifest::Locator& locator = collection_->manifest.blocks()[e.block];
    range_block_ = UINT32_MAX;  // nothing held if the fetch fails
    CAIRN_ASSIGN_OR_RETURN(range_data_, blocks_->GetRange(locator, start, end - start));
    if (range_data_.size() != end - start) {
      return DataLossError("block " + locator.SizedDigest() + ": a partial read gave " +
                           std::to_string(range_data_.size()) + " of " +
                           std::to_string(end - start) + " bytes");
    }
    range_block_ = e.block;
    range_start_ = start;
    ++range_reads_;
    range_bytes_ += range_data_.size();
  }
  const uint64_t n = std::min<uint64_t>(out.size(), range_start_ + range_data_.size() - at);
  std::memcpy(out.data(), range_data_.data() + (at - range_start_), n);
  return static_cast<size_t>(n);
}

Result<size_t> HandleReader::ReadAt(uint64_t offset, std::span<char> out) {
  if (offset >= size_ || out.empty()) return size_t{0};
  const bool sequential = offset == last_end_;
  if (!sequential) {
    window_ = 0;
    run_start_ = offset;
  }
  // A forward stream: from the file's start, or long enough to be no random reader.
  const bool streaming = sequential && (run_start_ == 0 || offset - run_start_ >= kStreamAfter);
  const bool stream_began = streaming && !streaming_;
  streaming_ = streaming;
  const std::vector<manifest::Locator>& blocks = collection_->manifest.blocks();
  size_t done = 0;
  size_t extent = ExtentAt(offset);
  while (done < out.size() && extent < extents_.size()) {
    const manifest::Extent& e = extents_[extent];
    if (streaming && (extent != last_extent_ || (stream_began && done == 0))) {
      // A new block under a forward reader: widen the window (1, 2, 4, ... up to the cap).
      window_ = std::min(max_window_, std::max(1, window_ * 2));
      PrefetchAfter(extent);
    }
    last_extent_ = extent;
    const uint64_t within = offset + done - starts_[extent];
    uint64_t n = std::min<uint64_t>(e.length - within, out.size() - done);
    const manifest::Locator& locator = blocks[e.block];
    const bool in_window = range_block_ == e.block && e.offset + within >= range_start_ &&
                           e.offset + within < range_start_ + range_data_.size();
    if (in_window ||
        (!streaming && blocks_->CanReadRange(locator) && !blocks_->IsCached(locator))) {
      Result<size_t> copied = ReadFromRange(extent, within, out.subspan(done, n));
      if (!copied.ok()) {
        return copied.status().WithContext("read at offset " + std::to_string(offset + done));
      }
      n = *copied;
    } else {
      Result<client::Block> block = blocks_->Get(locator);
      if (!block.ok()) {
        return block.status().WithContext("read at offset " + std::to_string(offset + done));
      }
      std::memcpy(out.data() + done, (*block)->data() + e.offset + within, n);
    }
    done += n;
    if (within + n == e.length) ++extent;
  }
  last_end_ = offset + done;
  return done;
}

}  // namespace cairn::mount
