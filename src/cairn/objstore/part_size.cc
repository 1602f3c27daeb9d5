#include "cairn/objstore/part_size.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "cairn/common/text.h"

namespace cairn::objstore {

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Saturating arithmetic: sums of part sizes stay far below 2^64 with real limits, but odd limits
// (a test's, a misconfigured store's) must not wrap around into a plausible small number.
uint64_t AddSat(uint64_t a, uint64_t b) {
  uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? kMax : sum;
}
uint64_t MulSat(uint64_t a, uint64_t b) {
  uint64_t product;
  return __builtin_mul_overflow(a, b, &product) ? kMax : product;
}

uint64_t RoundUpToMiB(uint64_t bytes) {
  if (bytes > kMax - (kMiB - 1)) return kMax;
  return (bytes + kMiB - 1) / kMiB * kMiB;
}

// "5497558138880 bytes (5 TiB)": the exact count, and the binary unit when it is a whole one.
std::string DescribeBytes(uint64_t bytes) {
  std::string text = std::to_string(bytes) + " bytes";
  for (auto [unit, name] : {std::pair{kTiB, " TiB"}, {kGiB, " GiB"}, {kMiB, " MiB"}}) {
    if (bytes >= unit && bytes % unit == 0) {
      return text + " (" + std::to_string(bytes / unit) + name + ")";
    }
  }
  return text;
}

// first * 2^doublings, but at most `max`.
uint64_t DoubledSize(uint64_t first, uint64_t doublings, uint64_t max) {
  if (doublings >= 64 || first > (max >> doublings)) return max;
  return first << doublings;
}

// Sum of the sizes of parts 1..parts of a schedule.
uint64_t SumOfFirstParts(uint64_t first, int per_doubling, uint64_t max_part, int parts) {
  uint64_t total = 0;
  uint64_t group = 0;
  while (parts > 0) {
    const uint64_t size = DoubledSize(first, group, max_part);
    if (size == max_part) return AddSat(total, MulSat(static_cast<uint64_t>(parts), size));
    const int n = std::min(per_doubling, parts);
    total = AddSat(total, MulSat(static_cast<uint64_t>(n), size));
    parts -= n;
    ++group;
  }
  return total;
}

Status CheckLimits(const MultipartLimits& limits) {
  if (limits.min_part_size == 0 || limits.min_part_size > limits.max_part_size ||
      limits.max_parts < 1 || limits.max_object_size == 0) {
    return InvalidArgumentError(
        "multipart limits are inconsistent: parts of " + DescribeBytes(limits.min_part_size) +
        " to " + DescribeBytes(limits.max_part_size) + ", " + std::to_string(limits.max_parts) +
        " parts, objects up to " + DescribeBytes(limits.max_object_size));
  }
  return Status::OK();
}

Status CheckPartSize(std::string_view what, uint64_t size, const MultipartLimits& limits) {
  if (size < limits.min_part_size || size > limits.max_part_size) {
    return InvalidArgumentError(
        std::string(what) + " of " + DescribeBytes(size) + " is outside the allowed part sizes, " +
        DescribeBytes(limits.min_part_size) + " to " + DescribeBytes(limits.max_part_size));
  }
  return Status::OK();
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

Result<PartSchedule> PartSchedule::Create(uint64_t first_part_size, int parts_per_doubling,
                                          const MultipartLimits& limits) {
  CAIRN_RETURN_IF_ERROR(CheckLimits(limits));
  CAIRN_RETURN_IF_ERROR(CheckPartSize("first part size", first_part_size, limits));
  if (parts_per_doubling < 1) {
    return InvalidArgumentError("parts per doubling of the part size must be at least 1, not " +
                                std::to_string(parts_per_doubling));
  }
  return PartSchedule(first_part_size, std::min(parts_per_doubling, limits.max_parts), limits);
}

uint64_t PartSchedule::PartSize(int part_number) const {
  if (part_number < 1 || part_number > limits_.max_parts) return 0;
  return DoubledSize(first_part_size_,
                     static_cast<uint64_t>((part_number - 1) / parts_per_doubling_),
                     limits_.max_part_size);
}

uint64_t PartSchedule::PartOffset(int part_number) const {
  if (part_number <= 1) return 0;
  const int before = std::min(part_number - 1, limits_.max_parts);
  return SumOfFirstParts(first_part_size_, parts_per_doubling_, limits_.max_part_size, before);
}

int PartSchedule::PartCount(uint64_t object_size) const {
  if (object_size > MaxObjectSize()) return 0;
  if (object_size == 0) return 1;
  // Walk whole groups of equal parts, then divide within the group where the object ends.
  uint64_t offset = 0;
  int parts = 0;
  for (uint64_t group = 0; parts < limits_.max_parts; ++group) {
    const uint64_t size = DoubledSize(first_part_size_, group, limits_.max_part_size);
    const int n = size == limits_.max_part_size
                      ? limits_.max_parts - parts
                      : std::min(parts_per_doubling_, limits_.max_parts - parts);
    const uint64_t group_bytes = MulSat(static_cast<uint64_t>(n), size);
    if (object_size - offset <= group_bytes) {
      return parts + static_cast<int>((object_size - offset + size - 1) / size);
    }
    offset += group_bytes;
    parts += n;
  }
  return 0;  // unreachable: object_size <= MaxObjectSize() fits in max_parts parts
}

uint64_t PartSchedule::MaxObjectSize() const {
  return std::min(PartOffset(limits_.max_parts + 1), limits_.max_object_size);
}

Result<PartSchedule> ChoosePartSchedule(std::optional<uint64_t> object_size,
                                        uint64_t preferred_part_size,
                                        const MultipartLimits& limits) {
  CAIRN_RETURN_IF_ERROR(CheckLimits(limits));
  CAIRN_RETURN_IF_ERROR(CheckPartSize("preferred part size", preferred_part_size, limits));
  // Whole MiB keep part boundaries easy to guess when an object's schedule was not recorded. A
  // store whose maximum is not a whole MiB gets its maximum.
  const uint64_t preferred = std::min(RoundUpToMiB(preferred_part_size), limits.max_part_size);
  const uint64_t max_parts = static_cast<uint64_t>(limits.max_parts);

  if (object_size.has_value()) {
    if (*object_size > limits.max_object_size) {
      return InvalidArgumentError("object of " + DescribeBytes(*object_size) +
                                  " is larger than the maximum object size of " +
                                  DescribeBytes(limits.max_object_size));
    }
    const uint64_t needed =
        RoundUpToMiB(*object_size / max_parts + (*object_size % max_parts != 0));
    const uint64_t part = std::min(std::max(preferred, needed), limits.max_part_size);
    if (MulSat(part, max_parts) < *object_size) {
      return InvalidArgumentError("object of " + DescribeBytes(*object_size) + " does not fit in " +
                                  std::to_string(max_parts) + " parts of at most " +
                                  DescribeBytes(limits.max_part_size));
    }
    return PartSchedule::Create(part, limits.max_parts, limits);
  }

  // Unknown size: the largest doubling interval whose parts still add up to the maximum object
  // size. Capacity only shrinks as the interval grows, so binary search finds it.
  auto capacity = [&](int per_doubling) {
    return SumOfFirstParts(preferred, per_doubling, limits.max_part_size, limits.max_parts);
  };
  if (capacity(1) < limits.max_object_size) {
    return InvalidArgumentError("parts starting at " + DescribeBytes(preferred) +
                                " cannot reach the maximum object size of " +
                                DescribeBytes(limits.max_object_size) + " within " +
                                std::to_string(max_parts) + " parts; use a larger part size");
  }
  int lo = 1;                 // capacity(lo) >= max_object_size
  int hi = limits.max_parts;  // the answer is in [lo, hi]
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    if (capacity(mid) >= limits.max_object_size) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return PartSchedule::Create(preferred, lo, limits);
}

Result<uint64_t> ChoosePartSize(std::optional<uint64_t> object_size, uint64_t preferred_part_size,
                                const MultipartLimits& limits) {
  CAIRN_ASSIGN_OR_RETURN(PartSchedule schedule,
                         ChoosePartSchedule(object_size, preferred_part_size, limits));
  return schedule.first_part_size();
}

std::string MultipartEtag(std::span<const Md5Digest> part_md5s) {
  Md5 md5;
  for (const Md5Digest& digest : part_md5s) md5.Update(digest.data(), digest.size());
  std::string etag = HexEncode(md5.Finish());
  etag += '-';
  etag += std::to_string(part_md5s.size());
  return etag;
}

Result<ParsedEtag> ParseEtag(std::string_view etag) {
  auto invalid = [&] {
    return InvalidArgumentError("ETag " + QuoteForMessage(etag) +
                                " is not an S3 ETag (32 hex digits, then -N for N parts)");
  };
  std::string_view text = etag;
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.size() < 32 || !std::all_of(text.begin(), text.begin() + 32, IsHexDigit)) {
    return invalid();
  }
  ParsedEtag parsed;
  parsed.md5_hex.reserve(32);
  for (char c : text.substr(0, 32)) {
    parsed.md5_hex += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view suffix = text.substr(32);
  if (suffix.empty()) return parsed;
  // "-N": N from 1, no leading zero, at most 9 digits so it fits an int (S3 allows 10,000).
  if (suffix.size() < 2 || suffix.size() > 10 || suffix[0] != '-' || suffix[1] == '0') {
    return invalid();
  }
  int count = 0;
  for (char c : suffix.substr(1)) {
    if (c < '0' || c > '9') return invalid();
    count = count * 10 + (c - '0');
  }
  parsed.part_count = count;
  return parsed;
}

}  // namespace cairn::objstore
