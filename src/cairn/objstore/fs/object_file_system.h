// ObjectFileSystem: the FileSystem facade (fs/file_system.h) over one container of any
// ObjectStore (S3, Swift, memory), in the manner of Hadoop's S3A and Swifta.
//
// Mapping: the file "a/b" is the object "a/b"; a directory is implied by any key below it
// ("a/" + ...) or made explicit by a marker object "a/" (empty), which Mkdirs writes and which
// Delete and Rename write for a parent they would otherwise leave without entries, so a directory
// made or emptied stays visible as it would on a disk (S3A's behaviour).
//
//   Stat     HEAD "a/b" and a one-key listing of "a/b/" in parallel: an object wins, else any key
//            below makes a directory
//   List     paged listings of "a/b/" (delimiter "/" for one level), one page in memory
//   Create   ObjectFileWriter (object_file_writer.h): one Put, or a multipart upload with parts
//            on this file system's pool under a per-writer buffer bound
//   Rename   a file: ObjectStore::Rename (Swift moves a large object's manifest; S3 copies above
//            5 GiB with UploadPartCopy). A directory: listed page by page while the pool (N
//            threads) copies each object server-side; the sources are then removed with bulk
//            DeleteMany. On Swift each object is moved with ObjectStore::Rename instead (a bulk
//            delete of a large object's manifest would leave its segments behind).
//   Delete   a directory: listed page by page, each page deleted by one bulk DeleteMany on the
//            pool while the next page is listed (Swift: one Delete per object, for the same
//            reason as above)
//
// Thread safety: thread-safe. The store is not owned and must outlive this object; the pool is
// owned and joined by the destructor.
#ifndef CAIRN_OBJSTORE_FS_OBJECT_FILE_SYSTEM_H_
#define CAIRN_OBJSTORE_FS_OBJECT_FILE_SYSTEM_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/thread_pool.h"
#include "cairn/objstore/fs/file_system.h"
#include "cairn/objstore/object_store.h"

namespace cairn::objstore::fs {

struct ObjectFileSystemOptions {
  int threads = 16;  // the pool for copies, deletes, parts and stat's second request
  // How objects of a directory are moved and deleted. kAuto: per object on swift:// stores (large
  // objects are manifests there), copy + bulk delete elsewhere.
  enum class Moves { kAuto, kCopyThenBulkDelete, kPerObject };
  Moves moves = Moves::kAuto;
};

class ObjectFileSystem final : public FileSystem {
 public:
  // kInvalidArgument for a bad thread count; the container is not checked here.
  static Result<std::unique_ptr<ObjectFileSystem>> Create(ObjectStore* store, std::string container,
                                                          ObjectFileSystemOptions options = {});
  ~ObjectFileSystem() override;

  std::string Describe(std::string_view path) const override;
  Result<FileStatus> Stat(std::string_view path) override;
  Result<std::unique_ptr<FileLister>> List(std::string_view path,
                                           const ListingOptions& options = {}) override;
  Result<std::unique_ptr<FileReader>> Open(std::string_view path,
                                           const OpenOptions& options = {}) override;
  Result<std::unique_ptr<FileWriter>> Create(std::string_view path,
                                             const CreateOptions& options = {}) override;
  Status Mkdirs(std::string_view path) override;
  Status Rename(std::string_view source, std::string_view destination) override;
  Status Delete(std::string_view path, const DeleteOptions& options = {}) override;

  ObjectStore* store() const { return store_; }
  const std::string& container() const { return container_; }

 private:
  ObjectFileSystem(ObjectStore* store, std::string container, ObjectFileSystemOptions options,
                   std::unique_ptr<ThreadPool> pool);

  bool PerObjectMoves() const;
  // Stat of a normalized path.
  Result<FileStatus> StatNormalized(const std::string& path);
  // Whether any object lies below `dir` ("dir/..."; the root: any object at all).
  Result<bool> HasEntries(const std::string& dir);
  // Writes the marker of `dir` unless it is the root or still has entries.
  Status KeepDirectory(const std::string& dir);
  Status RenameDirectory(const std::string& source, const std::string& destination);
  Status DeleteDirectoryContents(const std::string& dir);

  ObjectStore* const store_;
  const std::string container_;
  const ObjectFileSystemOptions options_;
  std::unique_ptr<ThreadPool> pool_;
};

// "dir/" for a directory path, "" for the root: the key prefix of its entries.
std::string DirectoryPrefix(std::string_view dir);

}  // namespace cairn::objstore::fs

#endif  // CAIRN_OBJSTORE_FS_OBJECT_FILE_SYSTEM_H_
