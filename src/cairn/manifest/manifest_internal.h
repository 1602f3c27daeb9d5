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

// The manifest-wide block table: locator text -> index in blocks_.
class Manifest::Index {
 public:
  std::unordered_map<std::string, uint32_t> block_ids;
};

// Checks one path component (unescaped): not empty, not "." or "..", no '/'. Returns an error
// message, or "" when the name is fine.
std::string_view CheckComponent(std::string_view name);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_MANIFEST_INTERNAL_H_
