// Manifest: a collection's file tree, read from and written to Arvados manifest text
// (DESIGN.md §3, arvados-keep.md §2).
//
// Parse() checks every rule of the format and reports the first violation with its line and
// column and what was expected. The tree it builds keeps, for each file, the byte ranges
// ("extents") of blocks that make up its content, in order; blocks are listed once per manifest
// (deduplicated by their full locator text, hints included). External-object locators larger
// than a block are split into ≤ 64 MiB chunks on load (external.h).
//
// ToText() writes the one canonical, normalized form:
//   * streams in Arvados tree order: depth first, a directory's own files first, then its
//     subdirectories, names sorted bytewise at every level;
//   * in each stream, every block once, in order of first use by the sorted files; the empty
//     block when the stream has no data; files as `pos:len:name` with contiguous ranges merged;
//   * empty files as `0:0:name`, empty directories as a stream holding `0:0:\056`;
//   * contiguous chunks of one external object merged back into one locator.
// So ToText() of a parsed manifest is the normalized manifest, and normalizing is idempotent.
//
// Thread safety: const methods may be called concurrently; mutation needs exclusive access.
#ifndef CAIRN_MANIFEST_MANIFEST_H_
#define CAIRN_MANIFEST_MANIFEST_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/manifest/locator.h"

namespace cairn::manifest {

// Bytes [offset, offset + length) of block `block` (an index into Manifest::blocks()).
struct Extent {
  uint32_t block;
  uint64_t offset;
  uint64_t length;
  friend bool operator==(const Extent&, const Extent&) = default;
};

class Manifest {
 public:
  using NodeId = uint32_t;
  static constexpr NodeId kRoot = 0;

  // An empty collection (its text is "").
  Manifest();

  Manifest(Manifest&&) noexcept;
  Manifest& operator=(Manifest&&) noexcept;
  Manifest(const Manifest&);
  Manifest& operator=(const Manifest&);
  ~Manifest();

  // Parses manifest text. Errors are kInvalidArgument: "line L, column C: <what is wrong>".
  static Result<Manifest> Parse(std::string_view text);

  // The canonical normalized text (see above).
  std::string ToText() const;
  // The same text, handed to `sink` in pieces of about a megabyte (for large manifests written
  // to a file or socket without holding the whole text).
  void WriteText(const std::function<void(std::string_view)>& sink) const;

  // --- Tree access. NodeIds are stable until the node is removed.
  bool IsDirectory(NodeId node) const;
  // The node's own name (unescaped); "" for the root.
  std::string_view Name(NodeId node) const;
  NodeId Parent(NodeId node) const;
  // "dir/sub/file" relative to the root; "" for the root.
  std::string Path(NodeId node) const;
  // Children of a directory, sorted bytewise by name.
  std::vector<NodeId> Children(NodeId dir) const;
  // The node at a '/'-separated path relative to the root ("" is the root), if any.
  std::optional<NodeId> Find(std::string_view path) const;
  // A file's content as extents, in order. Empty for directories and empty files.
  std::span<const Extent> Extents(NodeId file) const;
  uint64_t FileSize(NodeId file) const;

  const std::vector<Locator>& blocks() const { return blocks_; }
  size_t file_count() const { return file_count_; }
  size_t directory_count() const;  // excluding the root
  // The sum of every file's size (one pass over the nodes, no sorting).
  uint64_t total_file_size() const;

  // --- Building. Paths are '/'-separated, unescaped names; "." and ".." components, empty
  // components and names that clash with an existing node of the other kind are errors.

  // Index of `locator` in blocks(), adding it if its text is new.
  uint32_t AddBlock(const Locator& locator);
  // The directory at `path`, creating it and its parents as needed.
  Result<NodeId> MakeDirectories(std::string_view path);
  // The file at `path`, creating it (empty) and its parent directories as needed.
  Result<NodeId> MakeFile(std::string_view path);
  // Appends an extent to a file (merging it with the last one when contiguous). Zero-length
  // extents are ignored. REQUIRES: `file` is a file, extent.block < blocks().size() and the range
  // lies within the block.
  Status AppendExtent(NodeId file, const Extent& extent);
  // Removes a file or a whole directory tree. kNotFound if there is nothing at `path`.
  Status Remove(std::string_view path);

 private:
  enum class NodeKind : uint8_t { kFile, kDirectory };
  // A slot of a directory's hash table of children: the child and 32 bits of its name's hash.
  struct ChildSlot {
    uint32_t id;
    uint32_t hash;
  };
  struct Node {
    std::string_view name;  // stored in names_
    NodeId parent = kRoot;
    NodeKind kind = NodeKind::kFile;
    bool live = true;
    uint32_t extent_count = 0;
    Extent first_extent{};             // a file of one extent (the common case) keeps it here,
    std::vector<Extent> more_extents;  // one of several extents keeps them all here
    std::vector<NodeId> children;      // directories: in insertion order (sorted when listed)
    // Directories: open-addressing table of children by name. One table per directory keeps the
    // lookups of a stream's files inside a few kilobytes (one global table missed the cache on
    // nearly every lookup of a million-file manifest).
    std::vector<ChildSlot> child_slots;
    uint32_t child_slots_used = 0;  // live and deleted slots
    uint64_t size = 0;              // files: sum of extent lengths

    std::span<const Extent> extents() const {
      if (extent_count <= 1) return std::span<const Extent>(&first_extent, extent_count);
      return more_extents;
    }
    // Appends, merging with the last extent when contiguous. REQUIRES: e.length > 0.
    void AppendExtent(const Extent& e);
  };
  class Index;
  class NameArena;
  class Parser;
  class Writer;

  // The child `name` of `dir` of the given kind, created if missing; an error if a child of the
  // other kind has that name.
  Result<NodeId> Child(NodeId dir, std::string_view name, NodeKind kind);
  // Walks `path` from `start`, creating directories; the last component gets `last_kind`.
  Result<NodeId> Walk(NodeId start, std::string_view path, NodeKind last_kind);
  // Adds a node; `hash` is NameHash(name).
  NodeId NewNode(std::string_view name, NodeId parent, NodeKind kind, uint32_t hash);

  static constexpr uint32_t kNoNode = UINT32_MAX;
  static constexpr uint32_t kDeletedSlot = UINT32_MAX - 1;
  static uint32_t NameHash(std::string_view name);
  // The child of `dir` named `name` (whose NameHash is `hash`), or kNoNode.
  uint32_t FindChild(NodeId dir, std::string_view name, uint32_t hash) const;
  void InsertChild(NodeId dir, NodeId child, uint32_t hash);
  void EraseChild(NodeId dir, NodeId child);
  Node MakeNode(std::string_view name, NodeId parent, NodeKind kind);

  std::vector<Node> nodes_;
  std::vector<NodeId> free_nodes_;
  std::vector<Locator> blocks_;
  std::unique_ptr<NameArena> names_;
  // Block lookup table.
  std::unique_ptr<Index> index_;
  size_t file_count_ = 0;
};

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_MANIFEST_H_
