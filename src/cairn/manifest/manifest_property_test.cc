// Property tests on random collections written as random (valid, unnormalized) manifest text:
// the parser recovers every file's bytes, the PDH matches an independent implementation of the
// Arvados algorithm, normalizing is idempotent and keeps every file's bytes, and
// parse(write(x)) == x.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cairn/common/hash.h"
#include "cairn/manifest/escape.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/pdh.h"
#include "cairn/testing/manifest_content.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::manifest {
namespace {

using ::cairn::testing::ByteRun;
using ::cairn::testing::ContentMap;
using ContentMapT = std::map<std::string, std::vector<ByteRun>>;

// The Arvados PDH, written the slow, obvious way from arvados-keep.md §3.1 (Ruby's rule): split
// lines and words; every word after the first of a line that is a locator becomes hash+size.
std::string ReferencePdh(const std::string& text) {
  std::string portable;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    std::string line = text.substr(begin, end - begin);
    size_t w = 0;
    int index = 0;
    std::string out_line;
    while (w <= line.size()) {
      size_t sp = line.find(' ', w);
      if (sp == std::string::npos) sp = line.size();
      std::string word = line.substr(w, sp - w);
      bool is_locator = index > 0 && word.size() > 33 && word[32] == '+' &&
                        std::all_of(word.begin(), word.begin() + 32, [](char c) {
                          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                        });
      if (is_locator) {
        size_t second = word.find('+', 33);
        if (second != std::string::npos) word = word.substr(0, second);
      }
      if (index > 0) out_line += ' ';
      out_line += word;
      ++index;
      w = sp + 1;
    }
    portable += out_line + "\n";
    begin = end + 1;
  }
  return Md5Hex(portable) + "+" + std::to_string(portable.size());
}

class RandomCollection {
 public:
  explicit RandomCollection(uint64_t seed) : rng_(seed) {}

  // Builds random files and directories, then writes them as a manifest in random stream
  // layouts. Fills expected_ with what each path must hold.
  std::string Generate() {
    MakeBlocks();
    MakeTree();
    return WriteManifest();
  }

  const ContentMapT& expected() const { return expected_; }

 private:
  struct Block {
    Locator locator;
    std::string source;      // hash, or URL for external blocks
    uint64_t source_offset;  // offset of the block in its source
  };
  struct Range {
    size_t block;
    uint64_t offset;
    uint64_t length;
  };
  struct File {
    std::string dir;   // "" or "a/b"
    std::string name;  // last component
    std::vector<Range> ranges;
  };

