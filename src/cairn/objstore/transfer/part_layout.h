// How a download can check the bytes it got against the object's ETag, and where the part
// boundaries of a multipart object lie.
//
// A plain ETag ("<32 hex>") is the MD5 of the object (single PUT, no SSE-KMS/SSE-C). A multipart
// ETag ("<32 hex>-N") is the MD5 of the N part MD5s, so checking it needs the part boundaries:
//  1. Cairn records its part schedule in the object's metadata (transfer.h);
//  2. one part: the part is the whole object;
//  3. otherwise the usual part sizes of common tools (aws CLI/boto3/CRT 8 MiB, rclone and most
//     SDKs 5 MiB, s3cmd 15 MiB, Arrow 10 MiB, s5cmd 50 MiB, S3A 64 MiB, and powers of two), each
//     also as those tools grow it to fit 10,000 parts (doubled: s3transfer's ChunksizeAdjuster;
//     size/10,000: rclone, aws-sdk-go), that give exactly N parts for the object's size.
//  4. where the store honours `HEAD ?partNumber=1` (AWS S3, MinIO; Ceph RGW 16 ignores it), the
//     first part's length it names is tried before the guesses of rule 3 (PreferPartSize).
//
// Thread safety: pure functions and values.
#ifndef CAIRN_OBJSTORE_TRANSFER_PART_LAYOUT_H_
#define CAIRN_OBJSTORE_TRANSFER_PART_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/objstore/part_size.h"
#include "cairn/objstore/s3/client.h"

namespace cairn::objstore::transfer {

struct VerificationPlan {
  enum class Kind { kNone, kWholeMd5, kPartMd5s };
  Kind kind = Kind::kNone;
  std::string expected_etag;  // lowercase, without quotes
  int part_count = 0;         // N of a multipart ETag
  // kPartMd5s: the part schedules to try, most likely first (one when from metadata).
  std::vector<PartSchedule> candidates;
  std::string source;  // "metadata", "single part", "part-number", "guessed"
  std::string reason;  // kNone: why no check can be made
};

// The plan for `info` (HEAD of the object).
VerificationPlan PlanVerification(const s3::ObjectInfo& info, const MultipartLimits& limits = {});

// Rule 4: `part1` (the reply to HEAD ?partNumber=1) names the length of the first part of a
// "guessed" plan's object. When that store's part count agrees with the ETag's, equal parts of that
// length become the first candidate and the source "part-number"; the guesses stay behind it (a
// tool may have grown its parts later on). Other plans and replies are left as they are.
void PreferPartSize(VerificationPlan* plan, const s3::ObjectInfo& part1, uint64_t object_size,
                    const MultipartLimits& limits = {});

// Part sizes that split `size` bytes into exactly `part_count` equal parts (the last shorter),
// most likely first, without duplicates (rule 3 of the file comment).
std::vector<uint64_t> GuessPartSizes(uint64_t size, int part_count,
                                     const MultipartLimits& limits = {});

// The MD5 digest an ETag's hex spells, for combining UploadPartCopy ETags; kInvalidArgument for
// anything but 32 hex digits (quotes allowed).
Result<Md5Digest> Md5FromHex(std::string_view hex);

}  // namespace cairn::objstore::transfer

#endif  // CAIRN_OBJSTORE_TRANSFER_PART_LAYOUT_H_
