#include "cairn/objstore/fs/file_system.h"

#include <string>
#include <utility>

namespace cairn::objstore::fs {

Result<std::string> NormalizePath(std::string_view path) {
  std::string_view rest = path;
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.starts_with('/')) {
    return InvalidArgumentError("\"" + std::string(path) + "\": paths are relative to the root");
  }
  std::string out;
  out.reserve(rest.size());
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") {
      return InvalidArgumentError("\"" + std::string(path) +
                                  "\": empty, \".\" and \"..\" components are not allowed");
    }
    if (part.find('\0') != std::string_view::npos) {
      return InvalidArgumentError("a path holds a NUL byte");
    }
    if (!out.empty()) out += '/';
    out.append(part);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  return out;
}

std::string ParentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  out += '/';
  out.append(b);
  return out;
}

bool IsSameOrBelow(std::string_view path, std::string_view ancestor) {
  if (ancestor.empty()) return true;
  if (!path.starts_with(ancestor)) return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

Result<std::vector<FileStatus>> ListAll(FileSystem& fs, std::string_view path,
                                        const ListingOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<FileLister> lister, fs.List(path, options));
  std::vector<FileStatus> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<FileStatus> entry, lister->Next());
    if (!entry) break;
    out.push_back(std::move(*entry));
  }
  return out;
}

}  // namespace cairn::objstore::fs
