#include "cairn/objstore/transfer/part_layout.h"

#include <algorithm>
#include <cstdlib>

#include "cairn/common/text.h"
#include "cairn/objstore/transfer/transfer.h"

namespace cairn::objstore::transfer {
namespace {

uint64_t CeilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

std::vector<uint64_t> GuessPartSizes(uint64_t size, int part_count, const MultipartLimits& limits) {
  std::vector<uint64_t> out;
  if (part_count < 1) return out;
  auto fits = [&](uint64_t p) {
    return p > 0 && p <= limits.max_part_size && CeilDiv(size, p) == uint64_t(part_count);
  };
  auto add = [&](uint64_t p) {
    if (fits(p) && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  if (part_count == 1) {
    add(std::max<uint64_t>(size, 1));
    return out;
  }
  // Defaults of common tools, most used first (see the header).
  constexpr uint64_t kDefaults[] = {8 * kMiB,   5 * kMiB,   15 * kMiB, 16 * kMiB,  10 * kMiB,
                                    50 * kMiB,  64 * kMiB,  32 * kMiB, 100 * kMiB, 128 * kMiB,
                                    256 * kMiB, 512 * kMiB, 1 * kGiB,  25 * kMiB};
  for (uint64_t base : kDefaults) add(base);
  // Grown to fit the part limit: doubled until it fits (s3transfer), or size / max parts rounded
  // up to 1 MiB (Cairn, rclone) or not rounded (aws-sdk-go).
  for (uint64_t base : kDefaults) {
    uint64_t p = base;
    while (CeilDiv(size, p) > uint64_t(limits.max_parts) && p < limits.max_part_size) p *= 2;
    add(p);
  }
  add(CeilDiv(CeilDiv(size, uint64_t(limits.max_parts)), kMiB) * kMiB);
  add(CeilDiv(size, uint64_t(part_count)));
  add(CeilDiv(CeilDiv(size, uint64_t(part_count)), kMiB) * kMiB);
  return out;
}

VerificationPlan PlanVerification(const s3::ObjectInfo& info, const MultipartLimits& limits) {
  VerificationPlan plan;
  Result<ParsedEtag> parsed = ParseEtag(info.etag);
  if (!parsed.ok()) {
    plan.reason = "the ETag \"" + info.etag + "\" is not an MD5 (encrypted or foreign store?)";
    return plan;
  }
  plan.expected_etag = Lower(info.etag);
  if (parsed->part_count == 0) {
    plan.kind = VerificationPlan::Kind::kWholeMd5;
    return plan;
  }
  plan.part_count = parsed->part_count;
  // Recorded by Cairn.
  auto meta = info.metadata.find(kPartSizeMetadata);
  if (meta != info.metadata.end()) {
    std::optional<uint64_t> first = ParseDecimal(meta->second);
    int per_doubling = limits.max_parts + 1;
    auto doubling = info.metadata.find(kPartsPerDoublingMetadata);
    if (doubling != info.metadata.end()) {
      std::optional<uint64_t> d = ParseDecimal(doubling->second);
      if (d && *d >= 1 && *d <= uint64_t(limits.max_parts) + 1) per_doubling = int(*d);
    }
    if (first) {
      MultipartLimits relaxed = limits;
      relaxed.min_part_size = 1;  // a recorded size below S3's minimum is still a boundary
      Result<PartSchedule> schedule = PartSchedule::Create(*first, per_doubling, relaxed);
      if (schedule.ok() && schedule->PartCount(info.size) == plan.part_count) {
        plan.kind = VerificationPlan::Kind::kPartMd5s;
        plan.candidates.push_back(*schedule);
        plan.source = "metadata";
        return plan;
      }
    }
  }
  MultipartLimits relaxed = limits;
  relaxed.min_part_size = 1;
  relaxed.max_object_size = std::max(limits.max_object_size, info.size);
  for (uint64_t p : GuessPartSizes(info.size, plan.part_count, limits)) {
    Result<PartSchedule> schedule = PartSchedule::Create(p, limits.max_parts + 1, relaxed);
    if (schedule.ok()) plan.candidates.push_back(*schedule);
  }
  if (plan.candidates.empty()) {
    plan.reason = "no usual part size splits " + std::to_string(info.size) + " bytes into " +
                  std::to_string(plan.part_count) + " parts";
    return plan;
  }
  plan.kind = VerificationPlan::Kind::kPartMd5s;
  plan.source = plan.part_count == 1 ? "single part" : "guessed";
  return plan;
}

void PreferPartSize(VerificationPlan* plan, const s3::ObjectInfo& part1, uint64_t object_size,
                    const MultipartLimits& limits) {
  if (plan->kind != VerificationPlan::Kind::kPartMd5s || plan->source != "guessed") return;
  if (part1.parts_count != plan->part_count || part1.part_length == 0) return;
  const uint64_t p = part1.part_length;
  if (CeilDiv(object_size, p) != uint64_t(plan->part_count)) return;
  MultipartLimits relaxed = limits;
  relaxed.min_part_size = 1;
  relaxed.max_part_size = std::max(limits.max_part_size, p);
  relaxed.max_object_size = std::max(limits.max_object_size, object_size);
  Result<PartSchedule> schedule = PartSchedule::Create(p, limits.max_parts + 1, relaxed);
  if (!schedule.ok()) return;
  std::erase_if(plan->candidates, [p](const PartSchedule& c) { return c.first_part_size() == p; });
  plan->candidates.insert(plan->candidates.begin(), *schedule);
  plan->source = "part-number";
}

Result<Md5Digest> Md5FromHex(std::string_view hex) {
  if (hex.size() == 34 && hex.front() == '"' && hex.back() == '"') hex = hex.substr(1, 32);
  if (hex.size() != 32) return InvalidArgumentError("not an MD5: " + std::string(hex));
  Md5Digest d{};
  for (size_t i = 0; i < 16; ++i) {
    int v = 0;
    for (size_t j = 0; j < 2; ++j) {
      char c = hex[2 * i + j];
      int x = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (x < 0) return InvalidArgumentError("not an MD5: " + std::string(hex));
      v = v * 16 + x;
    }
    d[i] = static_cast<uint8_t>(v);
  }
  return d;
}

}  // namespace cairn::objstore::transfer
