// Cryptographic hashes (OpenSSL 3 EVP): MD5 (Keep block ids, Content-MD5), SHA-256 (SigV4),
// HMAC-SHA1 (Keep permission signatures) and HMAC-SHA256 (SigV4 signing keys).
//
// Thread safety: the free functions are thread-safe. Md5 and Sha256 objects are not; use one per
// thread. Allocation failures inside OpenSSL abort the process (they mean out of memory).
#ifndef CAIRN_COMMON_HASH_H_
#define CAIRN_COMMON_HASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cairn {

using Md5Digest = std::array<uint8_t, 16>;
using Sha1Digest = std::array<uint8_t, 20>;
using Sha256Digest = std::array<uint8_t, 32>;

// Lowercase hex of `bytes`.
std::string HexEncode(std::span<const uint8_t> bytes);
// Appends lowercase hex of `bytes` to *out.
void AppendHex(std::span<const uint8_t> bytes, std::string* out);

// Streaming MD5. Reusable: Finish() resets it for the next message.
class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  void Update(std::string_view data) { Update(data.data(), data.size()); }
  void Update(const void* data, size_t size);
  Md5Digest Finish();

 private:
  struct Ctx;
  Ctx* ctx_;
};

// Streaming SHA-256. Reusable like Md5.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data) { Update(data.data(), data.size()); }
  void Update(const void* data, size_t size);
  Sha256Digest Finish();

 private:
  struct Ctx;
  Ctx* ctx_;
};

Md5Digest Md5Of(std::string_view data);
std::string Md5Hex(std::string_view data);
Sha256Digest Sha256Of(std::string_view data);
std::string Sha256Hex(std::string_view data);

Sha1Digest HmacSha1(std::string_view key, std::string_view message);
Sha256Digest HmacSha256(std::string_view key, std::string_view message);

// Constant-time comparison (for signatures and tokens); false when sizes differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace cairn

#endif  // CAIRN_COMMON_HASH_H_
