// LocalFileSystem: the FileSystem facade (fs/file_system.h) over one local directory, so that
// code written against FileSystem runs on a disk as it runs on an object store (and so that the
// conformance suite has a reference with real directories).
//
// Confinement: every path stays inside the root. Paths with "..", "." or a leading '/' are
// kInvalidArgument (NormalizePath); a path that resolves through a symlink to a place outside the
// root is kPermissionDenied (symlinks inside the root are followed). Recursive listings and
// deletes do not follow symlinks. The check and the use are separate system calls, so a process
// that swaps a directory for a symlink in between can still race it: confinement is against
// careless paths, not against a hostile writer of the same tree.
//
// Create writes a temporary file ".cairn-tmp-<name>-<n>" beside the target (hidden from listings)
// and renames it into place at Close (renameat2 RENAME_NOREPLACE without overwrite), so readers
// never see a partial file. Rename uses renameat2 RENAME_NOREPLACE too, for files and directories.
//
// Thread safety: thread-safe (no shared mutable state but a counter).
#ifndef CAIRN_OBJSTORE_FS_LOCAL_FILE_SYSTEM_H_
#define CAIRN_OBJSTORE_FS_LOCAL_FILE_SYSTEM_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/objstore/fs/file_system.h"

namespace cairn::objstore::fs {

class LocalFileSystem final : public FileSystem {
 public:
  // `root` must be an existing directory (kNotFound, kFailedPrecondition otherwise).
  static Result<std::unique_ptr<LocalFileSystem>> OpenRoot(const std::string& root);

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

  // The canonical root directory.
  const std::string& root() const { return root_; }

  // The prefix of temporary files (hidden from listings).
  static constexpr std::string_view kTempPrefix = ".cairn-tmp-";

 private:
  explicit LocalFileSystem(std::string root) : root_(std::move(root)) {}

  // Normalizes `path` and returns the local path under the root, checking that it resolves
  // inside the root. `normalized` receives the normalized relative path.
  Result<std::string> Resolve(std::string_view path, std::string* normalized) const;
  Result<FileStatus> StatResolved(const std::string& local, const std::string& normalized) const;
  // mkdir -p of a relative directory; kFailedPrecondition when an ancestor is a file.
  Status MakeDirectories(const std::string& normalized) const;

  const std::string root_;
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace cairn::objstore::fs

#endif  // CAIRN_OBJSTORE_FS_LOCAL_FILE_SYSTEM_H_
