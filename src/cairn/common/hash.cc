#include "cairn/common/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>

namespace cairn {
namespace {

[[noreturn]] void DieOpenSsl(const char* what) {
  std::fprintf(stderr, "cairn: OpenSSL %s failed (out of memory?)\n", what);
  std::abort();
}

// Fetched once: OpenSSL 3 otherwise looks the algorithm up again on every EVP_DigestInit.
const EVP_MD* FetchedMd(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) DieOpenSsl(name);
  return md;
}

const EVP_MD* Md5Md() {
  static const EVP_MD* md = FetchedMd("MD5");
  return md;
}

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = FetchedMd("SHA256");
  return md;
}

EVP_MD_CTX* NewCtx(const EVP_MD* md) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1) DieOpenSsl("digest init");
  return ctx;
}

template <size_t N>
std::array<uint8_t, N> FinishCtx(EVP_MD_CTX* ctx, const EVP_MD* md) {
  std::array<uint8_t, N> out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != N) DieOpenSsl("digest final");
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1) DieOpenSsl("digest init");
  return out;
}

const EVP_MD* Sha1Md() {
  static const EVP_MD* md = FetchedMd("SHA1");
  return md;
}

// HMAC (RFC 2104) over a digest context kept per thread. OpenSSL's one-shot EVP_Q_mac looks the
// MAC and the digest up again on every call (~3.5 µs, more than a whole SigV4 signature needs);
// with a reused, already-fetched digest an HMAC of a short message takes well under 1 µs.
// Both digests used here have 64-byte blocks.
template <size_t N>
std::array<uint8_t, N> Hmac(const EVP_MD* md, std::string_view key, std::string_view message) {
  constexpr size_t kBlockSize = 64;
  // One per thread, freed when the thread exits.
  thread_local std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> owned(EVP_MD_CTX_new(),
                                                                        &EVP_MD_CTX_free);
  EVP_MD_CTX* ctx = owned.get();
  if (ctx == nullptr) DieOpenSsl("HMAC context");
  auto digest = [&](std::initializer_list<std::string_view> parts) {
    std::array<uint8_t, N> out;
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1) DieOpenSsl("HMAC init");
    for (std::string_view part : parts) {
      if (EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) DieOpenSsl("HMAC update");
    }
    if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != N) DieOpenSsl("HMAC final");
    return out;
  };
  auto view = [](const auto& bytes) {
    return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  std::array<uint8_t, kBlockSize> pad{};
  if (key.size() > kBlockSize) {
    std::array<uint8_t, N> hashed = digest({key});
    std::copy(hashed.begin(), hashed.end(), pad.begin());
  } else {
    std::copy(key.begin(), key.end(), pad.begin());
  }
  for (uint8_t& b : pad) b ^= 0x36;
  std::array<uint8_t, N> inner = digest({view(pad), message});
  for (uint8_t& b : pad) b ^= 0x36 ^ 0x5c;
  return digest({view(pad), view(inner)});
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

void AppendHex(std::span<const uint8_t> bytes, std::string* out) {
  size_t at = out->size();
  out->resize(at + bytes.size() * 2);
  char* p = out->data() + at;
  for (uint8_t b : bytes) {
    *p++ = kHexDigits[b >> 4];
    *p++ = kHexDigits[b & 0xf];
  }
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  std::string out;
  AppendHex(bytes, &out);
  return out;
}

struct Md5::Ctx {
  EVP_MD_CTX* evp;
};

Md5::Md5() : ctx_(new Ctx{NewCtx(Md5Md())}) {}
Md5::~Md5() {
  EVP_MD_CTX_free(ctx_->evp);
  delete ctx_;
}
void Md5::Update(const void* data, size_t size) {
  if (EVP_DigestUpdate(ctx_->evp, data, size) != 1) DieOpenSsl("MD5 update");
}
Md5Digest Md5::Finish() { return FinishCtx<16>(ctx_->evp, Md5Md()); }

struct Sha256::Ctx {
  EVP_MD_CTX* evp;
};

Sha256::Sha256() : ctx_(new Ctx{NewCtx(Sha256Md())}) {}
Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_->evp);
  delete ctx_;
}
void Sha256::Update(const void* data, size_t size) {
  if (EVP_DigestUpdate(ctx_->evp, data, size) != 1) DieOpenSsl("SHA-256 update");
}
Sha256Digest Sha256::Finish() { return FinishCtx<32>(ctx_->evp, Sha256Md()); }

Md5Digest Md5Of(std::string_view data) {
  Md5Digest out;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, Md5Md(), nullptr) != 1) {
    DieOpenSsl("MD5");
  }
  return out;
}

std::string Md5Hex(std::string_view data) { return HexEncode(Md5Of(data)); }

Sha256Digest Sha256Of(std::string_view data) {
  Sha256Digest out;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, Sha256Md(), nullptr) != 1) {
    DieOpenSsl("SHA-256");
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256Of(data)); }

Sha1Digest HmacSha1(std::string_view key, std::string_view message) {
  return Hmac<20>(Sha1Md(), key, message);
}

Sha256Digest HmacSha256(std::string_view key, std::string_view message) {
  return Hmac<32>(Sha256Md(), key, message);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cairn
