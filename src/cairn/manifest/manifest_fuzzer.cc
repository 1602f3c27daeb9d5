// libFuzzer target for the manifest parser and writer. On every input that parses it checks that
// normalizing is idempotent and keeps every file's bytes; any violation traps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/manifest/manifest.h"
#include "cairn/manifest/pdh.h"
#include "cairn/testing/manifest_content.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cairn::manifest::Manifest;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)cairn::manifest::PortableDataHash(text);
  cairn::Result<Manifest> parsed = Manifest::Parse(text);
  if (!parsed.ok()) return 0;
  std::string once = parsed->ToText();
  cairn::Result<Manifest> reparsed = Manifest::Parse(once);
  if (!reparsed.ok()) __builtin_trap();
  if (reparsed->ToText() != once) __builtin_trap();
  if (cairn::testing::ContentMap(*parsed) != cairn::testing::ContentMap(*reparsed)) {
    __builtin_trap();
  }
  return 0;
}
