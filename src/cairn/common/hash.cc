#include "cairn/common/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

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

template <size_t N>
std::array<uint8_t, N> Hmac(const char* digest, std::string_view key, std::string_view message) {
  std::array<uint8_t, N> out;
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
                out.size(), &len) == nullptr ||
      len != N) {
    DieOpenSsl("HMAC");
  }
  return out;
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
  return Hmac<20>("SHA1", key, message);
}

Sha256Digest HmacSha256(std::string_view key, std::string_view message) {
  return Hmac<32>("SHA256", key, message);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cairn
