// CopyTree: copies a file or directory tree from one manifest into another by rewriting extents
// only — the blocks (local or external) are shared, no data moves. What `cairn cp` and `cairn mv`
// between collections are made of; RewriteBlocks, what `cairn materialize` is made of.
//
// Thread safety: pure functions over the manifests they are given.
#ifndef CAIRN_MANIFEST_TREE_COPY_H_
#define CAIRN_MANIFEST_TREE_COPY_H_

#include <functional>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/manifest/manifest.h"

namespace cairn::manifest {

// Copies what is at `from_path` in `from` ("" for the whole collection) to `to`, with `cp -r`
// naming: when `to_path` is an existing directory of `to` (or "", the root), the copy goes inside
// it under its own name (the whole collection: its contents); otherwise it is created at
// `to_path` (parents as needed). Returns the path of the copy in `to`.
// Errors: kNotFound when nothing is at `from_path`; kAlreadyExists when the copy would replace an
// existing file or directory (nothing is changed then); kInvalidArgument for a path that is not a
// valid file path. `from` and `to` may not be the same object.
Result<std::string> CopyTree(const Manifest& from, std::string_view from_path, Manifest* to,
                             std::string_view to_path);

// The same tree with every block replaced by map(block), called once per distinct block in file
// order (the order a reader of every file front to back meets them). The replacement must have
// the size of the block it replaces (kInvalidArgument otherwise). Errors of `map` are returned.
Result<Manifest> RewriteBlocks(const Manifest& m,
                               const std::function<Result<Locator>(const Locator&)>& map);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_TREE_COPY_H_
