// cairn manifest pdh | normalize | validate | ls
#include <CLI/CLI.hpp>

#include <string>

#include "cairn/cli/command.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/pdh.h"

namespace cairn::cli {
namespace {

constexpr char kFileHelp[] = "Manifest file, or - for standard input";

// Reads and parses FILE; errors name the file.
Result<manifest::Manifest> LoadManifest(const std::string& path) {
  std::string name = path == "-" ? "standard input" : path;
  CAIRN_ASSIGN_OR_RETURN(auto contents, ReadInput(path));
  Result<manifest::Manifest> parsed = manifest::Manifest::Parse(contents->data());
  if (!parsed.ok()) return parsed.status().WithContext(name);
  return parsed;
}

std::string Count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string FormatSize(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 5) v /= 1024, ++unit;
  char buf[32];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace

void RegisterManifestCommands(CLI::App& app, RunState* state) {
  CLI::App* manifest = AddCommandGroup(app, "manifest", "Check, normalize and hash manifest text");
  manifest->footer(
      "Manifests are Arvados Keep manifests: one line per stream, `stream-name locator…\n"
      "pos:len:name…`. Cairn writes one canonical form; see docs/formats.md.\n"
      "\n"
      "Examples:\n"
      "  cairn manifest validate run42.manifest\n"
      "  cairn manifest normalize run42.manifest | cairn manifest pdh -");

  // CLI11 binds options by address: the values live as long as the process.
  static std::string file_storage = "-";
  static bool quiet_storage = false;
  std::string* file = &file_storage;
  bool* quiet = &quiet_storage;

  CLI::App* pdh =
      manifest->add_subcommand("pdh", "Print the portable data hash of the text as given");
  pdh->add_option("FILE", *file, kFileHelp);
  pdh->footer(
      "The portable data hash is the MD5 of the text with locator hints removed, then '+' and\n"
      "that text's length. It is taken over the text as given, not normalized; the text is not\n"
      "validated (use `cairn manifest validate`).");
  pdh->callback([file, state] {
    Result<std::unique_ptr<io::FileContents>> contents = ReadInput(*file);
    if (!contents.ok()) {
      state->exit_code = ReportError(contents.status());
      return;
    }
    Status s = WriteStdout(manifest::PortableDataHash((*contents)->data()) + "\n");
    if (!s.ok()) state->exit_code = ReportError(s);
  });

  CLI::App* normalize =
      manifest->add_subcommand("normalize", "Validate and print the canonical normalized text");
  normalize->add_option("FILE", *file, kFileHelp);
  normalize->footer(
      "Streams in tree order, each block once per stream in first-use order, contiguous\n"
      "segments merged, empty files and directories kept, external chunks merged.\n"
      "Normalizing twice gives the same text.");
  normalize->callback([file, state] {
    Result<manifest::Manifest> m = LoadManifest(*file);
    if (!m.ok()) {
      state->exit_code = ReportError(m.status());
      return;
    }
    Status s;
    m->WriteText([&s](std::string_view piece) {
      if (s.ok()) s = WriteStdout(piece);
    });
    if (!s.ok()) state->exit_code = ReportError(s);
  });

  CLI::App* validate = manifest->add_subcommand(
      "validate", "Check every rule of the format; report the first error");
  validate->add_option("FILE", *file, kFileHelp);
  validate->add_flag("-q,--quiet", *quiet, "Print nothing when the manifest is valid");
  validate->footer(
      "Exit status 0 if valid (with a summary unless -q); 1 with `FILE: line L, column C: what\n"
      "is wrong` on stderr otherwise.");
  validate->callback([file, quiet, state] {
    Result<manifest::Manifest> m = LoadManifest(*file);
    if (!m.ok()) {
      state->exit_code = ReportError(m.status());
      return;
    }
    if (*quiet) return;
    uint64_t bytes = m->total_file_size();
    std::string line = "valid: " + Count(m->file_count(), "file", "files") + ", " +
                       Count(m->directory_count(), "directory", "directories") + ", " +
                       Count(m->blocks().size(), "block", "blocks") + ", " + FormatSize(bytes) +
                       "\n";
    Status s = WriteStdout(line);
    if (!s.ok()) state->exit_code = ReportError(s);
  });

  CLI::App* ls = manifest->add_subcommand("ls", "List files and sizes in tree order");
  ls->add_option("FILE", *file, kFileHelp);
  ls->callback([file, state] {
    Result<manifest::Manifest> m = LoadManifest(*file);
    if (!m.ok()) {
      state->exit_code = ReportError(m.status());
      return;
    }
    std::string out;
    // Depth first, sorted: the order of the normalized manifest.
    std::vector<manifest::Manifest::NodeId> stack = {manifest::Manifest::kRoot};
    while (!stack.empty()) {
      auto n = stack.back();
      stack.pop_back();
      if (n != manifest::Manifest::kRoot) {
        if (m->IsDirectory(n)) {
          out += std::string(12, ' ') + "  " + m->Path(n) + "/\n";
        } else {
          std::string size = std::to_string(m->FileSize(n));
          out += std::string(size.size() < 12 ? 12 - size.size() : 0, ' ') + size + "  " +
                 m->Path(n) + "\n";
        }
      }
      std::vector<manifest::Manifest::NodeId> children = m->Children(n);
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
    }
    Status s = WriteStdout(out);
    if (!s.ok()) state->exit_code = ReportError(s);
  });
}

}  // namespace cairn::cli
