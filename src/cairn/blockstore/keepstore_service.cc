#include "cairn/blockstore/keepstore_service.h"

#include <utility>

namespace cairn::blockstore {

Result<std::unique_ptr<KeepstoreService>> KeepstoreService::Open(KeepstoreServiceOptions options) {
  if (options.volume_dirs.empty() && options.volumes.empty()) {
    return InvalidArgumentError("keepstore: no volume");
  }
  auto service = std::unique_ptr<KeepstoreService>(new KeepstoreService());
  KeepstoreOptions ko;
  for (const std::string& dir : options.volume_dirs) {
    DirectoryVolumeOptions vo;
    vo.root = dir;
    vo.env = options.env;
    Result<std::unique_ptr<DirectoryVolume>> v = DirectoryVolume::Open(vo);
    if (!v.ok()) return v.status().WithContext("open volume " + dir);
    ko.volumes.push_back(v->get());
    service->volumes_.push_back(std::move(v).value());
  }
  for (std::unique_ptr<Volume>& v : options.volumes) {
    if (v == nullptr) return InvalidArgumentError("keepstore: a null volume");
    ko.volumes.push_back(v.get());
    service->other_volumes_.push_back(std::move(v));
  }
  ko.authenticator = options.authenticator;
  ko.blob_signing_key = std::move(options.blob_signing_key);
  ko.blob_signing_ttl_seconds = options.blob_signing_ttl_seconds;
  ko.env = options.env;
  ko.log = std::move(options.log);
  CAIRN_ASSIGN_OR_RETURN(service->keepstore_, Keepstore::Create(std::move(ko)));
  return service;
}

}  // namespace cairn::blockstore
