#include "cairn/metadata/signing.h"

#include <utility>

#include "cairn/manifest/signature.h"

namespace cairn::metadata {
namespace {

bool IsLocal(const manifest::Locator& locator) { return !locator.IsExternal(); }

// Copies manifest text line by line, handing each locator token (those after the stream name and
// before the first file segment) to `map` and writing what it returns.
Result<std::string> MapLocators(
    std::string_view text, const std::function<Result<manifest::Locator>(manifest::Locator)>& map) {
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
        CAIRN_ASSIGN_OR_RETURN(manifest::Locator mapped, map(std::move(locator)));
        mapped.AppendTo(&out);
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
                         MapLocators(text, [](manifest::Locator l) -> Result<manifest::Locator> {
                           l.RemoveHints('A');
                           return l;
                         }));
  // One block signed two ways appears twice once unsigned: normalize again to list it once.
  CAIRN_ASSIGN_OR_RETURN(manifest::Manifest again, manifest::Manifest::Parse(stripped));
  return again.ToText();
}

Result<std::string> SignManifestText(std::string_view stored_text, const SigningKey& key,
                                     std::string_view token, int64_t expiry_unix) {
  return MapLocators(stored_text, [&](manifest::Locator l) -> Result<manifest::Locator> {
    if (!IsLocal(l)) return l;
    return manifest::SignLocator(l, key.key, token, expiry_unix, key.ttl_seconds);
  });
}

}  // namespace cairn::metadata
