#include "cairn/manifest/rendezvous.h"

#include <algorithm>
#include <numeric>

#include "cairn/common/hash.h"

namespace cairn::manifest {
namespace {

// Comparing the raw digests orders them exactly as their lowercase hex strings, which is what
// Arvados compares, without formatting hex for every service.
std::vector<Md5Digest> Weights(std::string_view block_hash_hex, std::span<const std::string> uuids,
                               std::string_view (*uuid_part)(std::string_view)) {
  std::vector<Md5Digest> weights;
  weights.reserve(uuids.size());
  Md5 md5;
  for (const std::string& uuid : uuids) {
    md5.Update(block_hash_hex);
    md5.Update(uuid_part(uuid));
    weights.push_back(md5.Finish());
  }
  return weights;
}

std::vector<size_t> Indexes(size_t n) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  return order;
}

// Python `_service_weight`: uuid[-15:].
std::string_view Last15(std::string_view uuid) {
  return uuid.size() > 15 ? uuid.substr(uuid.size() - 15) : uuid;
}

// Go keepstore `rendezvous`: strip "zzzzz-nyw5e-" only from a full 27-character uuid.
std::string_view VolumePart(std::string_view uuid) {
  return uuid.size() == 27 ? uuid.substr(12) : uuid;
}

}  // namespace

std::vector<size_t> RendezvousOrder(std::string_view block_hash_hex,
                                    std::span<const std::string> service_uuids) {
  std::vector<Md5Digest> weights = Weights(block_hash_hex, service_uuids, Last15);
  std::vector<size_t> order = Indexes(service_uuids.size());
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return weights[a] > weights[b]; });
  return order;
}

std::vector<size_t> VolumeOrder(std::string_view block_hash_hex,
                                std::span<const std::string> volume_uuids) {
  std::vector<Md5Digest> weights = Weights(block_hash_hex, volume_uuids, VolumePart);
  std::vector<size_t> order = Indexes(volume_uuids.size());
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return weights[a] < weights[b]; });
  return order;
}

}  // namespace cairn::manifest
