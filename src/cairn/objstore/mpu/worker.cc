#include "cairn/objstore/mpu/worker.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

#include "cairn/common/base64.h"
#include "cairn/common/md5_multi.h"
#include "cairn/common/thread_pool.h"
#include "cairn/objstore/s3/xml.h"
#include "cairn/objstore/transfer/memory_budget.h"

namespace cairn::objstore::mpu {
namespace {

// Reads go into the part buffer a slice at a time.
constexpr size_t kReadSlice = 1 << 20;
// Regular parts are hashed a batch at a time, side by side in SIMD lanes (Md5Many: one serial MD5
// stream costs ~1.2 ns/B, sixteen lanes together several times less): up to kMaxBatchParts parts
// and kBatchBytes bytes wait, read but not yet sent, until their batch is full or the partition
// ends.
constexpr size_t kMaxBatchParts = 16;
constexpr uint64_t kBatchBytes = uint64_t{64} << 20;

std::string RunId(io::Env* env) {
  std::random_device device;
  const uint64_t random = (uint64_t{device()} << 32) ^ device();
  char text[48];
  std::snprintf(text, sizeof text, "%lld-%016llx", static_cast<long long>(env->NowUnixMicros()),
                static_cast<unsigned long long>(random));
  return text;
}

// Appends to *buffer until it holds `target` bytes or the partition ends. Returns true when the
// partition ended.
Result<bool> Fill(const PartitionReader& read, std::string* buffer, uint64_t target) {
  buffer->reserve(target);  // growing a slice at a time would copy the bytes read so far
  while (buffer->size() < target) {
    const size_t old = buffer->size();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kReadSlice, target - old));
    buffer->resize(old + want);
    Result<size_t> n = read(std::span<char>(buffer->data() + old, want));
    if (!n.ok()) {
      buffer->resize(old);
      return n.status();
    }
    buffer->resize(old + *n);
    if (*n == 0) return true;
  }
  return false;
}

// The same for a part buffer, up to min(target, its capacity).
Result<bool> Fill(const PartitionReader& read, transfer::PartBuffer* buffer, uint64_t target) {
  const size_t limit = static_cast<size_t>(std::min<uint64_t>(target, buffer->capacity()));
  while (buffer->size() < limit) {
    const size_t old = buffer->size();
    const size_t want = std::min(kReadSlice, limit - old);
    CAIRN_ASSIGN_OR_RETURN(size_t n, read(std::span<char>(buffer->data() + old, want)));
    buffer->set_size(old + n);
    if (n == 0) return true;
  }
  return false;
}

std::string_view Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

}  // namespace

Result<std::string> ClientPartTarget::PutHead(std::string_view bytes, const Md5Digest& md5) {
  s3::PutOptions options;
  options.content_md5 = md5;
  CAIRN_ASSIGN_OR_RETURN(s3::PutResult put,
                         client_->PutObject(session_->bucket, session_->HeadKey(worker_),
                                            http::RequestBody::FromBytes(bytes), options));
  return put.etag;
}

Result<std::string> ClientPartTarget::PutPart(int part_number, std::string_view bytes,
                                              const Md5Digest& md5) {
  return client_->UploadPart(session_->bucket, session_->key, session_->upload_id, part_number,
                             http::RequestBody::FromBytes(bytes), md5);
}

PresignedPartTarget::PresignedPartTarget(http::HttpClient* http, io::Env* env,
                                         const Session* session, int worker, RetryOptions retry)
    : http_(http),
      env_(env),
      session_(session),
      worker_(worker),
      retry_(retry),
      random_(static_cast<uint64_t>(env->NowUnixMicros()) ^ static_cast<uint64_t>(worker)) {}

Result<std::string> PresignedPartTarget::PutHead(std::string_view bytes, const Md5Digest& md5) {
  return Put(session_->presigned[worker_].head_url, bytes, md5,
             "put " + s3::S3Uri(session_->bucket, session_->HeadKey(worker_)));
}

