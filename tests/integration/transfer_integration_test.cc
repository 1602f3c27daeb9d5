// The transfer engine against a real S3 server (Ceph RGW from scripts/object-store): every write
// policy and the sizes around part boundaries round-trip byte for byte with the real multipart
// limits (5 MiB parts), downloads verify against RGW's ETags, server-side copies in one piece and
// in parts, the fault suite through FaultInjectingHttpClient over CurlHttpClient, and failures
// that leave no multipart upload behind.
//
// The server comes from the environment the object-store script prints (AWS_ENDPOINT_URL, ...);
// without it the tests fail rather than skip (run them through scripts/integration-test.sh).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cairn/http/curl_http_client.h"
#include "cairn/http/fault_injecting_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/objstore/transfer/transfer.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::transfer {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kPart = 5 * kMiB;  // S3's smallest part

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

::testing::AssertionResult SameBytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size();
}

// Fails every UploadPart of part 3 with a permanent error (as a 403 would be).
class FailPartThree final : public http::HttpClient {
 public:
  explicit FailPartThree(http::HttpClient* inner) : inner_(inner) {}
  Result<http::HttpResponse> Send(const http::HttpRequest& request,
                                  const http::ResponseBody& body) override {
    if (request.url.find("partNumber=3&") != std::string::npos) {
      return PermissionDeniedError("injected: part 3 refused");
    }
    return inner_->Send(request, body);
  }

 private:
  http::HttpClient* inner_;
};

class TransferIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("AWS_ENDPOINT_URL").empty())
        << "no S3 server: run through scripts/integration-test.sh";
    s3::S3SettingsInput input;
    for (const char* name : {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                             "AWS_DEFAULT_REGION", "AWS_REGION"}) {
      if (!Env(name).empty()) input.environment[name] = Env(name);
    }
    ASSERT_OK_AND_ASSIGN(settings_, s3::ResolveS3Settings(input));
    ASSERT_OK_AND_ASSIGN(curl_, http::CurlHttpClient::Create({}));
    ASSERT_OK_AND_ASSIGN(plain_, s3::S3Client::Create(settings_, curl_.get(), io::Env::Default()));
    bucket_ = "cairn-tr-" + std::to_string(io::Env::Default()->NowUnixMicros() % 1000000000);
    ASSERT_OK(plain_->CreateBucket(bucket_));
  }

  void TearDown() override {
    if (plain_ == nullptr) return;
    Result<s3::ListMultipartUploadsPage> uploads = plain_->ListMultipartUploads(bucket_);
    if (uploads.ok()) {
      for (const auto& u : uploads->uploads) {
        plain_->AbortMultipartUpload(bucket_, u.key, u.upload_id).IgnoreError();
      }
    }
    Result<s3::ListObjectsV2Page> page = plain_->ListObjectsV2(bucket_, {});
    if (page.ok()) {
      for (const auto& o : page->contents) plain_->DeleteObject(bucket_, o.key).IgnoreError();
    }
    EXPECT_OK(plain_->DeleteBucket(bucket_));
  }

  // An engine over `http` (the plain curl client unless given).
  std::unique_ptr<TransferEngine> Engine(TransferOptions options = {},
                                         http::HttpClient* http = nullptr) {
    Result<std::unique_ptr<s3::S3Client>> client =
        s3::S3Client::Create(settings_, http != nullptr ? http : curl_.get(), io::Env::Default());
    EXPECT_OK(client.status());
    clients_.push_back(std::move(*client));
    if (options.part_size == TransferOptions{}.part_size) options.part_size = kPart;
    Result<std::unique_ptr<TransferEngine>> engine =
        TransferEngine::Create(clients_.back().get(), io::Env::Default(), options);
    EXPECT_OK(engine.status());
    return std::move(*engine);
  }

  size_t UploadsLeft() {
    Result<s3::ListMultipartUploadsPage> uploads = plain_->ListMultipartUploads(bucket_);
    EXPECT_OK(uploads.status());
    return uploads.ok() ? uploads->uploads.size() : 999;
  }

  s3::S3Settings settings_;
  std::unique_ptr<http::CurlHttpClient> curl_;
  std::unique_ptr<s3::S3Client> plain_;
  std::vector<std::unique_ptr<s3::S3Client>> clients_;
  std::string bucket_;
};

