#include "cairn/metadata/signing.h"

#include <utility>

#include "cairn/manifest/external.h"
#include "cairn/manifest/signature.h"

namespace cairn::metadata {
namespace {

bool IsLocal(const manifest::Locator& locator) { return !locator.IsExternal(); }

// Copies manifest text line by line, handing each locator token (those after the stream name and
// before the first file segment) to `map`, which appends what replaces it (one or more
// space-separated locators) to `out`.
Result<std::string> MapLocators(
    std::string_view text, const std::function<Status(manifest::Locator, std::string* out)>& map) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t space = line.find(' ');
    out.append(line.substr(0, space));  // the stream name
    bool in_locators = true;
    while (space != std::string_view::npos) {
      line.remove_prefix(space + 1);
      space = line.find(' ');
      std::string_view token = line.substr(0, space);
      out += ' ';
      if (in_locators && manifest::Locator::LooksLikeLocator(token)) {
        CAIRN_ASSIGN_OR_RETURN(manifest::Locator locator, manifest::Locator::Parse(token));
        CAIRN_RETURN_IF_ERROR(map(std::move(locator), &out));
      } else {
        in_locators = false;
        out.append(token);
      }
    }
    if (nl != std::string_view::npos) out += '\n';
  }
  return out;
}

}  // namespace

Status CheckManifestSignatures(const manifest::Manifest& manifest, const SigningKey& key,
                               std::string_view token, int64_t now_unix,
                               const std::function<bool(const manifest::Locator&)>& exempt) {
  for (const manifest::Locator& locator : manifest.blocks()) {
    if (!IsLocal(locator) || locator.IsEmptyBlock()) continue;
    Status s = manifest::VerifySignature(locator, key.key, token, key.ttl_seconds, now_unix);
    if (s.ok()) continue;
    if (exempt && exempt(locator)) continue;
    return PermissionDeniedError("no valid signature for block " + locator.SizedDigest() + ": " +
                                 std::string(s.message()));
  }
  return Status::OK();
}

Result<std::string> StripSignatures(const manifest::Manifest& manifest) {
  bool signed_any = false;
  for (const manifest::Locator& locator : manifest.blocks()) {
    if (locator.FindHint('A')) signed_any = true;
  }
  std::string text = manifest.ToText();
  if (!signed_any) return text;
  CAIRN_ASSIGN_OR_RETURN(std::string stripped,
                         MapLocators(text, [](manifest::Locator l, std::string* out) {
                           l.RemoveHints('A');
                           l.AppendTo(out);
                           return Status::OK();
                         }));
  // One block signed two ways appears twice once unsigned: normalize again to list it once.
  CAIRN_ASSIGN_OR_RETURN(manifest::Manifest again, manifest::Manifest::Parse(stripped));
  return again.ToText();
}

Result<std::string> SignManifestText(std::string_view stored_text, const SigningKey& key,
                                     std::string_view token, int64_t expiry_unix) {
  return MapLocators(stored_text, [&](manifest::Locator l, std::string* out) {
    if (IsLocal(l)) {
      manifest::SignLocator(l, key.key, token, expiry_unix, key.ttl_seconds).AppendTo(out);
      return Status::OK();
    }
    // External: a gateway reads chunks of at most a block, so each chunk is signed (a signature
    // on the oversized locator would not survive the reader's split, external.h).
    bool first = true;
    for (const manifest::Locator& chunk : manifest::SplitExternal(l)) {
      if (!first) *out += ' ';
      first = false;
      manifest::SignLocator(chunk, key.key, token, expiry_unix, key.ttl_seconds).AppendTo(out);
    }
    return Status::OK();
  });
}

}  // namespace cairn::metadata
