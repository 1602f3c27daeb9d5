// The ObjectStore conformance suite (src/cairn/objstore/object_store_conformance_test.cc) on real
// servers: S3 on Ceph RGW, Swift on Ceph RGW (one port, both APIs), and Swift on OpenStack Swift
// all-in-one, each started by scripts/object-store.
//
// Endpoints come from the environment scripts/integration-test.sh sets up:
//   RGW:       AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION and
//              ST_AUTH, ST_USER, ST_KEY (RGW's /auth/v1.0)
//   Swift AIO: CAIRN_IT_SWIFT_AUTH, CAIRN_IT_SWIFT_USER, CAIRN_IT_SWIFT_KEY
// A missing endpoint fails the tests of that store: they never skip.
//
// Swift large objects are written with 100 KiB segments (small SLOs); on Swift the re-auth test
// revokes the token 4 times under 16 concurrent requests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/object_store_conformance.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/objstore/s3/s3_object_store.h"
#include "cairn/objstore/s3/settings.h"
#include "cairn/objstore/seekable_reader.h"
#include "cairn/objstore/swift/client.h"
#include "cairn/objstore/swift/swift_object_store.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

struct S3Owner {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<s3::S3Client> client;
  std::unique_ptr<s3::S3ObjectStore> store;
};

Result<ConformanceStore> OpenS3() {
  s3::S3SettingsInput input;
  for (const char* name : {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                           "AWS_DEFAULT_REGION", "AWS_REGION"}) {
    if (!Env(name).empty()) input.environment[name] = Env(name);
  }
  if (Env("AWS_ENDPOINT_URL").empty()) {
    return FailedPreconditionError("no S3 server: run through scripts/integration-test.sh");
  }
  auto owner = std::make_shared<S3Owner>();
  CAIRN_ASSIGN_OR_RETURN(s3::S3Settings settings, s3::ResolveS3Settings(input));
  CAIRN_ASSIGN_OR_RETURN(owner->http, http::CurlHttpClient::Create({}));
  CAIRN_ASSIGN_OR_RETURN(owner->client,
                         s3::S3Client::Create(settings, owner->http.get(), io::Env::Default()));
  owner->store = std::make_unique<s3::S3ObjectStore>(owner->client.get());
  ConformanceStore target;
  target.store = owner->store.get();
  target.owner = owner;
  target.part_size = 5 << 20;  // S3's minimum part
  return target;
}

struct SwiftOwner {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<swift::SwiftClient> client;
  std::unique_ptr<swift::SwiftObjectStore> store;
};

// Swift on the server named by these variables (ST_* for RGW, CAIRN_IT_SWIFT_* for the AIO).
Result<ConformanceStore> OpenSwift(const char* auth_var, const char* user_var,
                                   const char* key_var) {
  if (Env(auth_var).empty()) {
    return FailedPreconditionError(std::string("no Swift server: ") + auth_var +
                                   " is not set; run through scripts/integration-test.sh");
  }
  swift::SwiftEnvironment env = {
      {"ST_AUTH", Env(auth_var)}, {"ST_USER", Env(user_var)}, {"ST_KEY", Env(key_var)}};
  CAIRN_ASSIGN_OR_RETURN(swift::SwiftSettings settings, swift::ResolveSwiftSettings(env));
  auto owner = std::make_shared<SwiftOwner>();
  CAIRN_ASSIGN_OR_RETURN(owner->http, http::CurlHttpClient::Create({}));
  CAIRN_ASSIGN_OR_RETURN(
      owner->client, swift::SwiftClient::Create(settings, owner->http.get(), io::Env::Default()));
  constexpr uint64_t kSegment = 100 << 10;  // small SLO segments
  owner->store = std::make_unique<swift::SwiftObjectStore>(
      owner->client.get(), swift::SwiftObjectStoreOptions{.min_part_size = kSegment});
  ConformanceStore target;
  target.store = owner->store.get();
  target.part_size = kSegment;
  swift::SwiftClient* client = owner->client.get();
  target.expire_credentials = [client] {
    // A token the server never issued: exactly what it answers an expired one with (401).
    Result<swift::TokenCache::Snapshot> current = client->tokens().Get();
    if (!current.ok()) return;
    swift::SwiftToken revoked = **current;
    revoked.token = "AUTH_tk_revoked_by_test";
    client->tokens().Replace(std::move(revoked));
  };
  target.authentications = [client] { return client->tokens().authentications(); };
  target.owner = owner;
  return target;
}

INSTANTIATE_TEST_SUITE_P(
    Stores, ObjectStoreConformanceTest,
    ::testing::Values(ConformanceTarget{"S3OnRgw", OpenS3},
                      ConformanceTarget{"SwiftOnRgw",
                                        [] { return OpenSwift("ST_AUTH", "ST_USER", "ST_KEY"); }},
                      ConformanceTarget{"SwiftOnSwiftAio",
                                        [] {
                                          return OpenSwift("CAIRN_IT_SWIFT_AUTH",
                                                           "CAIRN_IT_SWIFT_USER",
                                                           "CAIRN_IT_SWIFT_KEY");
                                        }}),
    [](const auto& p) { return p.param.name; });

