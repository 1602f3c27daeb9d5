// The two documents of a distributed multipart upload, as JSON: the session the coordinator hands
// to every worker, and the receipt each worker hands back (docs/mpu.md shows both).
//
// A session names the store (endpoint, region, addressing style), the bucket, key and upload id,
// the part-number plan, the part sizes and the deadline. It never holds credentials. With
// --presign it carries, per worker, presigned URLs for exactly that worker's part numbers and
// head piece, valid until the deadline: whoever holds the file may upload those parts, so it is
// written with mode 0600 and never logged.
//
// Parsing is strict about what it needs (a missing or mistyped field is kInvalidArgument naming
// it) and ignores fields it does not know, so later versions can add some.
//
// Thread safety: values and pure functions. nlohmann::json stays inside session.cc, where its
// exceptions are caught (STYLE.md: third-party exceptions stop at the adapter).
#ifndef CAIRN_OBJSTORE_MPU_SESSION_H_
#define CAIRN_OBJSTORE_MPU_SESSION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/objstore/mpu/plan.h"
#include "cairn/objstore/s3/settings.h"

namespace cairn::objstore::mpu {

// One worker's presigned URLs (only in sessions made with --presign).
struct PresignedWorker {
  std::string head_url;                // PUT of the head piece
  std::vector<std::string> part_urls;  // UploadPart of first_part..last_part, in order
  // UploadPart of head_part: a head of exactly the minimum part size, followed by regular parts,
  // also goes there directly, so complete need not copy it. Empty in sessions from before it.
  std::string head_part_url;
};

struct Session {
  // The store. `endpoint` is "" for AWS itself (then the region picks the endpoint).
  std::string endpoint;
  std::string region;
  s3::AddressingStyle addressing = s3::AddressingStyle::kAuto;
  std::string bucket;
  std::string key;
  std::string upload_id;
  int workers = 0;
  int max_parts = kMaxParts;
  uint64_t part_size = 0;      // preferred size of regular parts
  uint64_t min_part_size = 0;  // the store's minimum part size (S3: 5 MiB); the head size
  int64_t created = 0;         // Unix seconds
  int64_t deadline = 0;        // Unix seconds: workers stop, complete aborts, URLs expire
  // Where head pieces go: "<key>.cairn-mpu/<16 hex of SHA-256(upload id)>/". Deleted by complete
  // and abort.
  std::string temp_prefix;
  // Empty, or one entry per worker.
  std::vector<PresignedWorker> presigned;

  bool is_presigned() const { return !presigned.empty(); }
  // The plan of this session's workers and parts. Valid for a parsed session.
  PartPlan plan() const;
  // The key of worker `worker`'s head piece: temp_prefix + "w00042".
  std::string HeadKey(int worker) const;
};

// The temp_prefix of an upload.
std::string TempPrefixFor(std::string_view key, std::string_view upload_id);

// JSON text, indented, with a final newline.
std::string SessionToJson(const Session& session);
// kInvalidArgument for malformed text, a missing field, an unknown version, or a session whose
// numbers do not make a plan (workers, parts, part sizes, presigned URL counts).
Result<Session> ParseSession(std::string_view json);

// One part (or the head piece) as a worker uploaded it.
struct PieceRecord {
  int part_number = 0;  // 0 for the head piece
  uint64_t size = 0;
  std::string md5;   // 32 lowercase hex digits, computed while the bytes were read
  std::string etag;  // as the store answered, without quotes
};

struct Receipt {
  std::string upload_id;
  int worker = 0;
  // Distinguishes two runs of one worker: "<unix micros>-<16 random hex digits>".
  std::string run;
  int64_t finished = 0;             // Unix seconds
  uint64_t size = 0;                // the partition's bytes
  std::optional<PieceRecord> head;  // absent for an empty partition
  // The head piece also uploaded as part `head_part` of the worker's slots (only when regular
  // parts follow it): complete uses that part instead of copying the head piece, when the store
  // holds it with the head's MD5. Not counted in `size`.
  std::optional<PieceRecord> head_part;
  std::vector<PieceRecord> parts;  // ascending part numbers
  std::string error;               // a failed run: what went wrong (then no head or parts)

  bool failed() const { return !error.empty(); }
};

// JSON text on one line, with a final newline (receipts are many and small).
std::string ReceiptToJson(const Receipt& receipt);
// kInvalidArgument for malformed text, a missing field, or parts out of order.
Result<Receipt> ParseReceipt(std::string_view json);

// Parses a duration: a number with a unit s, m, h or d ("90s", "30m", "2h", "1d"), or several
// ("1h30m"). kInvalidArgument otherwise or for zero.
Result<int64_t> ParseDurationSeconds(std::string_view text);

}  // namespace cairn::objstore::mpu

#endif  // CAIRN_OBJSTORE_MPU_SESSION_H_
