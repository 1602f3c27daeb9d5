// Test helper: what a manifest says each file holds, independent of how blocks are listed.
//
// ContentMap(m) maps every path to a description of its bytes as runs of a source: a local block
// ("<hash>") or an external object ("<url>"), with offsets into that source, contiguous runs
// merged. Two manifests with equal maps describe the same files with the same bytes, whatever the
// stream layout, block order or external chunking.
#ifndef CAIRN_TESTING_MANIFEST_CONTENT_H_
#define CAIRN_TESTING_MANIFEST_CONTENT_H_

#include <map>
#include <string>
#include <vector>

#include "cairn/manifest/external.h"
#include "cairn/manifest/manifest.h"

namespace cairn::testing {

struct ByteRun {
  std::string source;
  uint64_t offset;
  uint64_t length;
  friend bool operator==(const ByteRun&, const ByteRun&) = default;
};

// Directories map to a single run with source "/" (so empty directories count).
inline std::map<std::string, std::vector<ByteRun>> ContentMap(const manifest::Manifest& m) {
  std::map<std::string, std::vector<ByteRun>> out;
  std::vector<manifest::Manifest::NodeId> stack = {manifest::Manifest::kRoot};
  while (!stack.empty()) {
    manifest::Manifest::NodeId n = stack.back();
    stack.pop_back();
    std::vector<ByteRun>& runs = out[m.Path(n)];
    if (m.IsDirectory(n)) {
      runs.push_back(ByteRun{"/", 0, 0});
      for (manifest::Manifest::NodeId c : m.Children(n)) stack.push_back(c);
      continue;
    }
    for (const manifest::Extent& e : m.Extents(n)) {
      const manifest::Locator& block = m.blocks()[e.block];
      ByteRun run{std::string(block.hash().hex()), e.offset, e.length};
      if (block.IsExternal()) {
        Result<manifest::ExternalRange> range = manifest::DecodeExternal(block);
        if (range.ok()) run = ByteRun{range->object.ToUrl(), range->offset + e.offset, e.length};
      }
      if (!runs.empty() && runs.back().source == run.source &&
          runs.back().offset + runs.back().length == run.offset) {
        runs.back().length += run.length;
      } else {
        runs.push_back(run);
      }
    }
  }
  return out;
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_MANIFEST_CONTENT_H_
