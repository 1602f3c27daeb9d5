// FileSystem: a Hadoop-FileSystem-like facade (DESIGN.md §5) over object stores and local
// directories, for programs that want files and directories rather than containers and keys.
// docs/filesystem.md states the contract; fs_conformance.h checks it on every implementation.
//
// Paths are relative to the file system's root: '/'-separated components, none empty, "." or
// "..", no leading '/' (a trailing '/' is ignored); "" is the root. Anything else is
// kInvalidArgument. Directories exist implicitly as the parents of files (as on object stores).
//
// Errors, by what the caller should do (common/status.h):
//   kNotFound            the path (or a rename's source) does not exist
//   kAlreadyExists       the target exists: Create without overwrite, Rename onto an existing
//                        destination, Mkdirs over a file
//   kFailedPrecondition  the path has the wrong type: Create over a directory, a parent that is a
//                        file, Delete of a non-empty directory without recursion
//   kInvalidArgument     a malformed path, a directory renamed into itself, the root renamed
//   kPermissionDenied    a local path that would leave the root (a symlink out of it)
//   others               as the store or the system reported them (kUnavailable: retry)
//
// Thread safety: implementations are thread-safe; a FileLister or FileWriter is used by one
// thread at a time. Listers and writers must not outlive the FileSystem that made them.
#ifndef CAIRN_OBJSTORE_FS_FILE_SYSTEM_H_
#define CAIRN_OBJSTORE_FS_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/objstore/seekable_reader.h"

namespace cairn::objstore::fs {

enum class FileType { kFile, kDirectory };

struct FileStatus {
  std::string path = "";  // normalized, relative to the root; "" for the root itself
  FileType type = FileType::kFile;
  uint64_t size = 0;          // bytes of a file; 0 for a directory
  int64_t last_modified = 0;  // Unix seconds; 0 when unknown (implicit directories)
  std::string etag = "";      // object stores: the object's ETag; "" otherwise

  bool is_directory() const { return type == FileType::kDirectory; }
};

struct ListingOptions {
  // false: the direct children (files and directories). true: every file below, at any depth
  // (directories are not listed, as Hadoop's listFiles).
  bool recursive = false;
  int page_size = 1000;  // entries fetched per request (objects) or held at a time
};

// Entries of a listing, fetched a page at a time (memory stays bounded by the page size, plus
// the directory stack of a recursive local listing). Object stores give byte order of the
// paths; the local file system sorts each directory's names.
//
// Thread safety: not thread-safe; one thread at a time.
class FileLister {
 public:
  virtual ~FileLister() = default;
  // The next entry, or nullopt after the last.
  virtual Result<std::optional<FileStatus>> Next() = 0;
};

struct CreateOptions {
  bool overwrite = true;  // false: kAlreadyExists when the file exists (checked at Create)
  // Write policy for object stores: bytes are buffered up to one part; a file that fits in one
  // part is one Put at Close; a larger one is a multipart upload whose parts (grown past 1,000
  // parts so any size fits the store's part count) are sent by the file system's pool with at most
  // `parts_in_flight` buffers per writer (the memory bound: (parts_in_flight + 1) * part_size).
  // parts_in_flight = 1 is the single-threaded policy. Ignored by the local file system.
  uint64_t part_size = 8 << 20;  // raised to the store's minimum part size
  int parts_in_flight = 4;
  std::string content_type = "";
};

// A file being written. Nothing is visible under its path until Close succeeds; a writer
// destroyed without Close (or whose Close failed) leaves nothing behind (object stores: the
// multipart upload is aborted; local: the temporary file is removed).
//
// Thread safety: not thread-safe; one thread at a time.
class FileWriter {
 public:
  virtual ~FileWriter() = default;
  // Appends `data`. May block while earlier parts are sent (back-pressure). An error is final.
  virtual Status Write(std::string_view data) = 0;
  // Makes the file visible under its path. REQUIRES: called at most once.
  virtual Status Close() = 0;
  // Bytes written so far.
  virtual uint64_t size() const = 0;
};

struct OpenOptions {
  // Object stores: the readahead policy of the SeekableReader (objstore/seekable_reader.h);
  // kRandom for columnar formats, kSequential for scans. Ignored by the local file system.
  ReadPolicy policy = ReadPolicy::kAdaptive;
};

// A file open for reading: positioned and sequential reads. On object stores it is a
// SeekableReader (lazy seek, readahead, every read pinned to the ETag seen at Open: a file
// replaced since fails with kFailedPrecondition); locally an open descriptor.
//
// Thread safety: not thread-safe; one thread at a time.
class FileReader {
 public:
  virtual ~FileReader() = default;
  // The file's size when it was opened.
  virtual uint64_t size() const = 0;
  // Reads from the position and advances it; fills `out` unless the file ends first; 0 at the end.
  virtual Result<size_t> Read(std::span<char> out) = 0;
  // Reads at `offset` without moving the position; 0 at or past the end.
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<char> out) = 0;
  // Moves the position (no I/O). kOutOfRange past the end.
  virtual Status Seek(uint64_t offset) = 0;
  virtual uint64_t position() const = 0;
};

