#include "cairn/manifest/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cairn/manifest/external.h"
#include "cairn/manifest/pdh.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::manifest {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

std::string Normalize(std::string_view text) {
  Result<Manifest> m = Manifest::Parse(text);
  EXPECT_TRUE(m.ok()) << m.status() << "\n" << text;
  return m.ok() ? m->ToText() : "";
}

Status Validate(std::string_view text) { return Manifest::Parse(text).status(); }

// --- Normalization: vectors of the Arvados Python SDK (test_normalized_collection) and of the Go
// SDK's marshal tests (arvados-keep.md §2.4).

TEST(ManifestNormalizeTest, MergesStreamsOfOneFile) {
  EXPECT_EQ(Normalize(". 5348b82a029fd9e971a811ce1f71360b+43 0:43:md5sum.txt\n"
                      ". 085c37f02916da1cad16f93c54d899b7+41 0:41:md5sum.txt\n"
                      ". 8b22da26f9f433dea0a10e5ec66d73ba+43 0:43:md5sum.txt\n"),
            ". 5348b82a029fd9e971a811ce1f71360b+43 085c37f02916da1cad16f93c54d899b7+41 "
            "8b22da26f9f433dea0a10e5ec66d73ba+43 0:127:md5sum.txt\n");
}

TEST(ManifestNormalizeTest, SplitsSlashNamesIntoStreams) {
  EXPECT_EQ(Normalize(". 204e43b8a1185621ca55a94839582e6f+67108864 0:3:foo/bar\n"
                      "./zzz 204e43b8a1185621ca55a94839582e6f+67108864 0:999:zzz\n"
                      "./foo 323d2a3ce20370c4ca1d3462a344f8fd+25885655 0:3:bar\n"),
            "./foo 204e43b8a1185621ca55a94839582e6f+67108864 "
            "323d2a3ce20370c4ca1d3462a344f8fd+25885655 0:3:bar 67108864:3:bar\n"
            "./zzz 204e43b8a1185621ca55a94839582e6f+67108864 0:999:zzz\n");
}

TEST(ManifestNormalizeTest, MergesContiguousSegments) {
  EXPECT_EQ(Normalize(". 204e43b8a1185621ca55a94839582e6f+67108864 0:3:foo/bar\n"
                      "./zzz 204e43b8a1185621ca55a94839582e6f+67108864 0:999:zzz\n"
                      "./foo 204e43b8a1185621ca55a94839582e6f+67108864 3:3:bar\n"),
            "./foo 204e43b8a1185621ca55a94839582e6f+67108864 0:6:bar\n"
            "./zzz 204e43b8a1185621ca55a94839582e6f+67108864 0:999:zzz\n");
}

TEST(ManifestNormalizeTest, NormalFormsAreUnchanged) {
  for (const char* text : {
           "./a\\040b\\040c 59ca0efa9f5633cb0371bbc0355478d8+13 0:13:hello\\040world.txt\n",
           "./dir1 3858f62230ac3c915f300c664312c63f+6 3:3:bar 0:3:foo\n",
           ". c3c23db5285662ef7172373df0003206+6 acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:bar "
           "3:3:baz 6:3:foo\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:zero.txt\n",
       }) {
    EXPECT_EQ(Normalize(text), text);
  }
}

TEST(ManifestNormalizeTest, SortsFilesAndKeepsBlocksInFirstUseOrder) {
  // foo.txt is first in the text but bar.txt sorts first: offsets are rewritten accordingly.
  EXPECT_EQ(Normalize(". 3858f62230ac3c915f300c664312c63f+6 0:3:foo.txt 3:3:bar.txt\n"
                      "./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n"),
            ". 3858f62230ac3c915f300c664312c63f+6 3:3:bar.txt 0:3:foo.txt\n"
            "./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n");
  // b uses the second block first: it is listed first.
  EXPECT_EQ(Normalize(". acbd18db4cc2f85cedef654fccc4a4d8+3 37b51d194a7513e45b56f6524f2d51f2+3 "
                      "0:3:z 3:3:b\n"),
            ". 37b51d194a7513e45b56f6524f2d51f2+3 acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:b "
            "3:3:z\n");
}

