// CopyTree: files and trees between manifests, cp -r naming, no replacing, shared blocks.
#include "cairn/manifest/tree_copy.h"

#include <gtest/gtest.h>

#include <string>

#include "cairn/manifest/external.h"
#include "cairn/manifest/signature.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::manifest {
namespace {

using ::cairn::testing::StatusIs;

Manifest Parse(std::string_view text) {
  Result<Manifest> m = Manifest::Parse(text);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : Manifest();
}

constexpr char kSource[] =
    ". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:top.txt\n"
    "./d 37b51d194a7513e45b56f6524f2d51f2+3 acbd18db4cc2f85cedef654fccc4a4d8+3 0:4:a 4:2:b\n"
    "./d/e acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:c\n";

TEST(CopyTreeTest, CopiesAFileWithItsExtents) {
  Manifest from = Parse(kSource);
  Manifest to;
  ASSERT_OK_AND_ASSIGN(std::string path, CopyTree(from, "d/b", &to, "x/y"));
  EXPECT_EQ(path, "x/y");
  // Bytes 4-5 of ./d's stream: 1..2 of its second block; the first block is not needed.
  EXPECT_EQ(to.ToText(), "./x acbd18db4cc2f85cedef654fccc4a4d8+3 1:2:y\n");
}

TEST(CopyTreeTest, CopiesIntoAnExistingDirectoryUnderItsOwnName) {
  Manifest from = Parse(kSource);
  Manifest to = Parse(". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:keep/me\n");
  ASSERT_OK_AND_ASSIGN(std::string path, CopyTree(from, "d", &to, "keep"));
  EXPECT_EQ(path, "keep/d");
  ASSERT_TRUE(to.Find("keep/d/e/c").has_value());
  EXPECT_EQ(to.FileSize(*to.Find("keep/d/a")), 4u);
  EXPECT_EQ(to.FileSize(*to.Find("keep/me")), 3u);
  ASSERT_OK_AND_ASSIGN(path, CopyTree(from, "top.txt", &to, ""));
  EXPECT_EQ(path, "top.txt");
}

TEST(CopyTreeTest, TheWholeCollectionMergesIntoADirectoryWithoutClashes) {
  Manifest from = Parse(kSource);
  Manifest to = Parse(". 37b51d194a7513e45b56f6524f2d51f2+3 0:3:other\n");
  ASSERT_OK_AND_ASSIGN(std::string path, CopyTree(from, "", &to, ""));
  EXPECT_EQ(path, "");
  EXPECT_EQ(to.file_count(), 5u);
  EXPECT_THAT(CopyTree(from, "", &to, ""), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(CopyTree(from, "", &to, "new/place").status());
  EXPECT_TRUE(to.Find("new/place/d/e/c").has_value());
}

TEST(CopyTreeTest, NeverReplacesAndLeavesTheTargetAloneOnError) {
  Manifest from = Parse(kSource);
  Manifest to = Parse(". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:d/a 0:3:f\n");
  const std::string before = to.ToText();
  EXPECT_THAT(CopyTree(from, "d/a", &to, "f"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(CopyTree(from, "d", &to, ""), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(CopyTree(from, "nothing", &to, "x"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(CopyTree(from, "d", &to, "f/under/a/file"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(to.ToText(), before);
}

TEST(CopyTreeTest, ExternalBlocksAreSharedNotRead) {
  ExternalObject object{.kind = ObjectStoreKind::kS3,
                        .bucket = "bk",
                        .key = "big",
                        .version_id = "",
                        .etag = "0123abcd"};
  Manifest from;
  ASSERT_OK_AND_ASSIGN(Manifest::NodeId file, from.MakeFile("big.bin"));
  const uint64_t size = 3 * kMaxBlockSize + 5;
  for (const Locator& chunk : SplitExternal(MakeExternalLocator(object, 0, size))) {
    uint32_t block = from.AddBlock(chunk);
    ASSERT_OK(from.AppendExtent(file, {.block = block, .offset = 0, .length = chunk.size()}));
  }
  Manifest to;
  ASSERT_OK(CopyTree(from, "big.bin", &to, "copy.bin").status());
  EXPECT_EQ(to.FileSize(*to.Find("copy.bin")), size);
  // Written back in the canonical form: one oversized locator for the whole object.
  EXPECT_EQ(to.ToText(), ". " + MakeExternalLocator(object, 0, size).ToString() +
                             " 0:" + std::to_string(size) + ":copy.bin\n");
}

TEST(CopyTreeTest, SignedExternalChunksKeepTheirSignatures) {
  ExternalObject object{.kind = ObjectStoreKind::kSwift,
                        .bucket = "c",
                        .key = "big",
                        .version_id = "",
                        .etag = "0123abcd"};
  const uint64_t size = kMaxBlockSize + 5;
  std::string text = ".";
  for (const Locator& chunk : SplitExternal(MakeExternalLocator(object, 0, size))) {
    text += " " + SignLocator(chunk, "key", "token", 2000000000, 3600).ToString();
  }
  text += " 0:" + std::to_string(size) + ":big\n";
  Manifest from = Parse(text);
  Manifest to;
  ASSERT_OK(CopyTree(from, "", &to, "").status());
  // Not merged: one oversized locator would carry no signature.
  EXPECT_EQ(to.ToText(), text);
}

TEST(RewriteBlocksTest, ReplacesEachDistinctBlockOnceAndKeepsTheFiles) {
  Manifest from = Parse(kSource);
  int calls = 0;
  ASSERT_OK_AND_ASSIGN(Manifest out, RewriteBlocks(from, [&](const Locator& l) -> Result<Locator> {
                         ++calls;
                         return Locator(BlockHash::Of("x" + l.SizedDigest()), l.size());
                       }));
  EXPECT_EQ(calls, 2);  // two distinct blocks
  EXPECT_EQ(out.file_count(), from.file_count());
  for (const char* path : {"top.txt", "d/a", "d/b", "d/e/c"}) {
    ASSERT_TRUE(out.Find(path).has_value()) << path;
    EXPECT_EQ(out.FileSize(*out.Find(path)), from.FileSize(*from.Find(path))) << path;
  }
  EXPECT_THAT(
      RewriteBlocks(
          from, [](const Locator& l) -> Result<Locator> { return Locator(l.hash(), l.size() + 1); })
          .status(),
      StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(RewriteBlocks(
                  from, [](const Locator&) -> Result<Locator> { return UnavailableError("down"); })
                  .status(),
              StatusIs(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace cairn::manifest
