// Private to the manifest module: the lookup tables behind Manifest.
#ifndef CAIRN_MANIFEST_MANIFEST_INTERNAL_H_
#define CAIRN_MANIFEST_MANIFEST_INTERNAL_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cairn/manifest/manifest.h"

namespace cairn::manifest {

// Stores node names back to back in large chunks: one allocation per megabyte of names instead of
// one per name, and stable addresses (names are never moved). Not thread-safe.
class Manifest::NameArena {
 public:
  std::string_view Store(std::string_view name) {
    if (name.empty()) return {};
    if (name.size() > left_) {
      size_t size = std::max(kChunk, name.size());
      chunks_.push_back(std::unique_ptr<char[]>(new char[size]));  // not zeroed: overwritten
      next_ = chunks_.back().get();
      left_ = size;
    }
    std::memcpy(next_, name.data(), name.size());
    std::string_view stored(next_, name.size());
    next_ += name.size();
    left_ -= name.size();
    return stored;
  }

 private:
  static constexpr size_t kChunk = size_t{1} << 20;
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

// (parent, name) -> node, as an open-addressing hash table (linear probing) of node ids. Each
// slot keeps 32 bits of the key's hash: probes compare names only when those match, and growing
// the table needs no rehashing of names. Manifests with millions of files are built through it.
// Not thread-safe.
class Manifest::Index {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr uint32_t kDeleted = UINT32_MAX - 1;

  // The outcome of a lookup: the node found (or kEmpty) and what Insert needs to add the key.
  struct Probe {
    uint32_t id;
    uint32_t hash;
  };

  Probe Find(const std::vector<Node>& nodes, NodeId parent, std::string_view name) const {
    uint32_t hash = Hash(parent, name);
    if (slots_.empty()) return Probe{kEmpty, hash};
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.id == kEmpty) return Probe{kEmpty, hash};
      if (slot.hash == hash && slot.id != kDeleted && nodes[slot.id].parent == parent &&
          nodes[slot.id].name == name) {
        return Probe{slot.id, hash};
      }
    }
  }

  // Adds node `id` whose key hashed to `hash` (from a Find that did not find it).
  void Insert(NodeId id, uint32_t hash) {
    if ((used_ + 1) * 2 > slots_.size()) Grow();
    size_t mask = slots_.size() - 1;
    size_t i = hash & mask;
    while (slots_[i].id != kEmpty && slots_[i].id != kDeleted) i = (i + 1) & mask;
    if (slots_[i].id == kEmpty) ++used_;
    slots_[i] = Slot{id, hash};
    ++live_;
  }

  void Erase(const std::vector<Node>& nodes, NodeId id) {
    if (slots_.empty()) return;
    uint32_t hash = Hash(nodes[id].parent, nodes[id].name);
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots_[i].id == kEmpty) return;
      if (slots_[i].id == id) {
        slots_[i].id = kDeleted;
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
      if (nodes[id].live) Insert(id, Hash(nodes[id].parent, nodes[id].name));
    }
  }

  std::unordered_map<std::string, uint32_t> block_ids;  // locator text -> index in blocks_

 private:
  struct Slot {
    uint32_t id;
    uint32_t hash;
  };

  // 8 bytes at a time (names in large collections are 50-100 bytes long), then a full avalanche
  // (murmur3's fmix64), so the low bits used for the slot are well mixed.
  static uint32_t Hash(NodeId parent, std::string_view name) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ parent ^ (uint64_t{name.size()} << 32);
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

  // Doubles the table (or drops deleted slots) using the stored hashes.
  void Grow() {
    size_t size = 16;
    while (size < (live_ + 1) * 4) size <<= 1;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(size, Slot{kEmpty, 0});
    used_ = live_ = 0;
    size_t mask = size - 1;
    for (const Slot& slot : old) {
      if (slot.id == kEmpty || slot.id == kDeleted) continue;
      size_t i = slot.hash & mask;
      while (slots_[i].id != kEmpty) i = (i + 1) & mask;
      slots_[i] = slot;
      ++used_;
      ++live_;
    }
  }

  std::vector<Slot> slots_;
  size_t used_ = 0;  // live + deleted slots
  size_t live_ = 0;
};

// Checks one path component (unescaped): not empty, not "." or "..", no '/'. Returns an error
// message, or "" when the name is fine.
std::string_view CheckComponent(std::string_view name);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_MANIFEST_INTERNAL_H_