TEST(ManifestNormalizeTest, DropsUnusedBlocks) {
  EXPECT_EQ(Normalize(". acbd18db4cc2f85cedef654fccc4a4d8+3 37b51d194a7513e45b56f6524f2d51f2+3 "
                      "3:3:bar\n"),
            ". 37b51d194a7513e45b56f6524f2d51f2+3 0:3:bar\n");
}

TEST(ManifestNormalizeTest, TreeOrderIsDepthFirstNotStringOrder) {
  // "./a-b" < "./a/x" as strings, but tree order visits a's subtree first ('-' < '/' is moot).
  EXPECT_EQ(Normalize(". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:a-b/f 0:3:a/x/f 0:3:a/f\n"),
            "./a acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:f\n"
            "./a/x acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:f\n"
            "./a-b acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:f\n");
}

TEST(ManifestNormalizeTest, SortsBytewiseIncludingUtf8) {
  EXPECT_EQ(Normalize(". acbd18db4cc2f85cedef654fccc4a4d8+3 0:1:\xc3\xa9 1:1:z 2:1:Z 0:0:a\n"),
            ". acbd18db4cc2f85cedef654fccc4a4d8+3 2:1:Z 0:0:a 1:1:z 0:1:\xc3\xa9\n");
}

TEST(ManifestNormalizeTest, SortsNamesWithLongSharedPrefixes) {
  // The writer keys its sort on the bytes after the siblings' common prefix; ties, prefixes of
  // other names and NUL bytes must still sort bytewise.
  EXPECT_EQ(Normalize(". d41d8cd98f00b204e9800998ecf8427e+0 0:0:sample_0042_b 0:0:sample_0042_a "
                      "0:0:sample_0042_ 0:0:sample_0042_a\\000 0:0:sample_0042_aaaaaaaaaaaa2 "
                      "0:0:sample_0042_aaaaaaaaaaaa1 0:0:sample_0042_\\303\\251x\n"),
            ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:sample_0042_ 0:0:sample_0042_a "
            "0:0:sample_0042_a\\000 0:0:sample_0042_aaaaaaaaaaaa1 0:0:sample_0042_aaaaaaaaaaaa2 "
            "0:0:sample_0042_b 0:0:sample_0042_\xc3\xa9x\n");
}

TEST(ManifestNormalizeTest, EmptyFilesAndDirectories) {
  EXPECT_EQ(Normalize(""), "");
  EXPECT_EQ(Normalize("./empty_dir d41d8cd98f00b204e9800998ecf8427e+0 0:0:.\n"),
            "./empty_dir d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\n");
  EXPECT_EQ(Normalize("./a/b d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\n"),
            "./a/b d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\n");
  // A zero-length segment of a file that has data adds nothing.
  EXPECT_EQ(Normalize(". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:f 3:0:f 0:0:g\n"),
            ". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:f 0:0:g\n");
  // An empty-directory marker in a stream that has files is dropped.
  EXPECT_EQ(Normalize("./d acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:f 0:0:.\n"),
            "./d acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:f\n");
}

TEST(ManifestNormalizeTest, RepeatedBlockIsListedOncePerStream) {
  EXPECT_EQ(
      Normalize(". acbd18db4cc2f85cedef654fccc4a4d8+3 37b51d194a7513e45b56f6524f2d51f2+3 "
                "acbd18db4cc2f85cedef654fccc4a4d8+3 0:9:f\n"),
      ". acbd18db4cc2f85cedef654fccc4a4d8+3 37b51d194a7513e45b56f6524f2d51f2+3 0:6:f 0:3:f\n");
}

TEST(ManifestNormalizeTest, KeepsHints) {
  std::string text =
      ". acbd18db4cc2f85cedef654fccc4a4d8+3+A89118b78732c33104a4d6231e8b5a5fa1e4301e3@7fffffff"
      "+K@zzzzz+Zfoo 0:3:foo\n";
  EXPECT_EQ(Normalize(text), text);
}

