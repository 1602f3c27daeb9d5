// Complete, abort and status of a distributed multipart upload (Begin is in begin.cc).
#include "cairn/objstore/mpu/coordinator.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "cairn/common/thread_pool.h"

namespace cairn::objstore::mpu {
namespace {

Result<Md5Digest> DigestFromHex(std::string_view hex) {
  Md5Digest digest{};
  if (hex.size() != 32) return InvalidArgumentError("not an MD5: " + std::string(hex));
  for (size_t i = 0; i < 16; ++i) {
    int value = 0;
    for (char c : hex.substr(2 * i, 2)) {
      value <<= 4;
      if (c >= '0' && c <= '9')
        value |= c - '0';
      else if (c >= 'a' && c <= 'f')
        value |= c - 'a' + 10;
      else
        return InvalidArgumentError("not an MD5: " + std::string(hex));
    }
    digest[i] = static_cast<uint8_t>(value);
  }
  return digest;
}

std::string WorkerList(const std::vector<int>& workers) {
  std::string text;
  for (size_t i = 0; i < workers.size() && i < 20; ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(workers[i]);
  }
  if (workers.size() > 20) text += " and " + std::to_string(workers.size() - 20) + " more";
  return text;
}

std::string Who(int worker) { return "worker " + std::to_string(worker); }

// Requests the coordinator keeps in flight at once (HEADs of head pieces, their copies, joins:
// a join holds up to 2 x the minimum part size, so at most ~80 MiB with S3's 5 MiB).
constexpr size_t kParallelRequests = 8;

// Runs fn(i) for every i in [0, n), up to kParallelRequests at a time, and returns the error of
// the lowest i that failed: the same error whatever order they ran in.
Status ForEachParallel(size_t n, const std::function<Status(size_t)>& fn) {
  if (n == 0) return Status();
  if (n == 1) return fn(0);
  std::vector<Status> statuses(n);
  CAIRN_ASSIGN_OR_RETURN(
      std::unique_ptr<ThreadPool> pool,
      ThreadPool::Create(
          {.num_threads = static_cast<int>(std::min(n, kParallelRequests)), .queue_capacity = n}));
  TaskGroup group(pool.get());
  for (size_t i = 0; i < n; ++i) {
    group.Add([&, i]() -> Status {
      statuses[i] = fn(i);
      return Status();
    });
  }
  CAIRN_RETURN_IF_ERROR(group.Wait());
  for (Status& status : statuses) {
    if (!status.ok()) return std::move(status);
  }
  return Status();
}

}  // namespace

Coordinator::Coordinator(s3::S3Client* client, io::Env* env, Session session)
    : client_(client),
      env_(env),
      session_(std::move(session)),
      plan_(session_.plan()),
      what_("mpu " + s3::S3Uri(session_.bucket, session_.key)) {}

Result<CompleteResult> Coordinator::Complete(const ReceiptPoller& poll,
                                             const CompleteOptions& options) {
  std::vector<Receipt> receipts;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(ReceiptBatch batch, poll());
    std::vector<bool> succeeded(session_.workers, false);
    std::map<int, std::string> failures;
    receipts.clear();
    for (Receipt& r : batch.receipts) {
      if (r.upload_id != session_.upload_id) {
        return InvalidArgumentError(what_ + ": a receipt of " + Who(r.worker) +
                                    " belongs to another upload (" + r.upload_id + ")");
      }
      if (r.worker >= session_.workers) {
        return InvalidArgumentError(what_ + ": a receipt names " + Who(r.worker) + ", but the " +
                                    "session has " + std::to_string(session_.workers));
      }
      if (r.failed()) {
        failures.emplace(r.worker, r.error);
      } else {
        succeeded[r.worker] = true;
        receipts.push_back(std::move(r));
      }
    }
    for (const auto& [worker, error] : failures) {
      if (!succeeded[worker]) return Fail(AbortedError(Who(worker) + " failed: " + error));
    }
    std::vector<int> missing;
    for (int w = 0; w < session_.workers; ++w) {
      if (!succeeded[w]) missing.push_back(w);
    }
    if (missing.empty()) break;
    const std::string none = "no receipt from worker" +
                             std::string(missing.size() > 1 ? "s " : " ") + WorkerList(missing);
    if (env_->NowUnixSeconds() >= session_.deadline) {
      std::string detail;
      if (!batch.unreadable.empty()) {
        detail = " (unreadable: " + batch.unreadable.front() +
                 (batch.unreadable.size() > 1 ? ", …" : "") + ")";
      }
      return Fail(DeadlineExceededError(none + " by the deadline" + detail));
    }
    if (!options.wait) {
      return FailedPreconditionError(what_ + ": " + none +
                                     "; the upload is kept: run complete "
                                     "again with every receipt, or with --receipts DIR to wait "
                                     "until the deadline");
    }
    env_->SleepForMicros(options.poll_interval_micros);
  }
  int duplicates = 0;
  Result<std::vector<Receipt>> chosen = Resolve(receipts, &duplicates);
  if (!chosen.ok()) return Fail(chosen.status());
  Result<CompleteResult> done = CompleteWith(*chosen);
  if (!done.ok()) return Fail(done.status());
  done->duplicate_receipts = duplicates;
  return done;
}

