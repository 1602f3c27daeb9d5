#include "cairn/objstore/object_store.h"

#include <algorithm>

#include "cairn/objstore/part_size.h"

namespace cairn::objstore {
namespace {

// The 16 bytes of a 32-digit lowercase hex MD5, or nullopt.
std::optional<Md5Digest> Md5FromHex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  Md5Digest digest{};
  for (size_t i = 0; i < 16; ++i) {
    int value = 0;
    for (size_t j = 0; j < 2; ++j) {
      char c = hex[2 * i + j];
      int nibble;
      if (c >= '0' && c <= '9') {
        nibble = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        nibble = c - 'a' + 10;
      } else {
        return std::nullopt;
      }
      value = value * 16 + nibble;
    }
    digest[i] = static_cast<uint8_t>(value);
  }
  return digest;
}

}  // namespace

std::string S3CompositeEtag(std::span<const UploadedPart> parts) {
  std::vector<Md5Digest> md5s;
  md5s.reserve(parts.size());
  for (const UploadedPart& part : parts) {
    std::optional<Md5Digest> md5 = Md5FromHex(part.etag);
    if (!md5) return "";
    md5s.push_back(*md5);
  }
  return MultipartEtag(md5s);
}

std::string SwiftSloEtag(std::span<const UploadedPart> parts) {
  Md5 md5;
  for (const UploadedPart& part : parts) md5.Update(part.etag);
  return HexEncode(md5.Finish());
}

Result<std::vector<UploadedPart>> SortedParts(std::span<const UploadedPart> parts, int max_parts,
                                              std::string_view what) {
  if (parts.empty()) return InvalidArgumentError(std::string(what) + ": no parts");
  std::vector<UploadedPart> sorted(parts.begin(), parts.end());
  std::sort(sorted.begin(), sorted.end(), [](const UploadedPart& a, const UploadedPart& b) {
    return a.part_number < b.part_number;
  });
  for (size_t i = 0; i < sorted.size(); ++i) {
    int n = sorted[i].part_number;
    if (n < 1 || n > max_parts) {
      return InvalidArgumentError(std::string(what) + ": part number " + std::to_string(n) +
                                  " is outside 1.." + std::to_string(max_parts));
    }
    if (i > 0 && sorted[i - 1].part_number == n) {
      return InvalidArgumentError(std::string(what) + ": part " + std::to_string(n) +
                                  " is given twice");
    }
  }
  return sorted;
}

}  // namespace cairn::objstore
