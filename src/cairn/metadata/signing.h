// Permission signatures on whole manifests (docs/catalog-api.md "Tokens and signatures"):
// checking the +A hints of a manifest a client saves, storing it without them, and signing a
// stored manifest afresh for the caller who reads it.
//
// "Local" locators are Keep blocks: everything but external-object locators (+B), whose access
// is governed by the catalog's remotes. The empty block needs no signature (nothing to read).
//
// Thread safety: pure functions; time is a parameter.
#ifndef CAIRN_METADATA_SIGNING_H_
#define CAIRN_METADATA_SIGNING_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/manifest/locator.h"
#include "cairn/manifest/manifest.h"

namespace cairn::metadata {

struct SigningKey {
  std::string key;                // the blob signing key (secret)
  int64_t ttl_seconds = 1209600;  // Arvados default: 2 weeks
};

// Checks that every local, non-empty block of `manifest` carries a valid, unexpired +A signature
// for `token`, unless `exempt(locator)` says the caller may name it anyway (a block the collection
// already held). kPermissionDenied "no valid signature for block <hash+size>: <why>" for the first
// that does not; the message never holds the token or a signature.
Status CheckManifestSignatures(const manifest::Manifest& manifest, const SigningKey& key,
                               std::string_view token, int64_t now_unix,
                               const std::function<bool(const manifest::Locator&)>& exempt);

// The canonical text of `manifest` without any +A hint.
Result<std::string> StripSignatures(const manifest::Manifest& manifest);

// `stored_text` (canonical, unsigned) with every locator signed for `token` until `expiry_unix`.
// External locators are split into chunks of at most a block (SplitExternal), each signed, so a
// gateway can check the signature of each chunk it serves.
Result<std::string> SignManifestText(std::string_view stored_text, const SigningKey& key,
                                     std::string_view token, int64_t expiry_unix);

}  // namespace cairn::metadata

#endif  // CAIRN_METADATA_SIGNING_H_
