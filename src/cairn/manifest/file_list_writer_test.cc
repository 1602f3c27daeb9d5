// FileListWriter: one stream line per file, parsed into the same tree (and so the same normalized
// text and PDH) as a Manifest built file by file; invalid paths and file/directory clashes refused.
#include "cairn/manifest/file_list_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cairn/manifest/external.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/pdh.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::manifest {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

Locator L(std::string_view text) { return Locator::Parse(text).value(); }

// Builds the same files with the Manifest tree, as the import did before FileListWriter.
struct File {
  std::string path;
  std::vector<Locator> chunks;
};

std::string ThroughTree(const std::vector<File>& files) {
  Manifest m;
  for (const File& f : files) {
    Result<Manifest::NodeId> node = m.MakeFile(f.path);
    EXPECT_TRUE(node.ok()) << node.status();
    for (const Locator& chunk : f.chunks) {
      uint32_t block = m.AddBlock(chunk);
      EXPECT_TRUE(
          m.AppendExtent(*node, {.block = block, .offset = 0, .length = chunk.size()}).ok());
    }
  }
  return m.ToText();
}

TEST(FileListWriterTest, ParsesIntoTheSameManifestAsTheTree) {
  ExternalObject big{.kind = ObjectStoreKind::kS3,
                     .bucket = "b",
                     .key = "data/big.bin",
                     .version_id = "",
                     .etag = "0123456789abcdef0123456789abcdef"};
  std::vector<File> files = {
      {"z.txt", {L("acbd18db4cc2f85cedef654fccc4a4d8+3")}},
      {"dir one/b:c.txt", {L("37b51d194a7513e45b56f6524f2d51f2+3")}},
      {"dir one/a.txt", {L("acbd18db4cc2f85cedef654fccc4a4d8+3")}},
      {"d/e/f/deep", {L("37b51d194a7513e45b56f6524f2d51f2+3")}},
      {"d/empty", {}},
      {"d/big.bin", SplitExternal(MakeExternalLocator(big, 0, (uint64_t{200} << 20) + 7))},
  };
  FileListWriter writer;
  for (const File& f : files) ASSERT_OK(writer.AddFile(f.path, f.chunks));
  EXPECT_EQ(writer.file_count(), files.size());
  const std::string text = writer.Release();
  EXPECT_TRUE(writer.text().empty());
  // One line per file, names escaped.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), static_cast<long>(files.size()));
  EXPECT_THAT(text,
              HasSubstr("./dir\\040one 37b51d194a7513e45b56f6524f2d51f2+3 0:3:b\\072c.txt\n"));
  EXPECT_THAT(text, HasSubstr("./d d41d8cd98f00b204e9800998ecf8427e+0 0:0:empty\n"));
  ASSERT_OK_AND_ASSIGN(Manifest parsed, Manifest::Parse(text));
  const std::string normalized = parsed.ToText();
  EXPECT_EQ(normalized, ThroughTree(files));
  EXPECT_EQ(PortableDataHash(normalized), PortableDataHash(ThroughTree(files)));
}

TEST(FileListWriterTest, RefusesInvalidPathsAndClashes) {
  const std::vector<Locator> one = {L("acbd18db4cc2f85cedef654fccc4a4d8+3")};
  FileListWriter writer;
  for (std::string_view bad : {"", "a//b", "./x", "a/../b", "dir/", "/abs"}) {
    EXPECT_THAT(writer.AddFile(bad, one), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  ASSERT_OK(writer.AddFile("a", one));
  EXPECT_THAT(writer.AddFile("a/b", one),  // below a file
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("\"a\" is a file")));
  EXPECT_THAT(writer.AddFile("a", one), StatusIs(StatusCode::kInvalidArgument));  // twice
  ASSERT_OK(writer.AddFile("x/y/z", one));
  EXPECT_THAT(writer.AddFile("x/y", one),  // where a directory is
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a directory has that name")));
  EXPECT_THAT(writer.AddFile("x", one), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(writer.AddFile("x/y2", one));
  EXPECT_EQ(writer.file_count(), 3u);
  // What was refused left nothing behind: the text parses, with exactly the three files.
  ASSERT_OK_AND_ASSIGN(Manifest parsed, Manifest::Parse(writer.text()));
  EXPECT_EQ(parsed.file_count(), 3u);
}

}  // namespace
}  // namespace cairn::manifest
