// FileListWriter: manifest text written one file at a time, for writers that meet many files once
// each and cannot afford a Manifest tree (~800 bytes a file): `cairn import` of an S3 prefix or a
// Swift container with 100,000 objects.
//
//   FileListWriter writer;
//   for (...) CAIRN_RETURN_IF_ERROR(writer.AddFile("dir/name.bin", chunks));  // or skip on error
//   std::string text = writer.Release();
//
// Every file becomes its own stream line (". /dir loc… 0:size:name"), so the text is valid but not
// normalized: Manifest::Parse reads it into the same tree as one line per directory, and the
// catalog stores (and hashes into the PDH) the normalized form. Memory: the text, the directory
// paths, and an 8-byte hash of every file path, kept to refuse a file and a directory of one name
// (a false clash of two 64-bit hashes is possible in principle, at ~1e-10 for 100,000 files; it
// would make AddFile refuse a file it could have taken, never write a wrong manifest).
//
// Thread-compatible; a value.
#ifndef CAIRN_MANIFEST_FILE_LIST_WRITER_H_
#define CAIRN_MANIFEST_FILE_LIST_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "cairn/common/result.h"
#include "cairn/manifest/locator.h"

namespace cairn::manifest {

class FileListWriter {
 public:
  // Adds the file `path` ("dir/sub/name", '/'-separated, unescaped) made of the whole of each of
  // `chunks` in order (none: an empty file). kInvalidArgument, naming the path, for an empty path
  // or component, "." or "..", or a path that clashes with one added before: the same file
  // twice, a file where a directory is ("a/b" then "a") or below a file ("a" then "a/b"). Nothing
  // is written then.
  Status AddFile(std::string_view path, std::span<const Locator> chunks);

  size_t file_count() const { return file_count_; }
  const std::string& text() const { return text_; }
  // The text, moved out; the writer is empty afterwards.
  std::string Release();

 private:
  std::string text_;
  std::unordered_set<std::string> directories_;  // every directory path seen ("a", "a/b")
  std::unordered_set<uint64_t> files_;           // hashes of every file path added
  size_t file_count_ = 0;
};

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_FILE_LIST_WRITER_H_