TEST(ManifestNormalizeTest, Escapes) {
  // Python SDK vectors: \000, \011, \012 and \072 decode to bytes; "\134400" is a backslash and
  // "400"; a directory literally named "\056 Test".
  std::string text =
      ". acbd18db4cc2f85cedef654fccc4a4d8+3 0:1:a\\000b 1:1:t\\011 2:1:n\\012l 0:0:c\\072d "
      "0:0:x\\134400\n./\\134056\\040Test d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\n";
  ASSERT_OK_AND_ASSIGN(Manifest m, Manifest::Parse(text));
  EXPECT_TRUE(m.Find(std::string("a\0b", 3)).has_value());
  EXPECT_TRUE(m.Find("t\t").has_value());
  EXPECT_TRUE(m.Find("n\nl").has_value());
  EXPECT_TRUE(m.Find("c:d").has_value());
  EXPECT_TRUE(m.Find("x\\400").has_value());
  ASSERT_TRUE(m.Find("\\056 Test").has_value());
  EXPECT_TRUE(m.IsDirectory(*m.Find("\\056 Test")));
  EXPECT_EQ(Normalize(m.ToText()), m.ToText());
  // Escaped UTF-8 bytes are the character; it is written unescaped.
  EXPECT_EQ(Normalize(". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:caf\\303\\251\n"),
            ". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:caf\xc3\xa9\n");
  // An escaped slash is a real separator; an escaped dot stream name is ".".
  EXPECT_EQ(Normalize("\\056\\057Data acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:foo\\057bar\n"),
            "./Data/foo acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:bar\n");
}

TEST(ManifestNormalizeTest, IsIdempotentOnVectors) {
  for (const char* text : {
           ". 3858f62230ac3c915f300c664312c63f+6 0:3:foo.txt 3:3:bar.txt\n./baz "
           "73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n",
           ". 204e43b8a1185621ca55a94839582e6f+67108864 0:3:foo/bar\n./zzz "
           "204e43b8a1185621ca55a94839582e6f+67108864 0:999:zzz\n./foo "
           "323d2a3ce20370c4ca1d3462a344f8fd+25885655 0:3:bar\n",
       }) {
    std::string once = Normalize(text);
    EXPECT_EQ(Normalize(once), once);
  }
}

// --- Validation (arvados-keep.md §2.5, the Ruby validator's vectors, and the Go reader's
// segment-length rule).

TEST(ManifestValidateTest, AcceptsValidForms) {
  for (const char* text : {
           "",
           ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo/bar.txt\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:.foo\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:...\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0 000000000000000000000000000000:0000:foo.txt\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:0:0\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\040\n",
           "./empty_dir d41d8cd98f00b204e9800998ecf8427e+0 0:0:.\n",
           "./empty_dir d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\n",
           "./\\134444 d41d8cd98f00b204e9800998ecf8427e+0 0:0:x\n",
           "./\\011foo d41d8cd98f00b204e9800998ecf8427e+0 0:0:x\n",
           "./\\056\\040Test d41d8cd98f00b204e9800998ecf8427e+0 0:0:x\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo\\057bar\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0+Zfoo+K@zzzzz 0:0:x\n",
           "./caf\xc3\xa9 d41d8cd98f00b204e9800998ecf8427e+0 0:0:\xe6\x97\xa5\xe6\x9c\xac\n",
           ". d41d8cd98f00b204e9800998ecf8427e+0 0:0:del\x7f\n",
       }) {
    EXPECT_OK(Validate(text)) << text;
  }
}

struct InvalidCase {
  const char* text;
  const char* message;  // a part of the expected error
};

