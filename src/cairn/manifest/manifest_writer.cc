// Manifest::ToText: the canonical normalized manifest text (see manifest.h for the rules).
#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include "cairn/manifest/escape.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/manifest_internal.h"

namespace cairn::manifest {
namespace {

// An append-only text buffer that writes straight into its storage (std::string's append checks
// and copies cost more than the formatting itself for the millions of short pieces written).
class TextBuffer {
 public:
  void Append(std::string_view piece) {
    std::memcpy(Extend(piece.size()), piece.data(), piece.size());
  }
  void Append(char c) { *Extend(1) = c; }
  void AppendNumber(uint64_t n) {
    constexpr size_t kMaxDigits = 20;
    char* at = Extend(kMaxDigits);
    char* end = std::to_chars(at, at + kMaxDigits, n).ptr;
    size_ -= kMaxDigits - static_cast<size_t>(end - at);
  }
  void AppendLocator(const Locator& locator) {
    scratch_.clear();
    locator.AppendTo(&scratch_);
    Append(scratch_);
  }
  std::string_view view() const { return std::string_view(text_.data(), size_); }
  size_t size() const { return size_; }
  void Clear() { size_ = 0; }
  std::string Take() {
    text_.resize(size_);
    size_ = 0;
    return std::move(text_);
  }

 private:
  char* Extend(size_t n) {
    if (size_ + n > text_.size()) text_.resize(std::max(text_.size() * 2, size_ + n + 4096));
    char* at = text_.data() + size_;
    size_ += n;
    return at;
  }

  std::string text_;  // text_[0, size_) is written; the rest is room to grow
  size_t size_ = 0;
  std::string scratch_;
};

// 8 bytes of a name from `from` on, as a big-endian number: comparing these orders most names
// without touching their strings (names sort bytewise, as unsigned chars).
uint64_t SortKey(std::string_view name, size_t from) {
  unsigned char bytes[8] = {};
  if (from < name.size())
    std::memcpy(bytes, name.data() + from, std::min<size_t>(8, name.size() - from));
  uint64_t key = 0;
  for (unsigned char b : bytes) key = (key << 8) | b;
  return key;
}

}  // namespace

class Manifest::Writer {
 public:
  // With a sink, the text goes to it in pieces; without one, Run() returns it whole.
  Writer(const Manifest& m, const std::function<void(std::string_view)>* sink)
      : m_(m), sink_(sink), stamp_(m.blocks_.size(), 0), stream_pos_(m.blocks_.size(), 0) {}

  std::string Run() {
    WriteDirectory(kRoot, ".");
    if (sink_ != nullptr && out_.size() > 0) (*sink_)(out_.view());
    return sink_ != nullptr ? std::string() : out_.Take();
  }

 private:
  struct Entry {
    uint64_t key;
    std::string_view name;
    NodeId id;
  };

  void SortedChildren(NodeId dir, std::vector<NodeId>* files, std::vector<NodeId>* dirs) {
    const std::vector<NodeId>& children = m_.nodes_[dir].children;
    if (children.empty()) return;
    // Siblings often share a long prefix ("sample_00042_…"): key on the bytes after it.
    std::string_view first = m_.nodes_[children[0]].name;
    size_t common = first.size();
    for (NodeId c : children) {
      std::string_view name = m_.nodes_[c].name;
      size_t n = std::min(common, name.size());
      size_t i = 0;
      while (i < n && name[i] == first[i]) ++i;
      common = i;
      if (common == 0) break;
    }
    std::vector<Entry> entries;
    entries.reserve(children.size());
    for (NodeId c : children) {
      std::string_view name = m_.nodes_[c].name;
      entries.push_back(Entry{SortKey(name, common), name, c});
    }
    auto less = [](const Entry& a, const Entry& b) {
      if (a.key != b.key) return a.key < b.key;
      return a.name < b.name;
    };
    // Manifests written in canonical order parse into sorted children: skip the sort then.
    if (!std::is_sorted(entries.begin(), entries.end(), less)) {
      std::sort(entries.begin(), entries.end(), less);
    }
    for (const Entry& e : entries) {
      (m_.nodes_[e.id].kind == NodeKind::kDirectory ? dirs : files)->push_back(e.id);
    }
  }

