// Remotes: validation of new remotes and sealing of their credentials (AES-256-GCM, remotes.h).
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "cairn/common/base64.h"
#include "cairn/common/hash.h"
#include "cairn/metadata/remotes.h"

namespace cairn::metadata {
namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxField = 1024;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

Sha256Digest SealKey(std::string_view signing_key) {
  return HmacSha256(signing_key, kRemoteSealLabel);
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// What external.h accepts as a bucket: non-empty, no '/' or '?'; also printable ASCII here.
bool IsValidBucket(std::string_view bucket) {
  if (bucket.empty() || bucket.size() > 255) return false;
  for (char c : bucket) {
    if (c <= ' ' || c > '~' || c == '/' || c == '?') return false;
  }
  return true;
}

Status OpenSslError(std::string_view what) {
  return InternalError("OpenSSL " + std::string(what) + " failed");
}

}  // namespace

Status ValidateNewRemote(const NewRemote& remote) {
  if (!IsValidName(remote.name)) {
    return InvalidArgumentError("remote name \"" + remote.name.substr(0, 80) +
                                "\" must match [a-z][a-z0-9_.-]{0,63}");
  }
  if (remote.kind != "s3" && remote.kind != "swift") {
    return InvalidArgumentError("kind must be s3 or swift");
  }
  std::string_view endpoint = remote.endpoint;
  if (endpoint.size() > kMaxField ||
      !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))) {
    return InvalidArgumentError("endpoint must be an http:// or https:// URL");
  }
  if (remote.region.size() > 64) return InvalidArgumentError("region is too long");
  if (remote.buckets.empty()) return InvalidArgumentError("buckets must name at least one bucket");
  if (remote.buckets.size() > 1000) return InvalidArgumentError("at most 1000 buckets a remote");
  for (const std::string& b : remote.buckets) {
    if (!IsValidBucket(b)) {
      return InvalidArgumentError("bucket \"" + b.substr(0, 80) +
                                  "\" must be 1-255 printable characters without '/' or '?'");
    }
  }
  const RemoteCredentials& c = remote.credentials;
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return InvalidArgumentError("credentials need an access key id and a secret key");
  }
  if (c.access_key_id.size() > kMaxField || c.secret_access_key.size() > kMaxField ||
      c.session_token.size() > 8 * kMaxField) {
    return InvalidArgumentError("credentials are too long");
  }
  return Status::OK();
}

Result<std::string> SealCredentials(const RemoteCredentials& credentials, std::string_view name,
                                    std::string_view signing_key) {
  nlohmann::json j = {{"access_key_id", credentials.access_key_id},
                      {"secret_access_key", credentials.secret_access_key},
                      {"session_token", credentials.session_token}};
  std::string plain = j.dump();
  Sha256Digest key = SealKey(signing_key);
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(bytes, kNonceBytes) != 1) return OpenSslError("RAND_bytes");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), bytes) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(name.data()),
                        static_cast<int>(name.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes + kNonceBytes, &len,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          bytes + kNonceBytes + plain.size()) != 1) {
    return OpenSslError("AES-256-GCM seal");
  }
  OPENSSL_cleanse(plain.data(), plain.size());
  OPENSSL_cleanse(key.data(), key.size());
  return Base64Encode(out);
}

Result<RemoteCredentials> OpenCredentials(std::string_view sealed, std::string_view name,
                                          std::string_view signing_key) {
  auto corrupt = [&] {
    return DataLossError("the sealed credentials of remote " + std::string(name.substr(0, 80)) +
                         " do not open (altered, or sealed under another blob signing key)");
  };
  Result<std::string> raw = Base64Decode(sealed);
  if (!raw.ok() || raw->size() < kNonceBytes + kTagBytes) return corrupt();
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());
  size_t n = raw->size() - kNonceBytes - kTagBytes;
  std::string plain(n, '\0');
  Sha256Digest key = SealKey(signing_key);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), bytes) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(name.data()),
                        static_cast<int>(name.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        bytes + kNonceBytes, static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          const_cast<unsigned char*>(bytes + kNonceBytes + n)) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) ==
          1;
  OPENSSL_cleanse(key.data(), key.size());
  if (!ok) return corrupt();
  nlohmann::json j = nlohmann::json::parse(plain, nullptr, /*allow_exceptions=*/false);
  OPENSSL_cleanse(plain.data(), plain.size());
  if (!j.is_object() || !j.value("access_key_id", nlohmann::json()).is_string() ||
      !j.value("secret_access_key", nlohmann::json()).is_string() ||
      !j.value("session_token", nlohmann::json()).is_string()) {
    return corrupt();
  }
  return RemoteCredentials{.access_key_id = j["access_key_id"].get<std::string>(),
                           .secret_access_key = j["secret_access_key"].get<std::string>(),
                           .session_token = j["session_token"].get<std::string>()};
}

}  // namespace cairn::metadata
