#include "cairn/manifest/file_list_writer.h"

#include <functional>
#include <utility>
#include <vector>

#include "cairn/manifest/escape.h"
#include "cairn/manifest/manifest_internal.h"

namespace cairn::manifest {
namespace {

uint64_t PathHash(std::string_view path) { return std::hash<std::string_view>{}(path); }

}  // namespace

Status FileListWriter::AddFile(std::string_view path, std::span<const Locator> chunks) {
  auto refuse = [&](std::string_view why) {
    return InvalidArgumentError("\"" + std::string(path) + "\": " + std::string(why));
  };
  // Components first: every one a valid name.
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = path.find('/', start);
    std::string_view name =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (std::string_view problem = CheckComponent(name); !problem.empty()) return refuse(problem);
    parts.push_back(name);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // Then clashes: no directory of this path is a file, the path is no directory and no file yet.
  for (size_t i = 0, end = 0; i + 1 < parts.size(); ++i) {
    end += parts[i].size() + (i > 0 ? 1 : 0);
    if (files_.contains(PathHash(path.substr(0, end)))) {
      return refuse("\"" + std::string(path.substr(0, end)) + "\" is a file, not a directory");
    }
  }
  if (directories_.contains(std::string(path))) return refuse("a directory has that name");
  if (!files_.insert(PathHash(path)).second) return refuse("a file has that name already");
  for (size_t i = 0, end = 0; i + 1 < parts.size(); ++i) {
    end += parts[i].size() + (i > 0 ? 1 : 0);
    directories_.emplace(path.substr(0, end));
  }
  // ". /dir/sub loc loc 0:size:name\n"
  text_ += '.';
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    text_ += '/';
    AppendEscaped(parts[i], &text_);
  }
  uint64_t size = 0;
  for (const Locator& chunk : chunks) {
    text_ += ' ';
    text_ += chunk.ToString();
    size += chunk.size();
  }
  if (chunks.empty()) {
    text_ += ' ';
    text_ += kEmptyBlockLocator;
  }
  text_ += " 0:" + std::to_string(size) + ":";
  AppendEscaped(parts.back(), &text_);
  text_ += '\n';
  ++file_count_;
  return Status();
}

std::string FileListWriter::Release() {
  std::string text = std::move(text_);
  *this = FileListWriter();
  return text;
}

}  // namespace cairn::manifest
