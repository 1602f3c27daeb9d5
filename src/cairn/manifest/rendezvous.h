// Rendezvous hashing: the order in which Keep clients probe services for a block, and in which a
// keepstore probes its volumes (DESIGN.md §3; arvados-keep.md §5). Every client computes the
// same order from the block hash and the service uuids alone, so readers find a block where
// writers put it without any directory, and adding a server moves few blocks.
//
// Thread safety: pure functions.
#ifndef CAIRN_MANIFEST_RENDEZVOUS_H_
#define CAIRN_MANIFEST_RENDEZVOUS_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::manifest {

// Client probe order: indexes into `service_uuids`, by weight md5hex(H + last 15 characters of
// the uuid (the whole uuid if shorter)) descending; equal weights (duplicate uuids) keep index
// order. `block_hash_hex` is the 32-hex block hash H alone, without size or hints.
// For 27-character uuids (`zzzzz-bi6l4-<15>`) Python and Go agree; for other lengths this follows
// Python (always the last 15), while Go hashes the whole uuid.
std::vector<size_t> RendezvousOrder(std::string_view block_hash_hex,
                                    std::span<const std::string> service_uuids);

// Keepstore volume order: indexes into `volume_uuids`, by md5hex(H + uuidpart) ascending, where
// uuidpart is the uuid without its first 12 characters (`zzzzz-nyw5e-`) when it has 27, else the
// whole uuid; ties keep index order. Keepstore sorts by storage-class priority first; callers
// apply that (a stable sort on priority over this order).
std::vector<size_t> VolumeOrder(std::string_view block_hash_hex,
                                std::span<const std::string> volume_uuids);

}  // namespace cairn::manifest

#endif  // CAIRN_MANIFEST_RENDEZVOUS_H_
