#include "cairn/manifest/manifest.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "cairn/manifest/manifest_internal.h"

namespace cairn::manifest {

std::string_view CheckComponent(std::string_view name) {
  if (name.empty()) return "empty path component";
  if (name == ".") return "path component \".\" is not allowed";
  if (name == "..") return "path component \"..\" is not allowed";
  if (name.find('/') != std::string_view::npos) return "name contains '/'";
  return {};
}

void Manifest::Node::AppendExtent(const Extent& e) {
  size += e.length;
  if (extent_count > 0) {
    Extent& last = extent_count == 1 ? first_extent : more_extents.back();
    if (last.block == e.block && last.offset + last.length == e.offset) {
      last.length += e.length;
      return;
    }
  }
  if (extent_count == 0) {
    first_extent = e;
  } else {
    if (extent_count == 1) more_extents.push_back(first_extent);
    more_extents.push_back(e);
  }
  ++extent_count;
}

Manifest::Node Manifest::MakeNode(std::string_view name, NodeId parent, NodeKind kind) {
  Node node;
  node.name = names_->Store(name);
  node.parent = parent;
  node.kind = kind;
  return node;
}

Manifest::Manifest() : names_(std::make_unique<NameArena>()), index_(std::make_unique<Index>()) {
  nodes_.push_back(MakeNode("", kRoot, NodeKind::kDirectory));
}

Manifest::Manifest(Manifest&&) noexcept = default;
Manifest& Manifest::operator=(Manifest&&) noexcept = default;
Manifest::~Manifest() = default;

Manifest::Manifest(const Manifest& other)
    : nodes_(other.nodes_),
      free_nodes_(other.free_nodes_),
      blocks_(other.blocks_),
      names_(std::make_unique<NameArena>()),
      index_(std::make_unique<Index>(*other.index_)),
      file_count_(other.file_count_) {
  for (Node& node : nodes_) node.name = names_->Store(node.name);
}

Manifest& Manifest::operator=(const Manifest& other) {
  if (this != &other) *this = Manifest(other);
  return *this;
}

bool Manifest::IsDirectory(NodeId node) const { return nodes_[node].kind == NodeKind::kDirectory; }

std::string_view Manifest::Name(NodeId node) const { return nodes_[node].name; }

Manifest::NodeId Manifest::Parent(NodeId node) const { return nodes_[node].parent; }

std::string Manifest::Path(NodeId node) const {
  std::vector<NodeId> chain;
  for (NodeId n = node; n != kRoot; n = nodes_[n].parent) chain.push_back(n);
  std::string path;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (!path.empty()) path.push_back('/');
    path.append(nodes_[*it].name);
  }
  return path;
}

std::vector<Manifest::NodeId> Manifest::Children(NodeId dir) const {
  std::vector<NodeId> out = nodes_[dir].children;
  std::sort(out.begin(), out.end(),
            [this](NodeId a, NodeId b) { return nodes_[a].name < nodes_[b].name; });
  return out;
}

std::optional<Manifest::NodeId> Manifest::Find(std::string_view path) const {
  NodeId node = kRoot;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view name = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (!IsDirectory(node)) return std::nullopt;
    uint32_t child = FindChild(node, name, NameHash(name));
    if (child == kNoNode) return std::nullopt;
    node = child;
  }
  return node;
}

std::span<const Extent> Manifest::Extents(NodeId file) const { return nodes_[file].extents(); }

uint64_t Manifest::FileSize(NodeId file) const { return nodes_[file].size; }

size_t Manifest::directory_count() const {
  size_t live = 0;
  for (const Node& n : nodes_) live += n.live ? 1 : 0;
  return live - 1 - file_count_;
}

uint64_t Manifest::total_file_size() const {
  uint64_t total = 0;
  for (const Node& n : nodes_) {
    if (n.live && n.kind == NodeKind::kFile) total += n.size;
  }
  return total;
}

uint32_t Manifest::AddBlock(const Locator& locator) {
  auto [it, inserted] =
      index_->block_ids.try_emplace(locator.ToString(), static_cast<uint32_t>(blocks_.size()));
  if (inserted) blocks_.push_back(locator);
  return it->second;
}

// 8 bytes at a time (names in large collections are 50-100 bytes long), then a full avalanche
// (murmur3's fmix64), so that the low bits used for the slot are well mixed.
uint32_t Manifest::NameHash(std::string_view name) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t{name.size()} << 32);
  const char* p = name.data();
  size_t n = name.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (std::rotl(h, 23) ^ w) * 0xff51afd7ed558ccdull;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (std::rotl(h, 23) ^ w) * 0xff51afd7ed558ccdull;
  }
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return static_cast<uint32_t>(h);
}

uint32_t Manifest::FindChild(NodeId dir, std::string_view name, uint32_t hash) const {
  const std::vector<ChildSlot>& slots = nodes_[dir].child_slots;
  if (slots.empty()) return kNoNode;
  size_t mask = slots.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const ChildSlot& slot = slots[i];
    if (slot.id == kNoNode) return kNoNode;
    if (slot.hash == hash && slot.id != kDeletedSlot && nodes_[slot.id].name == name) {
      return slot.id;
    }
  }
}

