// TransferEngine::Upload: single PutObject for small inputs, multipart under the write policies.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cairn/objstore/transfer/local_file.h"
#include "cairn/objstore/transfer/part_hash.h"
#include "cairn/objstore/transfer/transfer.h"

namespace cairn::objstore::transfer {
namespace {

// Sources are read (and hashed) this much at a time, so each slice is hashed while it is still
// in the CPU cache; large enough that the read calls cost nothing next to the hashing.
constexpr size_t kReadSlice = size_t{1} << 20;

// Fills `out` from `source` (at `offset`, or in order when offset is nullopt) and feeds what it
// read to `hasher`; returns the bytes read (fewer than out.size() only at the source's end).
Result<size_t> FillAndHash(ByteSource& source, std::optional<uint64_t> offset, std::span<char> out,
                           PartHasher& hasher) {
  size_t done = 0;
  while (done < out.size()) {
    std::span<char> slice = out.subspan(done, std::min(kReadSlice, out.size() - done));
    Result<size_t> n = offset ? source.ReadAt(*offset + done, slice) : source.Read(slice);
    if (!n.ok()) return n.status();
    hasher.Update(std::string_view(slice.data(), *n));
    done += *n;
    if (*n < slice.size()) break;
  }
  return done;
}

std::string SpoolDir(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

}  // namespace

// The state of one multipart upload: the parts done so far. Thread-safe.
class TransferEngine::PartsInFlight {
 public:
  PartsInFlight(TransferEngine* engine, std::string_view bucket, std::string_view key,
                std::string upload_id, uint64_t total, const ProgressFunction& progress)
      : engine_(engine),
        bucket_(bucket),
        key_(key),
        upload_id_(std::move(upload_id)),
        total_(total),
        progress_(progress) {}

  // Uploads one part whose bytes `body` yields and whose MD5 is `md5`; records its ETag (the
  // client checks that it equals the MD5).
  Status Part(int number, const http::RequestBody& body, uint64_t length, const Md5Digest& md5) {
    if (engine_->cancelled()) return CancelledError("cancelled");
    CAIRN_ASSIGN_OR_RETURN(std::string etag, engine_->client_->UploadPart(bucket_, key_, upload_id_,
                                                                          number, body, md5));
    {
      std::lock_guard lock(mu_);
      if (parts_.size() < size_t(number)) parts_.resize(size_t(number));
      parts_[size_t(number - 1)] = Done{etag, md5, true};
    }
    uint64_t now = done_.fetch_add(length) + length;
    if (progress_) progress_(now, total_);
    return Status();
  }

  // The parts for CompleteMultipartUpload and their MD5s; kInternal if one is missing.
  Status Collect(std::vector<s3::CompletedPart>* completed, std::vector<Md5Digest>* md5s) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (!parts_[i].uploaded) {
        return InternalError("part " + std::to_string(i + 1) + " was never uploaded");
      }
      completed->push_back({static_cast<int32_t>(i + 1), parts_[i].etag});
      md5s->push_back(parts_[i].md5);
    }
    if (completed->empty()) return InternalError("no part was uploaded");
    return Status();
  }

  uint64_t bytes() const { return done_.load(); }
  const std::string& upload_id() const { return upload_id_; }

 private:
  struct Done {
    std::string etag;
    Md5Digest md5{};
    bool uploaded = false;
  };
  TransferEngine* const engine_;
  const std::string_view bucket_;
  const std::string_view key_;
  const std::string upload_id_;
  const uint64_t total_;
  const ProgressFunction& progress_;
  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
  std::vector<Done> parts_;  // guarded by mu_; index = part number - 1
};

