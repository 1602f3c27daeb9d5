// Test doubles of the Keep services, for the client's unit tests: FakeKeepstore (the block API
// of DESIGN.md §3) and FakeCatalog (the routes of docs/catalog-api.md the client uses). They are
// handlers for cairn::testing::HttpTestServer, written against its Exchange type as a template
// parameter so this header needs nothing from the testing module.
//
// Thread safety: Handle may run concurrently on the server's connection threads; the setters and
// accessors may be called from the test's thread at any time (one mutex per fake).
#ifndef CAIRN_CLIENT_FAKE_CLUSTER_INTERNAL_H_
#define CAIRN_CLIENT_FAKE_CLUSTER_INTERNAL_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cairn/client/catalog_client.h"
#include "cairn/client/json_internal.h"
#include "cairn/client/keep_client.h"
#include "cairn/common/hash.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/manifest/locator.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/pdh.h"
#include "cairn/manifest/rendezvous.h"
#include "cairn/manifest/signature.h"

namespace cairn::client::internal {

inline constexpr char kFakeSigningKey[] = "fake-blob-signing-key";
inline constexpr int64_t kFakeSigningTtl = 1209600;
inline constexpr int64_t kFakeNow = 1'800'000'000;  // signatures expire two weeks after this
inline constexpr char kFakeToken[] = "usertoken0123456789";

// "Bearer <token>" -> token.
inline std::string BearerToken(const std::string& header) {
  constexpr std::string_view kBearer = "Bearer ";
  return header.starts_with(kBearer) ? header.substr(kBearer.size()) : std::string();
}

class FakeKeepstore {
 public:
  struct Counts {
    int puts = 0;
    int gets = 0;
  };

  // Requests answered with `status` before normal service resumes (-1: forever).
  void FailNext(int status, int times) {
    std::lock_guard lock(mu_);
    fail_status_ = status;
    fail_times_ = times;
  }
  // Serve blocks with one byte flipped (corruption at rest; the fake sends the whole body).
  void SetCorrupt(bool corrupt) {
    std::lock_guard lock(mu_);
    corrupt_ = corrupt;
  }
  // Wait this long before answering (to test timeouts).
  void SetDelay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    delay_ = delay;
  }
  void SetReplicasStored(int n) {
    std::lock_guard lock(mu_);
    replicas_stored_ = n;
  }
  void Store(const std::string& hash, std::string data) {
    std::lock_guard lock(mu_);
    blocks_[hash] = std::move(data);
  }
  bool Has(const std::string& hash) const {
    std::lock_guard lock(mu_);
    return blocks_.contains(hash);
  }
  size_t block_count() const {
    std::lock_guard lock(mu_);
    return blocks_.size();
  }
  Counts counts() const {
    std::lock_guard lock(mu_);
    return counts_;
  }

