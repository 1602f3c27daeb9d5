#include "cairn/objstore/mem_object_store.h"

#include <gtest/gtest.h>

#include "cairn/objstore/object_store_conformance.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore {
namespace {

using ::cairn::testing::StatusIs;

ConformanceTarget MemTarget(std::string name, uint64_t min_part) {
  return {name, [min_part]() -> Result<ConformanceStore> {
            StoreLimits limits;
            limits.min_part_size = min_part;
            auto store = std::make_shared<MemObjectStore>(limits, io::Env::Default());
            ConformanceStore target;
            target.store = store.get();
            target.owner = store;
            target.part_size = std::max<uint64_t>(min_part, 1000);
            return target;
          }};
}

INSTANTIATE_TEST_SUITE_P(Mem, ObjectStoreConformanceTest,
                         ::testing::Values(MemTarget("s3_like", 5 << 20),
                                           MemTarget("small_parts", 1)),
                         [](const auto& p) { return p.param.name; });

TEST(MemObjectStoreTest, UploadsAreTrackedUntilCompletedOrAborted) {
  MemObjectStore store;
  ASSERT_OK(store.CreateContainer("c"));
  ASSERT_OK_AND_ASSIGN(std::string a, store.BeginUpload("c", "a", {}));
  ASSERT_OK_AND_ASSIGN(std::string b, store.BeginUpload("c", "b", {}));
  EXPECT_EQ(store.open_uploads(), 2u);
  ASSERT_OK(store.AbortUpload("c", "a", a));
  EXPECT_THAT(store.AbortUpload("c", "a", a), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(
      UploadedPart p,
      store.PutPart("c", "b", b, 1, http::RequestBody::FromBytes("x"), std::nullopt));
  ASSERT_OK(store.CompleteUpload("c", "b", b, std::vector<UploadedPart>{p}).status());
  EXPECT_EQ(store.open_uploads(), 0u);
  // Completion names parts that exist, each once.
  ASSERT_OK_AND_ASSIGN(std::string c, store.BeginUpload("c", "c", {}));
  EXPECT_THAT(store.CompleteUpload("c", "c", c, std::vector<UploadedPart>{p, p}).status(),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store.CompleteUpload("c", "c", c, std::vector<UploadedPart>{}).status(),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ObjectStoreEtagTest, CompositeEtagsOfBothStores) {
  std::vector<UploadedPart> parts = {{1, Md5Hex("a"), 1}, {2, Md5Hex("b"), 1}};
  // S3: md5 of the binary part digests, then -N.
  Md5Digest a = Md5Of("a"), b = Md5Of("b");
  std::string joined(reinterpret_cast<const char*>(a.data()), 16);
  joined.append(reinterpret_cast<const char*>(b.data()), 16);
  EXPECT_EQ(S3CompositeEtag(parts), Md5Hex(joined) + "-2");
  // Swift SLO: md5 of the hex strings concatenated.
  EXPECT_EQ(SwiftSloEtag(parts), Md5Hex(Md5Hex("a") + Md5Hex("b")));
  parts[0].etag = "not-hex";
  EXPECT_EQ(S3CompositeEtag(parts), "");
}

}  // namespace
}  // namespace cairn::objstore
