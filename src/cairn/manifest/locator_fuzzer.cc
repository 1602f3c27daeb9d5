// libFuzzer target: Locator::Parse and the external-locator functions on arbitrary bytes.
//
// Invariants (any violation traps, so the fuzzer reports it with the input):
//   - Parse either succeeds or fails with kInvalidArgument and a message;
//   - a parsed locator prints back exactly its input, and that text parses to an equal locator;
//   - an external locator that decodes is what MakeExternalLocator makes of its range, and
//     SplitExternal then pairwise MergeExternal gives it back (without +A);
//   - an external locator that does not decode is left alone by SplitExternal;
//   - base64url and external URLs accepted by the decoders re-encode to the same text.
// Seeds: tests/data/fuzz/locator/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/base64.h"
#include "cairn/common/status.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/locator.h"

namespace cairn::manifest {
namespace {

inline void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckRoundTrip(const Locator& locator) {
  std::string text = locator.ToString();
  Result<Locator> again = Locator::Parse(text);
  Check(again.ok() && *again == locator && again->ToString() == text);
}

// Split into chunks of a size picked from the input so that there are at most 64 of them (an
// oversized locator may claim up to 2^64 bytes), then merge them back, from the left and from
// the right.
void CheckSplitMerge(const Locator& locator, const ExternalRange& range, uint8_t pick) {
  uint64_t size = locator.size();
  uint64_t parts = 1 + pick % 64;
  uint64_t chunk = size / parts + (size % parts != 0 ? 1 : 0);
  if (chunk == 0) chunk = 1;
  std::vector<Locator> chunks = SplitExternal(locator, chunk);
  if (size <= chunk) {
    Check(chunks.size() == 1 && chunks[0] == locator);
    return;
  }
  Check(chunks.size() >= 2 && chunks.size() <= parts);
  Locator unsigned_locator = locator;
  unsigned_locator.RemoveHints('A');

  uint64_t offset = range.offset;
  for (const Locator& c : chunks) {
    Check(c.size() > 0 && c.size() <= chunk);
    Check(!c.permission().has_value());
    CheckRoundTrip(c);
    Result<ExternalRange> r = DecodeExternal(c);
    Check(r.ok() && r->offset == offset && r->size == c.size() && r->object == range.object);
    offset += c.size();
  }
  Check(offset == range.offset + size);

  Locator left = chunks[0];
  for (size_t i = 1; i < chunks.size(); ++i) {
    std::optional<Locator> merged = MergeExternal(left, chunks[i]);
    Check(merged.has_value());
    left = *merged;
  }
  Check(left == unsigned_locator && left.ToString() == unsigned_locator.ToString());

  Locator right = chunks.back();
  for (size_t i = chunks.size() - 1; i-- > 0;) {
    std::optional<Locator> merged = MergeExternal(chunks[i], right);
    Check(merged.has_value());
    right = *merged;
  }
  Check(right == unsigned_locator);
  // Out of order never merges.
  Check(!MergeExternal(chunks[1], chunks[0]).has_value());
}

void CheckExternal(const Locator& locator, uint8_t pick) {
  Result<ExternalRange> range = DecodeExternal(locator);
  if (!range.ok()) {
    Check(range.status().code() == StatusCode::kInvalidArgument);
    // Never launder an invalid external locator into chunks with valid hashes.
    std::vector<Locator> chunks = SplitExternal(locator, 1);
    Check(chunks.size() == 1 && chunks[0] == locator);
    return;
  }
  Check(range->object.Validate().ok());
  Result<ExternalObject> object = ExternalObject::ParseUrl(range->object.ToUrl());
  Check(object.ok() && *object == range->object);
  Locator made = MakeExternalLocator(range->object, range->offset, range->size);
  Check(made.hash() == locator.hash());
  Check(made.FindHint('B') == locator.FindHint('B'));
  Check(made.FindHint('C') == locator.FindHint('C'));
  CheckSplitMerge(locator, *range, pick);
}

void FuzzLocator(std::string_view input) {
  Result<Locator> parsed = Locator::Parse(input);
  if (!parsed.ok()) {
    Check(parsed.status().code() == StatusCode::kInvalidArgument);
    Check(!parsed.status().message().empty());
    return;
  }
  Check(parsed->ToString() == input);
  Check(Locator::LooksLikeLocator(input));
  CheckRoundTrip(*parsed);
  for (const std::string& hint : parsed->hints()) Check(ValidateHint(hint).ok());
  Result<Locator> sized = Locator::Parse(parsed->SizedDigest());
  Check(sized.ok() && *sized == parsed->WithoutHints());

  if (std::optional<PermissionHint> permission = parsed->permission()) {
    Locator copy = *parsed;
    copy.SetPermission(*permission);
    CheckRoundTrip(copy);
    Check(copy.permission()->signature == permission->signature);
  }
  if (parsed->IsExternal()) CheckExternal(*parsed, input.empty() ? 0 : input.back());
}

// The decoders below the locator, on the same bytes.
void FuzzDecoders(std::string_view input) {
  Result<std::string> decoded = Base64UrlDecode(input);
  if (decoded.ok() && input.find('=') == std::string_view::npos) {
    Check(Base64UrlEncode(*decoded) == input);
  }
  Result<std::string> standard = Base64Decode(input);
  if (standard.ok()) Check(Base64Encode(*standard) == input);
  Result<ExternalObject> object = ExternalObject::ParseUrl(input);
  if (object.ok()) {
    Check(object->Validate().ok());
    Check(object->ToUrl() == input);
  }
}

}  // namespace
}  // namespace cairn::manifest

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  cairn::manifest::FuzzLocator(input);
  cairn::manifest::FuzzDecoders(input);
  return 0;
}