Result<std::string> PresignedPartTarget::PutPart(int part_number, std::string_view bytes,
                                                 const Md5Digest& md5) {
  const WorkerSlots slots = session_->plan().Slots(worker_);
  const std::string& head_part_url = session_->presigned[worker_].head_part_url;
  if (part_number == slots.head_part && !head_part_url.empty()) {
    return Put(head_part_url, bytes, md5,
               "upload part " + std::to_string(part_number) + " (head) of " +
                   s3::S3Uri(session_->bucket, session_->key));
  }
  if (part_number < slots.first_part || part_number > slots.last_part) {
    return InvalidArgumentError("part " + std::to_string(part_number) + " is not worker " +
                                std::to_string(worker_) + "'s");
  }
  return Put(session_->presigned[worker_].part_urls[part_number - slots.first_part], bytes, md5,
             "upload part " + std::to_string(part_number) + " of " +
                 s3::S3Uri(session_->bucket, session_->key));
}

Result<std::string> PresignedPartTarget::Put(const std::string& url, std::string_view bytes,
                                             const Md5Digest& md5, const std::string& what) {
  http::HttpRequest request;
  request.method = "PUT";
  request.url = url;
  request.url_for_messages = http::RedactUrl(url);
  request.headers.emplace_back(
      "Content-MD5",
      Base64Encode(std::string_view(reinterpret_cast<const char*>(md5.data()), md5.size())));
  request.body = http::RequestBody::FromBytes(bytes);
  std::string etag;
  Status status = RunWithRetries(
      retry_, env_, &random_,
      [&](RetryAttempt* attempt) -> Status {
        Result<http::HttpResponse> reply =
            http_->Send(request, http::ResponseBody::Collect(64 << 10));
        if (!reply.ok()) return reply.status().WithContext(what);
        if (reply->status_code < 200 || reply->status_code >= 300) {
          if (auto after = reply->headers.Get("Retry-After")) {
            if (auto delay = ParseRetryAfter(*after, env_->NowUnixSeconds())) {
              attempt->retry_after = *delay;
            }
          }
          return s3::S3ErrorToStatus(reply->status_code, s3::ParseError(reply->body), what);
        }
        std::optional<std::string_view> header = reply->headers.Get("ETag");
        etag = header ? std::string(Unquote(*header)) : std::string();
        if (etag != HexEncode(md5)) {
          return DataLossError(what + ": the server's ETag \"" + etag + "\" is not the MD5 " +
                               HexEncode(md5) + " of the bytes sent");
        }
        return Status();
      },
      what);
  if (!status.ok()) return status;
  return etag;
}

