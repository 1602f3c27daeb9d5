// ObjectFileWriter: a FileWriter (fs/file_system.h) that writes one object.
//
// Bytes are buffered up to one part. If Close comes first, the object is one Put with its
// Content-MD5. Otherwise the first full buffer begins a multipart upload (an SLO on Swift) and each
// full buffer becomes a part sent on the pool with its Content-MD5, at most `parts_in_flight` at a
// time per writer: Write blocks while that many are in flight, so memory stays under
// (parts_in_flight + 1) * part_size. Part sizes double after every 1,000 parts so that any stream
// fits in the store's part count. Close sends the last part, waits for all and completes the
// upload (whose ETag the store checks). A failure, or destruction without Close, aborts the upload:
// nothing is left behind.
//
// Thread safety: not thread-safe (one writer thread); its parts run on the pool. The store and the
// pool are not owned and must outlive the writer.
#ifndef CAIRN_OBJSTORE_FS_OBJECT_FILE_WRITER_H_
#define CAIRN_OBJSTORE_FS_OBJECT_FILE_WRITER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/thread_pool.h"
#include "cairn/objstore/fs/file_system.h"
#include "cairn/objstore/object_store.h"

namespace cairn::objstore::fs {

class ObjectFileWriter final : public FileWriter {
 public:
  // REQUIRES: options.parts_in_flight >= 1 and options.part_size >= the store's min_part_size.
  ObjectFileWriter(ObjectStore* store, ThreadPool* pool, std::string container, std::string key,
                   const CreateOptions& options);
  // Aborts an upload that was not completed.
  ~ObjectFileWriter() override;

  Status Write(std::string_view data) override;
  Status Close() override;
  uint64_t size() const override { return size_; }

  // Parts sent so far (for tests of the write policy).
  int parts_sent() const { return next_part_ - 1; }

 private:
  // Sends buffer_ as the next part (beginning the upload first if needed).
  Status SendPart();
  // Waits for every part in flight; returns the first error.
  Status WaitForParts();
  // Best effort: cancels the parts, aborts the upload.
  void Abort();
  uint64_t CurrentPartSize() const;

  ObjectStore* const store_;
  const std::string container_;
  const std::string key_;
  const CreateOptions options_;
  std::string buffer_;
  uint64_t size_ = 0;
  int next_part_ = 1;
  std::string upload_id_;  // "" until the upload begins
  bool finished_ = false;  // closed (or failed and aborted)
  Status error_;           // the first error; final
  std::unique_ptr<TaskGroup> parts_;

  std::mutex mu_;
  std::condition_variable part_done_;
  int in_flight_ = 0;                   // guarded by mu_
  std::vector<UploadedPart> uploaded_;  // guarded by mu_
};

}  // namespace cairn::objstore::fs

#endif  // CAIRN_OBJSTORE_FS_OBJECT_FILE_WRITER_H_