Result<std::vector<s3::PartSummary>> Coordinator::ListAllParts() {
  std::vector<s3::PartSummary> parts;
  int32_t marker = 0;
  for (int page = 0; page <= kMaxParts; ++page) {
    CAIRN_ASSIGN_OR_RETURN(
        s3::ListPartsPage listed,
        client_->ListParts(session_.bucket, session_.key, session_.upload_id, marker));
    for (s3::PartSummary& p : listed.parts) parts.push_back(std::move(p));
    if (!listed.is_truncated) break;
    marker = listed.next_part_number_marker;
  }
  return parts;
}

Status Coordinator::CheckReceipt(const Receipt& receipt,
                                 const std::vector<s3::PartSummary>& stored) {
  const WorkerSlots slots = plan_.Slots(receipt.worker);
  const std::string who = Who(receipt.worker) + " (run " + receipt.run + ")";
  auto found = [&](int number) -> const s3::PartSummary* {
    auto it = std::lower_bound(stored.begin(), stored.end(), number,
                               [](const s3::PartSummary& p, int n) { return p.part_number < n; });
    return it != stored.end() && it->part_number == number ? &*it : nullptr;
  };
  for (const PieceRecord& part : receipt.parts) {
    const std::string what = who + ", part " + std::to_string(part.part_number);
    if (part.part_number < slots.first_part || part.part_number > slots.last_part) {
      return InvalidArgumentError(what + ": outside the worker's parts " +
                                  std::to_string(slots.first_part) + ".." +
                                  std::to_string(slots.last_part));
    }
    if (part.etag != part.md5) {
      return DataLossError(what + ": its ETag " + part.etag + " is not its MD5 " + part.md5);
    }
    const s3::PartSummary* in_store = found(part.part_number);
    if (in_store == nullptr) return NotFoundError(what + ": not in the store");
    if (in_store->etag != part.etag || static_cast<uint64_t>(in_store->size) != part.size) {
      return DataLossError(what + ": the store holds " + std::to_string(in_store->size) +
                           " bytes with ETag " + in_store->etag + ", the receipt says " +
                           std::to_string(part.size) + " bytes with ETag " + part.etag);
    }
  }
  if (receipt.head) {
    const std::string what = who + ", head piece";
    if (receipt.head->etag != receipt.head->md5) {
      return DataLossError(what + ": its ETag " + receipt.head->etag + " is not its MD5");
    }
    Result<s3::ObjectInfo> info =
        client_->HeadObject(session_.bucket, session_.HeadKey(receipt.worker));
    if (!info.ok()) return info.status().WithContext(what);
    if (info->etag != receipt.head->etag || info->size != receipt.head->size) {
      return DataLossError(what + ": the store holds " + std::to_string(info->size) +
                           " bytes with ETag " + info->etag + ", the receipt says " +
                           std::to_string(receipt.head->size) + " bytes with ETag " +
                           receipt.head->etag);
    }
  }
  return Status();
}

