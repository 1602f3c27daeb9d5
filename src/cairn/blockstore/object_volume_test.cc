// ObjectVolume on MemObjectStore, and one PUT/GET through KeepstoreService with an ObjectVolume.
#include "cairn/blockstore/object_volume.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cairn/blockstore/blockstore_test_util.h"
#include "cairn/blockstore/keepstore_service.h"
#include "cairn/objstore/mem_object_store.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::blockstore {
namespace {

using ::cairn::testing::StatusIs;
using manifest::BlockHash;
using objstore::MemObjectStore;
using ::testing::HasSubstr;

constexpr char kBucket[] = "keep";
constexpr int64_t kStart = 1'700'000'000;

// Counts the requests that reach a MemObjectStore (the rest is forwarded as is).
class CountingStore final : public objstore::ObjectStore {
 public:
  explicit CountingStore(objstore::ObjectStore* base) : base_(base) {}
  std::string Uri(std::string_view c, std::string_view k) const override {
    return base_->Uri(c, k);
  }
  objstore::StoreLimits limits() const override { return base_->limits(); }
  Status CreateContainer(std::string_view c) override { return base_->CreateContainer(c); }
  Status DeleteContainer(std::string_view c) override { return base_->DeleteContainer(c); }
  Result<std::vector<std::string>> ListContainers() override { return base_->ListContainers(); }
  Result<objstore::ObjectAttributes> Head(std::string_view c, std::string_view k) override {
    return base_->Head(c, k);
  }
  Result<objstore::ObjectAttributes> Get(std::string_view c, std::string_view k,
                                         const objstore::ReadOptions& options,
                                         const http::BodySink& sink) override {
    ++gets;
    return base_->Get(c, k, options, sink);
  }
  Result<objstore::WriteResult> Put(std::string_view c, std::string_view k,
                                    const http::RequestBody& body,
                                    const objstore::WriteOptions& options) override {
    ++puts;
    put_bytes += static_cast<uint64_t>(body.length());
    return base_->Put(c, k, body, options);
  }
  Status Delete(std::string_view c, std::string_view k) override { return base_->Delete(c, k); }
  Result<std::vector<objstore::DeleteFailure>> DeleteMany(
      std::string_view c, std::span<const std::string> keys) override {
    return base_->DeleteMany(c, keys);
  }
  Result<objstore::ListPage> List(std::string_view c,
                                  const objstore::ListOptions& options) override {
    ++lists;
    return base_->List(c, options);
  }
  Result<objstore::WriteResult> Copy(std::string_view sc, std::string_view sk, std::string_view c,
                                     std::string_view k) override {
    return base_->Copy(sc, sk, c, k);
  }
  Result<objstore::WriteResult> Rename(std::string_view sc, std::string_view sk, std::string_view c,
                                       std::string_view k) override {
    return base_->Rename(sc, sk, c, k);
  }
  Result<std::string> BeginUpload(std::string_view c, std::string_view k,
                                  const objstore::WriteOptions& options) override {
    return base_->BeginUpload(c, k, options);
  }
  Result<objstore::UploadedPart> PutPart(std::string_view c, std::string_view k,
                                         std::string_view id, int n, const http::RequestBody& body,
                                         std::optional<Md5Digest> md5) override {
    return base_->PutPart(c, k, id, n, body, md5);
  }
  Result<objstore::WriteResult> CompleteUpload(
      std::string_view c, std::string_view k, std::string_view id,
      std::span<const objstore::UploadedPart> parts) override {
    return base_->CompleteUpload(c, k, id, parts);
  }
  Status AbortUpload(std::string_view c, std::string_view k, std::string_view id) override {
    return base_->AbortUpload(c, k, id);
  }

  std::atomic<int> puts{0};
  std::atomic<int> gets{0};
  std::atomic<int> lists{0};
  std::atomic<uint64_t> put_bytes{0};

