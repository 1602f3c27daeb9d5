// KeepstoreService: a Keepstore with the directory volumes it serves, ready to hand to an
// httpd::HttpServer. What `cairn keepstore` runs, and what `cairn server` builds to run the
// catalog and keepstores in one process (with a direct Authenticator instead of HTTP).
//
//   CAIRN_ASSIGN_OR_RETURN(auto service, KeepstoreService::Open({.volume_dirs = {"/srv/k0"},
//       .authenticator = &auth, .blob_signing_key = key}));
//   CAIRN_ASSIGN_OR_RETURN(auto server, httpd::HttpServer::Start(options, service->handler()));
//
// Thread safety: handler() may run concurrently. The service owns its volumes and keepstore;
// the authenticator and env must outlive it, and it must outlive any server using its handler.
#ifndef CAIRN_BLOCKSTORE_KEEPSTORE_SERVICE_H_
#define CAIRN_BLOCKSTORE_KEEPSTORE_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/blockstore/authenticator.h"
#include "cairn/blockstore/directory_volume.h"
#include "cairn/blockstore/keepstore.h"
#include "cairn/common/result.h"
#include "cairn/httpd/http_server.h"
#include "cairn/io/env.h"

namespace cairn::blockstore {

struct KeepstoreServiceOptions {
  std::vector<std::string> volume_dirs;  // created when missing
  // Volumes opened by the caller (e.g. ObjectVolume on S3 or Swift), served after volume_dirs and
  // owned by the service. At least one volume in all.
  std::vector<std::unique_ptr<Volume>> volumes{};
  Authenticator* authenticator = nullptr;  // required
  std::string blob_signing_key{};
  int64_t blob_signing_ttl_seconds = int64_t{14} * 24 * 3600;
  io::Env* env = nullptr;  // nullptr: io::Env::Default()
  std::function<void(std::string_view message)> log{};
};

class KeepstoreService {
 public:
  // Opens (and locks) every volume; errors name the directory.
  static Result<std::unique_ptr<KeepstoreService>> Open(KeepstoreServiceOptions options);

  httpd::Handler handler() { return keepstore_->AsHandler(); }
  Keepstore& keepstore() { return *keepstore_; }
  const std::vector<std::unique_ptr<DirectoryVolume>>& volumes() const { return volumes_; }
  // The volumes given ready in KeepstoreServiceOptions::volumes.
  const std::vector<std::unique_ptr<Volume>>& other_volumes() const { return other_volumes_; }

 private:
  KeepstoreService() = default;

  std::vector<std::unique_ptr<DirectoryVolume>> volumes_;
  std::vector<std::unique_ptr<Volume>> other_volumes_;
  std::unique_ptr<Keepstore> keepstore_;
};

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_KEEPSTORE_SERVICE_H_