Result<std::vector<Receipt>> Coordinator::Resolve(const std::vector<Receipt>& receipts,
                                                  int* duplicates) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<s3::PartSummary> stored, ListAllParts());
  std::sort(stored.begin(), stored.end(), [](const s3::PartSummary& a, const s3::PartSummary& b) {
    return a.part_number < b.part_number;
  });
  std::vector<std::vector<const Receipt*>> by_worker(session_.workers);
  for (const Receipt& r : receipts) by_worker[r.worker].push_back(&r);
  // Workers are resolved in parallel (each may HEAD its head piece); the result is the same.
  std::vector<const Receipt*> picks(session_.workers, nullptr);
  CAIRN_RETURN_IF_ERROR(ForEachParallel(by_worker.size(), [&](size_t w) -> Status {
    // Deterministic: runs in the order of their ids (time first), the first that matches the
    // store wins. Two runs that both match uploaded the same bytes.
    std::vector<const Receipt*>& runs = by_worker[w];
    std::sort(runs.begin(), runs.end(),
              [](const Receipt* a, const Receipt* b) { return a->run < b->run; });
    Status first_mismatch;
    for (const Receipt* run : runs) {
      Status checked = CheckReceipt(*run, stored);
      if (checked.ok()) {
        picks[w] = run;
        return Status();
      }
      if (first_mismatch.ok()) first_mismatch = checked;
    }
    if (runs.size() == 1) return first_mismatch;
    return Status(first_mismatch.code(),
                  "none of the " + std::to_string(runs.size()) + " receipts of " +
                      Who(static_cast<int>(w)) +
                      " matches the store (its runs overlapped with different bytes): " +
                      std::string(first_mismatch.message()));
  }));
  std::vector<Receipt> chosen;
  for (int w = 0; w < session_.workers; ++w) {
    *duplicates += static_cast<int>(by_worker[w].size()) - 1;
    Receipt receipt = *picks[w];
    // A head uploaded straight to the worker's head slot is used only if the store holds exactly
    // the head's bytes there (another run may have put different ones); else it is copied.
    if (receipt.head_part) {
      const PieceRecord& part = *receipt.head_part;
      auto it = std::lower_bound(stored.begin(), stored.end(), part.part_number,
                                 [](const s3::PartSummary& p, int n) { return p.part_number < n; });
      const bool usable = receipt.head && part.part_number == plan_.Slots(w).head_part &&
                          part.md5 == receipt.head->md5 && part.etag == part.md5 &&
                          part.size == receipt.head->size && it != stored.end() &&
                          it->part_number == part.part_number && it->etag == part.etag &&
                          static_cast<uint64_t>(it->size) == part.size;
      if (!usable) receipt.head_part.reset();
    }
    chosen.push_back(std::move(receipt));
  }
  return chosen;
}

Result<std::string> Coordinator::Join(const JoinStep& step, const std::vector<Receipt>& chosen,
                                      Md5Digest* md5) {
  std::string bytes;
  bytes.reserve(step.size);
  for (int w : step.workers) {
    const PieceRecord& head = *chosen[w].head;
    const size_t before = bytes.size();
    s3::GetOptions get;
    get.if_match = head.etag;
    Result<s3::ObjectInfo> got = client_->GetObject(
        session_.bucket, session_.HeadKey(w), get, [&](std::string_view piece) -> Status {
          if (bytes.size() + piece.size() > before + head.size) {
            return DataLossError("the head piece is longer than its receipt says");
          }
          bytes.append(piece);
          return Status();
        });
    if (!got.ok()) return got.status().WithContext(Who(w) + ", head piece");
    if (bytes.size() - before != head.size ||
        HexEncode(Md5Of(std::string_view(bytes).substr(before))) != head.md5) {
      return DataLossError(Who(w) + ", head piece: the bytes read back do not match its MD5");
    }
  }
  *md5 = Md5Of(bytes);
  return client_->UploadPart(session_.bucket, session_.key, session_.upload_id, step.part_number,
                             http::RequestBody::FromBytes(bytes), *md5);
}

