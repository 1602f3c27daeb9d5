// TransferEngine: construction, shared helpers, server-side copy. Uploads are in upload.cc,
// downloads in download.cc.
#include "cairn/objstore/transfer/transfer.h"

#include <algorithm>
#include <mutex>
#include <random>
#include <vector>

#include "cairn/objstore/transfer/part_layout.h"

namespace cairn::objstore::transfer {
namespace {

// A 2xx reply whose body could not be read (a cut-short XML document; no HTTP error status):
// the request may be sent again. S3's own errors carry their HTTP status in the detail.
bool UnreadableReply(const Status& s) {
  return (s.code() == StatusCode::kInvalidArgument && s.detail().http_status == 0) ||
         s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kAborted;
}

// Calls `f` (an idempotent request returning Result<T>) again while its reply is unreadable, up
// to 5 times in all.
template <typename F>
auto RetryUnreadable(F&& f) -> decltype(f()) {
  auto result = f();
  for (int attempt = 1; attempt < 5 && !result.ok() && UnreadableReply(result.status());
       ++attempt) {
    result = f();
  }
  return result;
}

}  // namespace

Result<WritePolicy> ParseWritePolicy(std::string_view name) {
  if (name == "stream") return WritePolicy::kStream;
  if (name == "single") return WritePolicy::kSingle;
  if (name == "spool") return WritePolicy::kSpool;
  return InvalidArgumentError("unknown write policy \"" + std::string(name) +
                              "\" (stream, single or spool)");
}

std::string_view WritePolicyName(WritePolicy policy) {
  switch (policy) {
    case WritePolicy::kStream:
      return "stream";
    case WritePolicy::kSingle:
      return "single";
    case WritePolicy::kSpool:
      return "spool";
  }
  return "?";
}

Result<std::unique_ptr<TransferEngine>> TransferEngine::Create(s3::S3Client* client, io::Env* env,
                                                               TransferOptions options) {
  if (options.concurrency < 1 || options.concurrency > 1024) {
    return InvalidArgumentError("concurrency must be 1..1024, not " +
                                std::to_string(options.concurrency));
  }
  if (options.part_size < options.limits.min_part_size ||
      options.part_size > options.limits.max_part_size) {
    return InvalidArgumentError("part size " + std::to_string(options.part_size) + " is outside " +
                                std::to_string(options.limits.min_part_size) + ".." +
                                std::to_string(options.limits.max_part_size));
  }
  if (options.memory_bytes == 0) return InvalidArgumentError("memory budget of 0 bytes");
  if (options.copy_part_size < options.limits.min_part_size) {
    options.copy_part_size = options.limits.min_part_size;
  }
  // One thread per part in flight; the queue holds as many more, so the next parts are ready
  // (read and hashed) when a thread frees up.
  CAIRN_ASSIGN_OR_RETURN(
      std::unique_ptr<ThreadPool> pool,
      ThreadPool::Create({.num_threads = options.concurrency,
                          .queue_capacity = static_cast<size_t>(options.concurrency)}));
  return std::unique_ptr<TransferEngine>(
      new TransferEngine(client, env, std::move(options), std::move(pool)));
}

TransferEngine::TransferEngine(s3::S3Client* client, io::Env* env, TransferOptions options,
                               std::unique_ptr<ThreadPool> pool)
    : client_(client),
      env_(env),
      options_(std::move(options)),
      pool_(std::move(pool)),
      budget_(options_.memory_bytes),
      download_retry_(
          [&] {
            RetryOptions r = options_.download_retry;
            r.restartable = Restartable::kYes;  // each attempt resumes the range where it stopped
            return r;
          }(),
          std::make_shared<RetryBudget>()),
      random_(std::random_device{}()) {}

TransferEngine::~TransferEngine() { pool_->Shutdown(ThreadPool::ShutdownMode::kDrain); }

std::string TransferEngine::AbortAndCheck(std::string_view bucket, std::string_view key,
                                          std::string_view upload_id) {
  Status aborted = client_->AbortMultipartUpload(bucket, key, upload_id);
  if (!aborted.ok() && aborted.code() != StatusCode::kNotFound) {
    return "; aborting multipart upload " + std::string(upload_id) +
           " failed too: " + std::string(aborted.message());
  }
  // The store must not list it any more (RGW answers ListParts of an aborted upload with
  // NoSuchKey, AWS with NoSuchUpload; the listing is the reliable check).
  std::string key_marker;
  std::string id_marker;
  for (int page = 0; page < 100; ++page) {
    Result<s3::ListMultipartUploadsPage> uploads =
        client_->ListMultipartUploads(bucket, key, key_marker, id_marker);
    if (!uploads.ok()) {
      return "; multipart upload " + std::string(upload_id) +
             " was aborted, but listing uploads to check failed: " +
             std::string(uploads.status().message());
    }
    for (const s3::MultipartUploadSummary& u : uploads->uploads) {
      if (u.key == key && u.upload_id == upload_id) {
        return "; multipart upload " + std::string(upload_id) +
               " is still listed after being aborted";
      }
    }
    if (!uploads->is_truncated) break;
    key_marker = uploads->next_key_marker;
    id_marker = uploads->next_upload_id_marker;
  }
  return "; the multipart upload was aborted (none left behind)";
}

Result<std::string> TransferEngine::Complete(std::string_view bucket, std::string_view key,
                                             std::string_view upload_id,
                                             std::span<const s3::CompletedPart> parts,
                                             const std::string& expected) {
  Result<s3::CompleteMultipartUploadResult> complete =
      client_->CompleteMultipartUpload(bucket, key, upload_id, parts);
  for (int attempt = 1; attempt < 5 && !complete.ok(); ++attempt) {
    if (complete.status().code() == StatusCode::kNotFound) {
      // Gone: an earlier attempt whose reply was lost completed it, or someone aborted it.
      Result<s3::ObjectInfo> head = client_->HeadObject(bucket, key);
      if (head.ok() && head->etag == expected) return head->etag;
      return complete.status();
    }
    if (!UnreadableReply(complete.status())) return complete.status();
    complete = client_->CompleteMultipartUpload(bucket, key, upload_id, parts);
  }
  if (!complete.ok()) return complete.status();
  if (complete->etag != expected) {
    // The store assembled something other than what was sent: do not leave it there.
    client_->DeleteObject(bucket, key).IgnoreError();
    return DataLossError("the stored object's ETag " + complete->etag + " is not " + expected +
                         ", the one its " + std::to_string(parts.size()) +
                         " parts make; the object was deleted");
  }
  return complete->etag;
}

Result<std::string> TransferEngine::Create(std::string_view bucket, std::string_view key,
                                           const s3::PutOptions& options) {
  return RetryUnreadable([&] { return client_->CreateMultipartUpload(bucket, key, options); });
}

Result<CopyResult> TransferEngine::Copy(std::string_view source_bucket, std::string_view source_key,
                                        std::string_view bucket, std::string_view key,
                                        const ProgressFunction& progress) {
  std::string what =
      "copy " + s3::S3Uri(source_bucket, source_key) + " to " + s3::S3Uri(bucket, key);
  Result<s3::ObjectInfo> head = client_->HeadObject(source_bucket, source_key);
  if (!head.ok()) return head.status().WithContext(what);
  const s3::ObjectInfo& info = *head;
  CopyResult result;
  result.bytes = info.size;
  Result<ParsedEtag> source_etag = ParseEtag(info.etag);

  if (info.size <= options_.max_single_copy_size) {
    Result<s3::CopyResult> copied = RetryUnreadable(
        [&] { return client_->CopyObject(source_bucket, source_key, bucket, key); });
    if (!copied.ok()) return copied.status().WithContext(what);
    result.etag = copied->etag;
    if (source_etag.ok() && source_etag->part_count == 0) {
      // A single-part object's ETag is the MD5 of its bytes: the copy's must be the same.
      if (ParseEtag(copied->etag).ok() && copied->etag != info.etag) {
        return DataLossError(what + ": the copy's ETag " + copied->etag +
                             " differs from the source's " + info.etag);
      }
      result.verified = copied->etag == info.etag ? "etag" : "";
    }
    if (progress) progress(info.size, info.size);
    return result;
  }

  // Multipart copy: parts of copy_part_size (grown to fit), copied in parallel by the store.
  Result<PartSchedule> schedule =
      ChoosePartSchedule(info.size, options_.copy_part_size, options_.limits);
  if (!schedule.ok()) return schedule.status().WithContext(what);
  const int parts = schedule->PartCount(info.size);
  s3::PutOptions put;
  put.content_type = info.content_type;
  put.metadata = info.metadata;
  put.metadata[kPartSizeMetadata] = std::to_string(schedule->first_part_size());
  put.metadata.erase(kPartsPerDoublingMetadata);
  Result<std::string> upload_id = Create(bucket, key, put);
  if (!upload_id.ok()) return upload_id.status().WithContext(what);

  std::mutex mu;
  std::vector<s3::CompletedPart> completed(static_cast<size_t>(parts));
  std::vector<Md5Digest> digests(static_cast<size_t>(parts));
  std::atomic<uint64_t> done{0};
  Status status;
  {
    TaskGroup group(pool_.get());
    for (int part = 1; part <= parts; ++part) {
      if (cancelled()) {
        group.Cancel();
        status = CancelledError("cancelled");
        break;
      }
      if (group.cancelled()) break;
      s3::ByteRange range{
          schedule->PartOffset(part),
          std::min(schedule->PartSize(part), info.size - schedule->PartOffset(part))};
      group.Add([&, part, range]() -> Status {
        CAIRN_ASSIGN_OR_RETURN(s3::CopyResult r, RetryUnreadable([&] {
                                 return client_->UploadPartCopy(bucket, key, *upload_id, part,
                                                                source_bucket, source_key, range);
                               }));
        Result<Md5Digest> digest = Md5FromHex(r.etag);
        std::lock_guard lock(mu);
        completed[size_t(part - 1)] = {part, r.etag};
        if (digest.ok()) digests[size_t(part - 1)] = *digest;
        uint64_t now = done.fetch_add(range.length) + range.length;
        if (progress) progress(now, info.size);
        return Status();
      });
    }
    Status waited = group.Wait();
    if (status.ok()) status = waited;
  }
  if (status.ok()) {
    std::string expected = MultipartEtag(digests);
    Result<std::string> etag = Complete(bucket, key, *upload_id, completed, expected);
    if (etag.ok()) {
      result.etag = *etag;
      result.parts = parts;
      result.verified = "multipart-etag";
      return result;
    }
    if (etag.status().code() == StatusCode::kDataLoss) {
      return Status(StatusCode::kDataLoss, what + ": " + std::string(etag.status().message()),
                    etag.status().detail());
    }
    status = etag.status();
  }
  std::string suffix = AbortAndCheck(bucket, key, *upload_id);
  return Status(status.code(), what + ": " + std::string(status.message()) + suffix,
                status.detail());
}

}  // namespace cairn::objstore::transfer
