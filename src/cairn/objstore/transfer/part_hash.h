// The one place where the transfer engine hashes part bytes (MD5: Content-MD5 and ETags), so that
// a faster kernel (the multi-buffer SIMD MD5 of cairn/common, hashing several parts in SIMD lanes)
// can replace OpenSSL's serial MD5 here without touching the engine.
//
// Thread safety: PartHasher is thread-compatible (one per part); HashPartBytes is thread-safe.
#ifndef CAIRN_OBJSTORE_TRANSFER_PART_HASH_H_
#define CAIRN_OBJSTORE_TRANSFER_PART_HASH_H_

#include <string_view>

#include "cairn/common/hash.h"

namespace cairn::objstore::transfer {

// Incremental MD5 of one part (or one object), fed in the order the bytes arrive.
class PartHasher {
 public:
  void Update(std::string_view bytes) { md5_.Update(bytes); }
  Md5Digest Finish() { return md5_.Finish(); }

 private:
  Md5 md5_;
};

inline Md5Digest HashPartBytes(std::string_view bytes) { return Md5Of(bytes); }

}  // namespace cairn::objstore::transfer

#endif  // CAIRN_OBJSTORE_TRANSFER_PART_HASH_H_