Result<PartSchedule> WorkerPartSchedule(const Session& session, int worker,
                                        std::optional<uint64_t> partition_size) {
  const WorkerSlots slots = session.plan().Slots(worker);
  MultipartLimits limits;
  limits.min_part_size = session.min_part_size;
  limits.max_part_size = limits.max_part_size - session.min_part_size;
  limits.max_parts = slots.part_count();
  const uint64_t capacity = limits.max_part_size * static_cast<uint64_t>(limits.max_parts);
  limits.max_object_size = std::min(capacity, MultipartLimits{}.max_object_size);
  if (partition_size) {
    const uint64_t regular =
        *partition_size > session.min_part_size ? *partition_size - session.min_part_size : 0;
    if (regular > limits.max_object_size) {
      return OutOfRangeError("a partition of " + std::to_string(*partition_size) +
                             " bytes does not fit worker " + std::to_string(worker) + "'s " +
                             std::to_string(limits.max_parts) + " part numbers (at most " +
                             std::to_string(limits.max_object_size + session.min_part_size) +
                             " bytes); use fewer workers");
    }
    return ChoosePartSchedule(regular, session.part_size, limits);
  }
  // Unknown size: the largest capacity a doubling schedule from the preferred size reaches
  // (binary search; ChoosePartSchedule succeeds for every cap up to it).
  uint64_t low = 0;
  uint64_t high = limits.max_object_size;
  while (low < high) {
    const uint64_t mid = low + (high - low + 1) / 2;
    limits.max_object_size = mid;
    if (ChoosePartSchedule(std::nullopt, session.part_size, limits).ok()) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  limits.max_object_size = std::max<uint64_t>(low, 1);
  return ChoosePartSchedule(std::nullopt, session.part_size, limits);
}

Result<Receipt> UploadPartition(const Session& session, int worker, const PartitionReader& read,
                                std::optional<uint64_t> size, PartTarget* target, io::Env* env,
                                const WorkerOptions& options) {
  const std::string who =
      "worker " + std::to_string(worker) + " of " + s3::S3Uri(session.bucket, session.key);
  if (worker < 0 || worker >= session.workers) {
    return InvalidArgumentError(who + ": the session has workers 0.." +
                                std::to_string(session.workers - 1));
  }
  if (session.is_presigned() && session.presigned.size() != static_cast<size_t>(session.workers)) {
    return InvalidArgumentError(who + ": the session lacks presigned URLs for every worker");
  }
  auto check_deadline = [&]() -> Status {
    if (env->NowUnixSeconds() < session.deadline) return Status();
    return DeadlineExceededError(who + ": the session's deadline (" +
                                 std::to_string(session.deadline) + ", Unix time) has passed");
  };
  CAIRN_RETURN_IF_ERROR(check_deadline());
  const uint64_t min = session.min_part_size;
  const WorkerSlots slots = session.plan().Slots(worker);
  Result<PartSchedule> schedule = WorkerPartSchedule(session, worker, size);
  if (!schedule.ok()) return schedule.status().WithContext(who);

  Receipt receipt;
  receipt.upload_id = session.upload_id;
  receipt.worker = worker;
  receipt.run = options.run_id.empty() ? RunId(env) : options.run_id;

  // Part buffers come from a budget that keeps released ones for reuse, with transparent huge
  // pages: a fresh 8 MiB buffer costs ~2,000 page faults, which were a quarter of a worker's CPU.
  // The loop's structure bounds memory (see worker.h); the budget's limit never binds. Declared
  // before the pool, so that it outlives every task that holds a buffer.
  transfer::MemoryBudget budget(uint64_t{1} << 62);
  CAIRN_ASSIGN_OR_RETURN(
      std::unique_ptr<ThreadPool> pool,
      ThreadPool::Create({.num_threads = std::max(1, options.concurrency), .queue_capacity = 1}));
  std::mutex mu;
  std::optional<PieceRecord> head_record;  // guarded by mu
  std::optional<PieceRecord> head_part;    // guarded by mu
  std::vector<PieceRecord> parts;          // guarded by mu
  uint64_t total = 0;

  // The head: the first min bytes, or the whole partition when it is below 2 * min.
  std::string head;
  Result<bool> ended = Fill(read, &head, min);
  if (!ended.ok()) return ended.status().WithContext(who);
  transfer::PartBuffer current;
  if (!*ended) {
    Result<transfer::PartBuffer> first = budget.Acquire(schedule->PartSize(1));
    if (!first.ok()) return first.status().WithContext(who);
    current = std::move(*first);
    ended = Fill(read, &current, schedule->PartSize(1));
    if (!ended.ok()) return ended.status().WithContext(who);
    if (current.size() < min) {  // min <= n < 2 min: one head piece of it all
      head += current.view();
      current = transfer::PartBuffer();
    }
  }
  total = head.size() + current.size();
  Status loop;
  {
    TaskGroup group(pool.get());
    if (!head.empty()) {
      const Md5Digest md5 = Md5Of(head);
      group.Add([&, md5]() -> Status {
        CAIRN_ASSIGN_OR_RETURN(std::string etag, target->PutHead(head, md5));
        std::lock_guard lock(mu);
        head_record = PieceRecord{
            .part_number = 0, .size = head.size(), .md5 = HexEncode(md5), .etag = std::move(etag)};
        return Status();
      });
      // With regular parts to follow, the head (exactly min bytes) is a valid part as it is: it
      // also goes straight to the head slot, which saves complete a server-side copy unless a
      // small partition before this one must be joined with it. Sessions from before presigned
      // head-part URLs skip it.
      const bool direct =
          !current.empty_buffer() &&
          (!session.is_presigned() || !session.presigned[worker].head_part_url.empty());
      if (direct) {
        group.Add([&, md5]() -> Status {
          CAIRN_ASSIGN_OR_RETURN(std::string etag, target->PutPart(slots.head_part, head, md5));
          std::lock_guard lock(mu);
          head_part = PieceRecord{.part_number = slots.head_part,
                                  .size = head.size(),
                                  .md5 = HexEncode(md5),
                                  .etag = std::move(etag)};
          return Status();
        });
      }
    }
    // Regular parts wait in `batch` until it is full, are hashed together, then uploaded.
    std::vector<std::pair<int, transfer::PartBuffer>> batch;  // (index, bytes)
    uint64_t batch_bytes = 0;
    auto flush = [&] {
      std::vector<std::string_view> views;
      views.reserve(batch.size());
      for (const auto& [index, bytes] : batch) views.push_back(bytes.view());
      std::vector<Md5Digest> digests(batch.size());
      Md5Many(views, digests);
      for (size_t i = 0; i < batch.size() && !group.cancelled(); ++i) {
        const int number = slots.first_part + batch[i].first - 1;
        group.Add([&, number, md5 = digests[i],
                   bytes = std::move(batch[i].second)]() mutable -> Status {
          Result<std::string> etag = target->PutPart(number, bytes.view(), md5);
          const uint64_t n = bytes.size();
          bytes = transfer::PartBuffer();  // back to the budget for the next part
          if (!etag.ok()) return etag.status();
          std::lock_guard lock(mu);
          parts.push_back(PieceRecord{
              .part_number = number, .size = n, .md5 = HexEncode(md5), .etag = std::move(*etag)});
          return Status();
        });
      }
      batch.clear();
      batch_bytes = 0;
    };
    auto dispatch = [&](int index, transfer::PartBuffer bytes) {
      batch_bytes += bytes.size();
      batch.emplace_back(index, std::move(bytes));
      if (batch.size() >= kMaxBatchParts || batch_bytes >= kBatchBytes) flush();
    };
    // Regular parts. A part goes out once at least min bytes follow it (or the partition ended
    // with fewer, which the part then absorbs), so no regular part is ever below min.
    for (int index = 1; !current.empty_buffer() && loop.ok() && !group.cancelled(); ++index) {
      if (index > slots.part_count()) {
        loop = OutOfRangeError("the partition needs more than the worker's " +
                               std::to_string(slots.part_count()) +
                               " part numbers; give its size (a file, not a pipe) or use fewer "
                               "workers or larger parts");
        break;
      }
      if (*ended) {
        dispatch(index, std::move(current));
        break;
      }
      Result<transfer::PartBuffer> acquired =
          budget.Acquire(std::max(schedule->PartSize(index + 1), min));
      if (!acquired.ok()) {
        loop = acquired.status();
        break;
      }
      transfer::PartBuffer next = std::move(*acquired);
      ended = Fill(read, &next, min);
      if (!ended.ok()) {
        loop = ended.status();
        break;
      }
      total += next.size();
      if (*ended && next.size() < min) {  // the short tail joins this last part
        acquired = budget.Acquire(current.size() + next.size());
        if (!acquired.ok()) {
          loop = acquired.status();
          break;
        }
        std::memcpy(acquired->data(), current.data(), current.size());
        std::memcpy(acquired->data() + current.size(), next.data(), next.size());
        acquired->set_size(current.size() + next.size());
        dispatch(index, std::move(*acquired));
        break;
      }
      loop = check_deadline();
      if (!loop.ok()) break;
      dispatch(index, std::move(current));
      const uint64_t before = next.size();
      ended = Fill(read, &next, schedule->PartSize(index + 1));
      if (!ended.ok()) {
        loop = ended.status();
        break;
      }
      total += next.size() - before;
      current = std::move(next);
    }
    if (loop.ok() && !batch.empty()) flush();
    if (!loop.ok()) group.Cancel();
    Status uploaded = group.Wait();
    if (loop.ok() && !uploaded.ok()) loop = uploaded;
  }
  if (!loop.ok()) return loop.WithContext(who);
  receipt.size = total;
  receipt.head = std::move(head_record);
  receipt.head_part = std::move(head_part);
  std::sort(parts.begin(), parts.end(), [](const PieceRecord& a, const PieceRecord& b) {
    return a.part_number < b.part_number;
  });
  receipt.parts = std::move(parts);
  receipt.finished = env->NowUnixSeconds();
  return receipt;
}

}  // namespace cairn::objstore::mpu