  template <typename Exchange>
  void Handle(Exchange& ex) {
    const auto& req = ex.request();
    const std::string token = BearerToken(req.Header("Authorization").value_or(""));
    std::string path = req.target.substr(1);
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mu_);
      if (req.method == "PUT") ++counts_.puts;
      if (req.method == "GET") ++counts_.gets;
      delay = delay_;
      if (fail_times_ != 0) {
        if (fail_times_ > 0) --fail_times_;
        int status = fail_status_;
        ex.Respond(status, "injected failure\n");
        return;
      }
    }
    if (delay.count() > 0 && !ex.Pause(delay)) return;
    if (req.method == "PUT") {
      const std::string hash = Md5Hex(req.body);
      if (path.substr(0, 32) != hash) {
        ex.Respond(400, "content hash " + hash + " did not match specified locator\n");
        return;
      }
      int replicas;
      {
        std::lock_guard lock(mu_);
        blocks_[hash] = req.body;
        replicas = replicas_stored_;
      }
      manifest::Locator locator(*manifest::BlockHash::Parse(hash), req.body.size());
      locator = manifest::SignLocator(locator, kFakeSigningKey, token, kFakeNow + kFakeSigningTtl,
                                      kFakeSigningTtl);
      ex.Respond(200, locator.ToString() + "\n",
                 {{"X-Keep-Replicas-Stored", std::to_string(replicas)}});
      return;
    }
    if (req.method == "GET") {
      Result<manifest::Locator> locator = manifest::Locator::Parse(path);
      if (!locator.ok()) {
        ex.Respond(400, "bad locator\n");
        return;
      }
      Status sig =
          manifest::VerifySignature(*locator, kFakeSigningKey, token, kFakeSigningTtl, kFakeNow);
      if (!sig.ok()) {
        ex.Respond(sig.code() == StatusCode::kUnauthenticated ? 401 : 400,
                   std::string(sig.message()) + "\n");
        return;
      }
      std::string data;
      {
        std::lock_guard lock(mu_);
        auto it = blocks_.find(std::string(locator->hash().hex()));
        if (it == blocks_.end()) {
          ex.Respond(404, "Not Found\n");
          return;
        }
        data = it->second;
        if (corrupt_ && !data.empty()) data[data.size() / 2] ^= 0x01;
      }
      ex.Respond(200, data);
      return;
    }
    ex.Respond(400, "Bad Request\n");
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> blocks_;
  Counts counts_;
  int fail_status_ = 0;
  int fail_times_ = 0;
  bool corrupt_ = false;
  std::chrono::milliseconds delay_{0};
  int replicas_stored_ = 1;
};

class FakeCatalog {
 public:
  struct Service {
    std::string uuid;
    int port = 0;
    std::string type = "disk";
    bool read_only = false;
  };
  struct StoredCollection {
    std::string uuid;
    std::string pdh;
    std::string manifest_text;  // without +A hints
    std::string name;
    int64_t replication = 0;
  };

  explicit FakeCatalog(std::string token) : token_(std::move(token)) {}

  void SetServices(std::vector<Service> services) {
    std::lock_guard lock(mu_);
    services_ = std::move(services);
  }
  std::vector<StoredCollection> collections() const {
    std::lock_guard lock(mu_);
    std::vector<StoredCollection> out;
    for (const auto& [uuid, c] : collections_) out.push_back(c);
    return out;
  }
  int keep_service_lists() const { return service_lists_.load(); }
  std::vector<std::string> permission_requests() const {
    std::lock_guard lock(mu_);
    return permission_requests_;
  }