TEST(ManifestValidateTest, RejectsInvalidFormsWithPosition) {
  const InvalidCase cases[] = {
      {"abc d41d8cd98f00b204e9800998ecf8427e+0 0:0:abc.txt\n", "line 1, column 1: stream name"},
      {"./abc/../foo d41d8cd98f00b204e9800998ecf8427e+0 0:0:abc.txt\n", "\"..\""},
      {"./abc/. d41d8cd98f00b204e9800998ecf8427e+0 0:0:abc.txt\n", "\".\""},
      {". d41d8cd98f00b204e9800998ecf8427e+1 0:1:.\n", "only \"0:0:.\""},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 3:0:.\n", "only \"0:0:.\""},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 00:0:\\056\n", "only \"0:0:.\""},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:..\n", "\"..\""},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:./abc.txt\n", "\".\""},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:a/../bc.txt\n", "\"..\""},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:\n", "has no name"},
      {". d41d8cd98f00b204e9800998ecf8427e+0\n", "line 1, column 37: expected a file segment"},
      {". 0:0:foo.txt\n", "line 1, column 3: expected a locator"},
      {". d41d8cd98f00b204e9800998ecf8427e+0  0:0:foo.txt\n", "column 38: empty token"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo.txt \n", "trailing space"},
      {" . d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo.txt\n", "column 1: empty token"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo.txt\n\n", "line 2, column 1: empty line"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo\t.txt\n", "control character 0x09"},
      {". d41d8cd98f00b204e9800998ecf8427e+0\t0:0:foo.txt\n", "control character 0x09"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo.txt\r\n", "control character 0x0d"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:/foo.txt\n", "empty path component"},
      {"./ d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo.txt\n", "empty path component"},
      {".//foo d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo.txt\n", "empty path component"},
      {"./foo/ d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo.txt\n", "empty path component"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo//bar.txt\n", "empty path component"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo/\n", "empty path component"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\\056\n", "\"..\""},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0\\0720\\072foo\n", "expected a file segment"},
      {"./\\444 d41d8cd98f00b204e9800998ecf8427e+0 0:0:x\n", "column 3: invalid escape"},
      {"./foo\\\\ d41d8cd98f00b204e9800998ecf8427e+0 0:0:x\n", "invalid escape"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:a\\12\n", "invalid escape"},
      {". d41d8cd98f00b204e9800998ecf8427e+0 0:0:foo.txt", "does not end with a newline"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 0:4:foo\n", "beyond the 3-byte stream"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 4:0:foo\n", "beyond the 3-byte stream"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 1:18446744073709551615:foo\n", "beyond"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:foo acbd18db4cc2f85cedef654fccc4a4d8+3\n",
       "after the file segments"},
      {". acbd18db4cc2f85cedef654fccc4a4d8 0:3:foo\n", "locator"},
      {". ACBD18DB4CC2F85CEDEF654FCCC4A4D8+3 0:3:foo\n", "locator"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3+z 0:3:foo\n", "line 1, column 3"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+67108865 0:3:foo\n", "64 MiB"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:foo 0:3:foo/bar\n",
       "both as a file and as a directory"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:foo\n./foo "
       "acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:bar\n",
       "line 2, column 1"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:bad\xff\n", "column 45: invalid UTF-8"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:overlong\xc0\xaf\n", "invalid UTF-8"},
      {". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:surrogate\xed\xa0\x80\n", "invalid UTF-8"},
      {"\n", "line 1, column 1: empty line"},
      // Escapes decode to bytes, and names must be UTF-8 (found by the fuzzer).
      {"./a d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\256\n", "decodes to invalid UTF-8"},
      {"./\\377 d41d8cd98f00b204e9800998ecf8427e+0 0:0:x\n", "stream name"},
  };
  for (const InvalidCase& c : cases) {
    EXPECT_THAT(Validate(c.text), StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.text;
  }
}

TEST(ManifestValidateTest, ErrorNamesTheLine) {
  std::string text =
      ". acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:a\n"
      "./d acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:b\n"
      "./e acbd18db4cc2f85cedef654fccc4a4d8+3 0:9:c\n";
  EXPECT_THAT(Validate(text),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 3, column 40: file segment "
                                                               "\"0:9:c\" ends at byte 9")));
}

// --- The tree.

TEST(ManifestTreeTest, FilesSpanBlocks) {
  ASSERT_OK_AND_ASSIGN(Manifest m,
                       Manifest::Parse(". acbd18db4cc2f85cedef654fccc4a4d8+3 "
                                       "37b51d194a7513e45b56f6524f2d51f2+3 2:3:x 0:6:y/z\n"));
  ASSERT_EQ(m.blocks().size(), 2u);
  std::optional<Manifest::NodeId> x = m.Find("x");
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(m.FileSize(*x), 3u);
  EXPECT_THAT(m.Extents(*x), ::testing::ElementsAre(Extent{0, 2, 1}, Extent{1, 0, 2}));
  std::optional<Manifest::NodeId> z = m.Find("y/z");
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(m.Path(*z), "y/z");
  EXPECT_TRUE(m.IsDirectory(*m.Find("y")));
  EXPECT_EQ(m.file_count(), 2u);
  EXPECT_EQ(m.directory_count(), 1u);
  EXPECT_FALSE(m.Find("nope").has_value());
  EXPECT_FALSE(m.Find("x/y").has_value());
}