 private:
  objstore::ObjectStore* const base_;
};

class ObjectVolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mem_ = std::make_shared<MemObjectStore>(objstore::StoreLimits{}, &env_);
    ASSERT_OK(mem_->CreateContainer(kBucket));
    counting_ = std::make_shared<CountingStore>(mem_.get());
    volume_ = OpenVolume("blocks");
  }

  std::unique_ptr<ObjectVolume> OpenVolume(std::string prefix, size_t chunk = 8 << 20,
                                           int page_keys = 1000) {
    ObjectVolumeOptions o;
    o.list_page_keys = page_keys;
    o.store = counting_;
    o.container = kBucket;
    o.prefix = std::move(prefix);
    o.read_chunk_bytes = chunk;
    o.env = &env_;
    Result<std::unique_ptr<ObjectVolume>> v = ObjectVolume::Open(std::move(o));
    EXPECT_OK(v);
    return v.ok() ? std::move(v).value() : nullptr;
  }

  static Result<BlockInfo> Write(Volume& v, std::string_view data, size_t piece = 1000) {
    CAIRN_ASSIGN_OR_RETURN(auto w, v.NewWriter(BlockHash::Of(data)));
    for (size_t i = 0; i < data.size(); i += piece) {
      CAIRN_RETURN_IF_ERROR(w->Append(data.substr(i, piece)));
    }
    return w->Commit();
  }

  static Result<std::string> ReadAll(Volume& v, const BlockHash& hash, size_t piece = 4096) {
    CAIRN_ASSIGN_OR_RETURN(auto r, v.Open(hash));
    std::string out;
    std::vector<char> buf(piece);
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(size_t n, r->ReadAt(out.size(), buf));
      if (n == 0) break;
      out.append(buf.data(), n);
    }
    return out;
  }

  std::string Object(const std::string& key) {
    std::string out;
    EXPECT_OK(mem_->Get(kBucket, key, {}, [&](std::string_view p) {
      out.append(p);
      return Status::OK();
    }));
    return out;
  }

  std::vector<std::string> Keys() {
    Result<objstore::ListPage> page = mem_->List(kBucket, {});
    EXPECT_OK(page);
    std::vector<std::string> keys;
    for (const auto& o : page->objects) keys.push_back(o.key);
    return keys;
  }

  testing::FakeEnv env_{kStart * 1'000'000};
  std::shared_ptr<MemObjectStore> mem_;
  std::shared_ptr<CountingStore> counting_;
  std::unique_ptr<ObjectVolume> volume_;
};

