#include "cairn/client/keep_client.h"

#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <random>
#include <set>
#include <utility>

#include "cairn/common/hash.h"
#include "cairn/manifest/rendezvous.h"

namespace cairn::client {
namespace {

// Reserves a block buffer; a large one is backed by transparent huge pages where the kernel
// offers them on request (THP "madvise"): filling 64 MiB of fresh 4 KiB pages costs 16,384 page
// faults, a quarter of a download's CPU.
void ReserveBlockBuffer(std::string* data, uint64_t size) {
  data->reserve(size);
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (size < 2 * kHuge) return;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(data->data()) + kHuge - 1) & ~(kHuge - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(data->data()) + size) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// A Keep PUT reply is one signed locator and a newline.
constexpr size_t kMaxPutReplyBytes = 4096;

bool IsGateway(const KeepService& service) { return service.type.starts_with("gateway"); }

// Services ordered by rendezvous weight for `hash`.
std::vector<KeepService> RendezvousSorted(const std::vector<KeepService>& services,
                                          const manifest::BlockHash& hash) {
  std::vector<std::string> uuids;
  uuids.reserve(services.size());
  for (const KeepService& s : services) uuids.push_back(s.uuid);
  std::vector<KeepService> sorted;
  for (size_t i : manifest::RendezvousOrder(hash.hex(), uuids)) sorted.push_back(services[i]);
  return sorted;
}

// Which failure says most about why a block could not be read: corruption first, then refusals,
// then outages, then absence.
int Severity(StatusCode code) {
  switch (code) {
    case StatusCode::kDataLoss:
      return 4;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      return 3;
    case StatusCode::kNotFound:
      return 1;
    default:
      return 2;
  }
}

}  // namespace

Result<std::unique_ptr<KeepClient>> KeepClient::Create(http::HttpClient* http,
                                                       CatalogClient* catalog, io::Env* env,
                                                       KeepClientOptions options) {
  if (options.prefetch_threads < 1) {
    return InvalidArgumentError("keep client: prefetch_threads must be at least 1");
  }
  std::unique_ptr<KeepClient> client(new KeepClient(http, catalog, env, std::move(options)));
  CAIRN_ASSIGN_OR_RETURN(client->prefetch_pool_,
                         ThreadPool::Create({.num_threads = client->options_.prefetch_threads,
                                             .queue_capacity = static_cast<size_t>(
                                                 client->options_.prefetch_threads)}));
  if (client->options_.disk_cache_bytes > 0) {
    CAIRN_ASSIGN_OR_RETURN(
        client->disk_cache_,
        DiskBlockCache::Create(client->options_.disk_cache_dir, client->options_.disk_cache_bytes));
  }
  return client;
}

KeepClient::KeepClient(http::HttpClient* http, CatalogClient* catalog, io::Env* env,
                       KeepClientOptions options)
    : http_(http),
      catalog_(catalog),
      env_(env),
      options_(std::move(options)),
      retry_policy_(options_.retry),
      random_(std::make_unique<objstore::SeededRandom>(std::random_device{}())),
      cache_(options_.cache_bytes) {}

KeepClient::~KeepClient() {
  if (prefetch_pool_) prefetch_pool_->Shutdown(ThreadPool::ShutdownMode::kCancel);
}

Result<std::vector<KeepService>> KeepClient::Services() {
  std::lock_guard lock(services_mu_);
  const int64_t now = env_->NowUnixSeconds();
  if (services_fetched_at_ != 0 && now - services_fetched_at_ < options_.services_ttl.count()) {
    return services_;
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<KeepService> services, catalog_->ListKeepServices());
  if (services.empty()) return FailedPreconditionError("the catalog lists no keep services");
  services_ = std::move(services);
  services_fetched_at_ = now;
  return services_;
}

Result<int> KeepClient::WritableServiceCount() {
  CAIRN_ASSIGN_OR_RETURN(std::vector<KeepService> services, Services());
  int count = 0;
  for (const KeepService& s : services) {
    if (s.read_only || IsGateway(s)) continue;
    // A proxy stores as many copies as asked (arvados-keep.md §5.4).
    if (s.type == "proxy") return 1 << 20;
    ++count;
  }
  return count;
}

Result<PutResult> KeepClient::Put(std::string_view data, int replicas) {
  return Put(data, manifest::BlockHash::FromDigest(Md5Of(data)), replicas);
}

Result<PutResult> KeepClient::Put(std::string_view data, const manifest::BlockHash& hash,
                                  int replicas) {
  const std::string name = std::string(hash.hex()) + "+" + std::to_string(data.size());
  if (data.size() > manifest::kMaxBlockSize) {
    return InvalidArgumentError("store block " + name + ": larger than 64 MiB");
  }
  if (replicas < 1) replicas = 1;
  CAIRN_ASSIGN_OR_RETURN(std::vector<KeepService> services, Services());
  std::vector<KeepService> writable;
  for (const KeepService& s : services) {
    if (!s.read_only && !IsGateway(s)) writable.push_back(s);
  }
  if (writable.empty())
    return FailedPreconditionError("store block " + name + ": no writable keep service");
  std::optional<PutResult> result;
  Status last_error;
  for (const KeepService& service : RendezvousSorted(writable, hash)) {
    const int wanted = replicas - (result ? result->replicas : 0);
    Result<PutResult> put = PutTo(service, data, hash, wanted);
    if (!put.ok()) {
      last_error = put.status();
      continue;
    }
    if (!result) {
      result = std::move(*put);
    } else {
      result->replicas += put->replicas;
    }
    if (result->replicas >= replicas) return std::move(*result);
  }
  if (!result) return last_error;
  std::string message = "store block " + name + ": stored " + std::to_string(result->replicas) +
                        " of " + std::to_string(replicas) + " replicas";
  if (!last_error.ok()) message += " (" + std::string(last_error.message()) + ")";
  return UnavailableError(message);
}

Result<PutResult> KeepClient::PutTo(const KeepService& service, std::string_view data,
                                    const manifest::BlockHash& hash, int wanted) {
  const std::string base = service.BaseUrl();
  http::HttpRequest request;
  request.method = "PUT";
  request.url = base + "/" + std::string(hash.hex());
  request.headers.emplace_back("Authorization", "Bearer " + options_.token);
  request.headers.emplace_back("X-Keep-Desired-Replicas", std::to_string(wanted));
  request.body = http::RequestBody::FromBytes(data);
  request.timeout = options_.request_timeout;
  const std::string what = "store block " + std::string(hash.hex()) + "+" +
                           std::to_string(data.size()) + " on " + service.uuid + " (" + base + ")";
  std::optional<PutResult> result;
  Status status = objstore::RunWithRetries(
      retry_policy_, env_, random_.get(),
      [&]() -> Status {
        CAIRN_ASSIGN_OR_RETURN(
            http::HttpResponse response,
            http_->Send(request, http::ResponseBody::Collect(kMaxPutReplyBytes)));
        if (response.status_code < 200 || response.status_code >= 300) {
          std::string body = response.body.substr(0, 200);
          while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
          Status s = http::HttpStatusToStatus(response.status_code, what);
          // 507: the service is full; another service may take the block, this one will not.
          if (body.empty()) return s;
          return Status(s.code(), what + ": " + body, s.detail());
        }
        std::string_view text = response.body;
        while (!text.empty() &&
               (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
          text.remove_suffix(1);
        }
        Result<manifest::Locator> locator = manifest::Locator::Parse(text);
        if (!locator.ok() || locator->hash() != hash || locator->size() != data.size()) {
          return DataLossError(what + ": the reply names another block");
        }
        int stored = 1;
        if (std::optional<std::string_view> header =
                response.headers.Get("X-Keep-Replicas-Stored")) {
          int n = 0;
          auto [ptr, ec] = std::from_chars(header->data(), header->data() + header->size(), n);
          if (ec == std::errc() && n >= 0) stored = n;
        }
        result = PutResult{.locator = std::move(*locator), .replicas = stored};
        return Status();
      },
      what);
  CAIRN_RETURN_IF_ERROR(status);
  return std::move(*result);
}

Result<std::vector<KeepService>> KeepClient::ReadOrder(const manifest::Locator& locator) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<KeepService> services, Services());
  std::vector<KeepService> order;
  std::set<std::string> seen;
  for (const manifest::ServiceHint& hint : locator.service_hints()) {
    if (hint.target_kind != manifest::ServiceHint::Target::kService) continue;
    for (const KeepService& s : services) {
      if (s.uuid == hint.target && seen.insert(s.uuid).second) order.push_back(s);
    }
  }
  // External-object locators are read through gateways (which hold the remotes' credentials);
  // Cairn's own blocks through the other services.
  const bool external = locator.IsExternal();
  std::vector<KeepService> readable;
  for (const KeepService& s : services) {
    if (IsGateway(s) == external) readable.push_back(s);
  }
  for (const KeepService& s : RendezvousSorted(readable, locator.hash())) {
    if (seen.insert(s.uuid).second) order.push_back(s);
  }
  return order;
}