struct DeleteOptions {
  bool recursive = false;  // a directory with entries: false fails, true removes them all
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // For messages: "s3://bucket/path", "swift://container/path", "file:///root/path".
  virtual std::string Describe(std::string_view path) const = 0;

  // A file or a directory (explicit, or implied by entries below it).
  virtual Result<FileStatus> Stat(std::string_view path) = 0;
  // The entries of a directory (one level, or every file below with options.recursive); a file's
  // listing is the file itself. kNotFound when nothing is there.
  virtual Result<std::unique_ptr<FileLister>> List(std::string_view path,
                                                   const ListingOptions& options = {}) = 0;
  // Opens a file for reading. kNotFound, or kFailedPrecondition for a directory.
  virtual Result<std::unique_ptr<FileReader>> Open(std::string_view path,
                                                   const OpenOptions& options = {}) = 0;
  // A writer for a new file at `path`; missing parent directories are implied (objects) or made
  // (local). kFailedPrecondition if `path` is a directory.
  virtual Result<std::unique_ptr<FileWriter>> Create(std::string_view path,
                                                     const CreateOptions& options = {}) = 0;
  // Makes `path` and its missing parents directories; OK if it already is one. kAlreadyExists if
  // it is a file, kFailedPrecondition if an ancestor is.
  virtual Status Mkdirs(std::string_view path) = 0;
  // Renames a file or a whole directory. An existing destination directory receives the source
  // under its own name ("mv a d" makes "d/a"); the final destination must not exist
  // (kAlreadyExists). Renaming a directory into itself or below itself is kInvalidArgument;
  // renaming a path onto itself is a no-op. Not atomic on object stores: a failure part-way
  // leaves some entries at each name, none lost.
  virtual Status Rename(std::string_view source, std::string_view destination) = 0;
  // Deletes a file, or a directory (empty, or with options.recursive everything below it). The
  // root's contents can be deleted, the root itself stays. kNotFound when nothing is there.
  virtual Status Delete(std::string_view path, const DeleteOptions& options = {}) = 0;
};

// Checks and normalizes a path (see the top of this file): "a/b/" → "a/b".
Result<std::string> NormalizePath(std::string_view path);
// "a/b/c" → "a/b"; "a" → "".
std::string ParentPath(std::string_view path);
// "a/b/c" → "c".
std::string BaseName(std::string_view path);
// "a" + "b" → "a/b"; "" + "b" → "b".
std::string JoinPath(std::string_view a, std::string_view b);
// True when `path` is `ancestor` or lies below it ("" is everyone's ancestor).
bool IsSameOrBelow(std::string_view path, std::string_view ancestor);

// Drains a lister (for tests and small directories).
Result<std::vector<FileStatus>> ListAll(FileSystem& fs, std::string_view path,
                                        const ListingOptions& options = {});

}  // namespace cairn::objstore::fs

#endif  // CAIRN_OBJSTORE_FS_FILE_SYSTEM_H_
