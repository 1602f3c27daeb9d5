// Portable data hash (DESIGN.md §3, arvados-keep.md §3): the MD5 of the manifest text with every
// locator cut to `hash+size`, then '+' and that text's length. The text is hashed as given, not
// normalized: two manifests of the same files in a different order have different PDHs.
#ifndef CAIRN_MANIFEST_PDH_H_
#define CAIRN_MANIFEST_PDH_H_

#include <string>
#include <string_view>

namespace cairn::manifest {

// The PDH of the empty collection.
inline constexpr std::string_view kEmptyCollectionPdh = "d41d8cd98f00b204e9800998ecf8427e+0";

// "<32 hex>+<length>". A token is a locator when it is not the first of its line (the stream
// name) and, as in the Arvados Go SDK, it is at least 34 bytes long, has '+' at byte 32, no ':'
// before it and does not start with '.'; its hints after the size are dropped. Does not validate
// the manifest (Manifest::Parse does); runs at the speed of MD5 itself, without copying the text.
std::string PortableDataHash(std::string_view manifest_text);

// The text PortableDataHash hashes (hints cut). For tests and diagnostics.
std::string PortableManifestText(std::string_view manifest_text);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_PDH_H_
