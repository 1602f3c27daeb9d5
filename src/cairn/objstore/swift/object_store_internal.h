// Helpers shared by swift_object_store.cc and large_object.cc (private to objstore/swift).
#ifndef CAIRN_OBJSTORE_SWIFT_OBJECT_STORE_INTERNAL_H_
#define CAIRN_OBJSTORE_SWIFT_OBJECT_STORE_INTERNAL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/http/http_client.h"
#include "cairn/objstore/object_store.h"

namespace cairn::objstore::swift::internal {

// An ETag without its quotes.
std::string Unquote(std::string_view etag);

// Size, ETag, time, type, X-Object-Meta-* and X-Static-Large-Object of a HEAD or GET reply.
ObjectAttributes AttributesFromHeaders(const http::HttpHeaders& headers);

// The headers that carry WriteOptions' content type and metadata.
void AddWriteHeaders(const WriteOptions& options,
                     std::vector<std::pair<std::string, std::string>>* headers);

// "swift://container/key".
std::string SwiftUri(std::string_view container, std::string_view key);

}  // namespace cairn::objstore::swift::internal

#endif  // CAIRN_OBJSTORE_SWIFT_OBJECT_STORE_INTERNAL_H_