  template <typename Exchange>
  void Handle(Exchange& ex) {
    const auto& req = ex.request();
    if (req.target == "/v1/config") {
      ex.Respond(200, R"({"cluster_id":"cairn","blob_signature_ttl":1209600,)"
                      R"("max_block_size":67108864,"version":"test"})");
      return;
    }
    if (BearerToken(req.Header("Authorization").value_or("")) != token_) {
      ex.Respond(401, R"({"errors":["token is missing, unknown, expired or revoked"]})");
      return;
    }
    std::lock_guard lock(mu_);
    if (req.target == "/v1/keep_services") {
      ++service_lists_;
      Json items = Json::array();
      for (const Service& s : services_) {
        items.push_back({{"uuid", s.uuid},
                         {"service_host", "127.0.0.1"},
                         {"service_port", s.port},
                         {"service_ssl_flag", false},
                         {"service_type", s.type},
                         {"read_only", s.read_only}});
      }
      ex.Respond(200, Json{{"items", items}, {"items_available", items.size()}}.dump());
      return;
    }
    if (req.target == "/v1/users/current") {
      ex.Respond(200, R"({"uuid":"cairn-tpzed-000000000000001","username":"alice",)"
                      R"("is_admin":false,"created_at":"2026-01-01T00:00:00.000000Z"})");
      return;
    }
    if (req.target == "/v1/collections" && req.method == "POST") {
      Json body = Json::parse(req.body, nullptr, false);
      std::string text = body.value("manifest_text", "");
      Result<manifest::Manifest> parsed = manifest::Manifest::Parse(text);
      if (!parsed.ok()) {
        ex.Respond(422, Json{{"errors", {std::string(parsed.status().message())}}}.dump());
        return;
      }
      for (const manifest::Locator& locator : parsed->blocks()) {
        if (locator.IsEmptyBlock()) continue;
        if (!manifest::VerifySignature(locator, kFakeSigningKey, token_, kFakeSigningTtl, kFakeNow)
                 .ok()) {
          ex.Respond(
              403,
              Json{{"errors", {"no valid signature for block " + locator.SizedDigest()}}}.dump());
          return;
        }
      }
      manifest::Manifest stripped = *parsed;
      std::string normalized = stripped.ToText();
      // Store without +A: re-parse the text with the hints cut.
      std::string unsigned_text = manifest::PortableManifestText(normalized);
      StoredCollection c{
          .uuid = "cairn-4zz18-" + std::string(14, '0') + std::to_string(collections_.size() + 1),
          .pdh = manifest::PortableDataHash(unsigned_text),
          .manifest_text = unsigned_text,
          .name = body.value("name", ""),
          .replication = body.value("replication_desired", 0)};
      collections_[c.uuid] = c;
      ex.Respond(200, CollectionJson(c, /*with_manifest=*/true));
      return;
    }
    if (req.target.starts_with("/v1/collections?")) {
      Json items = Json::array();
      for (const auto& [uuid, c] : collections_) {
        items.push_back(Json::parse(CollectionJson(c, /*with_manifest=*/false)));
      }
      ex.Respond(200, Json{{"items", items}, {"items_available", items.size()}}.dump());
      return;
    }
    if (req.target.starts_with("/v1/collections/") && req.method == "GET") {
      std::string id = req.target.substr(std::string("/v1/collections/").size());
      if (size_t p = id.find("%2B"); p != std::string::npos) id.replace(p, 3, "+");
      for (const auto& [uuid, c] : collections_) {
        if (c.uuid == id || c.pdh == id) {
          ex.Respond(200, CollectionJson(c, /*with_manifest=*/true));
          return;
        }
      }
      ex.Respond(404, Json{{"errors", {"collection " + id + ": not found"}}}.dump());
      return;
    }
    if (req.target == "/v1/permissions" && req.method == "POST") {
      permission_requests_.push_back(req.body);
      Json body = Json::parse(req.body, nullptr, false);
      ex.Respond(200, Json{{"uuid", "cairn-o0j2j-000000000000001"},
                           {"target_uuid", body.value("target_uuid", "")},
                           {"user_uuid", "cairn-tpzed-000000000000002"},
                           {"level", body.value("level", "")},
                           {"created_at", "2026-01-01T00:00:00.000000Z"}}
                          .dump());
      return;
    }
    ex.Respond(404, R"({"errors":["no such route"]})");
  }

 private:
  // REQUIRES: mu_ held. The manifest gets signatures for the caller's token, as the catalog's.
  std::string CollectionJson(const StoredCollection& c, bool with_manifest) const {
    Json j = {{"uuid", c.uuid},
              {"portable_data_hash", c.pdh},
              {"name", c.name},
              {"version", 1},
              {"replication_desired", c.replication},
              {"owner_uuid", "cairn-tpzed-000000000000001"},
              {"modified_at", "2026-01-01T00:00:00.000000Z"}};
    if (with_manifest) {
      manifest::Manifest m = *manifest::Manifest::Parse(c.manifest_text);
      // Sign every block of the text in place (the stored text is normalized already).
      std::string out;
      size_t pos = 0;
      const std::string& t = c.manifest_text;
      while (pos < t.size()) {
        size_t end = t.find_first_of(" \n", pos);
        std::string token = t.substr(pos, end - pos);
        if (manifest::Locator::LooksLikeLocator(token) && pos != 0 && t[pos - 1] == ' ') {
          Result<manifest::Locator> l = manifest::Locator::Parse(token);
          if (l.ok() && !l->IsEmptyBlock()) {
            token = manifest::SignLocator(*l, kFakeSigningKey, token_, kFakeNow + kFakeSigningTtl,
                                          kFakeSigningTtl)
                        .ToString();
          }
        }
        out += token;
        if (end == std::string::npos) break;
        out += t[end];
        pos = end + 1;
      }
      j["manifest_text"] = out;
      j["file_count"] = m.file_count();
      j["file_size_total"] = m.total_file_size();
    }
    return j.dump();
  }