void Manifest::InsertChild(NodeId dir, NodeId child, uint32_t hash) {
  Node& d = nodes_[dir];
  if ((d.child_slots_used + 1) * 2 > d.child_slots.size()) {
    // Grow (or just drop deleted slots) using the stored hashes: names are not touched.
    size_t size = 8;
    while (size < (d.children.size() + 1) * 4) size <<= 1;
    std::vector<ChildSlot> old = std::move(d.child_slots);
    d.child_slots.assign(size, ChildSlot{kNoNode, 0});
    d.child_slots_used = 0;
    for (const ChildSlot& slot : old) {
      if (slot.id == kNoNode || slot.id == kDeletedSlot) continue;
      size_t i = slot.hash & (size - 1);
      while (d.child_slots[i].id != kNoNode) i = (i + 1) & (size - 1);
      d.child_slots[i] = slot;
      ++d.child_slots_used;
    }
  }
  size_t mask = d.child_slots.size() - 1;
  size_t i = hash & mask;
  while (d.child_slots[i].id != kNoNode && d.child_slots[i].id != kDeletedSlot) i = (i + 1) & mask;
  if (d.child_slots[i].id == kNoNode) ++d.child_slots_used;
  d.child_slots[i] = ChildSlot{child, hash};
}

void Manifest::EraseChild(NodeId dir, NodeId child) {
  std::vector<ChildSlot>& slots = nodes_[dir].child_slots;
  if (slots.empty()) return;
  uint32_t hash = NameHash(nodes_[child].name);
  size_t mask = slots.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    if (slots[i].id == kNoNode) return;
    if (slots[i].id == child) {
      slots[i].id = kDeletedSlot;
      return;
    }
  }
}

Manifest::NodeId Manifest::NewNode(std::string_view name, NodeId parent, NodeKind kind,
                                   uint32_t hash) {
  NodeId id;
  if (!free_nodes_.empty()) {
    id = free_nodes_.back();
    free_nodes_.pop_back();
    nodes_[id] = MakeNode(name, parent, kind);
  } else {
    id = static_cast<NodeId>(nodes_.size());
    nodes_.push_back(MakeNode(name, parent, kind));
  }
  nodes_[parent].children.push_back(id);
  InsertChild(parent, id, hash);
  if (kind == NodeKind::kFile) ++file_count_;
  return id;
}

Result<Manifest::NodeId> Manifest::Child(NodeId dir, std::string_view name, NodeKind kind) {
  uint32_t hash = NameHash(name);
  NodeId found = FindChild(dir, name, hash);
  if (found == kNoNode) return NewNode(name, dir, kind, hash);
  if (nodes_[found].kind != kind) {
    return InvalidArgumentError("\"" + Path(found) +
                                "\" is used both as a file and as a directory");
  }
  return found;
}

Result<Manifest::NodeId> Manifest::Walk(NodeId start, std::string_view path, NodeKind last_kind) {
  NodeId node = start;
  for (;;) {
    size_t slash = path.find('/');
    std::string_view name = path.substr(0, slash);
    if (std::string_view problem = CheckComponent(name); !problem.empty()) {
      return InvalidArgumentError(std::string(problem) + " in path \"" + std::string(path) + "\"");
    }
    bool last = slash == std::string_view::npos;
    CAIRN_ASSIGN_OR_RETURN(node, Child(node, name, last ? last_kind : NodeKind::kDirectory));
    if (last) return node;
    path.remove_prefix(slash + 1);
  }
}

Result<Manifest::NodeId> Manifest::MakeDirectories(std::string_view path) {
  if (path.empty()) return kRoot;
  return Walk(kRoot, path, NodeKind::kDirectory);
}

Result<Manifest::NodeId> Manifest::MakeFile(std::string_view path) {
  if (path.empty()) return InvalidArgumentError("a file needs a name");
  return Walk(kRoot, path, NodeKind::kFile);
}

Status Manifest::AppendExtent(NodeId file, const Extent& extent) {
  if (nodes_[file].kind != NodeKind::kFile) {
    return InvalidArgumentError("\"" + Path(file) + "\" is a directory");
  }
  if (extent.block >= blocks_.size()) {
    return InvalidArgumentError("extent names block " + std::to_string(extent.block) + " of " +
                                std::to_string(blocks_.size()));
  }
  uint64_t block_size = blocks_[extent.block].size();
  if (extent.offset > block_size || extent.length > block_size - extent.offset) {
    return InvalidArgumentError("extent " + std::to_string(extent.offset) + "+" +
                                std::to_string(extent.length) + " lies beyond block " +
                                blocks_[extent.block].ToString());
  }
  if (extent.length > 0) nodes_[file].AppendExtent(extent);
  return Status();
}

Status Manifest::Remove(std::string_view path) {
  std::optional<NodeId> found = Find(path);
  if (!found || *found == kRoot) {
    return found ? InvalidArgumentError("cannot remove the root directory")
                 : NotFoundError("no file or directory \"" + std::string(path) + "\"");
  }
  NodeId target = *found;
  std::vector<NodeId>& siblings = nodes_[nodes_[target].parent].children;
  siblings.erase(std::find(siblings.begin(), siblings.end(), target));
  std::vector<NodeId> stack = {target};
  while (!stack.empty()) {
    NodeId n = stack.back();
    stack.pop_back();
    for (NodeId c : nodes_[n].children) stack.push_back(c);
    EraseChild(nodes_[n].parent, n);
    if (nodes_[n].kind == NodeKind::kFile) --file_count_;
    nodes_[n] = Node();
    nodes_[n].live = false;
    free_nodes_.push_back(n);
  }
  return Status();
}

}  // namespace cairn::manifest
