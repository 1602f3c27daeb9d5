#include "cairn/blockstore/keepstore.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <utility>

#include "cairn/common/hash.h"
#include "cairn/manifest/locator.h"
#include "cairn/manifest/rendezvous.h"
#include "cairn/manifest/signature.h"

namespace cairn::blockstore {
namespace {

using httpd::ResponseWriter;
using httpd::ServerRequest;
using manifest::BlockHash;
using manifest::kMaxBlockSize;
using manifest::Locator;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// "<32 hex>" or "<32 hex>+…": the request names a block.
bool NamesBlock(std::string_view name) {
  return name.size() >= 32 && IsLowerHex(name.substr(0, 32)) &&
         (name.size() == 32 || name[32] == '+');
}

Status RequireAdmin(const Caller& caller) {
  if (!caller.is_admin) return PermissionDeniedError("this needs an admin token");
  return Status::OK();
}

}  // namespace

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnimplemented:
      return 405;
    case StatusCode::kOutOfRange:
      return 413;
    case StatusCode::kDataLoss:
      return 502;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kAborted:
      return 503;
    case StatusCode::kResourceExhausted:
      return 507;
    default:
      return 500;
  }
}

std::optional<std::string_view> RequestToken(const ServerRequest& request) {
  std::optional<std::string_view> auth = request.Header("Authorization");
  if (!auth) return std::nullopt;
  for (std::string_view scheme : {"Bearer ", "OAuth2 "}) {
    if (auth->size() > scheme.size() && auth->substr(0, scheme.size()) == scheme) {
      std::string_view token = auth->substr(scheme.size());
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
      if (!token.empty()) return token;
    }
  }
  return std::nullopt;
}

std::string RedactSignatures(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    char c = path[i];
    out.push_back(c);
    ++i;
    if (c != '+' || i >= path.size() || (path[i] != 'A' && path[i] != 'R')) continue;
    out.push_back(path[i++]);
    if (out.back() == 'R') {  // keep the cluster id: +R<cluster>-<sig>@<exp>
      while (i < path.size() && path[i] != '-' && path[i] != '+' && path[i] != '@') {
        out.push_back(path[i++]);
      }
      if (i < path.size() && path[i] == '-') out.push_back(path[i++]);
    }
    size_t end = path.find_first_of("@+/?", i);
    if (end == std::string_view::npos) end = path.size();
    if (end > i) out.append("…");
    i = end;
  }
  return out;
}

Result<std::unique_ptr<Keepstore>> Keepstore::Create(KeepstoreOptions options) {
  if (options.volumes.empty()) return InvalidArgumentError("keepstore: no volumes");
  for (Volume* v : options.volumes) {
    if (v == nullptr) return InvalidArgumentError("keepstore: null volume");
  }
  if (options.authenticator == nullptr) return InvalidArgumentError("keepstore: no authenticator");
  if (options.env == nullptr) options.env = io::Env::Default();
  if (options.piece_bytes == 0) options.piece_bytes = size_t{1} << 20;
  return std::unique_ptr<Keepstore>(new Keepstore(std::move(options)));
}

Keepstore::Keepstore(KeepstoreOptions options) : options_(std::move(options)) {
  for (Volume* v : options_.volumes) volume_uuids_.push_back(v->uuid());
}

void Keepstore::Log(std::string_view message) const {
  if (options_.log) {
    options_.log(message);
  } else {
    std::fprintf(stderr, "keepstore: %.*s\n", static_cast<int>(message.size()), message.data());
  }
}

std::vector<Volume*> Keepstore::Order(std::string_view hash_hex) const {
  std::vector<Volume*> out;
  for (size_t i : manifest::VolumeOrder(hash_hex, volume_uuids_))
    out.push_back(options_.volumes[i]);
  return out;
}

void Keepstore::Handle(ServerRequest& request, ResponseWriter& response) {
  response.SetHeader("Access-Control-Allow-Origin", "*");
  Status s = Route(request, response);
  if (s.ok()) return;
  // Route returns an error only before it started a reply.
  response.Send(HttpStatusFor(s), "text/plain", std::string(s.message()) + "\n").IgnoreError();
}

Result<Caller> Keepstore::Authenticate(const ServerRequest& request) {
  std::optional<std::string_view> token = RequestToken(request);
  if (!token) return UnauthenticatedError("no token provided in Authorization header");
  return options_.authenticator->Authenticate(*token);
}