// SeekableReader (objstore/seekable_reader.h) on every store above: the tail, random ranges,
// sequential reads and a vectored read of a plain and of a large object (S3 multipart, Swift SLO),
// all pinned to the opened ETag; an overwrite makes later fetches kFailedPrecondition.
TEST_P(ObjectStoreConformanceTest, SeekableReaderReadsRangesPinnedToTheOpenedObject) {
  const uint64_t part = target_.part_size;
  std::string data(3 * part + 12345, '\0');
  std::mt19937_64 rng(5);
  for (char& c : data) c = static_cast<char>(rng());
  ASSERT_OK(store().Put(container(), "plain", http::RequestBody::FromBytes(data), {}).status());
  ASSERT_OK_AND_ASSIGN(std::string id, store().BeginUpload(container(), "large", {}));
  std::vector<UploadedPart> parts;
  for (uint64_t off = 0, n = 1; off < data.size(); off += part, ++n) {
    std::string_view bytes = std::string_view(data).substr(off, part);
    ASSERT_OK_AND_ASSIGN(UploadedPart p,
                         store().PutPart(container(), "large", id, static_cast<int>(n),
                                         http::RequestBody::FromBytes(bytes), Md5Of(bytes)));
    parts.push_back(p);
  }
  ASSERT_OK(store().CompleteUpload(container(), "large", id, parts).status());

  for (const char* key : {"plain", "large"}) {
    SCOPED_TRACE(key);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SeekableReader> reader,
                         SeekableReader::Open(&store(), container(), key));
    ASSERT_EQ(reader->size(), data.size());
    std::string buf(64 << 10, '\0');
    ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(data.size() - buf.size(), buf));
    ASSERT_EQ(n, buf.size());
    EXPECT_TRUE(buf == data.substr(data.size() - buf.size()));
    for (int i = 0; i < 5; ++i) {
      const uint64_t at = rng() % (data.size() - 100000);
      std::string range(100000, '\0');
      ASSERT_OK_AND_ASSIGN(n, reader->ReadAt(at, range));
      EXPECT_TRUE(range == data.substr(at, range.size())) << at;
    }
    // Across a part boundary, in small sequential reads.
    ASSERT_OK(reader->Seek(part - 50000));
    std::string got;
    for (int i = 0; i < 10; ++i) {
      std::string piece(10000, '\0');
      ASSERT_OK_AND_ASSIGN(n, reader->Read(piece));
      got.append(piece, 0, n);
    }
    EXPECT_TRUE(got == data.substr(part - 50000, 100000));
    std::vector<ObjectRange> ranges = {{.offset = 10, .length = 1000},
                                       {.offset = 5000, .length = 1000},
                                       {.offset = data.size() - 10, .length = 10}};
    std::vector<std::string> outs = {std::string(1000, '\0'), std::string(1000, '\0'),
                                     std::string(10, '\0')};
    std::vector<std::span<char>> spans(outs.begin(), outs.end());
    ASSERT_OK(reader->ReadVectored(ranges, spans));
    for (size_t i = 0; i < ranges.size(); ++i) {
      EXPECT_TRUE(outs[i] == data.substr(ranges[i].offset, ranges[i].length)) << i;
    }
    EXPECT_LE(reader->stats().requests, 1u + 5u + 2u + 2u);
  }

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SeekableReader> reader,
                       SeekableReader::Open(&store(), container(), "plain"));
  std::string changed = data;
  changed[0] ^= 1;
  ASSERT_OK(store().Put(container(), "plain", http::RequestBody::FromBytes(changed), {}).status());
  std::string buf(1000, '\0');
  Result<size_t> n = reader->ReadAt(part, buf);
  EXPECT_THAT(n.status(), ::cairn::testing::StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(n.status().message().find("changed since it was opened"), std::string_view::npos);
}

}  // namespace
}  // namespace cairn::objstore

namespace cairn::objstore {
namespace {

// The swift CLI's side of the exchange on Swift AIO (scripts/integration-test.sh): it uploaded
// CAIRN_IT_SWIFT_DIR/from-swift.bin as an SLO of 100 KiB segments into CAIRN_IT_SWIFT_CONTAINER;
// Cairn reads it, and writes from-cairn.bin as an SLO for `swift download` to read back.
TEST(SwiftCliExchangeTest, LargeObjectsBothWays) {
  const std::string dir = Env("CAIRN_IT_SWIFT_DIR");
  const std::string container = Env("CAIRN_IT_SWIFT_CONTAINER");
  ASSERT_FALSE(dir.empty() || container.empty()) << "run through scripts/integration-test.sh";
  ASSERT_OK_AND_ASSIGN(
      ConformanceStore target,
      OpenSwift("CAIRN_IT_SWIFT_AUTH", "CAIRN_IT_SWIFT_USER", "CAIRN_IT_SWIFT_KEY"));
  ObjectStore& store = *target.store;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<io::FileContents> expected,
                       io::Env::Default()->ReadFile(dir + "/from-swift.bin"));
  ASSERT_OK_AND_ASSIGN(ObjectAttributes head, store.Head(container, "from-swift.bin"));
  EXPECT_TRUE(head.composite);
  std::string got;
  ASSERT_OK(store
                .Get(container, "from-swift.bin", {},
                     [&](std::string_view p) {
                       got.append(p);
                       return Status();
                     })
                .status());
  EXPECT_TRUE(got == expected->data());

  std::string data(1234567, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  ASSERT_OK_AND_ASSIGN(std::string id, store.BeginUpload(container, "from-cairn.bin", {}));
  std::vector<UploadedPart> parts;
  for (size_t off = 0, n = 1; off < data.size(); off += target.part_size, ++n) {
    std::string_view bytes = std::string_view(data).substr(off, target.part_size);
    ASSERT_OK_AND_ASSIGN(UploadedPart part,
                         store.PutPart(container, "from-cairn.bin", id, static_cast<int>(n),
                                       http::RequestBody::FromBytes(bytes), Md5Of(bytes)));
    parts.push_back(part);
  }
  ASSERT_OK(store.CompleteUpload(container, "from-cairn.bin", id, parts).status());
  ASSERT_OK(io::Env::Default()->WriteFileAtomically(dir + "/from-cairn.expected", data));
}

}  // namespace
}  // namespace cairn::objstore
