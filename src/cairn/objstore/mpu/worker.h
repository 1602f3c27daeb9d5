// A worker's side of a distributed multipart upload: stream one partition, cut it into the head
// piece and regular parts (plan.h), hash the parts it reads (in SIMD lanes, a batch at a time),
// upload with Content-MD5, retry transient failures, and return the receipt.
//
//   ClientPartTarget target(client, session, worker);         // the worker's own credentials
//   PresignedPartTarget target(http, env, session, worker);   // or only the session's URLs
//   CAIRN_ASSIGN_OR_RETURN(Receipt receipt,
//                          UploadPartition(session, worker, reader, size, &target, env, {}));
//
// Memory: about (concurrency + 3) x part size (parts in flight, the one being read, the one being
// read ahead to learn whether the current part is the last) plus a batch of parts waiting to be
// hashed together in SIMD lanes (at most 16 parts and 64 MiB; one part when parts are larger).
#ifndef CAIRN_OBJSTORE_MPU_WORKER_H_
#define CAIRN_OBJSTORE_MPU_WORKER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cairn/common/hash.h"
#include "cairn/common/result.h"
#include "cairn/http/http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/mpu/session.h"
#include "cairn/objstore/part_size.h"
#include "cairn/objstore/retry.h"
#include "cairn/objstore/s3/client.h"

namespace cairn::objstore::mpu {

// Where a worker's bytes go. Each method returns the store's ETag (without quotes) and has
// already retried transient failures and checked that the ETag is the MD5 it was given.
//
// Thread safety: implementations must allow concurrent calls (parts upload in parallel).
class PartTarget {
 public:
  virtual ~PartTarget() = default;
  // The head piece, as the temporary object Session::HeadKey(worker).
  virtual Result<std::string> PutHead(std::string_view bytes, const Md5Digest& md5) = 0;
  // Part `part_number` of the session's upload: a regular part, or the worker's head slot (the
  // head piece, when regular parts follow it).
  virtual Result<std::string> PutPart(int part_number, std::string_view bytes,
                                      const Md5Digest& md5) = 0;
};

// Through an S3Client (the worker's own credentials). Does not own the client or the session,
// which must outlive it. Thread-safe.
class ClientPartTarget final : public PartTarget {
 public:
  ClientPartTarget(s3::S3Client* client, const Session* session, int worker)
      : client_(client), session_(session), worker_(worker) {}
  Result<std::string> PutHead(std::string_view bytes, const Md5Digest& md5) override;
  Result<std::string> PutPart(int part_number, std::string_view bytes,
                              const Md5Digest& md5) override;

 private:
  s3::S3Client* const client_;
  const Session* const session_;
  const int worker_;
};

// Through the presigned URLs of a --presign session: no credentials at all. Retries as S3Client
// does (retry.h). Messages name the part and the object, never a URL (its query is a credential).
// Does not own the HttpClient, Env or session, which must outlive it. Thread-safe.
class PresignedPartTarget final : public PartTarget {
 public:
  // REQUIRES: session->is_presigned().
  PresignedPartTarget(http::HttpClient* http, io::Env* env, const Session* session, int worker,
                      RetryOptions retry = {});
  Result<std::string> PutHead(std::string_view bytes, const Md5Digest& md5) override;
  Result<std::string> PutPart(int part_number, std::string_view bytes,
                              const Md5Digest& md5) override;

 private:
  Result<std::string> Put(const std::string& url, std::string_view bytes, const Md5Digest& md5,
                          const std::string& what);

  http::HttpClient* const http_;
  io::Env* const env_;
  const Session* const session_;
  const int worker_;
  RetryPolicy retry_;
  SeededRandom random_;
};

// Reads up to buffer.size() bytes of the partition; 0 at its end.
using PartitionReader = std::function<Result<size_t>(std::span<char> buffer)>;

struct WorkerOptions {
  int concurrency = 4;  // parts uploaded at once
  // Names this run in the receipt (two runs of one worker must differ); empty: the current time
  // in microseconds and 64 random bits.
  std::string run_id;
};

// Uploads worker `worker`'s partition from `read` to `target` and returns the receipt. `size`, if
// known (a regular file), lets the part size grow so the partition fits the worker's part
// numbers; unknown sizes follow a doubling schedule (objstore/part_size.h). Errors:
// kInvalidArgument for a worker outside the session; kDeadlineExceeded once the session's deadline
// passed; kOutOfRange for a partition larger than the worker's part numbers can hold; the first
// failed upload's error otherwise. The error names the worker. On error nothing is cleaned up here:
// the coordinator aborts the whole upload.
Result<Receipt> UploadPartition(const Session& session, int worker, const PartitionReader& read,
                                std::optional<uint64_t> size, PartTarget* target, io::Env* env,
                                const WorkerOptions& options = {});

// The schedule of a worker's regular parts (exposed for tests and docs/mpu.md's numbers).
// Regular parts are at most 5 GiB minus the minimum part size, so that the last one may absorb a
// short remainder and still be a valid part.
Result<PartSchedule> WorkerPartSchedule(const Session& session, int worker,
                                        std::optional<uint64_t> partition_size);

}  // namespace cairn::objstore::mpu

#endif  // CAIRN_OBJSTORE_MPU_WORKER_H_
