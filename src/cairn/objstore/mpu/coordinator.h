// The coordinator's side of a distributed multipart upload: begin (create the upload and the
// session), complete (gather receipts, resolve repeated workers, check every piece against the
// store, join the head pieces, complete, check the final ETag), abort, and status.
//
//   CAIRN_ASSIGN_OR_RETURN(Session session, Begin(client, env, {.bucket = "b", .key = "k",
//                                                               .workers = 8}));
//   ... every worker runs UploadPartition and hands back its receipt ...
//   Coordinator coordinator(client, env, session);
//   CAIRN_ASSIGN_OR_RETURN(CompleteResult done, coordinator.Complete(poll, {}));
//
// Any failure of Complete (a failed worker, a receipt missing at the deadline, a piece that does
// not match the store, a Complete that fails or times out) aborts the upload, deletes the head
// pieces and checks that ListMultipartUploads no longer lists the upload; the message names the
// worker and says what was cleaned up.
//
// Thread safety: a Coordinator is used by one thread. It does not own the client or the Env,
// which must outlive it.
#ifndef CAIRN_OBJSTORE_MPU_COORDINATOR_H_
#define CAIRN_OBJSTORE_MPU_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/io/env.h"
#include "cairn/objstore/mpu/plan.h"
#include "cairn/objstore/mpu/session.h"
#include "cairn/objstore/part_size.h"
#include "cairn/objstore/s3/client.h"

namespace cairn::objstore::mpu {

struct BeginOptions {
  std::string bucket;
  std::string key;
  int workers = 1;
  int64_t deadline_seconds = 24 * 3600;  // from now
  bool presign = false;                  // presigned URLs per worker (deadline <= 7 days)
  uint64_t part_size = 8 * kMiB;         // preferred regular part size
  uint64_t min_part_size = 5 * kMiB;     // S3: parts other than the last are at least 5 MiB
  int max_parts = kMaxParts;
  std::string content_type;
};

// Starts the multipart upload and returns its session. Errors: kInvalidArgument for options no
// plan can serve; the store's errors.
Result<Session> Begin(s3::S3Client* client, io::Env* env, const BeginOptions& options);

// What the coordinator did.
struct CompleteResult {
  std::string etag;  // the object's multipart ETag, checked against the parts' MD5s
  uint64_t size = 0;
  int parts = 0;               // in the completed object
  int copied_parts = 0;        // heads copied server-side (UploadPartCopy)
  int direct_heads = 0;        // heads the workers also uploaded to their head slots (no copy)
  int joined_parts = 0;        // parts the coordinator assembled from small pieces
  uint64_t joined_bytes = 0;   // bytes the coordinator downloaded (and uploaded again)
  int duplicate_receipts = 0;  // receipts of repeated worker runs that were set aside
};

// The receipts there are now (parsed), and how many receipt files could not be read yet (a
// worker still writing its receipt, or one that died half-way).
struct ReceiptBatch {
  std::vector<Receipt> receipts;
  std::vector<std::string> unreadable;  // "path: why", for the message at the deadline
};
using ReceiptPoller = std::function<Result<ReceiptBatch>()>;

struct CompleteOptions {
  // Poll for receipts until every worker has one or the deadline passes (a receipts directory);
  // otherwise use what the first poll returns (receipt files named on the command line) and, when
  // some are missing before the deadline, fail without aborting so complete can be run again.
  bool wait = true;
  int64_t poll_interval_micros = 1'000'000;
};

// The state of an upload, for `cairn mpu status`.
struct UploadStatus {
  enum class State { kInProgress, kCompleted, kGone };
  State state = State::kInProgress;
  std::string etag;   // kCompleted: the object's
  uint64_t size = 0;  // kCompleted: the object's
  // kInProgress: per worker, the regular parts in the store and their bytes, and whether its
  // head piece is there.
  std::vector<int> worker_parts;
  std::vector<uint64_t> worker_bytes;
  std::vector<bool> worker_head;
  int64_t seconds_left = 0;  // until the deadline (negative: past)
};

class Coordinator {
 public:
  Coordinator(s3::S3Client* client, io::Env* env, Session session);

  Result<CompleteResult> Complete(const ReceiptPoller& poll, const CompleteOptions& options);

  // Aborts the upload, deletes the head pieces and checks that the store lists the upload no
  // more. Returns a one-line account of what was done; kNotFound is not an error (already gone).
  Result<std::string> Abort();

  Result<UploadStatus> Query();

 private:
  // One receipt per worker (repeated runs resolved against the store), or an error naming the
  // worker; *duplicates counts the receipts set aside.
  Result<std::vector<Receipt>> Resolve(const std::vector<Receipt>& receipts, int* duplicates);
  Result<std::vector<s3::PartSummary>> ListAllParts();
  Status CheckReceipt(const Receipt& receipt, const std::vector<s3::PartSummary>& stored);
  Result<std::string> Join(const JoinStep& step, const std::vector<Receipt>& chosen,
                           Md5Digest* md5);
  Result<CompleteResult> CompleteWith(const std::vector<Receipt>& chosen);
  Result<std::string> FinishComplete(std::span<const s3::CompletedPart> parts,
                                     const std::string& expected);
  // Abort + cleanup, with `status` as the reason; returns `status` extended with the account.
  Status Fail(const Status& status);
  Result<int> DeleteHeads();

  s3::S3Client* const client_;
  io::Env* const env_;
  const Session session_;
  const PartPlan plan_;
  const std::string what_;
};

}  // namespace cairn::objstore::mpu

#endif  // CAIRN_OBJSTORE_MPU_COORDINATOR_H_
