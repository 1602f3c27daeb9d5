// CopyTree (tree_copy.h).
#include "cairn/manifest/tree_copy.h"

#include <optional>
#include <string>
#include <vector>

namespace cairn::manifest {
namespace {

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  return std::string(dir) + "/" + std::string(name);
}

// Copies file `node` of `from` to a new file at `path` of `to`.
Status CopyFile(const Manifest& from, Manifest::NodeId node, Manifest* to,
                const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(Manifest::NodeId file, to->MakeFile(path));
  for (const Extent& e : from.Extents(node)) {
    uint32_t block = to->AddBlock(from.blocks()[e.block]);
    CAIRN_RETURN_IF_ERROR(
        to->AppendExtent(file, {.block = block, .offset = e.offset, .length = e.length}));
  }
  return Status::OK();
}

Status CopyDirectory(const Manifest& from, Manifest::NodeId dir, Manifest* to,
                     const std::string& path) {
  if (!path.empty()) CAIRN_RETURN_IF_ERROR(to->MakeDirectories(path).status());
  for (Manifest::NodeId child : from.Children(dir)) {
    std::string child_path = Join(path, from.Name(child));
    if (from.IsDirectory(child)) {
      CAIRN_RETURN_IF_ERROR(CopyDirectory(from, child, to, child_path));
    } else {
      CAIRN_RETURN_IF_ERROR(CopyFile(from, child, to, child_path));
    }
  }
  return Status::OK();
}

std::string_view Trim(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace

Result<std::string> CopyTree(const Manifest& from, std::string_view from_path, Manifest* to,
                             std::string_view to_path) {
  from_path = Trim(from_path);
  to_path = Trim(to_path);
  std::optional<Manifest::NodeId> source =
      from_path.empty() ? std::optional<Manifest::NodeId>(Manifest::kRoot) : from.Find(from_path);
  if (!source) return NotFoundError("no file or directory " + std::string(from_path));
  std::optional<Manifest::NodeId> target =
      to_path.empty() ? std::optional<Manifest::NodeId>(Manifest::kRoot) : to->Find(to_path);
  std::string dest(to_path);
  if (target && to->IsDirectory(*target) && *source != Manifest::kRoot) {
    dest = Join(to_path, from.Name(*source));  // into the existing directory
    target = to->Find(dest);
  }
  // Into an existing directory, the whole collection merges with what is there only when
  // nothing clashes; a file or directory is never replaced.
  if (target && !(*source == Manifest::kRoot && to->IsDirectory(*target))) {
    return AlreadyExistsError((dest.empty() ? std::string("the root") : dest) + " already exists");
  }
  if (*source == Manifest::kRoot && target) {
    for (Manifest::NodeId child : from.Children(Manifest::kRoot)) {
      std::string child_path = Join(dest, from.Name(child));
      if (to->Find(child_path)) return AlreadyExistsError(child_path + " already exists");
    }
  }
  if (from.IsDirectory(*source)) {
    // Build into a scratch copy so a failure half-way leaves `to` untouched.
    Manifest scratch = *to;
    CAIRN_RETURN_IF_ERROR(CopyDirectory(from, *source, &scratch, dest));
    *to = std::move(scratch);
  } else {
    if (dest.empty()) return InvalidArgumentError("a file cannot become the root");
    Manifest scratch = *to;
    CAIRN_RETURN_IF_ERROR(CopyFile(from, *source, &scratch, dest));
    *to = std::move(scratch);
  }
  return dest;
}

}  // namespace cairn::manifest
