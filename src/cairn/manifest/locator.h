// Keep block locators: `<32 lowercase hex md5>+<size>(+<hint>)*` (DESIGN.md §3).
//
// A Locator is parsed once and keeps every hint, known or not, in the order given, so that
// ToString() gives back the text it was parsed from. Known hints are checked for form when parsed:
//   +A<40 hex>@<1..8 hex>            permission signature (expiry in Unix seconds, hex)
//   +R<5 alnum>-<40 hex>@<1..8 hex>  remote cluster signature
//   +K@<5 alnum> | +K@<27-char uuid> service hint (also the older forms without '@')
//   +B<base64url, no padding>        external object URL (Cairn), with
//   +C<decimal offset>               the offset of the block in that object (see external.h)
// Unknown hints must match [A-Z][A-Za-z0-9@_-]* and are preserved without meaning.
//
// Cairn is stricter than some Arvados readers: the size is required (no `hash+Foo` locators),
// the hash must be lowercase, and a known hint must be well formed. docs/formats.md lists this.
//
// Thread safety: a value type.
#ifndef CAIRN_MANIFEST_LOCATOR_H_
#define CAIRN_MANIFEST_LOCATOR_H_

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/hash.h"
#include "cairn/common/result.h"

namespace cairn::manifest {

// Arvados: BLOCKSIZE = 1 << 26; no Keep block is larger (external oversized locators excepted).
inline constexpr uint64_t kMaxBlockSize = uint64_t{1} << 26;
// MD5 of zero bytes: the empty block, never fetched and accepted unsigned.
inline constexpr std::string_view kEmptyBlockHash = "d41d8cd98f00b204e9800998ecf8427e";
inline constexpr std::string_view kEmptyBlockLocator = "d41d8cd98f00b204e9800998ecf8427e+0";

// The 32 lowercase hex digits of an MD5.
class BlockHash {
 public:
  // REQUIRES nothing; returns kInvalidArgument unless `hex` is exactly 32 lowercase hex digits.
  static Result<BlockHash> Parse(std::string_view hex);
  static BlockHash FromDigest(const Md5Digest& digest);
  // MD5 of `data`.
  static BlockHash Of(std::string_view data);

  std::string_view hex() const { return std::string_view(hex_.data(), hex_.size()); }
  bool IsEmptyBlock() const { return hex() == kEmptyBlockHash; }

  friend bool operator==(const BlockHash&, const BlockHash&) = default;
  friend std::strong_ordering operator<=>(const BlockHash&, const BlockHash&) = default;

 private:
  BlockHash() = default;
  std::array<char, 32> hex_{};
};

// +A<signature>@<expiry_hex>
struct PermissionHint {
  std::string signature;   // 40 lowercase hex
  std::string expiry_hex;  // 1..8 hex digits, exactly as written (it is part of the signed text)
  // Expiry in Unix seconds.
  int64_t expiry() const;
};

// +R<cluster>-<signature>@<expiry_hex>
struct RemoteHint {
  std::string cluster_id;  // 5 lowercase alphanumerics
  std::string signature;
  std::string expiry_hex;
};

// +K@<target> (or the older +K<target>)
struct ServiceHint {
  enum class Target { kCluster, kService };
  Target target_kind;
  std::string target;  // 5-char cluster id or 27-char keep service uuid
  bool legacy_form;    // written without '@'
};

class Locator {
 public:
  // `hash+size` with no hints.
  Locator(BlockHash hash, uint64_t size) : hash_(hash), size_(size) {}

  // Parses one locator. Errors are kInvalidArgument and say which part is wrong and why, e.g.
  // "locator \"acbd…+3+z\": hint 2 \"z\" must start with an uppercase letter".
  static Result<Locator> Parse(std::string_view text);

  // True if `token` has the shape that marks a manifest token as a locator: 32 hex digits then
  // '+' or the end (the test Arvados readers use to tell locators from file segments). Cheap.
  static bool LooksLikeLocator(std::string_view token);

  const BlockHash& hash() const { return hash_; }
  uint64_t size() const { return size_; }
  // Hints after the size, each without its leading '+', in order.
  const std::vector<std::string>& hints() const { return hints_; }

  // The full text: hash+size+hint+hint…
  std::string ToString() const;
  void AppendTo(std::string* out) const;
  // hash+size, the form the portable data hash uses.
  std::string SizedDigest() const;

  bool IsEmptyBlock() const { return size_ == 0 && hash_.IsEmptyBlock(); }

  // The first hint of each kind, already checked for form by Parse.
  std::optional<PermissionHint> permission() const;
  std::optional<RemoteHint> remote() const;
  std::vector<ServiceHint> service_hints() const;
  // True if the locator names a range of an external object (+B hint).
  bool IsExternal() const;
  // The first hint whose type letter is `type`, without the letter; nullopt if none.
  std::optional<std::string_view> FindHint(char type) const;

  // Adds `hint` (without '+') at the end. kInvalidArgument if it is not a well-formed hint.
  Status AddHint(std::string_view hint);
  // Removes every hint whose type letter is `type`.
  void RemoveHints(char type);
  // Replaces any +A hint with `hint`; a new +A hint goes right after the size.
  void SetPermission(const PermissionHint& hint);
  // hash+size only.
  Locator WithoutHints() const { return Locator(hash_, size_); }

  friend bool operator==(const Locator&, const Locator&) = default;

 private:
  BlockHash hash_;
  uint64_t size_;
  std::vector<std::string> hints_;
};

// Checks one hint (without '+') for form: the generic grammar, and the stricter form of the known
// hints A, R, K, B, C. The error names the hint.
Status ValidateHint(std::string_view hint);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_LOCATOR_H_
