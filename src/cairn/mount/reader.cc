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

Result<size_t> HandleReader::ReadAt(uint64_t offset, std::span<char> out) {
  if (offset >= size_ || out.empty()) return size_t{0};
  const bool sequential = offset == last_end_;
  if (!sequential) window_ = 0;
  const std::vector<manifest::Locator>& blocks = collection_->manifest.blocks();
  size_t done = 0;
  size_t extent = ExtentAt(offset);
  while (done < out.size() && extent < extents_.size()) {
    const manifest::Extent& e = extents_[extent];
    if (sequential && extent != last_extent_) {
      // A new block under a forward reader: widen the window (1, 2, 4, ... up to the cap).
      window_ = std::min(max_window_, std::max(1, window_ * 2));
      PrefetchAfter(extent);
    }
    last_extent_ = extent;
    const uint64_t within = offset + done - starts_[extent];
    const uint64_t n = std::min<uint64_t>(e.length - within, out.size() - done);
    Result<client::Block> block = blocks_->Get(blocks[e.block]);
    if (!block.ok()) {
      return block.status().WithContext("read at offset " + std::to_string(offset + done));
    }
    std::memcpy(out.data() + done, (*block)->data() + e.offset + within, n);
    done += n;
    if (within + n == e.length) ++extent;
  }
  last_end_ = offset + done;
  return done;
}

}  // namespace cairn::mount
