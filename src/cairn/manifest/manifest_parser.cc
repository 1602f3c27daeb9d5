// Manifest::Parse: manifest text -> tree, checking every rule of arvados-keep.md §2.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "cairn/common/text.h"
#include "cairn/manifest/escape.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/manifest_internal.h"

namespace cairn::manifest {
namespace {

// Offset of the first byte of `s` that does not start a valid UTF-8 sequence, or s.size().
size_t FindInvalidUtf8(std::string_view s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(p + i, s.size() - i);
    if (len == 0) return i;
    i += len;
  }
  return s.size();
}

// Parses a decimal number (leading zeros allowed, as Arvados readers accept them).
bool ParseDecimal(std::string_view digits, uint64_t* out) {
  if (digits.empty()) return false;
  uint64_t value = 0;
  for (char c : digits) {
    unsigned digit = static_cast<unsigned char>(c) - unsigned{'0'};
    if (digit > 9 || __builtin_mul_overflow(value, 10, &value) ||
        __builtin_add_overflow(value, digit, &value)) {
      return false;
    }
  }
  *out = value;
  return true;
}

}  // namespace

class Manifest::Parser {
 public:
  Parser(std::string_view text, Manifest* manifest) : text_(text), m_(manifest) {}

  Status Run() {
    if (text_.empty()) return Status();
    size_t begin = 0;
    while (begin < text_.size()) {
      ++line_no_;
      line_start_ = begin;
      const void* nl = std::memchr(text_.data() + begin, '\n', text_.size() - begin);
      if (nl == nullptr) {
        return ErrorAt(text_.size(), "the manifest does not end with a newline");
      }
      size_t end = static_cast<const char*>(nl) - text_.data();
      CAIRN_RETURN_IF_ERROR(ParseStream(begin, end));
      begin = end + 1;
    }
    return Status();
  }

 private:
  Status ErrorAt(size_t pos, std::string_view what) const {
    return InvalidArgumentError("line " + std::to_string(line_no_) + ", column " +
                                std::to_string(pos - line_start_ + 1) + ": " + std::string(what));
  }

  // Finds the end of the token at `pos` (a space or `end`) while checking its bytes: no control
  // characters, valid UTF-8.
  Status ScanToken(size_t pos, size_t end, size_t* token_end) const {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(text_.data());
    size_t i = pos;
    while (i < end) {
      i += FindSpaceControlOrNonAscii(text_.data() + i, end - i);
      if (i == end) break;
      unsigned char c = p[i];
      if (c == ' ') break;
      if (c < 0x20) {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", c);
        return ErrorAt(
            i, std::string("control character ") + hex + " is not allowed (escape it as \\ooo)");
      }
      size_t len = Utf8SequenceLength(p + i, end - i);
      if (len == 0) return ErrorAt(i, "invalid UTF-8");
      i += len;
    }
    if (i == pos) {
      return ErrorAt(pos, pos == end ? "empty token at the end of the line (trailing space?)"
                                     : "empty token (two spaces in a row?)");
    }
    *token_end = i;
    return Status();
  }

  // Escapes decode to single bytes (\303\251 is "é"); names must still be valid UTF-8, so an
  // escape of a lone byte >= 0x80 is an error. The raw text was checked by ScanToken already.
  Status CheckDecodedUtf8(size_t pos, std::string_view escaped, std::string_view what) const {
    if (name_.size() == escaped.size()) return Status();  // no escapes
    size_t bad = FindInvalidUtf8(name_);
    if (bad == name_.size()) return Status();
    return ErrorAt(pos, std::string(what) + " " + QuoteForMessage(escaped) +
                            " decodes to invalid UTF-8 (an escape of a byte >= \\200 must be "
                            "part of a UTF-8 sequence)");
  }