  void WriteDirectory(NodeId dir, const std::string& stream_name) {
    std::vector<NodeId> files, dirs;
    SortedChildren(dir, &files, &dirs);
    if (files.empty() && dirs.empty() && dir != kRoot) {
      out_.Append(stream_name);
      out_.Append(' ');
      out_.Append(kEmptyBlockLocator);
      out_.Append(" 0:0:\\056\n");
      MaybeFlush();
      return;
    }
    if (!files.empty()) WriteStream(stream_name, files);
    std::string child_name;
    for (NodeId d : dirs) {
      child_name = stream_name;
      child_name += '/';
      AppendEscaped(m_.nodes_[d].name, &child_name);
      WriteDirectory(d, child_name);
    }
  }

  void WriteStream(const std::string& stream_name, const std::vector<NodeId>& files) {
    // Blocks in order of first use; stream_pos_ is valid for blocks stamped with this stream.
    ++generation_;
    blocks_.clear();
    uint64_t offset = 0;
    for (NodeId f : files) {
      for (const Extent& e : m_.nodes_[f].extents()) {
        if (stamp_[e.block] == generation_) continue;
        stamp_[e.block] = generation_;
        stream_pos_[e.block] = offset;
        offset += m_.blocks_[e.block].size();
        blocks_.push_back(e.block);
      }
    }
    out_.Append(stream_name);
    if (blocks_.empty()) {
      out_.Append(' ');
      out_.Append(kEmptyBlockLocator);
    } else {
      WriteBlocks();
    }
    for (NodeId f : files) {
      const Node& node = m_.nodes_[f];
      escaped_.clear();
      AppendEscaped(node.name, &escaped_);
      if (node.extent_count == 0) {
        out_.Append(" 0:0:");
        out_.Append(escaped_);
        continue;
      }
      uint64_t span_start = 0, span_end = 0;
      bool open = false;
      for (const Extent& e : node.extents()) {
        uint64_t at = stream_pos_[e.block] + e.offset;
        if (open && at == span_end) {
          span_end += e.length;
          continue;
        }
        if (open) WriteSegment(span_start, span_end);
        span_start = at;
        span_end = at + e.length;
        open = true;
      }
      WriteSegment(span_start, span_end);
    }
    out_.Append('\n');
    MaybeFlush();
  }

  void MaybeFlush() {
    constexpr size_t kFlushBytes = size_t{1} << 20;
    if (sink_ != nullptr && out_.size() >= kFlushBytes) {
      (*sink_)(out_.view());
      out_.Clear();
    }
  }

  void WriteSegment(uint64_t start, uint64_t end) {
    out_.Append(' ');
    out_.AppendNumber(start);
    out_.Append(':');
    out_.AppendNumber(end - start);
    out_.Append(':');
    out_.Append(escaped_);
  }

  // Writes the stream's locators, merging runs of contiguous chunks of one external object back
  // into one locator (the canonical form of external data). Signed chunks are written as they
  // are: merging would drop the +A signatures that prove the reader may use them.
  void WriteBlocks() {
    size_t i = 0;
    while (i < blocks_.size()) {
      const Locator& first = m_.blocks_[blocks_[i]];
      out_.Append(' ');
      if (!first.IsExternal() || first.FindHint('A')) {
        out_.AppendLocator(first);
        ++i;
        continue;
      }
      Locator merged = first;
      size_t j = i + 1;
      for (; j < blocks_.size(); ++j) {
        if (m_.blocks_[blocks_[j]].FindHint('A')) break;
        std::optional<Locator> next = MergeExternal(merged, m_.blocks_[blocks_[j]]);
        if (!next) break;
        merged = std::move(*next);
      }
      out_.AppendLocator(j == i + 1 ? first : merged);
      i = j;
    }
  }

  const Manifest& m_;
  const std::function<void(std::string_view)>* sink_;
  TextBuffer out_;
  std::string escaped_;
  std::vector<uint32_t> blocks_;
  std::vector<uint32_t> stamp_;
  std::vector<uint64_t> stream_pos_;
  uint32_t generation_ = 0;
};

std::string Manifest::ToText() const { return Writer(*this, nullptr).Run(); }

void Manifest::WriteText(const std::function<void(std::string_view)>& sink) const {
  Writer(*this, &sink).Run();
}

}  // namespace cairn::manifest
