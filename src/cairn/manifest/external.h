// External-object locators (DESIGN.md §3): Keep locators that name a byte range of an object in
// an S3 or Swift store instead of a block on a Cairn volume.
//
//   <hash>+<size>+B<base64url(url), no padding>+C<offset>
//
// names bytes [offset, offset+size) of the object at `url`. The hash is derived, not the MD5 of
// the content: md5 of the ASCII text `<size>+B<b64>+C<offset>` (decimal numbers). So the
// portable data hash still tells two such ranges apart, and a +A signature over the hash binds the
// bucket, key, version and range too. The object's endpoint and credentials come from a named
// remote in the catalog, never from the locator.
//
// A stored manifest may hold one oversized locator for a whole object; readers split it into
// chunks of at most kMaxBlockSize (SplitExternal) and writers merge contiguous chunks back
// (MergeExternal), which is the canonical form.
//
// Thread safety: value types and pure functions.
#ifndef CAIRN_MANIFEST_EXTERNAL_H_
#define CAIRN_MANIFEST_EXTERNAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/manifest/locator.h"

namespace cairn::manifest {

enum class ObjectStoreKind { kS3, kSwift };

// One version of one object in an object store, pinned by exactly one of `version_id` (stores
// that version objects) or `etag` (the others), so a changed object is detected, never read.
//
// URL form (the text inside +B):
//   s3://<bucket>/<key>?versionId=<v>     s3://<bucket>/<key>?etag=<e>
//   swift://<container>/<object>?versionId=<v>   swift://<container>/<object>?etag=<e>
// A key may hold any bytes, so it is percent-encoded (RFC 3986, uppercase hex) except for the
// unreserved characters A-Z a-z 0-9 - . _ ~ and '/'; query values are encoded except for the
// unreserved characters. The bucket is written as is. Exactly one text is accepted per object
// (ParseUrl rejects needless or lowercase escapes), so ToUrl(ParseUrl(u)) == u.
struct ExternalObject {
  ObjectStoreKind kind = ObjectStoreKind::kS3;
  std::string bucket;      // non-empty; no '/' or '?'
  std::string key;         // non-empty; any bytes
  std::string version_id;  // exactly one of version_id and etag is non-empty
  std::string etag;

  // The URL above. REQUIRES: Validate().ok() (otherwise the text will not parse back).
  std::string ToUrl() const;
  // Parses and checks a URL of the form above. kInvalidArgument saying what is wrong.
  static Result<ExternalObject> ParseUrl(std::string_view url);
  // kInvalidArgument unless the fields obey the rules above.
  Status Validate() const;

  friend bool operator==(const ExternalObject&, const ExternalObject&) = default;
};

// Bytes [offset, offset + size) of `object`.
struct ExternalRange {
  ExternalObject object;
  uint64_t offset = 0;
  uint64_t size = 0;

  friend bool operator==(const ExternalRange&, const ExternalRange&) = default;
};

// The largest external object range a manifest may name: 5 TiB, the object size limit of S3 and
// of Swift's static large objects with default settings. It bounds the chunks one oversized
// locator expands to (81,920).
inline constexpr uint64_t kMaxExternalSize = uint64_t{5} << 40;

// md5 of the ASCII text "<size>+B<b64url>+C<offset>".
BlockHash DeriveExternalHash(uint64_t size, std::string_view b64url, uint64_t offset);

// `<derived hash>+<size>+B<b64url(object.ToUrl())>+C<offset>`.
// REQUIRES: object.Validate().ok() and offset + size does not overflow.
Locator MakeExternalLocator(const ExternalObject& object, uint64_t offset, uint64_t size);

// The range an external locator names. kInvalidArgument if it has no +B or no +C hint, more than
// one of either, an offset + size past 2^64, a hash other than the derived one ("hash does not
// match its +B/+C hints": the locator was altered), or a URL that does not parse.
Result<ExternalRange> DecodeExternal(const Locator& locator);

// Splits an oversized external locator into chunks of at most `chunk_size` bytes, in order: each
// has its derived hash, the same +B, its own +C offset, and the other hints of `oversized` in the
// same places — except +A and +R, which sign the old hash and so cannot carry over.
// Returns {oversized} unchanged when its size is at most chunk_size (size 0 included), when
// chunk_size is 0, and when it is not a valid external locator (wrong hash included: splitting
// must not turn an altered locator into chunks with valid derived hashes).
std::vector<Locator> SplitExternal(const Locator& oversized, uint64_t chunk_size = kMaxBlockSize);

// Joins two external locators when `b` continues `a`: both valid (DecodeExternal succeeds), the
// same +B text, b's offset == a's offset + a's size, and the same hints other than +A, +R, +B and
// +C in the same order. The result has a's offset, the summed size, its derived hash, a's hints
// in a's order, and no +A or +R. nullopt otherwise (also when the summed size would overflow).
std::optional<Locator> MergeExternal(const Locator& a, const Locator& b);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_EXTERNAL_H_
