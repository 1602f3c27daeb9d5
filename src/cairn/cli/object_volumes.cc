#include "cairn/cli/object_volumes.h"

#include <string>
#include <utility>

#include "cairn/blockstore/object_volume.h"
#include "cairn/objstore/s3/s3_object_store.h"
#include "cairn/objstore/swift/swift_object_store.h"

namespace cairn::cli {

bool IsObjectVolume(std::string_view spec) {
  return spec.starts_with("s3://") || spec.starts_with("swift://");
}

Result<std::unique_ptr<blockstore::Volume>> OpenObjectVolume(std::string_view spec, int connections,
                                                             ObjectVolumeClients& clients) {
  const bool s3 = spec.starts_with("s3://");
  std::string_view rest = spec.substr(s3 ? 5 : 8);
  size_t slash = rest.find('/');
  blockstore::ObjectVolumeOptions options;
  options.container = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) options.prefix = std::string(rest.substr(slash + 1));
  if (options.container.empty()) {
    return InvalidArgumentError("--volume " + std::string(spec) + ": no bucket");
  }
  if (s3) {
    CAIRN_ASSIGN_OR_RETURN(
        S3Connection connection,
        ConnectS3(
            {.profile = "", .region = "", .endpoint_url = "", .max_connections = connections}));
    options.store = std::make_shared<objstore::s3::S3ObjectStore>(connection.client.get());
    clients.s3.push_back(std::move(connection));
  } else {
    CAIRN_ASSIGN_OR_RETURN(SwiftConnection swift, ConnectSwift(connections));
    options.store = std::make_shared<objstore::swift::SwiftObjectStore>(swift.client.get());
    clients.swift.push_back(std::move(swift));
  }
  Result<std::unique_ptr<blockstore::ObjectVolume>> volume =
      blockstore::ObjectVolume::Open(std::move(options));
  if (!volume.ok()) return volume.status().WithContext("--volume " + std::string(spec));
  return std::unique_ptr<blockstore::Volume>(std::move(volume).value());
}

}  // namespace cairn::cli
