// The part-number plan of a distributed multipart upload, and the joins that turn the workers'
// head pieces into valid parts (docs/mpu.md has the whole design).
//
// Every worker owns a contiguous range of part numbers, in worker order: first one "head slot",
// then its regular parts. A worker uploads its partition's first bytes as a head piece (a small
// temporary object) and the rest as regular parts of at least the minimum part size:
//
//   partition size n        head piece              regular parts
//   n < min                 all n bytes (maybe 0)   none
//   min <= n < 2 min        all n bytes             none
//   n >= 2 min              the first min bytes     the other n - min bytes, each part >= min
//
// so every regular part is valid wherever it lands, and only head pieces need the coordinator.
// PlanJoins walks the heads in order and makes each maximal run of them into parts: a head of at
// least min bytes with nothing pending before it is copied server-side (UploadPartCopy, no byte
// through the coordinator); small heads are gathered and joined with the following heads until
// the join reaches min bytes (the coordinator downloads and uploads those bytes only). A run
// that is followed by regular parts always ends with a head of exactly min bytes, so every join
// but the object's very last part reaches the minimum. Each join is numbered with the head slot
// of the last worker it contains (only that one can have regular parts), so the numbers ascend
// in object order, one slot per worker always suffices, and a join replaces the head a worker
// with regular parts also uploads straight to its head slot (see worker.h).
//
// Everything here is a pure function or an immutable value; thread-safe.
#ifndef CAIRN_OBJSTORE_MPU_PLAN_H_
#define CAIRN_OBJSTORE_MPU_PLAN_H_

#include <cstdint>
#include <span>
#include <vector>

#include "cairn/common/result.h"

namespace cairn::objstore::mpu {

// S3: part numbers 1..10,000.
inline constexpr int kMaxParts = 10000;
// The most workers one upload may have: each needs a head slot and at least one regular part
// slot (S3's 10,000 parts); docs/mpu.md explains why 1,000 (ten slots each) is the practical top.
inline constexpr int kMaxWorkers = kMaxParts / 2;

// The part numbers of one worker (0-based index `worker`).
struct WorkerSlots {
  int worker = 0;
  int head_part = 0;   // the slot of a join that starts with this worker's head piece
  int first_part = 0;  // regular parts: first_part..last_part
  int last_part = 0;
  int part_count() const { return last_part - first_part + 1; }
};

// Splits part numbers 1..max_parts evenly among the workers: worker i owns
// [i * per + 1, (i + 1) * per] with per = max_parts / workers.
//
// A value; thread-compatible.
class PartPlan {
 public:
  // kInvalidArgument unless 1 <= workers and max_parts / workers >= 2.
  static Result<PartPlan> Create(int workers, int max_parts = kMaxParts);

  int workers() const { return workers_; }
  int slots_per_worker() const { return per_worker_; }
  // REQUIRES: 0 <= worker < workers().
  WorkerSlots Slots(int worker) const;
  // The worker whose range holds `part_number`, or -1.
  int OwnerOf(int part_number) const;

 private:
  PartPlan(int workers, int per_worker) : workers_(workers), per_worker_(per_worker) {}
  int workers_;
  int per_worker_;
};

// What one worker left for the coordinator.
struct HeadInfo {
  uint64_t head_size = 0;  // bytes of its head piece (0: an empty partition, no piece)
  bool has_parts = false;  // whether it uploaded regular parts
};

enum class JoinKind {
  kCopy,   // UploadPartCopy of one whole head piece, server-side
  kJoin,   // the coordinator concatenates the head pieces and uploads them as one part
  kEmpty,  // every partition was empty: one empty part makes the empty object
};

// One part the coordinator makes.
struct JoinStep {
  int part_number = 0;
  JoinKind kind = JoinKind::kCopy;
  std::vector<int> workers;  // whose heads, in order (one for kCopy, none for kEmpty)
  uint64_t size = 0;
};

// The joins for these heads (one per worker, in worker order), in ascending part-number order.
// kInvalidArgument (naming the worker) when a head breaks the rules in the file comment: a worker
// with regular parts must have a head of exactly min_part_size bytes, one without parts a head
// below 2 * min_part_size.
Result<std::vector<JoinStep>> PlanJoins(const PartPlan& plan, std::span<const HeadInfo> heads,
                                        uint64_t min_part_size);

// Bytes the coordinator moves for `steps`: the sizes of the kJoin steps (each downloaded once and
// uploaded once).
uint64_t JoinedBytes(std::span<const JoinStep> steps);

}  // namespace cairn::objstore::mpu

#endif  // CAIRN_OBJSTORE_MPU_PLAN_H_
