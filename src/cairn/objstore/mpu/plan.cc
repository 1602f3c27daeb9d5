#include "cairn/objstore/mpu/plan.h"

#include <string>

namespace cairn::objstore::mpu {

Result<PartPlan> PartPlan::Create(int workers, int max_parts) {
  if (workers < 1 || max_parts < 2 || max_parts / workers < 2) {
    return InvalidArgumentError(
        "a multipart upload of " + std::to_string(max_parts) + " parts cannot serve " +
        std::to_string(workers) +
        " workers: each needs at least two part numbers (a head slot and a regular part)");
  }
  return PartPlan(workers, max_parts / workers);
}

WorkerSlots PartPlan::Slots(int worker) const {
  const int base = worker * per_worker_ + 1;
  return WorkerSlots{.worker = worker,
                     .head_part = base,
                     .first_part = base + 1,
                     .last_part = base + per_worker_ - 1};
}

int PartPlan::OwnerOf(int part_number) const {
  if (part_number < 1 || part_number > workers_ * per_worker_) return -1;
  return (part_number - 1) / per_worker_;
}

Result<std::vector<JoinStep>> PlanJoins(const PartPlan& plan, std::span<const HeadInfo> heads,
                                        uint64_t min_part_size) {
  if (heads.size() != static_cast<size_t>(plan.workers())) {
    return InvalidArgumentError("joins need one head per worker: " + std::to_string(heads.size()) +
                                " heads for " + std::to_string(plan.workers()) + " workers");
  }
  if (min_part_size == 0) return InvalidArgumentError("the minimum part size must be positive");
  std::vector<JoinStep> steps;
  JoinStep pending;  // small heads waiting for more bytes; empty while nothing waits
  bool any_part = false;
  auto flush = [&]() {
    if (pending.workers.size() == 1) pending.kind = JoinKind::kCopy;  // one piece: server-side
    // In its last worker's head slot: if that worker has regular parts, it also put its head
    // there, and the join must replace it (RGW refuses to complete with unlisted parts).
    pending.part_number = plan.Slots(pending.workers.back()).head_part;
    steps.push_back(std::move(pending));
    pending = JoinStep{};
  };
  for (int w = 0; w < plan.workers(); ++w) {
    const HeadInfo& head = heads[w];
    if (head.has_parts && head.head_size != min_part_size) {
      return InvalidArgumentError("worker " + std::to_string(w) + " uploaded regular parts, so " +
                                  "its head piece must be " + std::to_string(min_part_size) +
                                  " bytes, not " + std::to_string(head.head_size));
    }
    if (!head.has_parts && head.head_size >= 2 * min_part_size) {
      return InvalidArgumentError("worker " + std::to_string(w) + " left a head piece of " +
                                  std::to_string(head.head_size) + " bytes and no parts; heads " +
                                  "without parts are below " + std::to_string(2 * min_part_size));
    }
    if (head.head_size > 0) {
      if (pending.workers.empty() && head.head_size >= min_part_size) {
        steps.push_back(JoinStep{.part_number = plan.Slots(w).head_part,
                                 .kind = JoinKind::kCopy,
                                 .workers = {w},
                                 .size = head.head_size});
      } else {
        if (pending.workers.empty()) pending.kind = JoinKind::kJoin;
        pending.workers.push_back(w);
        pending.size += head.head_size;
        if (pending.size >= min_part_size) flush();
      }
    }
    // A worker with parts has a head of min bytes, which either was copied or completed the
    // pending join: nothing waits when its regular parts come.
    any_part = any_part || head.has_parts;
  }
  if (!pending.workers.empty()) flush();  // the object's last part: it may be small
  if (steps.empty() && !any_part) {
    steps.push_back(JoinStep{.part_number = plan.Slots(0).head_part,
                             .kind = JoinKind::kEmpty,
                             .workers = {},
                             .size = 0});
  }
  return steps;
}

uint64_t JoinedBytes(std::span<const JoinStep> steps) {
  uint64_t total = 0;
  for (const JoinStep& step : steps) {
    if (step.kind == JoinKind::kJoin) total += step.size;
  }
  return total;
}

}  // namespace cairn::objstore::mpu