Result<UploadResult> TransferEngine::Upload(ByteSource& source, std::string_view bucket,
                                            std::string_view key, const ObjectOptions& object,
                                            const ProgressFunction& progress) {
  const std::string what = "upload " + source.name() + " to " + s3::S3Uri(bucket, key);
  const std::optional<uint64_t> size = source.size();
  Result<PartSchedule> chosen = ChoosePartSchedule(size, options_.part_size, options_.limits);
  if (!chosen.ok()) return chosen.status().WithContext(what);
  const PartSchedule schedule = *chosen;
  const uint64_t first = schedule.first_part_size();
  // A part larger than the shared budget (parts of huge objects) gets a budget of its own.
  std::unique_ptr<MemoryBudget> own_budget;
  auto budget_for = [&](uint64_t bytes) -> MemoryBudget& {
    if (bytes <= budget_.limit()) return budget_;
    if (own_budget == nullptr || own_budget->limit() < 2 * bytes) {
      if (own_budget != nullptr && own_budget->in_use() > 0) return *own_budget;  // keep using it
      own_budget = std::make_unique<MemoryBudget>(2 * bytes);
    }
    return *own_budget;
  };
  auto fail = [&](const Status& s) { return s.WithContext(what); };

  // Small inputs: one PutObject with Content-MD5. An input of unknown size is read up to one
  // part to find out.
  std::optional<PartBuffer> first_buffer;
  std::optional<Md5Digest> first_md5;
  if (!size || *size <= first) {
    uint64_t want = size ? *size : first;
    Result<PartBuffer> buffer = budget_for(want).Acquire(want, options_.cancel);
    if (!buffer.ok()) return fail(buffer.status());
    PartHasher hasher;
    Result<size_t> n = FillAndHash(source, size ? std::optional<uint64_t>(0) : std::nullopt,
                                   buffer->span(), hasher);
    if (!n.ok()) return fail(n.status());
    buffer->set_size(*n);
    if (size && *n != *size) {
      return fail(FailedPreconditionError(source.name() + " shrank from " + std::to_string(*size) +
                                          " to " + std::to_string(*n) + " bytes while read"));
    }
    Md5Digest md5 = hasher.Finish();
    if (size || *n < first) {
      s3::PutOptions put;
      put.content_md5 = md5;
      put.content_type = object.content_type;
      put.metadata = object.metadata;
      http::RequestBody body = http::RequestBody::FromBytes(buffer->view());
      if (cancelled()) return fail(CancelledError("cancelled"));
      Result<s3::PutResult> r = client_->PutObject(bucket, key, body, put);
      if (!r.ok()) return r.status();
      if (progress) progress(*n, *n);
      return UploadResult{
          .bytes = *n, .parts = 0, .part_size = 0, .etag = r->etag, .verified = "md5"};
    }
    first_buffer = std::move(*buffer);  // a full first part of a stream: go multipart
    first_md5 = md5;
  }

  s3::PutOptions put;
  put.content_type = object.content_type;
  put.metadata = object.metadata;
  put.metadata[kPartSizeMetadata] = std::to_string(first);
  if (schedule.parts_per_doubling() < options_.limits.max_parts) {
    put.metadata[kPartsPerDoublingMetadata] = std::to_string(schedule.parts_per_doubling());
  }
  if (cancelled()) return fail(CancelledError("cancelled"));
  Result<std::string> upload_id = Create(bucket, key, put);
  if (!upload_id.ok()) return upload_id.status();
  PartsInFlight upload(this, bucket, key, *upload_id, size.value_or(0), progress);

  const bool inline_parts = options_.policy == WritePolicy::kSingle;
  const bool pread_parts = source.seekable() && size && options_.policy != WritePolicy::kSpool;
  const std::string spool_dir = SpoolDir(options_.spool_dir);
  Status loop_status;
  Status parts_status;
  int parts = 0;
  {
    TaskGroup group(pool_.get());
    // Runs a part's upload inline (kSingle) or on the pool.
    auto run = [&](TaskGroup::Fn task) {
      if (inline_parts) {
        Status s = task();
        if (!s.ok() && loop_status.ok()) loop_status = s;
      } else {
        group.Add(std::move(task));
      }
    };
    for (int part = 1;; ++part) {
      if (cancelled()) {
        loop_status = CancelledError("cancelled");
        break;
      }
      if (group.cancelled() || !loop_status.ok()) break;
      if (part > options_.limits.max_parts) {
        loop_status = OutOfRangeError(
            source.name() + " is larger than " + std::to_string(schedule.MaxObjectSize()) +
            " bytes, the most " + std::to_string(options_.limits.max_parts) + " parts can hold");
        break;
      }
      const uint64_t part_size = schedule.PartSize(part);
      if (pread_parts) {
        // Seekable: a batch of parts is hashed first, read a slice per part at a time and
        // hashed side by side in SIMD lanes; then each part is sent straight from the source
        // (pread into curl's buffer), with its MD5 as Content-MD5. No part is held in memory,
        // and a source that changes in between is caught by the server (BadDigest) and by the
        // ETag check.
        const size_t batch = inline_parts ? 1 : kPartsHashedTogether;
        std::vector<HashRange> spans;
        for (int p = part; spans.size() < batch && p <= options_.limits.max_parts; ++p) {
          const uint64_t offset = schedule.PartOffset(p);
          const uint64_t length = std::min(schedule.PartSize(p), *size - offset);
          spans.push_back({offset, length});
          if (offset + length >= *size) break;
        }
        std::vector<Md5Digest> md5s(spans.size());
        loop_status = HashRangesTogether(
            [&source](uint64_t offset, std::span<char> out) { return source.ReadAt(offset, out); },
            source.name(), spans, md5s, budget_, options_.cancel);
        if (!loop_status.ok()) break;
        for (size_t i = 0; i < spans.size(); ++i) {
          ++parts;
          run([&upload, &source, number = part + int(i), span = spans[i],
               md5 = md5s[i]]() -> Status {
            auto position = std::make_shared<uint64_t>(0);
            http::RequestBody body = http::RequestBody::FromSource(
                [&source, span, position](std::span<char> out) -> Result<size_t> {
                  const uint64_t want = std::min<uint64_t>(out.size(), span.length - *position);
                  CAIRN_ASSIGN_OR_RETURN(size_t n,
                                         source.ReadAt(span.offset + *position, out.first(want)));
                  *position += n;
                  return n;
                },
                static_cast<int64_t>(span.length),
                [position]() {
                  *position = 0;
                  return Status();
                });
            return upload.Part(number, body, span.length, md5);
          });
        }
        part += int(spans.size()) - 1;
        if (spans.back().offset + spans.back().length >= *size) break;
      } else if (options_.policy == WritePolicy::kSpool) {
        // In order into an unlinked local file, hashed as it is written; uploaded from there.
        Result<std::unique_ptr<SpoolFile>> spool = SpoolFile::Create(spool_dir);
        if (!spool.ok()) {
          loop_status = spool.status();
          break;
        }
        Result<PartBuffer> chunk =
            budget_for(kReadSlice)
                .Acquire(std::min<uint64_t>(kReadSlice, part_size), options_.cancel);
        if (!chunk.ok()) {
          loop_status = chunk.status();
          break;
        }
        PartHasher hasher;
        uint64_t got = 0;
        bool ended = false;
        std::optional<Md5Digest> md5;
        if (part == 1 && first_buffer) {  // already read to tell a small stream from a large one
          loop_status = (*spool)->Append(first_buffer->view());
          got = first_buffer->size();
          md5 = first_md5;
          first_buffer.reset();
        }
        while (!md5 && got < part_size && loop_status.ok()) {
          std::span<char> slice =
              chunk->span().subspan(0, std::min<uint64_t>(chunk->capacity(), part_size - got));
          Result<size_t> n = FillAndHash(source, std::nullopt, slice, hasher);
          if (!n.ok()) {
            loop_status = n.status();
            break;
          }
          Status written = (*spool)->Append(std::string_view(slice.data(), *n));
          if (!written.ok()) loop_status = written;
          got += *n;
          if (*n < slice.size()) {
            ended = true;
            break;
          }
        }
        if (!loop_status.ok()) break;
        if (got == 0 && part > 1) break;
        ++parts;
        std::shared_ptr<SpoolFile> file = std::move(*spool);
        if (!md5) md5 = hasher.Finish();
        run([&upload, file, part, got, md5 = *md5]() -> Status {
          auto position = std::make_shared<uint64_t>(0);
          http::RequestBody body = http::RequestBody::FromSource(
              [file, position](std::span<char> out) -> Result<size_t> {
                CAIRN_ASSIGN_OR_RETURN(size_t n, file->ReadAt(*position, out));
                *position += n;
                return n;
              },
              static_cast<int64_t>(got),
              [position]() {
                *position = 0;
                return Status();
              });
          return upload.Part(part, body, got, md5);
        });
        if (ended) break;
      } else {
        // In order into a budgeted buffer, hashed by this thread as it reads; uploaded on the pool.
        PartBuffer filled;
        Md5Digest md5{};
        if (part == 1 && first_buffer) {
          filled = std::move(*first_buffer);
          md5 = *first_md5;
        } else {
          Result<PartBuffer> acquired = budget_for(part_size).Acquire(part_size, options_.cancel);
          if (!acquired.ok()) {
            loop_status = acquired.status();
            break;
          }
          filled = std::move(*acquired);
          PartHasher hasher;
          Result<size_t> n = FillAndHash(source, std::nullopt, filled.span(), hasher);
          if (!n.ok()) {
            loop_status = n.status();
            break;
          }
          filled.set_size(*n);
          md5 = hasher.Finish();
        }
        const size_t n = filled.size();
        if (n == 0 && part > 1) break;
        ++parts;
        run([&upload, part, md5, buffer = std::move(filled)]() -> Status {
          return upload.Part(part, http::RequestBody::FromBytes(buffer.view()), buffer.size(), md5);
        });
        if (n < part_size) break;
      }
    }
    if (!loop_status.ok()) group.Cancel();
    parts_status = group.Wait();
  }

  Status status = !loop_status.ok() ? loop_status : parts_status;
  if (status.ok()) {
    std::vector<s3::CompletedPart> completed;
    std::vector<Md5Digest> md5s;
    status = upload.Collect(&completed, &md5s);
    if (status.ok() && cancelled()) status = CancelledError("cancelled");
    if (status.ok()) {
      Result<std::string> etag =
          Complete(bucket, key, upload.upload_id(), completed, MultipartEtag(md5s));
      if (etag.ok()) {
        return UploadResult{.bytes = upload.bytes(),
                            .parts = static_cast<int>(completed.size()),
                            .part_size = first,
                            .etag = *etag,
                            .verified = "multipart-etag"};
      }
      if (etag.status().code() == StatusCode::kDataLoss) return etag.status().WithContext(what);
      status = etag.status();
    }
  }
  std::string suffix = AbortAndCheck(bucket, key, upload.upload_id());
  return Status(status.code(), what + ": " + std::string(status.message()) + suffix,
                status.detail());
}

}  // namespace cairn::objstore::transfer
