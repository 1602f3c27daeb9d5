// Private to the manifest module: the lookup tables behind Manifest.
#ifndef CAIRN_MANIFEST_MANIFEST_INTERNAL_H_
#define CAIRN_MANIFEST_MANIFEST_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cairn/manifest/manifest.h"

namespace cairn::manifest {

// (parent, name) -> node, as an open-addressing hash table of node ids: the names live in the
// nodes, so the table holds 4 bytes per slot and a lookup costs one hash and usually one compare.
// Manifests with millions of files are built through it. Not thread-safe.
class Manifest::Index {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr uint32_t kDeleted = UINT32_MAX - 1;

  uint32_t Find(const std::vector<Node>& nodes, NodeId parent, std::string_view name) const {
    if (slots_.empty()) return kEmpty;
    size_t mask = slots_.size() - 1;
    for (size_t i = Hash(parent, name) & mask;; i = (i + 1) & mask) {
      uint32_t id = slots_[i];
      if (id == kEmpty) return kEmpty;
      if (id != kDeleted && nodes[id].parent == parent && nodes[id].name == name) return id;
    }
  }

  void Insert(const std::vector<Node>& nodes, NodeId id) {
    if ((used_ + 1) * 2 > slots_.size()) Rehash(nodes, live_ + 1);
    size_t mask = slots_.size() - 1;
    size_t i = Hash(nodes[id].parent, nodes[id].name) & mask;
    while (slots_[i] != kEmpty && slots_[i] != kDeleted) i = (i + 1) & mask;
    if (slots_[i] == kEmpty) ++used_;
    slots_[i] = id;
    ++live_;
  }

  void Erase(const std::vector<Node>& nodes, NodeId id) {
    size_t mask = slots_.size() - 1;
    for (size_t i = Hash(nodes[id].parent, nodes[id].name) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == kEmpty) return;
      if (slots_[i] == id) {
        slots_[i] = kDeleted;
        --live_;
        return;
      }
    }
  }

  // Rebuilds the table from the live nodes (after a copy).
  void Rebuild(const std::vector<Node>& nodes) {
    slots_.clear();
    used_ = live_ = 0;
    for (NodeId id = 1; id < nodes.size(); ++id) {
      if (nodes[id].live) Insert(nodes, id);
    }
  }

  std::unordered_map<std::string, uint32_t> block_ids;  // locator text -> index in blocks_

 private:
  static size_t Hash(NodeId parent, std::string_view name) {
    size_t h = std::hash<std::string_view>{}(name);
    return h ^ (static_cast<size_t>(parent) * 0x9E3779B97F4A7C15ull);
  }

  void Rehash(const std::vector<Node>& nodes, size_t want) {
    size_t size = 16;
    while (size < want * 2 + 2) size <<= 1;
    std::vector<uint32_t> old = std::move(slots_);
    slots_.assign(size, kEmpty);
    used_ = live_ = 0;
    size_t mask = size - 1;
    for (uint32_t id : old) {
      if (id == kEmpty || id == kDeleted) continue;
      size_t i = Hash(nodes[id].parent, nodes[id].name) & mask;
      while (slots_[i] != kEmpty) i = (i + 1) & mask;
      slots_[i] = id;
      ++used_;
      ++live_;
    }
  }

  std::vector<uint32_t> slots_;
  size_t used_ = 0;  // live + deleted slots
  size_t live_ = 0;
};

// Checks one path component (unescaped): not empty, not "." or "..", no '/'. Returns an error
// message, or "" when the name is fine.
std::string_view CheckComponent(std::string_view name);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_MANIFEST_INTERNAL_H_
