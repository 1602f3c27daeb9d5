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

void AppendNumber(uint64_t n, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  out->append(buf, end);
}

// The first 8 bytes of a name as a big-endian number: comparing these orders most names without
// touching their strings (names sort bytewise, as unsigned chars).
uint64_t SortPrefix(std::string_view name) {
  unsigned char bytes[8] = {};
  std::memcpy(bytes, name.data(), std::min<size_t>(8, name.size()));
  uint64_t key = 0;
  for (unsigned char b : bytes) key = (key << 8) | b;
  return key;
}

}  // namespace

class Manifest::Writer {
 public:
  explicit Writer(const Manifest& m)
      : m_(m), stamp_(m.blocks_.size(), 0), stream_pos_(m.blocks_.size(), 0) {}

  std::string Run() {
    WriteDirectory(kRoot, ".");
    return std::move(out_);
  }

 private:
  struct Entry {
    uint64_t prefix;
    NodeId id;
  };

  void SortedChildren(NodeId dir, std::vector<NodeId>* files, std::vector<NodeId>* dirs) {
    const std::vector<NodeId>& children = m_.nodes_[dir].children;
    std::vector<Entry> entries;
    entries.reserve(children.size());
    for (NodeId c : children) entries.push_back(Entry{SortPrefix(m_.nodes_[c].name), c});
    auto less = [this](const Entry& a, const Entry& b) {
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      return m_.nodes_[a.id].name < m_.nodes_[b.id].name;
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
      out_ += stream_name;
      out_ += " ";
      out_ += kEmptyBlockLocator;
      out_ += " 0:0:\\056\n";
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
      for (const Extent& e : m_.nodes_[f].extents) {
        if (stamp_[e.block] == generation_) continue;
        stamp_[e.block] = generation_;
        stream_pos_[e.block] = offset;
        offset += m_.blocks_[e.block].size();
        blocks_.push_back(e.block);
      }
    }
    out_ += stream_name;
    if (blocks_.empty()) {
      out_ += ' ';
      out_ += kEmptyBlockLocator;
    } else {
      WriteBlocks();
    }
    for (NodeId f : files) {
      const Node& node = m_.nodes_[f];
      escaped_.clear();
      AppendEscaped(node.name, &escaped_);
      if (node.extents.empty()) {
        out_ += " 0:0:";
        out_ += escaped_;
        continue;
      }
      uint64_t span_start = 0, span_end = 0;
      bool open = false;
      for (const Extent& e : node.extents) {
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
    out_ += '\n';
  }

  void WriteSegment(uint64_t start, uint64_t end) {
    out_ += ' ';
    AppendNumber(start, &out_);
    out_ += ':';
    AppendNumber(end - start, &out_);
    out_ += ':';
    out_ += escaped_;
  }

  // Writes the stream's locators, merging runs of contiguous chunks of one external object back
  // into one locator (the canonical form of external data).
  void WriteBlocks() {
    size_t i = 0;
    while (i < blocks_.size()) {
      const Locator& first = m_.blocks_[blocks_[i]];
      out_ += ' ';
      if (!first.IsExternal()) {
        first.AppendTo(&out_);
        ++i;
        continue;
      }
      Locator merged = first;
      size_t j = i + 1;
      for (; j < blocks_.size(); ++j) {
        std::optional<Locator> next = MergeExternal(merged, m_.blocks_[blocks_[j]]);
        if (!next) break;
        merged = std::move(*next);
      }
      (j == i + 1 ? first : merged).AppendTo(&out_);
      i = j;
    }
  }

  const Manifest& m_;
  std::string out_;
  std::string escaped_;
  std::vector<uint32_t> blocks_;
  std::vector<uint32_t> stamp_;
  std::vector<uint64_t> stream_pos_;
  uint32_t generation_ = 0;
};

std::string Manifest::ToText() const { return Writer(*this).Run(); }

}  // namespace cairn::manifest