TEST(ManifestTreeTest, BuildAndRemove) {
  Manifest m;
  uint32_t foo = m.AddBlock(Locator(BlockHash::Of("foo"), 3));
  EXPECT_EQ(m.AddBlock(Locator(BlockHash::Of("foo"), 3)), foo);
  ASSERT_OK_AND_ASSIGN(Manifest::NodeId f, m.MakeFile("d/e/f"));
  ASSERT_OK(m.AppendExtent(f, Extent{foo, 0, 2}));
  ASSERT_OK(m.AppendExtent(f, Extent{foo, 2, 1}));  // merged with the previous extent
  EXPECT_EQ(m.Extents(f).size(), 1u);
  EXPECT_THAT(m.AppendExtent(f, Extent{foo, 2, 2}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(m.MakeFile("d/e"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(m.MakeDirectories("d/e/f/g"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(m.MakeFile("d/../x"), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(m.MakeDirectories("empty").status());
  EXPECT_EQ(m.ToText(),
            "./d/e acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:f\n"
            "./empty d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\n");
  ASSERT_OK(m.Remove("d"));
  EXPECT_THAT(m.Remove("d"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(m.file_count(), 0u);
  EXPECT_EQ(m.ToText(), "./empty d41d8cd98f00b204e9800998ecf8427e+0 0:0:\\056\n");
  ASSERT_OK(m.Remove("empty"));
  EXPECT_EQ(m.ToText(), "");
  // Freed nodes are reused and found again.
  ASSERT_OK_AND_ASSIGN(Manifest::NodeId g, m.MakeFile("d/g"));
  EXPECT_EQ(m.Find("d/g"), g);
  Manifest copy = m;
  EXPECT_EQ(copy.Find("d/g"), g);
  EXPECT_EQ(copy.ToText(), m.ToText());
}

// --- External objects: an oversized locator is split into ≤ 64 MiB chunks when read and merged
// back when written.

TEST(ManifestExternalTest, OversizedLocatorRoundTrips) {
  ExternalObject object{ObjectStoreKind::kS3, "bucket", "data/big.bin", "v1", ""};
  constexpr uint64_t kSize = 150ull << 20;
  Locator whole = MakeExternalLocator(object, 0, kSize);
  std::string text = ". " + whole.ToString() + " 0:" + std::to_string(kSize) + ":big.bin\n";
  ASSERT_OK_AND_ASSIGN(Manifest m, Manifest::Parse(text));
  ASSERT_EQ(m.blocks().size(), 3u);
  for (const Locator& chunk : m.blocks()) EXPECT_LE(chunk.size(), kMaxBlockSize);
  EXPECT_EQ(m.FileSize(*m.Find("big.bin")), kSize);
  EXPECT_EQ(m.ToText(), text);
  EXPECT_EQ(PortableDataHash(m.ToText()), PortableDataHash(text));
}

TEST(ManifestExternalTest, MixedLocalAndExternalBlocks) {
  ExternalObject a{ObjectStoreKind::kS3, "b1", "x", "", "etag1"};
  ExternalObject b{ObjectStoreKind::kSwift, "c2", "y z", "", "etag2"};
  Locator la = MakeExternalLocator(a, 10, 100ull << 20);
  Locator lb = MakeExternalLocator(b, 0, 5);
  std::string text = ". acbd18db4cc2f85cedef654fccc4a4d8+3 " + la.ToString() + " " + lb.ToString() +
                     " 0:3:local " + std::to_string(3) + ":" + std::to_string(100ull << 20) +
                     ":s3obj " + std::to_string(3 + (100ull << 20)) + ":5:swiftobj\n";
  std::string normalized = Normalize(text);
  EXPECT_EQ(normalized, text);
  EXPECT_EQ(Normalize(normalized), normalized);
}

TEST(ManifestExternalTest, ObjectsOver5TiBAreRejected) {
  ExternalObject object{ObjectStoreKind::kS3, "bucket", "k", "v", ""};
  std::string locator = MakeExternalLocator(object, 0, kMaxExternalSize + 1).ToString();
  EXPECT_THAT(Validate(". " + locator + " 0:10:f\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("5 TiB")));
}

TEST(ManifestExternalTest, TamperedExternalHashIsRejected) {
  ExternalObject object{ObjectStoreKind::kS3, "bucket", "k", "v", ""};
  std::string locator = MakeExternalLocator(object, 0, 10).ToString();
  locator[0] = locator[0] == 'a' ? 'b' : 'a';
  EXPECT_THAT(Validate(". " + locator + " 0:10:f\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 1, column 3")));
}

}  // namespace
}  // namespace cairn::manifest