  size_t Uniform(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Chance(int percent) { return static_cast<int>(Uniform(100)) < percent; }

  std::string RandomName(const char* prefix) {
    static const std::vector<std::string> kPieces = {"a",
                                                     "B",
                                                     "z",
                                                     "0",
                                                     "_",
                                                     "-",
                                                     ".",
                                                     " ",
                                                     ":",
                                                     "\\",
                                                     "\t",
                                                     "\n",
                                                     "+",
                                                     "~",
                                                     "\xc3\xa9",
                                                     "\xe6\x97\xa5",
                                                     "\xf0\x9f\x98\x80",
                                                     std::string("\0", 1),
                                                     "\x7f",
                                                     "%",
                                                     "#"};
    std::string name = prefix;
    size_t n = Uniform(8);
    for (size_t i = 0; i < n; ++i) name += kPieces[Uniform(kPieces.size())];
    return name;
  }

  void MakeBlocks() {
    size_t n = 1 + Uniform(6);
    for (size_t i = 0; i < n; ++i) {
      std::string content = "block " + std::to_string(rng_());
      uint64_t size = Chance(10) ? kMaxBlockSize : 1 + Uniform(200);
      Locator locator(BlockHash::Of(content), size);
      if (Chance(30)) {
        EXPECT_OK(locator.AddHint("Zfoo" + std::to_string(i)));
      }
      if (Chance(20)) {
        EXPECT_OK(locator.AddHint("K@zzzzz"));
      }
      if (Chance(20)) {
        locator.SetPermission(PermissionHint{Md5Hex(content) + "01234567", "7fffffff"});
      }
      blocks_.push_back(Block{locator, std::string(locator.hash().hex()), 0});
    }
    if (Chance(40)) {
      // An external object read as consecutive chunks, as an importer would list it.
      ExternalObject object{Chance(50) ? ObjectStoreKind::kS3 : ObjectStoreKind::kSwift,
                            "bucket" + std::to_string(Uniform(3)), RandomName("key/"),
                            Chance(50) ? "v" + std::to_string(Uniform(9)) : "", ""};
      if (object.version_id.empty()) object.etag = Md5Hex(object.key);
      uint64_t offset = 0;
      size_t chunks = 1 + Uniform(3);
      for (size_t i = 0; i < chunks; ++i) {
        uint64_t size = 1 + Uniform(500);
        blocks_.push_back(Block{MakeExternalLocator(object, offset, size), object.ToUrl(), offset});
        offset += size;
      }
    }
  }

  void MakeTree() {
    std::vector<std::string> dirs = {""};
    size_t ndirs = Uniform(5);
    for (size_t i = 0; i < ndirs; ++i) {
      const std::string& parent = dirs[Uniform(dirs.size())];
      std::string name = RandomName(("d" + std::to_string(i)).c_str());
      dirs.push_back(parent.empty() ? name : parent + "/" + name);
    }
    for (const std::string& d : dirs) {
      if (!d.empty()) expected_[d] = {ByteRun{"/", 0, 0}};
    }
    expected_[""] = {ByteRun{"/", 0, 0}};
    size_t nfiles = Uniform(8);
    for (size_t i = 0; i < nfiles; ++i) {
      File f{dirs[Uniform(dirs.size())], RandomName(("f" + std::to_string(i)).c_str()), {}};
      size_t nranges = Uniform(4);
      for (size_t r = 0; r < nranges; ++r) {
        size_t b = Uniform(blocks_.size());
        uint64_t size = blocks_[b].locator.size();
        uint64_t offset = Uniform(size);
        uint64_t length = 1 + Uniform(size - offset);
        f.ranges.push_back(Range{b, offset, length});
      }
      std::vector<ByteRun>& runs = expected_[Join(f.dir, f.name)];
      for (const Range& r : f.ranges) {
        const Block& b = blocks_[r.block];
        ByteRun run{b.source, b.source_offset + r.offset, r.length};
        if (!runs.empty() && runs.back().source == run.source &&
            runs.back().offset + runs.back().length == run.offset) {
          runs.back().length += run.length;
        } else {
          runs.push_back(run);
        }
      }
      files_.push_back(std::move(f));
    }
  }

  static std::string Join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
  }