  Status ParseStream(size_t begin, size_t end) {
    if (begin == end) return ErrorAt(begin, "empty line (a stream needs a name, blocks and files)");
    size_t pos = begin;
    size_t token_end;
    CAIRN_RETURN_IF_ERROR(ScanToken(pos, end, &token_end));
    CAIRN_RETURN_IF_ERROR(ParseStreamName(pos, token_end));

    // Blocks.
    stream_blocks_.clear();
    stream_starts_.assign(1, 0);
    last_block_ = 0;
    for (;;) {
      if (token_end == end) {
        return ErrorAt(end, stream_blocks_.empty() ? "expected a locator after the stream name"
                                                   : "expected a file segment pos:len:name");
      }
      pos = token_end + 1;
      CAIRN_RETURN_IF_ERROR(ScanToken(pos, end, &token_end));
      std::string_view token = text_.substr(pos, token_end - pos);
      if (!Locator::LooksLikeLocator(token)) break;
      CAIRN_RETURN_IF_ERROR(AddLocator(pos, token));
    }
    if (stream_blocks_.empty()) {
      return ErrorAt(pos, "expected a locator after the stream name, found " +
                              QuoteForMessage(text_.substr(pos, token_end - pos)));
    }

    // Files.
    for (;;) {
      CAIRN_RETURN_IF_ERROR(AddSegment(pos, text_.substr(pos, token_end - pos)));
      if (token_end == end) return Status();
      pos = token_end + 1;
      CAIRN_RETURN_IF_ERROR(ScanToken(pos, end, &token_end));
    }
  }

  Status ParseStreamName(size_t pos, size_t token_end) {
    std::string_view token = text_.substr(pos, token_end - pos);
    size_t bad;
    if (!Unescape(token, &name_, &bad)) {
      return ErrorAt(pos + bad,
                     "invalid escape in stream name (expected \\ and 3 octal digits "
                     "with a value up to \\377)");
    }
    CAIRN_RETURN_IF_ERROR(CheckDecodedUtf8(pos, token, "stream name"));
    if (name_.empty() || name_[0] != '.' || (name_.size() > 1 && name_[1] != '/')) {
      return ErrorAt(
          pos, "stream name " + QuoteForMessage(token) + " must be \".\" or start with \"./\"");
    }
    if (name_.size() == 1) {
      stream_dir_ = kRoot;
      return Status();
    }
    std::string_view path = std::string_view(name_).substr(2);
    Result<NodeId> dir = m_->Walk(kRoot, path, NodeKind::kDirectory);
    if (!dir.ok()) {
      return ErrorAt(pos, "stream name " + QuoteForMessage(token) + ": " +
                              std::string(dir.status().message()));
    }
    stream_dir_ = *dir;
    return Status();
  }

  Status AddLocator(size_t pos, std::string_view token) {
    Result<Locator> parsed = Locator::Parse(token);
    if (!parsed.ok()) return ErrorAt(pos, parsed.status().message());
    Locator& locator = *parsed;
    if (locator.IsExternal()) {
      if (Status s = DecodeExternal(locator).status(); !s.ok()) return ErrorAt(pos, s.message());
      if (locator.size() > kMaxExternalSize) {
        return ErrorAt(pos, "external locator " + QuoteForMessage(token) + " names " +
                                std::to_string(locator.size()) +
                                " bytes, more than the 5 TiB limit of an object");
      }
      if (locator.size() > kMaxBlockSize) {
        for (const Locator& chunk : SplitExternal(locator)) AppendBlock(m_->AddBlock(chunk));
        return Status();
      }
    } else if (locator.size() > kMaxBlockSize) {
      return ErrorAt(pos, "block " + QuoteForMessage(token) +
                              " is larger than the 64 MiB (67108864 bytes) "
                              "limit of a Keep block");
    }
    // Most locators are new: key the dedup table by the token text itself.
    auto [it, inserted] = m_->index_->block_ids.try_emplace(
        std::string(token), static_cast<uint32_t>(m_->blocks_.size()));
    if (inserted) m_->blocks_.push_back(std::move(locator));
    AppendBlock(it->second);
    return Status();
  }

  void AppendBlock(uint32_t block) {
    stream_blocks_.push_back(block);
    stream_starts_.push_back(stream_starts_.back() + m_->blocks_[block].size());
  }

