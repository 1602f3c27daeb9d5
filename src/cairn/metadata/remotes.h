// Remotes (DESIGN.md §3-4, docs/catalog-api.md "Remotes"): named object stores — an endpoint, a
// region, the buckets (or Swift containers) that Cairn may name in external-object locators, and
// the credentials to read them. A remote belongs to the user who added it; only that user and
// admins can see it or name its buckets in a collection. Credentials are sealed at rest and never
// returned by the user API; gateway keepstores get them through Catalog::GatewayRemoteForBucket
// (in process) or the admin-only credentials route.
//
// Sealing: AES-256-GCM under a key derived from the blob signing key, HMAC-SHA256(signing key,
// kRemoteSealLabel), a fresh random 96-bit nonce per record, the remote's name as associated data
// (a sealed blob copied to another remote's row does not open). Stored as
// base64(nonce || ciphertext || 16-byte tag).
//
// Thread safety: value types and pure functions (randomness from OpenSSL's CSPRNG).
#ifndef CAIRN_METADATA_REMOTES_H_
#define CAIRN_METADATA_REMOTES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"

namespace cairn::metadata {

// The secret part of a remote. Never logged; never in an error message.
struct RemoteCredentials {
  std::string access_key_id;      // S3 access key / Swift user
  std::string secret_access_key;  // S3 secret / Swift key
  std::string session_token;      // optional (S3 STS)

  friend bool operator==(const RemoteCredentials&, const RemoteCredentials&) = default;
};

// A remote as the API shows it: no credentials.
struct Remote {
  std::string uuid;
  std::string name;  // [a-z][a-z0-9_.-]{0,63}, unique in the catalog
  std::string kind;  // "s3" | "swift"
  std::string endpoint;
  std::string region;
  std::vector<std::string> buckets;  // each bucket belongs to at most one remote of its kind
  std::string owner_uuid;
  int64_t created_at = 0;
};

// The fields of a new remote.
struct NewRemote {
  std::string name;
  std::string kind = "s3";
  std::string endpoint;
  std::string region;
  std::vector<std::string> buckets;
  RemoteCredentials credentials;
};

// The label the sealing key is derived with (changing it makes every sealed record unreadable).
inline constexpr std::string_view kRemoteSealLabel = "cairn remote credentials v1";

// kInvalidArgument naming the first bad field of `remote` (never echoing credentials).
Status ValidateNewRemote(const NewRemote& remote);

// Seals `credentials` for the remote `name` under the key derived from `signing_key`.
Result<std::string> SealCredentials(const RemoteCredentials& credentials, std::string_view name,
                                    std::string_view signing_key);

// Opens what SealCredentials returned. kDataLoss when the record was altered, moved to another
// name or sealed under another signing key (the message says which remote, nothing secret).
Result<RemoteCredentials> OpenCredentials(std::string_view sealed, std::string_view name,
                                          std::string_view signing_key);

}  // namespace cairn::metadata

#endif  // CAIRN_METADATA_REMOTES_H_
