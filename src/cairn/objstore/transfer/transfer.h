// TransferEngine: whole-object transfers between local bytes and S3, and within S3, built on the
// single-request S3Client (DESIGN.md §5 "transfer").
//
// Uploads (Upload) follow a write policy:
//   kStream (default)  seekable sources (files): a batch of 16 parts is hashed first, read a
//                      slice per part at a time and MD5'd side by side in SIMD lanes
//                      (part_hash.h), then the parts are uploaded `concurrency` at a time, each
//                      sent straight from the source (pread into the HTTP client's buffer) with
//                      its MD5 as Content-MD5: no part is held in memory. Unseekable sources:
//                      parts are read in order into buffers from the memory budget, MD5'd by the
//                      reading thread, and uploaded `concurrency` at a time;
//   kSingle            one part at a time in the calling thread: one buffer, least memory;
//   kSpool             the source is read in order and each part written to an unlinked local
//                      temporary file (hashed as it is written), then uploaded from disk in
//                      parallel: an unseekable source (a pipe) becomes retry-safe with little
//                      memory.
// Inputs below one part go as one PutObject. Larger ones use multipart upload with the part size
// of part_size.h (known sizes fit 10,000 parts; unknown sizes grow the part size as parts are
// numbered), Content-MD5 on every part, each part's ETag checked against its MD5, and the final
// ETag checked against md5-of-part-md5s-N. The part size goes into the object's metadata
// (x-amz-meta-cairn-part-size, and x-amz-meta-cairn-parts-per-doubling for growing schedules), so
// downloads can verify every part. Any failure — a part that keeps failing, a source read error,
// cancellation, a bad ETag — aborts the multipart upload, checks with ListMultipartUploads that it
// is gone, and returns an error naming the object and the part.
//
// Downloads (Download) HEAD the object, then run ranged GETs in parallel, each pinned to the
// HEAD's ETag with If-Match (an object replaced mid-download is kFailedPrecondition, never a mix
// of two versions), resuming a range from where a cut or truncated reply stopped. Random-access
// sinks get each part of a multipart object received whole into a budgeted buffer; a batch of
// received parts (up to 16, as the budget allows) is MD5'd side by side in SIMD lanes and each
// part written with one call (a FileSink bypasses the page cache with O_DIRECT). Parts too large
// for the budget are written as they arrive and read back in batches to be hashed. Objects with
// a whole-object MD5, and sequential sinks (standard output), go through a reorder window of
// budgeted buffers, hashed in order. Verification, then: the whole-object MD5
// when the ETag is one; for multipart ETags the MD5 of each part's range combined into
// md5-of-part-md5s-N, with part boundaries from Cairn's metadata, else from the usual part sizes
// of common tools that fit N and the size (checked one after another on the written file). A
// mismatch is kDataLoss and the sink is abandoned (a file is never renamed into place); a check
// that cannot be made is reported in the result, not failed.
//
// Copies (Copy) are server-side: CopyObject up to 5 GiB, UploadPartCopy in parallel above.
//
// Thread safety: every method may be called concurrently (e.g. several files of a recursive copy
// in flight); they share the engine's thread pool and memory budget. Ownership: the S3Client and
// the Env are not owned and must outlive the engine; sources and sinks are borrowed per call.
#ifndef CAIRN_OBJSTORE_TRANSFER_TRANSFER_H_
#define CAIRN_OBJSTORE_TRANSFER_TRANSFER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/common/thread_pool.h"
#include "cairn/io/env.h"
#include "cairn/objstore/part_size.h"
#include "cairn/objstore/retry.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/objstore/transfer/byte_io.h"
#include "cairn/objstore/transfer/memory_budget.h"