Result<Block> KeepClient::Get(const manifest::Locator& locator) {
  if (locator.IsEmptyBlock()) return std::make_shared<const std::string>();
  return cache_.GetOrFetch(std::string(locator.hash().hex()), [&]() -> Result<Block> {
    // External locators' hashes are derived from their hints: a file could not be checked.
    if (!disk_cache_ || locator.IsExternal()) return Fetch(locator);
    if (Block block = disk_cache_->Lookup(locator.hash(), locator.size())) return block;
    CAIRN_ASSIGN_OR_RETURN(Block block, Fetch(locator));
    // A full disk only costs the next reader a fetch.
    disk_cache_->Insert(locator.hash(), *block).IgnoreError();
    return block;
  });
}

void KeepClient::Prefetch(const manifest::Locator& locator) {
  if (locator.IsEmptyBlock() || cache_.ContainsOrPending(std::string(locator.hash().hex()))) {
    return;
  }
  prefetch_pool_->TrySubmit([this, locator] { Get(locator).status().IgnoreError(); }).IgnoreError();
}

Result<Block> KeepClient::Fetch(const manifest::Locator& locator) {
  const std::string name = locator.SizedDigest();
  CAIRN_ASSIGN_OR_RETURN(std::vector<KeepService> order, ReadOrder(locator));
  Status worst;
  std::string tried;
  for (const KeepService& service : order) {
    Result<Block> block = FetchFrom(service, locator);
    if (block.ok()) return block;
    if (!tried.empty()) tried += "; ";
    tried += std::string(block.status().message());
    if (worst.ok() || Severity(block.status().code()) > Severity(worst.code())) {
      worst = block.status();
    }
  }
  if (worst.ok()) return NotFoundError("read block " + name + ": no keep service to ask");
  return Status(
      worst.code(),
      "read block " + name + " (" + std::to_string(order.size()) + " services tried): " + tried,
      worst.detail());
}

