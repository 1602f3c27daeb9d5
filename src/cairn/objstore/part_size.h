// Multipart upload geometry: how big each part is, so that any object up to the store's maximum
// fits in its part-count limit, and the multipart ETag that S3 derives from the parts.
//
//   CAIRN_ASSIGN_OR_RETURN(PartSchedule schedule,
//                          ChoosePartSchedule(size_if_known, options.part_size));
//   for (int part = 1; !source.eof(); ++part) UploadPart(part, schedule.PartSize(part));
//   ...
//   CAIRN_ASSIGN_OR_RETURN(ParsedEtag got, ParseEtag(complete_reply.etag));
//   if (got.md5_hex + "-" + std::to_string(got.part_count) != MultipartEtag(part_md5s)) ...
//
// Known size: every part (but the last) has one size, the smallest multiple of 1 MiB at least the
// preferred size that fits the object in the part limit (rclone, DuckDB and aws-sdk-go size parts
// this way: max(preferred, size / max_parts)).
//
// Unknown size (a pipe, stdin): the part size starts at the preferred size and doubles every N
// parts, up to the maximum part size, where N is the largest interval that still lets the parts
// add up to the maximum object size within the part limit. So small streams use small parts (and
// little memory), and a stream of any allowed size still fits. rclone's alternative, one fixed
// chunk size, limits a stream to chunk × 10,000 (48.8 GiB with 5 MiB chunks); goofys grows parts
// in fixed steps regardless of where it started. Deriving N from the starting size makes every
// preferred size reach the limit and keeps the sizes small for as long as the limit allows.
// Doubling keeps every size a multiple of the first (and of 1 MiB). Stores that need equal parts
// (Cloudflare R2) cannot take a growing schedule; that is a store capability for the transfer code.
//
// Thread safety: everything here is a pure function or an immutable value.
#ifndef CAIRN_OBJSTORE_PART_SIZE_H_
#define CAIRN_OBJSTORE_PART_SIZE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cairn/common/hash.h"
#include "cairn/common/result.h"

namespace cairn::objstore {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;
inline constexpr uint64_t kTiB = uint64_t{1} << 40;

// A store's multipart limits. The defaults are Amazon S3's
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html): parts of 5 MiB to 5 GiB
// (the last part may be smaller), part numbers 1 to 10,000, objects up to 5 TiB. AWS now documents
// 48.8 TiB (10,000 × 5 GiB) for S3 itself, but most S3-compatible stores (and older S3 docs) say
// 5 TiB, so 5 TiB is the portable limit. Other stores differ: Swift's s3api allows 1,000 parts,
// Storj wants 64 MiB parts (reference/object-store-clients.md §4); pass their limits instead.
struct MultipartLimits {
  uint64_t min_part_size = 5 * kMiB;
  uint64_t max_part_size = 5 * kGiB;
  int max_parts = 10'000;
  uint64_t max_object_size = 5 * kTiB;
};

// The size of every part of one multipart upload: first_part_size() for parts
// 1..parts_per_doubling(), twice that for the next parts_per_doubling() parts, and so on, never
// above the maximum part size. A schedule for a known size never doubles
// (parts_per_doubling() == max_parts).
//
// A value; thread-compatible.
class PartSchedule {
 public:
  // A schedule from its two numbers (as recorded with an object, to find its part boundaries when
  // reading it back). kInvalidArgument unless limits.min_part_size <= first_part_size <=
  // limits.max_part_size and 1 <= parts_per_doubling, or when the limits themselves are
  // inconsistent. parts_per_doubling above limits.max_parts means "never doubles".
  static Result<PartSchedule> Create(uint64_t first_part_size, int parts_per_doubling,
                                     const MultipartLimits& limits = {});

  // Size of part `part_number` (1-based, as S3 numbers parts); 0 outside 1..max_parts.
  uint64_t PartSize(int part_number) const;
  // Bytes before part `part_number`: where it starts in the object. For 1..max_parts + 1 (the
  // latter gives the schedule's total capacity); 0 below 1.
  uint64_t PartOffset(int part_number) const;
  // Parts an object of `object_size` bytes takes (the last one possibly short); 1 for an empty
  // object (a multipart upload has at least one part); 0 when it is above MaxObjectSize().
  int PartCount(uint64_t object_size) const;
  // The largest object this schedule can upload: the sum of all max_parts parts, but no more than
  // the limits' max_object_size.
  uint64_t MaxObjectSize() const;

  uint64_t first_part_size() const { return first_part_size_; }
  int parts_per_doubling() const { return parts_per_doubling_; }
  const MultipartLimits& limits() const { return limits_; }

 private:
  PartSchedule(uint64_t first_part_size, int parts_per_doubling, const MultipartLimits& limits)
      : first_part_size_(first_part_size),
        parts_per_doubling_(parts_per_doubling),
        limits_(limits) {}

  uint64_t first_part_size_;
  int parts_per_doubling_;
  MultipartLimits limits_;
};

// The part schedule for an object of `object_size` bytes, or of unknown size (nullopt), given the
// part size the user prefers (rounded up to a multiple of 1 MiB). See the file comment.
// kInvalidArgument, naming the numbers, when the preferred size is outside the limits' part sizes,
// the object is larger than max_object_size, or (for an unknown size, with unusual limits) no
// doubling interval reaches max_object_size.
Result<PartSchedule> ChoosePartSchedule(std::optional<uint64_t> object_size,
                                        uint64_t preferred_part_size,
                                        const MultipartLimits& limits = {});

// The size of the first part of ChoosePartSchedule(...): the part size for a known object size.
Result<uint64_t> ChoosePartSize(std::optional<uint64_t> object_size, uint64_t preferred_part_size,
                                const MultipartLimits& limits = {});

// S3's ETag for an object completed from parts with these MD5s, in part order, without quotes:
// lowercase hex of MD5(md5(part 1) ‖ … ‖ md5(part N)) (the raw 16-byte digests concatenated),
// then "-N". De facto stable on AWS, RGW and MinIO, though AWS documents it only as "not an MD5 of
// the data"; it does not hold under SSE-KMS or SSE-C.
std::string MultipartEtag(std::span<const Md5Digest> part_md5s);

struct ParsedEtag {
  std::string md5_hex;  // 32 lowercase hex digits
  int part_count = 0;   // N of a multipart "…-N" ETag; 0 for a single-part one
};

// Splits an ETag as S3 sends it ("\"<32 hex>\"" or "\"<32 hex>-N\"", the quotes optional) into its
// hex and part count, to verify a download against it. kInvalidArgument for anything else (weak
// "W/" ETags, other lengths, N of 0 or with leading zeros); note that a well-formed single-part
// ETag is still not an MD5 of the data under SSE-KMS or SSE-C.
Result<ParsedEtag> ParseEtag(std::string_view etag);

}  // namespace cairn::objstore

#endif  // CAIRN_OBJSTORE_PART_SIZE_H_