namespace cairn::objstore::transfer {

enum class WritePolicy { kStream, kSingle, kSpool };

// "stream", "single", "spool" (and back); kInvalidArgument for other names.
Result<WritePolicy> ParseWritePolicy(std::string_view name);
std::string_view WritePolicyName(WritePolicy policy);

// Metadata names (x-amz-meta-…) under which uploads record their part schedule.
inline constexpr char kPartSizeMetadata[] = "cairn-part-size";
inline constexpr char kPartsPerDoublingMetadata[] = "cairn-parts-per-doubling";

// Called with the bytes done so far and the total (0 when unknown), from any engine thread;
// must be thread-safe and quick.
using ProgressFunction = std::function<void(uint64_t done, uint64_t total)>;

struct TransferOptions {
  // Preferred part size (rounded up to 1 MiB; grown as needed to fit the part limit). 8 MiB is
  // the aws CLI's and the AWS CRT's default and the size S3's performance guide recommends.
  uint64_t part_size = 8 * kMiB;
  // Parts in flight per engine (threads of its pool).
  int concurrency = 8;
  WritePolicy policy = WritePolicy::kStream;
  // Limit of all part buffers of the engine. Downloads of multipart objects fill it (8 parts of
  // 8 MiB arriving, 16 waiting to be hashed as one batch: all 16 AVX-512 lanes busy, where 8
  // waiting parts left half of them idle and cost ~0.15 CPU s/GiB more); uploads of files need
  // only a 16 MiB hashing window; pipes hold `concurrency` parts. A 2 GiB download keeps the
  // process near 220 MiB of RSS, under 256 MiB. Raised to two parts when a part alone would not
  // fit (parts of huge objects).
  uint64_t memory_bytes = 192 * kMiB;
  // Where kSpool puts its part files ("" → $TMPDIR, else /tmp).
  std::string spool_dir;
  // Objects up to this size are copied with one CopyObject (S3: at most 5 GiB); larger ones with
  // UploadPartCopy in parts of copy_part_size (grown to fit the part limit).
  uint64_t max_single_copy_size = 5 * kGiB;
  uint64_t copy_part_size = 512 * kMiB;
  MultipartLimits limits;
  // Retries of ranged GETs that were cut short or truncated (the S3Client retries requests that
  // delivered nothing itself).
  RetryOptions download_retry;
  // Polled between parts and while waiting for memory; true stops the transfer (kCancelled, and
  // an upload is aborted). May be null. Not owned.
  const std::atomic<bool>* cancel = nullptr;
};

// Per-object settings of an upload.
struct ObjectOptions {
  std::string content_type;
  std::map<std::string, std::string> metadata;  // x-amz-meta-<name>
};

struct UploadResult {
  uint64_t bytes = 0;
  int parts = 0;  // 0 for a single PutObject
  uint64_t part_size = 0;
  std::string etag;
  // How the stored object was checked: "md5" (single PUT: ETag == MD5 of the bytes) or
  // "multipart-etag" (every part's ETag and the final md5-of-part-md5s-N).
  std::string verified;
};

struct DownloadResult {
  uint64_t bytes = 0;
  std::string etag;
  int ranges = 0;          // ranged GETs made (the first of each range; resumes not counted)
  uint64_t part_size = 0;  // of the verification, for multipart objects
  // "md5" (whole-object MD5 == ETag), "part-md5s" (md5-of-part-md5s-N == ETag), or "" when no
  // check could be made; then `unverified_reason` says why.
  std::string verified;
  std::string part_size_source;  // "metadata", "single part", "part-number", "guessed"
  std::string unverified_reason;
};

struct CopyResult {
  uint64_t bytes = 0;
  int parts = 0;  // 0 for a single CopyObject
  std::string etag;
  std::string verified;  // "etag" (same as the source's), "multipart-etag", or ""
};

class TransferEngine {
 public:
  // `client` and `env` are not owned. kInvalidArgument for options out of range.
  static Result<std::unique_ptr<TransferEngine>> Create(s3::S3Client* client, io::Env* env,
                                                        TransferOptions options = {});
  ~TransferEngine();
  TransferEngine(const TransferEngine&) = delete;
  TransferEngine& operator=(const TransferEngine&) = delete;

  Result<UploadResult> Upload(ByteSource& source, std::string_view bucket, std::string_view key,
                              const ObjectOptions& object = {},
                              const ProgressFunction& progress = nullptr);

  Result<DownloadResult> Download(std::string_view bucket, std::string_view key, ByteSink& sink,
                                  const ProgressFunction& progress = nullptr);

  Result<CopyResult> Copy(std::string_view source_bucket, std::string_view source_key,
                          std::string_view bucket, std::string_view key,
                          const ProgressFunction& progress = nullptr);

  const TransferOptions& options() const { return options_; }
  MemoryBudget& budget() { return budget_; }

 private:
  class PartsInFlight;  // upload.cc
  struct Range;         // download.cc
  TransferEngine(s3::S3Client* client, io::Env* env, TransferOptions options,
                 std::unique_ptr<ThreadPool> pool);

  bool cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_acquire);
  }
  // Aborts an upload and checks that the store no longer lists it; returns what to append to the
  // error message ("; the multipart upload was aborted" or why it may not have been).
  std::string AbortAndCheck(std::string_view bucket, std::string_view key,
                            std::string_view upload_id);
  // CompleteMultipartUpload, checked: the store's ETag must be `expected`. A reply that was lost
  // or unreadable (a 2xx cut short) is retried; a retry that finds the upload gone (NoSuchUpload:
  // the lost reply had completed it) is settled by the object's HEAD ETag.
  Result<std::string> Complete(std::string_view bucket, std::string_view key,
                               std::string_view upload_id, std::span<const s3::CompletedPart> parts,
                               const std::string& expected);
  // CreateMultipartUpload, sent again while its reply is unreadable. (An upload whose reply was
  // lost cannot be named, so it cannot be aborted: stores clean those up with a lifecycle rule,
  // AbortIncompleteMultipartUpload.)
  Result<std::string> Create(std::string_view bucket, std::string_view key,
                             const s3::PutOptions& options);
  // Download helpers (download.cc). FetchRange GETs [offset, offset + length) pinned to `etag`,
  // handing each piece and its object offset to `piece` in order, exactly once, resuming after
  // cut or truncated replies. With `into` (room for the whole range), the HTTP client may receive
  // the bytes straight there; the pieces then already lie at into + (their offset - offset).
  Status FetchRange(std::string_view bucket, std::string_view key, const std::string& etag,
                    uint64_t offset, uint64_t length,
                    const std::function<Status(std::string_view, uint64_t)>& piece,
                    char* into = nullptr);

  s3::S3Client* const client_;
  io::Env* const env_;
  const TransferOptions options_;
  std::unique_ptr<ThreadPool> pool_;
  MemoryBudget budget_;
  RetryPolicy download_retry_;
  // Set once the store answered HEAD ?partNumber=1 for the whole object (Ceph RGW 16).
  std::atomic<bool> part_number_ignored_{false};
  SeededRandom random_;
};

}  // namespace cairn::objstore::transfer

#endif  // CAIRN_OBJSTORE_TRANSFER_TRANSFER_H_
