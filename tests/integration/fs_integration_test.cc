// The FileSystem conformance suite (src/cairn/objstore/fs/fs_conformance_test.cc) on real
// servers: ObjectFileSystem over S3 on Ceph RGW, Swift on Ceph RGW and Swift on OpenStack Swift
// all-in-one, in the environment scripts/integration-test.sh sets up (the same variables as
// object_store_integration_test.cc):
//   RGW:       AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION and
//              ST_AUTH, ST_USER, ST_KEY
//   Swift AIO: CAIRN_IT_SWIFT_AUTH, CAIRN_IT_SWIFT_USER, CAIRN_IT_SWIFT_KEY
// A missing endpoint fails the tests of that store: they never skip. Each test gets a fresh
// container (and removes it, with its "_segments" container, afterwards). Large files use S3's
// 5 MiB minimum part on S3 and 100 KiB SLO segments on Swift.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/fs/fs_conformance.h"
#include "cairn/objstore/fs/object_file_system.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/objstore/s3/s3_object_store.h"
#include "cairn/objstore/s3/settings.h"
#include "cairn/objstore/swift/client.h"
#include "cairn/objstore/swift/swift_object_store.h"

namespace cairn::objstore::fs {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::atomic<int> counter{0};

std::string FreshContainer() {
  return "cairn-fs-" + std::to_string(io::Env::Default()->NowUnixMicros() % 1000000000) + "-" +
         std::to_string(counter.fetch_add(1));
}

// Everything under a container, then the container (best effort).
void RemoveContainer(ObjectStore& store, const std::string& container) {
  ListOptions options;
  for (int pages = 0; pages < 1000; ++pages) {
    Result<ListPage> page = store.List(container, options);
    if (!page.ok()) return;
    for (const ListedObject& o : page->objects) store.Delete(container, o.key).IgnoreError();
    if (page->next_marker.empty()) break;
    options.marker = page->next_marker;
  }
  store.DeleteContainer(container).IgnoreError();
}

struct Owner {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<s3::S3Client> s3_client;
  std::unique_ptr<swift::SwiftClient> swift_client;
  std::unique_ptr<ObjectStore> store;
  std::unique_ptr<ObjectFileSystem> fs;
};

Result<FsUnderTest> Finish(std::shared_ptr<Owner> owner, uint64_t part_size) {
  const std::string container = FreshContainer();
  CAIRN_RETURN_IF_ERROR(owner->store->CreateContainer(container));
  CAIRN_ASSIGN_OR_RETURN(owner->fs, ObjectFileSystem::Create(owner->store.get(), container));
  FsUnderTest target;
  target.fs = owner->fs.get();
  ObjectStore* store = owner->store.get();
  target.read = [store, container](std::string_view path) -> Result<std::string> {
    std::string out;
    CAIRN_RETURN_IF_ERROR(store
                              ->Get(container, path, {},
                                    [&](std::string_view piece) {
                                      out.append(piece);
                                      return Status();
                                    })
                              .status());
    return out;
  };
  target.part_size = part_size;
  target.cleanup = [store, container] {
    RemoveContainer(*store, container);
    RemoveContainer(*store, container + "_segments");
  };
  target.owner = owner;
  return target;
}

Result<FsUnderTest> OpenS3() {
  if (Env("AWS_ENDPOINT_URL").empty()) {
    return FailedPreconditionError("no S3 server: run through scripts/integration-test.sh");
  }
  s3::S3SettingsInput input;
  for (const char* name : {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                           "AWS_DEFAULT_REGION", "AWS_REGION"}) {
    if (!Env(name).empty()) input.environment[name] = Env(name);
  }
  CAIRN_ASSIGN_OR_RETURN(s3::S3Settings settings, s3::ResolveS3Settings(input));
  auto owner = std::make_shared<Owner>();
  http::CurlHttpClientOptions http_options;
  http_options.max_connections_per_endpoint = 20;
  CAIRN_ASSIGN_OR_RETURN(owner->http, http::CurlHttpClient::Create(http_options));
  CAIRN_ASSIGN_OR_RETURN(owner->s3_client,
                         s3::S3Client::Create(settings, owner->http.get(), io::Env::Default()));
  owner->store = std::make_unique<s3::S3ObjectStore>(owner->s3_client.get());
  return Finish(owner, 5 << 20);  // S3's minimum part
}

Result<FsUnderTest> OpenSwift(const char* auth_var, const char* user_var, const char* key_var) {
  if (Env(auth_var).empty()) {
    return FailedPreconditionError(std::string("no Swift server: ") + auth_var +
                                   " is not set; run through scripts/integration-test.sh");
  }
  swift::SwiftEnvironment env = {
      {"ST_AUTH", Env(auth_var)}, {"ST_USER", Env(user_var)}, {"ST_KEY", Env(key_var)}};
  CAIRN_ASSIGN_OR_RETURN(swift::SwiftSettings settings, swift::ResolveSwiftSettings(env));
  auto owner = std::make_shared<Owner>();
  http::CurlHttpClientOptions http_options;
  http_options.max_connections_per_endpoint = 20;
  CAIRN_ASSIGN_OR_RETURN(owner->http, http::CurlHttpClient::Create(http_options));
  CAIRN_ASSIGN_OR_RETURN(owner->swift_client, swift::SwiftClient::Create(
                                                  settings, owner->http.get(), io::Env::Default()));
  constexpr uint64_t kSegment = 100 << 10;  // small SLO segments
  owner->store = std::make_unique<swift::SwiftObjectStore>(
      owner->swift_client.get(), swift::SwiftObjectStoreOptions{.min_part_size = kSegment});
  return Finish(owner, kSegment);
}

INSTANTIATE_TEST_SUITE_P(
    Stores, FileSystemConformanceTest,
    ::testing::Values(FsTarget{"S3OnRgw", OpenS3},
                      FsTarget{"SwiftOnRgw",
                               [] { return OpenSwift("ST_AUTH", "ST_USER", "ST_KEY"); }},
                      FsTarget{"SwiftOnSwiftAio",
                               [] {
                                 return OpenSwift("CAIRN_IT_SWIFT_AUTH", "CAIRN_IT_SWIFT_USER",
                                                  "CAIRN_IT_SWIFT_KEY");
                               }}),
    [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace cairn::objstore::fs
