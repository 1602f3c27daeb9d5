#include "cairn/objstore/fs/object_file_writer.h"

#include <algorithm>
#include <utility>

#include "cairn/common/hash.h"

namespace cairn::objstore::fs {

namespace {
// Parts double in size after every this many, so a stream of unknown length fits in 10,000 parts
// (S3's limit): 8 MiB parts reach ~80 TB before the limit (goofys grows the same way).
constexpr int kPartsPerSize = 1000;
// S3: no part may exceed 5 GiB.
constexpr uint64_t kMaxPartSize = 5ULL << 30;
}  // namespace

ObjectFileWriter::ObjectFileWriter(ObjectStore* store, ThreadPool* pool, std::string container,
                                   std::string key, const CreateOptions& options)
    : store_(store),
      container_(std::move(container)),
      key_(std::move(key)),
      options_(options),
      parts_(std::make_unique<TaskGroup>(pool)) {}

ObjectFileWriter::~ObjectFileWriter() {
  if (!finished_) Abort();
}

uint64_t ObjectFileWriter::CurrentPartSize() const {
  int doublings = (next_part_ - 1) / kPartsPerSize;
  uint64_t size = options_.part_size;
  for (int i = 0; i < doublings && size < kMaxPartSize; ++i) size *= 2;
  return std::min(size, kMaxPartSize);
}

Status ObjectFileWriter::Write(std::string_view data) {
  if (finished_)
    return FailedPreconditionError("write " + store_->Uri(container_, key_) + ": closed");
  if (!error_.ok()) return error_;
  while (!data.empty()) {
    const uint64_t part = CurrentPartSize();
    size_t take = static_cast<size_t>(std::min<uint64_t>(part - buffer_.size(), data.size()));
    if (buffer_.capacity() < part && buffer_.size() + data.size() > buffer_.capacity()) {
      // Grow in steps (a small file never pays for a whole part).
      buffer_.reserve(static_cast<size_t>(std::min<uint64_t>(
          part, std::max<uint64_t>(2 * buffer_.capacity(), buffer_.size() + take))));
    }
    buffer_.append(data.substr(0, take));
    data.remove_prefix(take);
    size_ += take;
    // A full buffer is sent only when more bytes follow: the last part goes at Close, so a file of
    // exactly one part is still a single Put.
    if (buffer_.size() == part && !data.empty()) {
      Status sent = SendPart();
      if (!sent.ok()) {
        error_ = sent;
        Abort();
        return sent;
      }
    }
  }
  return Status();
}

Status ObjectFileWriter::SendPart() {
  if (upload_id_.empty()) {
    WriteOptions write_options;
    write_options.content_type = options_.content_type;
    CAIRN_ASSIGN_OR_RETURN(upload_id_, store_->BeginUpload(container_, key_, write_options));
  }
  {
    // Back-pressure: at most parts_in_flight buffers on their way.
    std::unique_lock lock(mu_);
    part_done_.wait(lock,
                    [&] { return in_flight_ < options_.parts_in_flight || parts_->cancelled(); });
    if (parts_->cancelled()) {
      lock.unlock();
      return WaitForParts();
    }
    ++in_flight_;
  }
  const int number = next_part_++;
  std::string bytes = std::move(buffer_);
  buffer_ = std::string();
  parts_->Add([this, number, bytes = std::move(bytes)]() -> Status {
    Result<UploadedPart> part = store_->PutPart(container_, key_, upload_id_, number,
                                                http::RequestBody::FromBytes(bytes), Md5Of(bytes));
    std::lock_guard lock(mu_);
    --in_flight_;
    part_done_.notify_all();
    if (!part.ok()) return part.status();
    uploaded_.push_back(*part);
    return Status();
  });
  return Status();
}

Status ObjectFileWriter::WaitForParts() {
  Status status = parts_->Wait();
  if (status.ok()) return status;
  return status.WithContext("write " + store_->Uri(container_, key_));
}

Status ObjectFileWriter::Close() {
  if (finished_)
    return FailedPreconditionError("close " + store_->Uri(container_, key_) + ": closed");
  if (!error_.ok()) return error_;
  Status status;
  if (upload_id_.empty()) {
    WriteOptions write_options;
    write_options.content_type = options_.content_type;
    write_options.content_md5 = Md5Of(buffer_);
    status = store_->Put(container_, key_, http::RequestBody::FromBytes(buffer_), write_options)
                 .status();
    finished_ = true;
    buffer_ = std::string();
    return status;
  }
  status = SendPart();
  if (status.ok()) status = WaitForParts();
  if (status.ok()) {
    std::vector<UploadedPart> parts;
    {
      std::lock_guard lock(mu_);
      parts = uploaded_;
    }
    status = store_->CompleteUpload(container_, key_, upload_id_, parts).status();
  }
  if (!status.ok()) {
    error_ = status;
    Abort();
    return status;
  }
  finished_ = true;
  return status;
}

void ObjectFileWriter::Abort() {
  finished_ = true;
  parts_->Cancel();
  parts_->Wait().IgnoreError();
  if (!upload_id_.empty()) {
    store_->AbortUpload(container_, key_, upload_id_).IgnoreError();
    upload_id_.clear();
  }
  buffer_ = std::string();
}

}  // namespace cairn::objstore::fs