TEST_F(ObjectVolumeTest, RoundTripStoresOneObjectNamedByHash) {
  std::string data = PatternBytes(300'000);
  BlockHash hash = BlockHash::Of(data);
  ASSERT_OK_AND_ASSIGN(BlockInfo info, Write(*volume_, data));
  EXPECT_EQ(info.size, data.size());
  EXPECT_EQ(info.mtime_nanos, kStart * 1'000'000'000);
  std::string key =
      "blocks/" + std::string(hash.hex().substr(0, 3)) + "/" + std::string(hash.hex());
  EXPECT_EQ(volume_->BlockKey(hash), key);
  EXPECT_THAT(Keys(), ::testing::ElementsAre(key));
  EXPECT_EQ(Object(key), data);
  EXPECT_EQ(counting_->puts.load(), 1);
  ASSERT_OK_AND_ASSIGN(std::string back, ReadAll(*volume_, hash));
  EXPECT_EQ(back, data);
  ASSERT_OK_AND_ASSIGN(BlockInfo stat, volume_->Stat(hash));
  EXPECT_EQ(stat.size, data.size());
  EXPECT_EQ(stat.mtime_nanos, kStart * 1'000'000'000);
}

TEST_F(ObjectVolumeTest, WrongContentIsRefusedWithNothingStored) {
  auto w = volume_->NewWriter(BlockHash::Of("the real bytes"));
  ASSERT_OK(w);
  ASSERT_OK((*w)->Append("other bytes"));
  EXPECT_THAT((*w)->Commit(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not match")));
  EXPECT_TRUE(Keys().empty());
  EXPECT_EQ(counting_->puts.load(), 0);
  EXPECT_THAT(volume_->Stat(BlockHash::Of("the real bytes")), StatusIs(StatusCode::kNotFound));
}

TEST_F(ObjectVolumeTest, BlockLargerThan64MiBIsRefused) {
  auto w = volume_->NewWriter(BlockHash::Of("x"));
  ASSERT_OK(w);
  std::string mib(1 << 20, 'x');
  Status s;
  for (int i = 0; i < 65 && s.ok(); ++i) s = (*w)->Append(mib);
  EXPECT_THAT(s, StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT((*w)->Commit(), StatusIs(StatusCode::kOutOfRange));
  EXPECT_TRUE(Keys().empty());
}

TEST_F(ObjectVolumeTest, ExistingBlockIsNotUploadedAgainButItsTimeIsRefreshed) {
  std::string data = PatternBytes(100'000, 7);
  BlockHash hash = BlockHash::Of(data);
  ASSERT_OK(Write(*volume_, data));
  ASSERT_EQ(counting_->put_bytes.load(), data.size());
  env_.AdvanceMicros(int64_t{3600} * 1'000'000);
  ASSERT_OK_AND_ASSIGN(BlockInfo info, Write(*volume_, data));
  EXPECT_EQ(info.size, data.size());
  EXPECT_EQ(counting_->put_bytes.load(), data.size());  // only the empty marker was sent
  EXPECT_EQ(counting_->puts.load(), 2);
  EXPECT_EQ(Object(volume_->MarkerKey(hash)), "");
  int64_t later = (kStart + 3600) * 1'000'000'000;
  EXPECT_EQ(info.mtime_nanos, later);
  ASSERT_OK_AND_ASSIGN(BlockInfo stat, volume_->Stat(hash));
  EXPECT_EQ(stat.mtime_nanos, later);
  std::vector<IndexEntry> entries;
  ASSERT_OK(volume_->Index("", [&](const IndexEntry& e) {
    entries.push_back(e);
    return Status::OK();
  }));
  ASSERT_EQ(entries.size(), 1u);  // the marker is not a block
  EXPECT_EQ(entries[0].info.mtime_nanos, later);
  // A second write with wrong bytes is still refused and changes nothing.
  auto w = volume_->NewWriter(hash);
  ASSERT_OK(w);
  ASSERT_OK((*w)->Append("nope"));
  EXPECT_THAT((*w)->Commit(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(counting_->puts.load(), 2);
}

TEST_F(ObjectVolumeTest, ObjectWithOtherBytesIsOverwrittenByTheGoodBlock) {
  std::string data = PatternBytes(5000);
  BlockHash hash = BlockHash::Of(data);
  ASSERT_OK(mem_->Put(kBucket, volume_->BlockKey(hash), http::RequestBody::FromBytes("junk"), {}));
  ASSERT_OK(Write(*volume_, data));
  EXPECT_EQ(Object(volume_->BlockKey(hash)), data);
}

TEST_F(ObjectVolumeTest, RangesReadInChunksOfTheConfiguredSize) {
  auto volume = OpenVolume("", /*chunk=*/64 * 1024);
  std::string data = PatternBytes(1'000'000, 3);
  BlockHash hash = BlockHash::Of(data);
  ASSERT_OK(Write(*volume, data));
  EXPECT_EQ(Keys()[0], std::string(hash.hex().substr(0, 3)) + "/" + std::string(hash.hex()));
  ASSERT_OK_AND_ASSIGN(auto reader, volume->Open(hash));
  EXPECT_EQ(reader->info().size, data.size());
  std::vector<char> buf(1000);
  for (uint64_t offset : {uint64_t{0}, uint64_t{65'000}, uint64_t{999'500}, uint64_t{123'456}}) {
    ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(offset, buf));
    // A read returns what the chunk holding `offset` has, up to the buffer's size.
    ASSERT_GT(n, 0u);
    ASSERT_LE(n, buf.size());
    EXPECT_EQ(std::string(buf.data(), n), data.substr(offset, n)) << offset;
  }
  ASSERT_OK_AND_ASSIGN(size_t end, reader->ReadAt(data.size(), buf));
  EXPECT_EQ(end, 0u);
  int gets = counting_->gets.load();
  ASSERT_OK_AND_ASSIGN(std::string all, ReadAll(*volume, hash, 1 << 20));
  EXPECT_EQ(all, data);
  EXPECT_EQ(counting_->gets.load() - gets, 16);  // ceil(1,000,000 / 65,536) ranged GETs
}

TEST_F(ObjectVolumeTest, ObjectChangedUnderneathIsAnErrorNotBytes) {
  std::string data = PatternBytes(200'000);
  BlockHash hash = BlockHash::Of(data);
  ASSERT_OK(Write(*volume_, data));
  auto small = OpenVolume("blocks", /*chunk=*/50'000);
  ASSERT_OK_AND_ASSIGN(auto reader, small->Open(hash));
  std::vector<char> buf(50'000);
  ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(0, buf));
  EXPECT_EQ(std::string(buf.data(), n), data.substr(0, n));
  // Replaced after Open: the next ranged GET is pinned to the old ETag.
  std::string other = PatternBytes(200'000, 1);
  ASSERT_OK(mem_->Put(kBucket, volume_->BlockKey(hash), http::RequestBody::FromBytes(other), {}));
  EXPECT_THAT(reader->ReadAt(100'000, buf),
              StatusIs(StatusCode::kDataLoss, HasSubstr("changed after it was opened")));
  // Replaced before Open: its ETag is not the name.
  EXPECT_THAT(volume_->Open(hash), StatusIs(StatusCode::kDataLoss, HasSubstr("was changed")));
}

TEST_F(ObjectVolumeTest, IndexByPrefixWithBoundedPages) {
  std::map<std::string, uint64_t> want;
  for (int i = 0; i < 40; ++i) {
    std::string data = PatternBytes(100 + i, i);
    ASSERT_OK(Write(*volume_, data));
    want[std::string(BlockHash::Of(data).hex())] = data.size();
  }
  // Not blocks: ignored.
  ASSERT_OK(mem_->Put(kBucket, "blocks/README", http::RequestBody::FromBytes("x"), {}));
  ASSERT_OK(mem_->Put(kBucket, "other/abc/x", http::RequestBody::FromBytes("x"), {}));
  for (const std::string& prefix :
       std::vector<std::string>{"", "a", "7f", "3c1", "0123", want.begin()->first}) {
    std::map<std::string, uint64_t> got;
    ASSERT_OK(volume_->Index(prefix, [&](const IndexEntry& e) {
      got[std::string(e.hash.hex())] = e.info.size;
      EXPECT_EQ(e.info.mtime_nanos, kStart * 1'000'000'000);
      return Status::OK();
    }));
    std::map<std::string, uint64_t> expected;
    for (const auto& [h, size] : want) {
      if (h.starts_with(prefix)) expected[h] = size;
    }
    EXPECT_EQ(got, expected) << "prefix " << prefix;
  }
  EXPECT_THAT(volume_->Index("XYZ", [](const IndexEntry&) { return Status::OK(); }),
              StatusIs(StatusCode::kInvalidArgument));
  // The first error from emit stops the walk.
  int calls = 0;
  EXPECT_THAT(volume_->Index("",
                             [&](const IndexEntry&) {
                               ++calls;
                               return AbortedError("stop");
                             }),
              StatusIs(StatusCode::kAborted));
  EXPECT_EQ(calls, 1);
}

TEST_F(ObjectVolumeTest, IndexMergesMarkerTimesAcrossPages) {
  auto volume = OpenVolume("p", 8 << 20, /*page_keys=*/3);
  std::map<std::string, int64_t> want;  // hash -> mtime ns
  std::vector<std::string> blocks;
  for (int i = 0; i < 25; ++i) blocks.push_back(PatternBytes(10 + i, i));
  for (const std::string& b : blocks) ASSERT_OK(Write(*volume, b));
  env_.AdvanceMicros(int64_t{60} * 1'000'000);
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i % 3 == 0) {
      ASSERT_OK(Write(*volume, blocks[i]));  // touched: a marker
    }
    want[std::string(BlockHash::Of(blocks[i]).hex())] =
        (kStart + (i % 3 == 0 ? 60 : 0)) * 1'000'000'000;
  }
  int lists = counting_->lists.load();
  std::map<std::string, int64_t> got;
  ASSERT_OK(volume->Index("", [&](const IndexEntry& e) {
    got[std::string(e.hash.hex())] = e.info.mtime_nanos;
    return Status::OK();
  }));
  EXPECT_EQ(got, want);
  // Pages of 3: 25 blocks (9 pages, the last one reaching the markers) and 9 markers (3 pages).
  EXPECT_GE(counting_->lists.load() - lists, 12);
}

TEST_F(ObjectVolumeTest, ConcurrentWritersAndReadersOnOneVolume) {
  constexpr int kThreads = 4;
  constexpr int kBlocks = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBlocks; ++i) {
        // Threads write the same blocks (i) and their own (t, i): dedup races included.
        for (std::string data : {PatternBytes(70'000 + i, i), PatternBytes(9'000 + i, 100 * t)}) {
          Result<BlockInfo> w = Write(*volume_, data);
          Result<std::string> r = ReadAll(*volume_, BlockHash::Of(data), 32 * 1024);
          if (!w.ok() || !r.ok() || *r != data) ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  int blocks = 0;
  ASSERT_OK(volume_->Index("", [&](const IndexEntry&) {
    ++blocks;
    return Status::OK();
  }));
  EXPECT_EQ(blocks, kBlocks + kThreads * kBlocks);
}

TEST_F(ObjectVolumeTest, DeleteRemovesBlockAndMarker) {
  std::string data = PatternBytes(1234);
  BlockHash hash = BlockHash::Of(data);
  ASSERT_OK(Write(*volume_, data));
  ASSERT_OK(Write(*volume_, data));  // makes the marker
  ASSERT_EQ(Keys().size(), 2u);
  ASSERT_OK(volume_->Delete(hash));
  EXPECT_TRUE(Keys().empty());
  EXPECT_THAT(volume_->Delete(hash), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(volume_->Open(hash), StatusIs(StatusCode::kNotFound));
}

TEST_F(ObjectVolumeTest, MountUuidAndReadOnly) {
  MountInfo m = volume_->Mount();
  EXPECT_EQ(m.device_id, mem_->Uri(kBucket, "blocks"));
  EXPECT_THAT(m.uuid, ::testing::MatchesRegex("cairn-nyw5e-[0-9a-f]{15}"));
  EXPECT_EQ(OpenVolume("blocks")->uuid(), volume_->uuid());  // stable across opens
  EXPECT_NE(OpenVolume("other")->uuid(), volume_->uuid());
  ASSERT_OK_AND_ASSIGN(uint64_t free_bytes, volume_->FreeBytes());
  EXPECT_EQ(free_bytes, ObjectVolume::kReportedFreeBytes);

  ObjectVolumeOptions o;
  o.store = counting_;
  o.container = kBucket;
  o.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ro, ObjectVolume::Open(std::move(o)));
  EXPECT_FALSE(ro->writable());
  EXPECT_THAT(ro->NewWriter(BlockHash::Of("x")), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(ro->Delete(BlockHash::Of("x")), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ObjectVolumeTest, OpenMakesAMissingBucketOrFailsReadOnly) {
  ObjectVolumeOptions o;
  o.store = counting_;
  o.container = "fresh";
  o.read_only = true;
  EXPECT_THAT(ObjectVolume::Open(o), StatusIs(StatusCode::kNotFound, HasSubstr("fresh")));
  o.read_only = false;
  ASSERT_OK(ObjectVolume::Open(o));
  ASSERT_OK_AND_ASSIGN(auto containers, mem_->ListContainers());
  EXPECT_THAT(containers, ::testing::Contains("fresh"));
}

// The keepstore's block API over an ObjectVolume, as `cairn keepstore --volume s3://…` serves it.
TEST_F(ObjectVolumeTest, KeepstoreServicePutAndGetThroughAnObjectVolume) {
  FixedTokenAuthenticator auth;
  auth.Add("alice-token", {.user_uuid = "cairn-tpzed-alice0000000000", .is_admin = false});
  KeepstoreServiceOptions options;
  options.volumes.push_back(OpenVolume("keep"));
  options.authenticator = &auth;
  options.blob_signing_key = "the-blob-signing-key";
  options.env = &env_;
  options.log = [](std::string_view) {};
  ASSERT_OK_AND_ASSIGN(auto service, KeepstoreService::Open(std::move(options)));
  ASSERT_EQ(service->other_volumes().size(), 1u);
  httpd::Handler handler = service->handler();
  auto call = [&](std::string method, std::string path, std::string body) {
    httpd::ServerRequest request;
    request.method = std::move(method);
    request.target = path;
    request.path = std::move(path);
    request.headers.Add("Authorization", "Bearer alice-token");
    if (request.method == "PUT") request.content_length = body.size();
    httpd::StringBodyReader reader(std::move(body));
    request.body = &reader;
    httpd::BufferedResponseWriter response;
    handler(request, response);
    return response;
  };
  std::string data = PatternBytes(3 << 20, 11);
  std::string hex = Md5Hex(data);
  httpd::BufferedResponseWriter put = call("PUT", "/" + hex, data);
  ASSERT_EQ(put.status, 200) << put.body;
  ASSERT_THAT(put.body, ::testing::StartsWith(hex + "+" + std::to_string(data.size()) + "+A"));
  std::string locator = put.body.substr(0, put.body.size() - 1);
  EXPECT_EQ(Object("keep/" + hex.substr(0, 3) + "/" + hex), data);
  httpd::BufferedResponseWriter get = call("GET", "/" + locator, "");
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_TRUE(get.body == data);
  // The object flipped to other bytes of the same size: never served.
  ASSERT_OK(mem_->Put(kBucket, "keep/" + hex.substr(0, 3) + "/" + hex,
                      http::RequestBody::FromBytes(PatternBytes(3 << 20, 12)), {}));
  httpd::BufferedResponseWriter bad = call("GET", "/" + locator, "");
  EXPECT_EQ(bad.status, 502) << bad.body;
  EXPECT_THAT(bad.body, HasSubstr("was changed"));
}

}  // namespace
}  // namespace cairn::blockstore