Result<CompleteResult> Coordinator::CompleteWith(const std::vector<Receipt>& chosen) {
  std::vector<HeadInfo> heads;
  uint64_t size = 0;
  for (const Receipt& r : chosen) {
    heads.push_back({.head_size = r.head ? r.head->size : 0, .has_parts = !r.parts.empty()});
    size += r.size;
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<JoinStep> steps,
                         PlanJoins(plan_, heads, session_.min_part_size));
  CompleteResult result;
  // The steps (copies and joins of head pieces) are independent: they run in parallel.
  std::vector<std::pair<s3::CompletedPart, Md5Digest>> parts(steps.size());
  CAIRN_RETURN_IF_ERROR(ForEachParallel(steps.size(), [&](size_t i) -> Status {
    const JoinStep& step = steps[i];
    Md5Digest md5{};
    std::string etag;
    if (step.kind == JoinKind::kCopy && chosen[step.workers.front()].head_part &&
        chosen[step.workers.front()].head_part->part_number == step.part_number) {
      const PieceRecord& direct = *chosen[step.workers.front()].head_part;  // checked in Resolve
      CAIRN_ASSIGN_OR_RETURN(md5, DigestFromHex(direct.md5));
      etag = direct.etag;
    } else if (step.kind == JoinKind::kCopy) {
      const int w = step.workers.front();
      Result<s3::CopyResult> copied = client_->UploadPartCopy(
          session_.bucket, session_.key, session_.upload_id, step.part_number, session_.bucket,
          session_.HeadKey(w), std::nullopt);
      if (!copied.ok()) return copied.status().WithContext(Who(w) + ", copying its head piece");
      if (copied->etag != chosen[w].head->md5) {
        return DataLossError(Who(w) + ": the copy of its head piece has ETag " + copied->etag +
                             ", not its MD5 " + chosen[w].head->md5);
      }
      CAIRN_ASSIGN_OR_RETURN(md5, DigestFromHex(chosen[w].head->md5));
      etag = copied->etag;
    } else if (step.kind == JoinKind::kJoin) {
      Result<std::string> joined = Join(step, chosen, &md5);
      if (!joined.ok())
        return joined.status().WithContext("joining part " + std::to_string(step.part_number));
      etag = *joined;
    } else {
      md5 = Md5Of("");
      CAIRN_ASSIGN_OR_RETURN(etag,
                             client_->UploadPart(session_.bucket, session_.key, session_.upload_id,
                                                 step.part_number, http::RequestBody(), md5));
    }
    parts[i] = {s3::CompletedPart{step.part_number, etag}, md5};
    return Status();
  }));
  for (const JoinStep& step : steps) {
    const std::optional<PieceRecord>& direct =
        step.workers.empty() ? std::nullopt : chosen[step.workers.front()].head_part;
    if (step.kind == JoinKind::kCopy && direct && direct->part_number == step.part_number) {
      ++result.direct_heads;
    } else if (step.kind == JoinKind::kCopy) {
      ++result.copied_parts;
    }
    if (step.kind == JoinKind::kJoin) {
      ++result.joined_parts;
      result.joined_bytes += step.size;
    }
  }
  for (const Receipt& r : chosen) {
    for (const PieceRecord& p : r.parts) {
      CAIRN_ASSIGN_OR_RETURN(Md5Digest md5, DigestFromHex(p.md5));
      parts.push_back({s3::CompletedPart{p.part_number, p.etag}, md5});
    }
  }
  std::sort(parts.begin(), parts.end(),
            [](const auto& a, const auto& b) { return a.first.part_number < b.first.part_number; });
  std::vector<s3::CompletedPart> completed;
  std::vector<Md5Digest> md5s;
  for (auto& [part, md5] : parts) {
    completed.push_back(std::move(part));
    md5s.push_back(md5);
  }
  const std::string expected = MultipartEtag(md5s);
  CAIRN_ASSIGN_OR_RETURN(result.etag, FinishComplete(completed, expected));
  Result<s3::ObjectInfo> info = client_->HeadObject(session_.bucket, session_.key);
  if (info.ok() && info->size != size) {
    return DataLossError("the completed object has " + std::to_string(info->size) +
                         " bytes, the receipts " + std::to_string(size));
  }
  result.size = size;
  result.parts = static_cast<int>(completed.size());
  DeleteHeads().status().IgnoreError();  // leftovers only cost storage; status lists them
  return result;
}

Result<std::string> Coordinator::FinishComplete(std::span<const s3::CompletedPart> parts,
                                                const std::string& expected) {
  Result<s3::CompleteMultipartUploadResult> done =
      client_->CompleteMultipartUpload(session_.bucket, session_.key, session_.upload_id, parts);
  if (!done.ok()) {
    if (done.status().code() == StatusCode::kNotFound) {
      // Gone: a retried Complete whose first reply was lost may have finished it.
      Result<s3::ObjectInfo> head = client_->HeadObject(session_.bucket, session_.key);
      if (head.ok() && head->etag == expected) return head->etag;
    }
    return done.status().WithContext("complete");
  }
  if (done->etag != expected) {
    client_->DeleteObject(session_.bucket, session_.key).IgnoreError();
    return DataLossError("the completed object's ETag " + done->etag + " is not " + expected +
                         ", the one its " + std::to_string(parts.size()) +
                         " parts make; the object was deleted");
  }
  return done->etag;
}