  Status AddSegment(size_t pos, std::string_view token) {
    // pos:len:name — the two numbers are plain decimal (escapes are not decoded in them).
    size_t c1 = token.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : token.find(':', c1 + 1);
    uint64_t seg_pos, seg_len;
    if (c2 == std::string_view::npos || !ParseDecimal(token.substr(0, c1), &seg_pos) ||
        !ParseDecimal(token.substr(c1 + 1, c2 - c1 - 1), &seg_len)) {
      if (Locator::LooksLikeLocator(token)) {
        return ErrorAt(pos, "locator " + QuoteForMessage(token) +
                                " after the file segments (all locators "
                                "of a stream come before its files)");
      }
      return ErrorAt(pos, "expected a file segment pos:len:name, found " + QuoteForMessage(token));
    }
    std::string_view escaped = token.substr(c2 + 1);
    size_t name_pos = pos + c2 + 1;
    size_t bad;
    if (!Unescape(escaped, &name_, &bad)) {
      return ErrorAt(name_pos + bad,
                     "invalid escape in file name (expected \\ and 3 octal "
                     "digits with a value up to \\377)");
    }
    if (name_.empty())
      return ErrorAt(name_pos, "file segment " + QuoteForMessage(token) + " has no name");
    CAIRN_RETURN_IF_ERROR(CheckDecodedUtf8(name_pos, escaped, "file name"));
    uint64_t stream_len = stream_starts_.back();
    if (seg_pos > stream_len || seg_len > stream_len - seg_pos) {
      return ErrorAt(pos, "file segment " + QuoteForMessage(token) + " ends at byte " +
                              std::to_string(seg_pos + seg_len) + ", beyond the " +
                              std::to_string(stream_len) + "-byte stream");
    }
    if (name_ == ".") {
      // The empty-directory marker is exactly "0:0:." or "0:0:\056" (the Rails validator's
      // rule); no other segment may be named ".".
      if (token.substr(0, c2 + 1) != "0:0:") {
        return ErrorAt(pos, "file segment " + QuoteForMessage(token) +
                                " names \".\"; only \"0:0:.\" (an empty-directory marker) may");
      }
      return Status();
    }
    Result<NodeId> file = m_->Walk(stream_dir_, name_, NodeKind::kFile);
    if (!file.ok()) {
      return ErrorAt(name_pos, "file name " + QuoteForMessage(escaped) + ": " +
                                   std::string(file.status().message()));
    }
    return MapRange(*file, seg_pos, seg_len);
  }

  // Appends the stream bytes [pos, pos+len) to `file` as block extents.
  Status MapRange(NodeId file, uint64_t pos, uint64_t len) {
    if (len == 0) return Status();
    // Files usually follow one another through the stream: try the block the last one ended in.
    size_t b = last_block_;
    if (!(stream_starts_[b] <= pos && pos < stream_starts_[b + 1])) {
      b = std::upper_bound(stream_starts_.begin(), stream_starts_.end(), pos) -
          stream_starts_.begin() - 1;
    }
    Node& node = m_->nodes_[file];
    while (len > 0) {
      uint64_t block_end = stream_starts_[b + 1];
      if (pos >= block_end) {  // empty blocks, or the end of the previous one
        ++b;
        continue;
      }
      uint64_t offset = pos - stream_starts_[b];
      uint64_t take = std::min(len, block_end - pos);
      uint32_t block = stream_blocks_[b];
      node.AppendExtent(Extent{block, offset, take});
      pos += take;
      len -= take;
    }
    last_block_ = b;
    return Status();
  }

  std::string_view text_;
  Manifest* m_;
  size_t line_no_ = 0;
  size_t line_start_ = 0;
  NodeId stream_dir_ = kRoot;
  std::vector<uint32_t> stream_blocks_;
  std::vector<uint64_t> stream_starts_;  // stream offset of each block; back() = stream length
  size_t last_block_ = 0;
  std::string name_;  // scratch for unescaped names
};

Result<Manifest> Manifest::Parse(std::string_view text) {
  Manifest manifest;

  Parser parser(text, &manifest);
  CAIRN_RETURN_IF_ERROR(parser.Run());
  return manifest;
}

}  // namespace cairn::manifest