TEST_F(TransferIntegrationTest, SizesAroundPartBoundariesRoundTrip) {
  std::unique_ptr<TransferEngine> engine = Engine();
  for (size_t size :
       {size_t{0}, size_t{1}, kPart - 1, kPart, kPart + 1, 3 * kPart + 4321, 101 * kMiB + 7}) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::string data = RandomBytes(size, size);
    MemorySource source(data);
    ASSERT_OK_AND_ASSIGN(UploadResult up, engine->Upload(source, bucket_, "k"));
    EXPECT_EQ(up.bytes, size);
    EXPECT_EQ(up.verified, size <= kPart ? "md5" : "multipart-etag");
    for (auto mode : {MemorySink::Mode::kRandomAccess, MemorySink::Mode::kSequential}) {
      MemorySink sink(mode);
      ASSERT_OK_AND_ASSIGN(DownloadResult down, engine->Download(bucket_, "k", sink));
      EXPECT_TRUE(SameBytes(sink.data(), data));
      EXPECT_EQ(down.etag, up.etag);
      EXPECT_EQ(down.verified, size <= kPart ? "md5" : "part-md5s");
    }
  }
  EXPECT_EQ(UploadsLeft(), 0u);
}

TEST_F(TransferIntegrationTest, EveryPolicyWithPipesAndFiles) {
  std::string data = RandomBytes(3 * kPart + 99, 3);
  for (WritePolicy policy : {WritePolicy::kStream, WritePolicy::kSingle, WritePolicy::kSpool}) {
    TransferOptions options;
    options.policy = policy;
    std::unique_ptr<TransferEngine> engine = Engine(options);
    for (auto mode : {MemorySource::Mode::kSeekable, MemorySource::Mode::kPipe}) {
      SCOPED_TRACE(std::string(WritePolicyName(policy)));
      MemorySource source(data, mode);
      ASSERT_OK_AND_ASSIGN(UploadResult up, engine->Upload(source, bucket_, "p"));
      EXPECT_EQ(up.parts, 4);
      MemorySink sink;
      ASSERT_OK_AND_ASSIGN(DownloadResult down, engine->Download(bucket_, "p", sink));
      EXPECT_TRUE(SameBytes(sink.data(), data));
      EXPECT_EQ(down.part_size_source, "metadata");
    }
  }
}

TEST_F(TransferIntegrationTest, CopiesWholeAndInParts) {
  TransferOptions options;
  options.max_single_copy_size = 6 * kMiB;  // stands in for S3's 5 GiB
  options.copy_part_size = kPart;
  std::unique_ptr<TransferEngine> engine = Engine(options);
  std::string data = RandomBytes(12 * kMiB + 1, 4);
  MemorySource source(data);
  ASSERT_OK(engine->Upload(source, bucket_, "src").status());
  ASSERT_OK_AND_ASSIGN(CopyResult copy, engine->Copy(bucket_, "src", bucket_, "dst"));
  EXPECT_EQ(copy.parts, 3);
  EXPECT_EQ(copy.verified, "multipart-etag");
  MemorySink sink;
  ASSERT_OK_AND_ASSIGN(DownloadResult down, engine->Download(bucket_, "dst", sink));
  EXPECT_TRUE(SameBytes(sink.data(), data));
  EXPECT_EQ(down.verified, "part-md5s");
  std::string small = RandomBytes(1000, 5);
  MemorySource small_source(small);
  ASSERT_OK(engine->Upload(small_source, bucket_, "small").status());
  ASSERT_OK_AND_ASSIGN(copy, engine->Copy(bucket_, "small", bucket_, "small2"));
  EXPECT_EQ(copy.verified, "etag");
}

