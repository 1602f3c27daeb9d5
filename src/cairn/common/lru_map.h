// LruMap<K, V>: a map that keeps at most `max_entries` entries and at most `max_charge` total
// charge, evicting the least recently used entries to make room. The charge is a weight the
// caller gives each entry (1 by default; bytes for a block cache), so one class serves both
// count-bounded and byte-bounded caches.
//
//   LruMap<std::string, Block> cache({.max_entries = 1024, .max_charge = 256 << 20},
//                                    [](const std::string& key, Block&& block) { ... });
//   cache.Put(locator, std::move(block), block_size);
//   if (Block* b = cache.Get(locator)) ...
//
// Thread safety: not thread-safe, not even Get (it reorders entries); callers lock.
// Ownership: the map owns keys and values. The eviction callback must not call into the map.
#ifndef CAIRN_COMMON_LRU_MAP_H_
#define CAIRN_COMMON_LRU_MAP_H_

#include <cstddef>
#include <functional>
#include <iterator>
#include <limits>
#include <list>
#include <unordered_map>
#include <utility>

namespace cairn {

struct LruLimits {
  size_t max_entries = std::numeric_limits<size_t>::max();
  size_t max_charge = std::numeric_limits<size_t>::max();
};

template <typename K, typename V, typename Hash = std::hash<K>,
          typename KeyEqual = std::equal_to<K>>
class LruMap {
 public:
  // Called for each entry evicted to make room, after it has left the map; the value may be
  // moved from. Not called for Erase, Clear, destruction, or a value replaced by Put.
  using EvictionCallback = std::function<void(const K& key, V&& value)>;

  explicit LruMap(size_t max_entries) : LruMap(LruLimits{.max_entries = max_entries}) {}
  explicit LruMap(LruLimits limits, EvictionCallback on_evict = nullptr)
      : limits_(limits), on_evict_(std::move(on_evict)) {}

  LruMap(const LruMap&) = delete;
  LruMap& operator=(const LruMap&) = delete;

  // The value for `key`, marked most recently used; nullptr if absent. The pointer stays valid
  // until the entry leaves the map (a Put for the same key keeps it, with the new value).
  V* Get(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, it->second);
    return &it->second->value;
  }

  // Like Get, without changing the recency order.
  const V* Peek(const K& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->value;
  }

  bool Contains(const K& key) const { return index_.contains(key); }

  // Inserts or replaces the entry for `key` as most recently used, then evicts least recently
  // used entries until both limits hold. An entry that could never fit (charge > max_charge, or
  // max_entries == 0) is not stored, any old entry for `key` is erased, and Put returns false.
  bool Put(const K& key, V value, size_t charge = 1) {
    if (charge > limits_.max_charge || limits_.max_entries == 0) {
      Erase(key);
      return false;
    }
    auto it = index_.find(key);
    if (it != index_.end()) {
      Entry& entry = *it->second;
      total_charge_ = total_charge_ - entry.charge + charge;
      entry.value = std::move(value);
      entry.charge = charge;
      entries_.splice(entries_.begin(), entries_, it->second);
    } else {
      entries_.push_front(Entry{key, std::move(value), charge});
      index_.emplace(key, entries_.begin());
      total_charge_ += charge;
    }
    // The new entry fits alone, so eviction stops before reaching it at the front.
    while (entries_.size() > limits_.max_entries || total_charge_ > limits_.max_charge) {
      EvictOldest();
    }
    return true;
  }

  // Removes the entry for `key`; false if there was none.
  bool Erase(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    total_charge_ -= it->second->charge;
    entries_.erase(it->second);
    index_.erase(it);
    return true;
  }

  // Removes every entry (without calling the eviction callback).
  void Clear() {
    index_.clear();
    entries_.clear();
    total_charge_ = 0;
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Sum of the charges of the entries held.
  size_t charge() const { return total_charge_; }
  const LruLimits& limits() const { return limits_; }

 private:
  struct Entry {
    K key;
    V value;
    size_t charge;
  };
  using List = std::list<Entry>;  // most recently used first

  void EvictOldest() {
    // Unlink first so the callback sees a consistent map (and the entry is not in it).
    List evicted;
    evicted.splice(evicted.begin(), entries_, std::prev(entries_.end()));
    Entry& entry = evicted.front();
    index_.erase(entry.key);
    total_charge_ -= entry.charge;
    if (on_evict_) on_evict_(entry.key, std::move(entry.value));
  }

  LruLimits limits_;
  EvictionCallback on_evict_;
  List entries_;
  std::unordered_map<K, typename List::iterator, Hash, KeyEqual> index_;
  size_t total_charge_ = 0;
};

}  // namespace cairn

#endif  // CAIRN_COMMON_LRU_MAP_H_
