#include "cairn/objstore/s3/addressing.h"

#include <algorithm>

#include "cairn/common/text.h"
#include "cairn/objstore/s3/signer.h"

namespace cairn::objstore::s3 {
namespace {

bool IsIpv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t dot = s.find('.', i);
    std::string_view part = s.substr(i, dot == std::string_view::npos ? s.npos : dot - i);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return parts == 4;
}

}  // namespace

bool IsDnsCompatibleBucket(std::string_view b) {
  // S3 bucket naming rules (general purpose buckets).
  if (b.size() < 3 || b.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) return false;
  for (char c : b) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return b.find("..") == std::string_view::npos && !IsIpv4(b);
}

Result<S3Target> ResolveTarget(const S3Settings& settings, std::string_view bucket,
                               std::string_view key) {
  if (!bucket.empty() && (bucket.find_first_of("/?#") != std::string_view::npos ||
                          std::any_of(bucket.begin(), bucket.end(), [](char c) {
                            return static_cast<unsigned char>(c) <= 0x20;
                          }))) {
    return InvalidArgumentError("bucket name " + QuoteForMessage(bucket) +
                                " may not contain '/', '?', '#', spaces or control characters");
  }
  if (bucket.empty() && !key.empty()) return InvalidArgumentError("an object key needs a bucket");

  std::string scheme = "https";
  std::string host;
  if (settings.endpoint_url.empty()) {
    host = "s3." + settings.region + ".amazonaws.com";
  } else {
    size_t sep = settings.endpoint_url.find("://");
    scheme = settings.endpoint_url.substr(0, sep);
    host = settings.endpoint_url.substr(sep + 3);
  }

  bool dns_ok = IsDnsCompatibleBucket(bucket) &&
                !(scheme == "https" && bucket.find('.') != std::string_view::npos);
  bool virtual_host = false;
  switch (settings.addressing) {
    case AddressingStyle::kPath:
      break;
    case AddressingStyle::kVirtualHost:
      if (!bucket.empty() && !dns_ok) {
        return InvalidArgumentError("bucket " + QuoteForMessage(bucket) +
                                    " cannot be addressed as a virtual host (DNS-incompatible "
                                    "name, or dots over https); use path-style addressing");
      }
      virtual_host = !bucket.empty();
      break;
    case AddressingStyle::kAuto:
      virtual_host = !bucket.empty() && dns_ok && settings.endpoint_url.empty();
      break;
  }

  S3Target target;
  target.path = "/";
  if (virtual_host) {
    target.host = std::string(bucket) + "." + host;
  } else {
    target.host = host;
    if (!bucket.empty()) {
      AppendUriEncoded(bucket, Slash::kEncode, &target.path);
      if (!key.empty()) target.path += '/';
    }
  }
  AppendUriEncoded(key, Slash::kKeep, &target.path);
  target.url = scheme + "://" + target.host + target.path;
  return target;
}

}  // namespace cairn::objstore::s3