Status Keepstore::Route(ServerRequest& request, ResponseWriter& response) {
  std::string_view path = request.path;
  const std::string& method = request.method;
  if (path.starts_with("//")) path.remove_prefix(1);  // old clients' form, as Arvados accepts
  if (method == "OPTIONS") return response.Send(200, "", "");
  if (path == "/_health/ping") {
    if (method != "GET") return UnimplementedError("method not allowed");
    return response.Send(200, "application/json", "{\"health\":\"OK\"}\n");
  }
  if (path == "/mounts") {
    if (method != "GET") return UnimplementedError("method not allowed");
    return Mounts(request, response);
  }
  if (path == "/index" || path.starts_with("/index/")) {
    if (method != "GET") return UnimplementedError("method not allowed");
    return Index(path.size() > 7 ? path.substr(7) : std::string_view(), request, response);
  }
  std::string_view name = path.empty() ? path : path.substr(1);
  if (!NamesBlock(name)) return InvalidArgumentError("bad request: " + RedactSignatures(path));
  if (method == "PUT") return Put(name, request, response);
  if (method == "GET" || method == "HEAD") return Get(name, request, response);
  if (method == "DELETE") return Delete(name, request, response);
  return UnimplementedError("method not allowed");
}

Status Keepstore::Put(std::string_view name, ServerRequest& request, ResponseWriter& response) {
  CAIRN_ASSIGN_OR_RETURN(BlockHash hash, BlockHash::Parse(name.substr(0, 32)));
  CAIRN_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
  if (request.content_length && *request.content_length > kMaxBlockSize) {
    return OutOfRangeError("block of " + std::to_string(*request.content_length) +
                           " bytes is larger than 64 MiB");
  }
  // The first writable volume in rendezvous order that takes the block: one that holds it
  // already (the writer then only checks the bytes), else one with room.
  std::vector<Volume*> order = Order(hash.hex());
  std::unique_ptr<BlockWriter> writer;
  Status last_error = ResourceExhaustedError("no writable volume");
  for (int pass = 0; pass < 2 && !writer; ++pass) {
    for (Volume* v : order) {
      if (!v->writable()) continue;
      if (pass == 0 && !v->Stat(hash).ok()) continue;
      Result<std::unique_ptr<BlockWriter>> w = v->NewWriter(hash);
      if (w.ok()) {
        writer = std::move(w).value();
        break;
      }
      // Full volumes answer kResourceExhausted; a failing one is remembered unless all are full.
      if (last_error.code() == StatusCode::kResourceExhausted) last_error = w.status();
    }
  }
  if (!writer) {
    if (last_error.code() == StatusCode::kResourceExhausted) {
      return ResourceExhaustedError("insufficient storage: every volume is full");
    }
    return UnavailableError("no volume can take the block: " + std::string(last_error.message()));
  }
  std::vector<char> piece(options_.piece_bytes);
  uint64_t total = 0;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, request.body->Read(piece));
    if (n == 0) break;
    total += n;
    if (total > kMaxBlockSize) return OutOfRangeError("block is larger than 64 MiB");
    CAIRN_RETURN_IF_ERROR(writer->Append(std::string_view(piece.data(), n)));
  }
  CAIRN_ASSIGN_OR_RETURN(BlockInfo info, writer->Commit());
  Locator locator(hash, info.size);
  std::optional<std::string_view> token = RequestToken(request);
  if (!options_.blob_signing_key.empty() && token) {
    locator =
        manifest::SignLocator(locator, options_.blob_signing_key, *token,
                              options_.env->NowUnixSeconds() + options_.blob_signing_ttl_seconds,
                              options_.blob_signing_ttl_seconds);
  }
  (void)caller;
  response.SetHeader("X-Keep-Replicas-Stored", "1");
  response.SetHeader("X-Keep-Storage-Classes-Confirmed", "default=1");
  return response.Send(200, "text/plain", locator.ToString() + "\n");
}

