// Keepstore volumes on object stores, as `cairn keepstore --volume` and `cairn server --volume`
// name them: "s3://bucket[/prefix]" or "swift://container[/prefix]" (docs/volumes.md).
//
//   ObjectVolumeClients clients;  // must outlive every volume opened with it
//   if (IsObjectVolume(spec)) {
//     CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<blockstore::Volume> volume,
//                            OpenObjectVolume(spec, /*connections=*/12, clients));
//   }
//
// Credentials come from the environment as the aws CLI (AWS_*, ~/.aws) and the swift CLI (ST_*,
// OS_*) find them, never from the command line.
//
// Thread safety: OpenObjectVolume must not run concurrently on one ObjectVolumeClients; the
// volumes it returns are as thread-safe as blockstore::ObjectVolume.
#ifndef CAIRN_CLI_OBJECT_VOLUMES_H_
#define CAIRN_CLI_OBJECT_VOLUMES_H_

#include <memory>
#include <string_view>
#include <vector>

#include "cairn/blockstore/volume.h"
#include "cairn/cli/obj_transfer_commands.h"
#include "cairn/common/result.h"

namespace cairn::cli {

// The clients under the object-store volumes. Owns them; they must outlive the volumes (and the
// keepstore service that holds the volumes).
struct ObjectVolumeClients {
  std::vector<S3Connection> s3;
  std::vector<SwiftConnection> swift;
};

// Whether `spec` names an object-store volume (s3:// or swift://) rather than a directory.
bool IsObjectVolume(std::string_view spec);

// Opens the volume `spec` names with up to `connections` connections to its store; the clients
// it needs are added to `clients`. Errors start with "--volume SPEC: ".
Result<std::unique_ptr<blockstore::Volume>> OpenObjectVolume(std::string_view spec, int connections,
                                                             ObjectVolumeClients& clients);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_OBJECT_VOLUMES_H_
