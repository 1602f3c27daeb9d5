// CopyTree (tree_copy.h).
#include "cairn/manifest/tree_copy.h"

#include <functional>
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

Result<Manifest> RewriteBlocks(const Manifest& m,
                               const std::function<Result<Locator>(const Locator&)>& map) {
  Manifest out;
  std::vector<std::optional<uint32_t>> mapped(m.blocks().size());
  // Depth-first over the tree, files in name order, like the manifest's own text.
  std::vector<Manifest::NodeId> stack{Manifest::kRoot};
  while (!stack.empty()) {
    Manifest::NodeId dir = stack.back();
    stack.pop_back();
    std::vector<Manifest::NodeId> children = m.Children(dir);
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      if (m.IsDirectory(*it)) stack.push_back(*it);
    }
    for (Manifest::NodeId child : children) {
      if (m.IsDirectory(child)) {
        if (m.Children(child).empty())
          CAIRN_RETURN_IF_ERROR(out.MakeDirectories(m.Path(child)).status());
        continue;
      }
      CAIRN_ASSIGN_OR_RETURN(Manifest::NodeId file, out.MakeFile(m.Path(child)));
      for (const Extent& e : m.Extents(child)) {
        if (!mapped[e.block]) {
          const Locator& old = m.blocks()[e.block];
          CAIRN_ASSIGN_OR_RETURN(Locator replacement, map(old));
          if (replacement.size() != old.size()) {
            return InvalidArgumentError("block " + old.SizedDigest() + " was replaced by " +
                                        replacement.SizedDigest() + " of another size");
          }
          mapped[e.block] = out.AddBlock(replacement);
        }
        CAIRN_RETURN_IF_ERROR(out.AppendExtent(
            file, {.block = *mapped[e.block], .offset = e.offset, .length = e.length}));
      }
    }
  }
  return out;
}

}  // namespace cairn::manifest
