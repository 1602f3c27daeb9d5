#include "cairn/objstore/transfer/part_hash.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cairn/common/md5_multi.h"

namespace cairn::objstore::transfer {
namespace {

// Below this many parts one serial MD5 after another is faster: a SIMD lane advances at only a
// sixteenth of the core's multi-buffer rate (~0.3 GB/s with AVX-512, against ~0.8 GB/s for
// OpenSSL's serial MD5; reference/machine-limits.md).
constexpr size_t kMinPartsForLanes = 3;

// Each range is read back this much at a time: large enough that the ReadAt calls cost nothing
// next to the hashing, small enough that 16 slices stay in the L2/L3 caches while hashed.
constexpr size_t kReadBackSlice = size_t{1} << 20;

}  // namespace

void HashPartsTogether(std::span<const std::string_view> parts, std::span<Md5Digest> out) {
  if (parts.size() < kMinPartsForLanes) {
    for (size_t i = 0; i < parts.size(); ++i) out[i] = Md5Of(parts[i]);
    return;
  }
  Md5Many(parts, out);
}

Status HashRangesTogether(const ReadAtFunction& read_at, std::string_view name,
                          std::span<const HashRange> ranges, std::span<Md5Digest> out,
                          MemoryBudget& budget, const std::atomic<bool>* cancel) {
  if (ranges.empty()) return Status();
  // A group of ranges and one slice of buffer per range, within the budget.
  size_t group = std::min(kPartsHashedTogether, ranges.size());
  size_t slice = kReadBackSlice;
  while (group * slice > budget.limit() && slice > 4096) slice /= 2;
  while (group > 1 && group * slice > budget.limit()) --group;
  slice = std::min<uint64_t>(slice, budget.limit());
  CAIRN_ASSIGN_OR_RETURN(PartBuffer buffer, budget.Acquire(group * slice, cancel));

  std::vector<std::string_view> pieces;
  std::vector<uint64_t> done;
  for (size_t start = 0; start < ranges.size(); start += group) {
    const size_t n = std::min(group, ranges.size() - start);
    std::span<const HashRange> these = ranges.subspan(start, n);
    // Fills pieces[i] with the next slice of range i (empty once it is all read); false when
    // every range is read.
    pieces.assign(n, std::string_view());
    done.assign(n, 0);
    auto next_slices = [&]() -> Result<bool> {
      if (cancel != nullptr && cancel->load(std::memory_order_acquire)) {
        return CancelledError("cancelled");
      }
      bool any = false;
      for (size_t i = 0; i < n; ++i) {
        const uint64_t left = these[i].length - done[i];
        pieces[i] = std::string_view();
        if (left == 0) continue;
        std::span<char> to(buffer.data() + i * slice, std::min<uint64_t>(slice, left));
        CAIRN_ASSIGN_OR_RETURN(size_t got, read_at(these[i].offset + done[i], to));
        if (got == 0) {
          return FailedPreconditionError(std::string(name) + " ends at byte " +
                                         std::to_string(these[i].offset + done[i]) +
                                         ", before the end of a part (did it shrink?)");
        }
        pieces[i] = std::string_view(to.data(), got);
        done[i] += got;
        any = true;
      }
      return any;
    };
    if (n < kMinPartsForLanes) {
      std::vector<PartHasher> hashers(n);
      for (;;) {
        CAIRN_ASSIGN_OR_RETURN(bool any, next_slices());
        if (!any) break;
        for (size_t i = 0; i < n; ++i) hashers[i].Update(pieces[i]);
      }
      for (size_t i = 0; i < n; ++i) out[start + i] = hashers[i].Finish();
      continue;
    }
    Md5Lanes lanes(n);
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool any, next_slices());
      if (!any) break;
      lanes.UpdateEach(pieces);
    }
    for (size_t i = 0; i < n; ++i) out[start + i] = lanes.Finish(i);
  }
  return Status();
}

}  // namespace cairn::objstore::transfer
