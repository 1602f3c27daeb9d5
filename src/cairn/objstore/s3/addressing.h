// Where an S3 request goes: the URL, the Host header and the path that SigV4 signs, for path-style
// (https://host/bucket/key) and virtual-host-style (https://bucket.host/key) addressing.
//
// Auto addressing picks virtual-host style for AWS itself and path style for custom endpoints
// (RGW, MinIO, Swift's s3api serve both, but path style needs no wildcard DNS), and falls back to
// path style for bucket names DNS cannot carry (uppercase, '_') or, over https, names with dots
// (they break the certificate's wildcard).
//
// Pure; thread-safe.
#ifndef CAIRN_OBJSTORE_S3_ADDRESSING_H_
#define CAIRN_OBJSTORE_S3_ADDRESSING_H_

#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/objstore/s3/settings.h"

namespace cairn::objstore::s3 {

struct S3Target {
  std::string url;   // scheme://host[:port]/path, without the query string
  std::string host;  // the Host header: host[:port]
  std::string path;  // the URI-encoded path as sent and signed ("/bucket/key" or "/key")
};

// True if `bucket` can be a DNS label sequence: 3-63 characters of a-z, 0-9, '-' and '.', starting
// and ending with a letter or digit, no "..", and not an IPv4 address (S3's bucket naming rules).
bool IsDnsCompatibleBucket(std::string_view bucket);

// The target of a request on `key` in `bucket` ("" key: the bucket itself; "" bucket: the
// service, as for ListBuckets). kInvalidArgument for an empty or malformed bucket name, or
// virtual-host addressing forced on a name DNS cannot carry.
Result<S3Target> ResolveTarget(const S3Settings& settings, std::string_view bucket,
                               std::string_view key);

}  // namespace cairn::objstore::s3

#endif  // CAIRN_OBJSTORE_S3_ADDRESSING_H_