Result<Block> KeepClient::FetchFrom(const KeepService& service, const manifest::Locator& locator) {
  const std::string base = service.BaseUrl();
  const std::string name = locator.SizedDigest();
  http::HttpRequest request;
  request.method = "GET";
  request.url = base + "/" + locator.ToString();
  request.url_for_messages = base + "/" + name;
  request.headers.emplace_back("Authorization", "Bearer " + options_.token);
  request.timeout = options_.request_timeout;
  const std::string what = service.uuid;
  const uint64_t size = locator.size();
  auto data = std::make_shared<std::string>();
  Status status = objstore::RunWithRetries(
      retry_policy_, env_, random_.get(),
      [&]() -> Status {
        data->clear();
        ReserveBlockBuffer(data.get(), size);
        Md5 md5;
        CAIRN_ASSIGN_OR_RETURN(
            http::HttpResponse response,
            http_->Send(request, http::ResponseBody::Stream([&](std::string_view piece) -> Status {
                          if (data->size() + piece.size() > size) {
                            return DataLossError(what + ": more bytes than the block's size");
                          }
                          data->append(piece);
                          block_bytes_.fetch_add(piece.size(), std::memory_order_relaxed);
                          // External ranges have derived hashes: no MD5 to compare with.
                          if (!locator.IsExternal()) md5.Update(piece);
                          return Status();
                        })));
        if (response.status_code != 200) {
          std::string body = response.body.substr(0, 200);
          while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
          Status s = http::HttpStatusToStatus(response.status_code, what);
          if (body.empty()) return s;
          return Status(s.code(), what + ": " + body, s.detail());
        }
        blocks_fetched_.fetch_add(1, std::memory_order_relaxed);
        if (data->size() != size) {
          // Keepstore withholds the last piece of a block that fails its hash (arvados-keep.md
          // §6.4), so a short body means a corrupt replica or a cut reply.
          return DataLossError(what + ": got " + std::to_string(data->size()) + " of " +
                               std::to_string(size) + " bytes");
        }
        // An external locator's hash is derived from its +B/+C hints, not the content's MD5: the
        // gateway pins the object's version or ETag instead.
        if (!locator.IsExternal() &&
            manifest::BlockHash::FromDigest(md5.Finish()) != locator.hash()) {
          return DataLossError(what + ": content does not match its hash");
        }
        return Status();
      },
      what);
  CAIRN_RETURN_IF_ERROR(status);
  return Block(std::move(data));
}

bool KeepClient::IsCached(const manifest::Locator& locator) const {
  return locator.IsEmptyBlock() || cache_.ContainsOrPending(std::string(locator.hash().hex()));
}

FetchStats KeepClient::fetch_stats() const {
  return FetchStats{.blocks = blocks_fetched_.load(std::memory_order_relaxed),
                    .block_bytes = block_bytes_.load(std::memory_order_relaxed),
                    .ranges = ranges_fetched_.load(std::memory_order_relaxed),
                    .range_bytes = range_bytes_.load(std::memory_order_relaxed)};
}