Result<int> Coordinator::DeleteHeads() {
  int deleted = 0;
  s3::ListOptions list;
  list.prefix = session_.temp_prefix;
  for (int page = 0; page < 1000; ++page) {
    CAIRN_ASSIGN_OR_RETURN(s3::ListObjectsV2Page listed,
                           client_->ListObjectsV2(session_.bucket, list));
    std::vector<s3::ObjectIdentifier> batch;
    for (const s3::ObjectSummary& o : listed.contents) batch.push_back({o.key, ""});
    if (!batch.empty()) {
      CAIRN_ASSIGN_OR_RETURN(s3::DeleteObjectsResult result,
                             client_->DeleteObjects(session_.bucket, batch));
      if (!result.errors.empty()) {
        return UnavailableError("deleting head piece " + result.errors.front().key + ": " +
                                result.errors.front().code);
      }
      deleted += static_cast<int>(batch.size());
    }
    if (!listed.is_truncated) break;
    list.continuation_token = listed.next_continuation_token;
  }
  return deleted;
}

Result<std::string> Coordinator::Abort() {
  Status aborted = client_->AbortMultipartUpload(session_.bucket, session_.key, session_.upload_id);
  if (!aborted.ok() && aborted.code() != StatusCode::kNotFound) return aborted;
  Result<int> deleted = DeleteHeads();
  std::string account = aborted.ok() ? "aborted upload " + session_.upload_id
                                     : "upload " + session_.upload_id + " was already gone";
  account += deleted.ok() ? ", deleted " + std::to_string(*deleted) + " head pieces"
                          : ", but deleting the head pieces failed: " +
                                std::string(deleted.status().message());
  // RGW answers ListParts on an aborted upload with NoSuchKey, AWS with NoSuchUpload: the
  // listing of uploads is the check that holds on both.
  std::string key_marker;
  std::string id_marker;
  for (int page = 0; page < 1000; ++page) {
    CAIRN_ASSIGN_OR_RETURN(
        s3::ListMultipartUploadsPage uploads,
        client_->ListMultipartUploads(session_.bucket, session_.key, key_marker, id_marker));
    for (const s3::MultipartUploadSummary& u : uploads.uploads) {
      if (u.key == session_.key && u.upload_id == session_.upload_id) {
        return FailedPreconditionError(account + ", yet the store still lists the upload");
      }
    }
    if (!uploads.is_truncated) break;
    key_marker = uploads.next_key_marker;
    id_marker = uploads.next_upload_id_marker;
  }
  return account + "; the store lists no such upload any more";
}

Status Coordinator::Fail(const Status& status) {
  Result<std::string> account = Abort();
  const std::string suffix =
      account.ok() ? *account : "aborting failed too: " + std::string(account.status().message());
  return Status(status.code(), what_ + ": " + std::string(status.message()) + " (" + suffix + ")",
                status.detail());
}

Result<UploadStatus> Coordinator::Query() {
  UploadStatus status;
  status.seconds_left = session_.deadline - env_->NowUnixSeconds();
  Result<std::vector<s3::PartSummary>> parts = ListAllParts();
  if (!parts.ok()) {
    if (parts.status().code() != StatusCode::kNotFound) return parts.status();
    Result<s3::ObjectInfo> info = client_->HeadObject(session_.bucket, session_.key);
    if (info.ok()) {
      status.state = UploadStatus::State::kCompleted;
      status.etag = info->etag;
      status.size = info->size;
    } else {
      status.state = UploadStatus::State::kGone;
    }
    return status;
  }
  status.worker_parts.assign(session_.workers, 0);
  status.worker_bytes.assign(session_.workers, 0);
  status.worker_head.assign(session_.workers, false);
  for (const s3::PartSummary& p : *parts) {
    const int w = plan_.OwnerOf(p.part_number);
    if (w < 0 || p.part_number == plan_.Slots(w).head_part) continue;
    ++status.worker_parts[w];
    status.worker_bytes[w] += static_cast<uint64_t>(p.size);
  }
  s3::ListOptions list;
  list.prefix = session_.temp_prefix;
  for (int page = 0; page < 1000; ++page) {
    CAIRN_ASSIGN_OR_RETURN(s3::ListObjectsV2Page listed,
                           client_->ListObjectsV2(session_.bucket, list));
    for (const s3::ObjectSummary& o : listed.contents) {
      std::string_view name = std::string_view(o.key).substr(session_.temp_prefix.size());
      if (name.size() == 6 && name[0] == 'w') {
        const int w = std::atoi(std::string(name.substr(1)).c_str());
        if (w >= 0 && w < session_.workers) status.worker_head[w] = true;
      }
    }
    if (!listed.is_truncated) break;
    list.continuation_token = listed.next_continuation_token;
  }
  return status;
}

}  // namespace cairn::objstore::mpu