  // Each range of each file goes to a stream for some ancestor directory of the file (the rest
  // of the path goes into the file token), in file order; empty files and empty directories get
  // 0:0 tokens. Streams may repeat and blocks may be listed in any order, with unused extras.
  std::string WriteManifest() {
    struct Stream {
      std::string dir;
      std::vector<size_t> blocks;
      std::vector<std::string> tokens;
    };
    std::vector<Stream> streams;
    auto stream_for = [&](const std::string& file_dir) -> Stream& {
      // Choose an ancestor of file_dir (or file_dir itself).
      std::vector<std::string> ancestors = {""};
      for (size_t p = file_dir.find('/'); p != std::string::npos; p = file_dir.find('/', p + 1)) {
        ancestors.push_back(file_dir.substr(0, p));
      }
      if (!file_dir.empty()) ancestors.push_back(file_dir);
      std::string dir = ancestors[Uniform(ancestors.size())];
      if (!streams.empty() && Chance(50) && streams.back().dir == dir) return streams.back();
      Stream s{dir, {}, {}};
      std::vector<size_t> order(blocks_.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng_);
      s.blocks = order;
      if (Chance(30)) s.blocks.push_back(order[0]);  // a block listed twice
      streams.push_back(s);
      return streams.back();
    };
    auto position = [&](const Stream& s, size_t block) {
      uint64_t pos = 0;
      for (size_t b : s.blocks) {
        if (b == block) return pos;
        pos += blocks_[b].locator.size();
      }
      ADD_FAILURE() << "block not in stream";
      return pos;
    };
    auto relative = [](const std::string& stream_dir, const File& f) {
      std::string path = Join(f.dir, f.name);
      return stream_dir.empty() ? path : path.substr(stream_dir.size() + 1);
    };
    for (const File& f : files_) {
      if (f.ranges.empty()) {
        Stream& s = stream_for(f.dir);
        s.tokens.push_back("0:0:" + Escape(relative(s.dir, f)));
        continue;
      }
      for (const Range& r : f.ranges) {
        Stream& s = stream_for(f.dir);
        std::string name = Escape(relative(s.dir, f));
        uint64_t start = position(s, r.block) + r.offset;
        if (Chance(30) && r.length > 1) {  // split one range into two tokens
          uint64_t half = r.length / 2;
          s.tokens.push_back(std::to_string(start) + ":" + std::to_string(half) + ":" + name);
          s.tokens.push_back(std::to_string(start + half) + ":" + std::to_string(r.length - half) +
                             ":" + name);
        } else {
          s.tokens.push_back(std::to_string(start) + ":" + std::to_string(r.length) + ":" + name);
        }
      }
    }
    // Empty directories need a marker; give one to some directories.
    std::vector<std::string> marked;
    for (const auto& [path, runs] : expected_) {
      if (runs.size() == 1 && runs[0].source == "/" && !path.empty() && Chance(50)) {
        streams.push_back(Stream{path, {blocks_.size()}, {Chance(50) ? "0:0:." : "0:0:\\056"}});
        marked.push_back(path);
      }
    }
    std::string text;
    for (const Stream& s : streams) {
      std::string name = ".";
      if (!s.dir.empty()) name += "/" + Escape(s.dir);
      text += name;
      for (size_t b : s.blocks) {
        text += " ";
        text +=
            b == blocks_.size() ? std::string(kEmptyBlockLocator) : blocks_[b].locator.ToString();
      }
      for (const std::string& t : s.tokens) text += " " + t;
      text += "\n";
    }
    // A directory exists if it holds a file or a marked directory, at any depth.
    ContentMapT pruned;
    for (const auto& [path, runs] : expected_) {
      bool is_dir = runs.size() == 1 && runs[0].source == "/";
      bool kept = !is_dir || path.empty() || HasDescendant(path, marked);
      if (kept) pruned[path] = runs;
    }
    expected_ = pruned;
    return text;
  }

  static bool IsSelfOrBelow(const std::string& path, const std::string& dir) {
    return path == dir || path.rfind(dir + "/", 0) == 0;
  }

  bool HasDescendant(const std::string& dir, const std::vector<std::string>& marked) const {
    for (const File& f : files_) {
      if (IsSelfOrBelow(f.dir, dir)) return true;
    }
    for (const std::string& m : marked) {
      if (IsSelfOrBelow(m, dir)) return true;
    }
    return false;
  }

  std::mt19937_64 rng_;
  std::vector<Block> blocks_;
  std::vector<File> files_;
  ContentMapT expected_;
};

TEST(ManifestPropertyTest, RandomCollections) {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomCollection gen(seed);
    std::string text = gen.Generate();
    SCOPED_TRACE(text);
    ASSERT_OK_AND_ASSIGN(Manifest parsed, Manifest::Parse(text));
    EXPECT_EQ(ContentMap(parsed), gen.expected());
    EXPECT_EQ(PortableDataHash(text), ReferencePdh(text));

    std::string normalized = parsed.ToText();
    EXPECT_EQ(PortableDataHash(normalized), ReferencePdh(normalized));
    ASSERT_OK_AND_ASSIGN(Manifest reparsed, Manifest::Parse(normalized));
    EXPECT_EQ(ContentMap(reparsed), gen.expected());  // parse(write(x)) == x
    EXPECT_EQ(reparsed.ToText(), normalized);         // idempotent
  }
}

}  // namespace
}  // namespace cairn::manifest