Result<std::string> KeepClient::GetRange(const manifest::Locator& locator, uint64_t offset,
                                         uint64_t length) {
  const std::string name = locator.SizedDigest();
  if (!locator.IsExternal()) {
    return InvalidArgumentError("read part of block " + name +
                                ": only external-object blocks are read in parts");
  }
  if (offset > locator.size() || length > locator.size() - offset) {
    return InvalidArgumentError("read part of block " + name + ": bytes " + std::to_string(offset) +
                                "+" + std::to_string(length) + " are outside it");
  }
  if (length == 0) return std::string();
  CAIRN_ASSIGN_OR_RETURN(std::vector<KeepService> order, ReadOrder(locator));
  Status worst;
  std::string tried;
  for (const KeepService& service : order) {
    Result<std::string> part = FetchRangeFrom(service, locator, offset, length);
    if (part.ok()) return part;
    if (!tried.empty()) tried += "; ";
    tried += std::string(part.status().message());
    if (worst.ok() || Severity(part.status().code()) > Severity(worst.code())) {
      worst = part.status();
    }
  }
  if (worst.ok()) return NotFoundError("read part of block " + name + ": no keep service to ask");
  return Status(worst.code(),
                "read bytes " + std::to_string(offset) + "+" + std::to_string(length) +
                    " of block " + name + " (" + std::to_string(order.size()) +
                    " services tried): " + tried,
                worst.detail());
}

Result<std::string> KeepClient::FetchRangeFrom(const KeepService& service,
                                               const manifest::Locator& locator, uint64_t offset,
                                               uint64_t length) {
  const std::string base = service.BaseUrl();
  const uint64_t size = locator.size();
  const uint64_t last = offset + length - 1;
  http::HttpRequest request;
  request.method = "GET";
  request.url = base + "/" + locator.ToString();
  request.url_for_messages = base + "/" + locator.SizedDigest();
  request.headers.emplace_back("Authorization", "Bearer " + options_.token);
  request.headers.emplace_back("Range",
                               "bytes=" + std::to_string(offset) + "-" + std::to_string(last));
  request.timeout = options_.request_timeout;
  const std::string what = service.uuid;
  const std::string content_range =
      "bytes " + std::to_string(offset) + "-" + std::to_string(last) + "/" + std::to_string(size);
  std::string data;
  Status status = objstore::RunWithRetries(
      retry_policy_, env_, random_.get(),
      [&]() -> Status {
        data.clear();
        data.reserve(length);
        uint64_t received = 0;  // body bytes so far
        bool whole = false;     // a 200 reply: the whole chunk, of which the range is kept
        CAIRN_ASSIGN_OR_RETURN(
            http::HttpResponse response,
            http_->Send(request,
                        http::ResponseBody::Stream(
                            [&](std::string_view piece) -> Status {
                              range_bytes_.fetch_add(piece.size(), std::memory_order_relaxed);
                              const uint64_t limit = whole ? size : length;
                              if (received + piece.size() > limit) {
                                return DataLossError(what + ": more bytes than the range");
                              }
                              if (!whole) {
                                data.append(piece);
                              } else if (received + piece.size() > offset && received <= last) {
                                const uint64_t from = offset > received ? offset - received : 0;
                                const uint64_t to =
                                    std::min<uint64_t>(piece.size(), last + 1 - received);
                                data.append(piece.substr(from, to - from));
                              }
                              received += piece.size();
                              return Status();
                            },
                            [&](const http::HttpResponse& head) -> Status {
                              whole = head.status_code == 200;
                              // Checked before any byte is taken: a reply of another range is cut.
                              std::string_view got = head.headers.Get("Content-Range").value_or("");
                              if (head.status_code == 206 && got != content_range) {
                                return DataLossError(what + ": the reply is another range (" +
                                                     std::string(got.substr(0, 80)) + ")");
                              }
                              return Status();
                            })));
        if (response.status_code != 206 && response.status_code != 200) {
          std::string body = response.body.substr(0, 200);
          while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
          Status s = http::HttpStatusToStatus(response.status_code, what);
          if (body.empty()) return s;
          return Status(s.code(), what + ": " + body, s.detail());
        }
        ranges_fetched_.fetch_add(1, std::memory_order_relaxed);
        const uint64_t expected = response.status_code == 200 ? size : length;
        if (received != expected || data.size() != length) {
          return DataLossError(what + ": got " + std::to_string(received) + " of " +
                               std::to_string(expected) + " bytes");
        }
        return Status();
      },
      what);
  CAIRN_RETURN_IF_ERROR(status);
  return data;
}

}  // namespace cairn::client
