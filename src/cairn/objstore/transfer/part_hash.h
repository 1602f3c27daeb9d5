// The one place where the transfer engine hashes part bytes (MD5: Content-MD5 and ETags).
//
// One MD5 stream is strictly serial (~1.24 ns/B per core here, reference/machine-limits.md), so
// the engine hashes parts several at a time wherever it can: HashPartsTogether runs up to 16
// parts in memory in the SIMD lanes of one core (cairn/common/md5_multi.h, ~5 GB/s with
// AVX-512), and HashRangesTogether does the same for parts of a file (an upload's source, a
// download's written file), reading them (from the page cache) a slice per lane at a time.
// PartHasher, the serial MD5, remains for bytes that arrive in order one part at a time (pipes,
// standard output, a whole-object MD5).
//
// Thread safety: PartHasher is thread-compatible (one per part); the free functions are
// thread-safe (HashRangesTogether as far as its read_at is).
#ifndef CAIRN_OBJSTORE_TRANSFER_PART_HASH_H_
#define CAIRN_OBJSTORE_TRANSFER_PART_HASH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "cairn/common/hash.h"
#include "cairn/common/result.h"
#include "cairn/objstore/transfer/memory_budget.h"

namespace cairn::objstore::transfer {

// Incremental MD5 of one part (or one object), fed in the order the bytes arrive.
class PartHasher {
 public:
  void Update(std::string_view bytes) { md5_.Update(bytes); }
  Md5Digest Finish() { return md5_.Finish(); }

 private:
  Md5 md5_;
};

inline Md5Digest HashPartBytes(std::string_view bytes) { return Md5Of(bytes); }

// Parts hashed together in one SIMD group give the most throughput per core.
inline constexpr size_t kPartsHashedTogether = 16;

// out[i] = MD5(parts[i]), the parts hashed side by side in SIMD lanes.
// REQUIRES: out.size() >= parts.size().
void HashPartsTogether(std::span<const std::string_view> parts, std::span<Md5Digest> out);

// Reads bytes at `offset` into `out` until it is full or the bytes end; returns the count (a
// ByteSource's or a ByteSink's ReadAt).
using ReadAtFunction = std::function<Result<size_t>(uint64_t offset, std::span<char> out)>;

// A byte range [offset, offset + length).
struct HashRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// out[i] = MD5 of ranges[i] of the bytes `read_at` reads (`name` names them in errors), read a
// slice at a time into a buffer from `budget` (waiting for room; `cancel` as
// MemoryBudget::Acquire) and hashed up to kPartsHashedTogether ranges side by side.
// kFailedPrecondition when the bytes end before a range does. REQUIRES: out.size() >=
// ranges.size().
Status HashRangesTogether(const ReadAtFunction& read_at, std::string_view name,
                          std::span<const HashRange> ranges, std::span<Md5Digest> out,
                          MemoryBudget& budget, const std::atomic<bool>* cancel = nullptr);

}  // namespace cairn::objstore::transfer

#endif  // CAIRN_OBJSTORE_TRANSFER_PART_HASH_H_