  const std::string token_;
  mutable std::mutex mu_;
  std::vector<Service> services_;
  std::map<std::string, StoredCollection> collections_;
  std::vector<std::string> permission_requests_;
  std::atomic<int> service_lists_{0};
};

// A port on which nothing listens: connections to it are refused.
inline int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A catalog and `n` keepstores on loopback (Server: testing::HttpTestServer), and a KeepClient
// on them whose clock and sleeps are TestEnv's (testing::FakeEnv).
template <typename Server, typename TestEnv>
class FakeCluster {
 public:
  explicit FakeCluster(int n, KeepClientOptions options = {}) : catalog_(kFakeToken) {
    std::vector<FakeCatalog::Service> services;
    for (int i = 0; i < n; ++i) {
      stores_.push_back(std::make_unique<FakeKeepstore>());
      FakeKeepstore* store = stores_.back().get();
      servers_.push_back(
          std::move(*Server::Start([store](typename Server::Exchange& ex) { store->Handle(ex); })));
      uuids_.push_back("cairn-bi6l4-" + std::string(14, '0') + std::to_string(i));
      services.push_back({.uuid = uuids_.back(), .port = servers_.back()->port()});
    }
    catalog_.SetServices(services);
    catalog_server_ =
        std::move(*Server::Start([this](typename Server::Exchange& ex) { catalog_.Handle(ex); }));
    http_ = std::move(*http::CurlHttpClient::Create({.connect_timeout = std::chrono::seconds(2)}));
    catalog_client_ = std::make_unique<CatalogClient>(
        http_.get(), &env_,
        CatalogClientOptions{.base_url = catalog_server_->Url(""), .token = kFakeToken});
    options.token = kFakeToken;
    keep_ = std::move(*KeepClient::Create(http_.get(), catalog_client_.get(), &env_, options));
  }

  KeepClient& keep() { return *keep_; }
  CatalogClient& catalog_client() { return *catalog_client_; }
  TestEnv& env() { return env_; }
  FakeCatalog& catalog() { return catalog_; }
  FakeKeepstore& store(size_t i) { return *stores_[i]; }
  const std::string& uuid(size_t i) const { return uuids_[i]; }
  int port(size_t i) const { return servers_[i]->port(); }
  // Store indexes in rendezvous order for `data`'s hash.
  std::vector<size_t> Order(std::string_view data) const {
    return manifest::RendezvousOrder(Md5Hex(data), uuids_);
  }
  // Points service i at a port where nothing listens.
  void Unplug(size_t i) {
    std::vector<FakeCatalog::Service> services;
    for (size_t j = 0; j < uuids_.size(); ++j) {
      services.push_back({.uuid = uuids_[j], .port = j == i ? UnusedPort() : servers_[j]->port()});
    }
    catalog_.SetServices(services);
  }

 private:
  TestEnv env_{kFakeNow * 1'000'000};
  FakeCatalog catalog_;
  std::vector<std::unique_ptr<FakeKeepstore>> stores_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::vector<std::string> uuids_;
  std::unique_ptr<Server> catalog_server_;
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<CatalogClient> catalog_client_;
  std::unique_ptr<KeepClient> keep_;
};

}  // namespace cairn::client::internal

#endif  // CAIRN_CLIENT_FAKE_CLUSTER_INTERNAL_H_