Status Keepstore::Get(std::string_view name, ServerRequest& request, ResponseWriter& response) {
  const bool head = request.method == "HEAD";
  std::optional<Locator> locator;
  Result<Locator> parsed = Locator::Parse(name);
  if (parsed.ok()) {
    locator = std::move(parsed).value();
  } else if (name.size() != 32) {
    return InvalidArgumentError("malformed locator: " + std::string(parsed.status().message()));
  }
  CAIRN_ASSIGN_OR_RETURN(BlockHash hash, BlockHash::Parse(name.substr(0, 32)));
  if (!locator && !head && !hash.IsEmptyBlock()) {
    return UnimplementedError("GET needs a locator with a size hint");
  }
  CAIRN_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
  (void)caller;
  if (!options_.blob_signing_key.empty()) {
    if (!locator) return InvalidArgumentError("invalid signature: no permission signature");
    Status s = manifest::VerifySignature(
        *locator, options_.blob_signing_key, RequestToken(request).value_or(""),
        options_.blob_signing_ttl_seconds, options_.env->NowUnixSeconds());
    // Arvados 3.x: a missing or wrong signature is 400, an expired one 401.
    if (s.code() == StatusCode::kPermissionDenied) {
      return InvalidArgumentError("invalid signature: " + std::string(s.message()));
    }
    CAIRN_RETURN_IF_ERROR(s);
  }
  response.SetHeader("Content-Type", "application/octet-stream");
  if (hash.IsEmptyBlock()) return response.Start(200, 0);

  Status last_error = NotFoundError("block " + std::string(hash.hex()) + " not found");
  for (Volume* volume : Order(hash.hex())) {
    Result<std::unique_ptr<BlockReader>> opened = volume->Open(hash);
    if (!opened.ok()) {
      if (opened.status().code() != StatusCode::kNotFound) last_error = opened.status();
      continue;
    }
    BlockReader& reader = **opened;
    const uint64_t size = reader.info().size;
    if (locator && locator->size() != size) {
      last_error = DataLossError("block " + std::string(hash.hex()) + " on volume " +
                                 volume->uuid() + " has " + std::to_string(size) +
                                 " bytes, the locator says " + std::to_string(locator->size()));
      Log(last_error.message());
      continue;
    }
    // The MD5 is computed as the bytes go out; the last piece is held back until it matches, so
    // a client never receives a complete wrong block (HEAD checks it all before answering).
    bool started = false;
    if (!head) {
      if (size == 0) return DataLossError("block " + std::string(hash.hex()) + " is empty");
      CAIRN_RETURN_IF_ERROR(response.Start(200, size));
      started = true;
    }
    Md5 md5;
    std::vector<char> piece(options_.piece_bytes);
    uint64_t offset = 0;
    Status failed;
    while (offset < size) {
      Result<size_t> n = reader.ReadAt(offset, piece);
      if (!n.ok() || *n == 0) {
        failed = n.ok() ? DataLossError("block is shorter than its size") : n.status();
        break;
      }
      md5.Update(piece.data(), *n);
      offset += *n;
      if (offset == size && BlockHash::FromDigest(md5.Finish()) != hash) {
        failed = DataLossError("content hash does not match");
        break;
      }
      if (started && !response.Write(std::string_view(piece.data(), *n)).ok()) return Status::OK();
    }
    if (!failed.ok()) {
      Log("corrupt or unreadable block " + std::string(hash.hex()) + " on volume " +
          volume->uuid() + ": " + std::string(failed.message()));
      if (started) return Status::OK();  // the reply is cut short: the client sees an error
      last_error = DataLossError("block " + std::string(hash.hex()) + " is corrupt on volume " +
                                 volume->uuid());
      continue;
    }
    if (head) return response.Start(200, size);
    return Status::OK();
  }
  return last_error;
}

Status Keepstore::Delete(std::string_view name, const ServerRequest& request,
                         ResponseWriter& response) {
  CAIRN_ASSIGN_OR_RETURN(BlockHash hash, BlockHash::Parse(name.substr(0, 32)));
  CAIRN_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
  CAIRN_RETURN_IF_ERROR(RequireAdmin(caller));
  int deleted = 0;
  Status error;
  for (Volume* v : Order(hash.hex())) {
    if (!v->writable()) continue;
    Status s = v->Delete(hash);
    if (s.ok()) {
      ++deleted;
    } else if (s.code() != StatusCode::kNotFound && error.ok()) {
      error = s;
    }
  }
  if (!error.ok()) return error;
  if (deleted == 0) return NotFoundError("block " + std::string(hash.hex()) + " not found");
  return response.Send(200, "text/plain", "");
}

Status Keepstore::Index(std::string_view prefix, const ServerRequest& request,
                        ResponseWriter& response) {
  CAIRN_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
  CAIRN_RETURN_IF_ERROR(RequireAdmin(caller));
  if (prefix.size() > 32 || !IsLowerHex(prefix)) {
    return InvalidArgumentError("index prefix must be up to 32 lowercase hex digits");
  }
  // The reply carries a Content-Length, so the index is gathered first (~60 bytes a block).
  std::string body;
  for (Volume* v : options_.volumes) {
    CAIRN_RETURN_IF_ERROR(v->Index(prefix, [&body](const IndexEntry& e) {
      body.append(e.hash.hex()).append("+").append(std::to_string(e.info.size));
      body.append(" ").append(std::to_string(e.info.mtime_nanos)).append("\n");
      return Status::OK();
    }));
  }
  body.append("\n");  // the end marker: a client rejects an index without it
  return response.Send(200, "text/plain", body);
}

Status Keepstore::Mounts(const ServerRequest& request, ResponseWriter& response) {
  CAIRN_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
  CAIRN_RETURN_IF_ERROR(RequireAdmin(caller));
  nlohmann::json mounts = nlohmann::json::array();
  for (Volume* v : options_.volumes) {
    MountInfo m = v->Mount();
    nlohmann::json classes = nlohmann::json::object();
    for (const std::string& c : m.storage_classes) classes[c] = true;
    mounts.push_back({{"uuid", m.uuid},
                      {"device_id", m.device_id},
                      {"allow_write", m.allow_write},
                      {"allow_trash", m.allow_trash},
                      {"replication", m.replication},
                      {"storage_classes", classes},
                      {"bytes_free", m.bytes_free},
                      {"bytes_total", m.bytes_total}});
  }
  return response.Send(
      200, "application/json",
      mounts.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace cairn::blockstore