TEST_F(TransferIntegrationTest, FaultSuiteOverARealServer) {
  http::FaultInjectingHttpClient faults(
      curl_.get(), {.seed = 7,
                    .rates = {.slow_down = 0.10,
                              .reset_before = 0.03,
                              .reset_mid_upload = 0.03,
                              .reset_mid_body = 0.05,
                              .truncate = 0.05},
                    .eligible = [](const http::HttpRequest& r) {
                      return !(r.method == "POST" && r.url.ends_with("?uploads="));
                    }});
  TransferOptions options;
  options.max_single_copy_size = 6 * kMiB;
  options.copy_part_size = kPart;
  std::unique_ptr<TransferEngine> engine = Engine(options, &faults);
  for (WritePolicy policy : {WritePolicy::kStream, WritePolicy::kSingle, WritePolicy::kSpool}) {
    TransferOptions o = options;
    o.policy = policy;
    std::unique_ptr<TransferEngine> e = Engine(o, &faults);
    for (size_t size : {size_t{1}, kPart + 1, 4 * kPart + 3}) {
      SCOPED_TRACE(std::string(WritePolicyName(policy)) + " " + std::to_string(size));
      std::string data = RandomBytes(size, size + 11);
      MemorySource source(data, MemorySource::Mode::kPipe);
      ASSERT_OK(e->Upload(source, bucket_, "f").status());
      for (auto mode : {MemorySink::Mode::kRandomAccess, MemorySink::Mode::kSequential}) {
        MemorySink sink(mode);
        ASSERT_OK(e->Download(bucket_, "f", sink).status());
        EXPECT_TRUE(SameBytes(sink.data(), data));
      }
      ASSERT_OK(e->Copy(bucket_, "f", bucket_, "f-copy").status());
      MemorySink copied;
      ASSERT_OK(engine->Download(bucket_, "f-copy", copied).status());
      EXPECT_TRUE(SameBytes(copied.data(), data));
    }
  }
  EXPECT_GT(faults.counts().faults(), 10u);
  EXPECT_EQ(UploadsLeft(), 0u);
}

TEST_F(TransferIntegrationTest, APermanentFailureLeavesNoUploadBehind) {
  FailPartThree failing(curl_.get());
  std::unique_ptr<TransferEngine> engine = Engine({}, &failing);
  std::string data = RandomBytes(5 * kPart, 6);
  MemorySource source(data);
  Result<UploadResult> r = engine->Upload(source, bucket_, "fail");
  EXPECT_THAT(r, StatusIs(StatusCode::kPermissionDenied, HasSubstr("part 3")));
  EXPECT_THAT(r.status().message(), HasSubstr("none left behind"));
  EXPECT_EQ(UploadsLeft(), 0u);
  EXPECT_THAT(plain_->HeadObject(bucket_, "fail"), StatusIs(StatusCode::kNotFound));
}

TEST_F(TransferIntegrationTest, AnObjectReplacedDuringADownloadIsNotMixed) {
  std::unique_ptr<TransferEngine> engine = Engine();
  std::string data = RandomBytes(4 * kPart, 8);
  MemorySource source(data);
  ASSERT_OK(engine->Upload(source, bucket_, "moving").status());
  // Replace the object as soon as the download has its first bytes.
  std::string other = RandomBytes(4 * kPart, 9);
  bool replaced = false;
  class Replacing final : public ByteSink {
   public:
    Replacing(std::function<void()> on_first) : on_first_(std::move(on_first)) {}
    bool random_access() const override { return false; }
    Status Prepare(uint64_t) override { return Status(); }
    Status WriteAt(uint64_t, std::string_view) override { return Status(); }
    Status Append(std::string_view) override {
      if (on_first_) std::exchange(on_first_, nullptr)();
      return Status();
    }
    Result<size_t> ReadAt(uint64_t, std::span<char>) override { return size_t{0}; }
    Status Commit() override { return Status(); }
    void Abandon() override {}
    std::string name() const override { return "replacing"; }

   private:
    std::function<void()> on_first_;
  } sink([&] {
    MemorySource replacement(other);
    replaced = Engine()->Upload(replacement, bucket_, "moving").ok();
  });
  TransferOptions one;
  one.concurrency = 1;
  EXPECT_THAT(Engine(one)->Download(bucket_, "moving", sink),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("changed")));
  EXPECT_TRUE(replaced);
}

}  // namespace
}  // namespace cairn::objstore::transfer
