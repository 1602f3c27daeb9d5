// The `cairn` binary: one command with subcommands (DESIGN.md §2).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "cairn/cli/command.h"

namespace cairn::cli {
namespace {

constexpr char kFooter[] =
    "Run `cairn help COMMAND [SUBCOMMAND]` (or add --help) for the details of a command.\n"
    "\n"
    "Environment:\n"
    "  CAIRN_BLOB_SIGNING_KEY  key of Keep permission signatures (locator sign/verify)\n"
    "\n"
    "Exit status: 0 success, 1 the command failed (message on stderr), 2 bad usage.\n"
    "Documentation: README.md and docs/ in the source tree.";

// `cairn help [COMMAND [SUBCOMMAND…]]` prints the help of that command.
int PrintHelp(CLI::App& app, const std::vector<std::string>& path) {
  CLI::App* target = &app;
  std::string prefix = "cairn";
  for (const std::string& name : path) {
    CLI::App* next = nullptr;
    for (CLI::App* sub : target->get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_name() == name) next = sub;
    }
    if (next == nullptr) {
      std::fprintf(stderr, "cairn: %s has no command \"%s\"; see `%s --help`\n", prefix.c_str(),
                   name.c_str(), prefix.c_str());
      return kExitUsage;
    }
    target = next;
    prefix += " " + name;
  }
  std::fputs(HelpText(target, prefix).c_str(), stdout);
  return kExitOk;
}

int Main(int argc, char** argv) {
  CLI::App app(
      "Cairn keeps, shares and computes on datasets wherever their bytes live: on its\n"
      "own block servers or in S3 and Swift object stores.",
      "cairn");
  app.set_version_flag("--version", std::string("cairn ") + CAIRN_VERSION);
  app.require_subcommand(0, 1);

  RunState state;
  RegisterManifestCommands(app, &state);
  RegisterLocatorCommands(app, &state);
  RegisterObjCommands(app, &state);
  RegisterKeepCommands(app, &state);
  RegisterApiCommand(app, &state);
  RegisterAdminCommands(app, &state);
  RegisterKeepstoreCommand(app, &state);
  RegisterMpuCommands(app, &state);
  RegisterServerCommand(app, &state);
  RegisterRemoteCommands(app, &state);
  RegisterMaterializeCommand(app, &state);
  RegisterMountCommand(app, &state);

  std::vector<std::string> help_path;
  CLI::App* help = app.add_subcommand("help", "Show the help of a command");
  help->add_option("COMMAND", help_path, "Command and subcommands, e.g. `manifest pdh`");
  help->callback([&] { state.exit_code = PrintHelp(app, help_path); });
  // Set last: subcommands copy their parent's footer when they are created.
  app.footer(kFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (app.get_subcommands().empty()) {
    std::fputs(HelpText(&app, "cairn").c_str(), stdout);
    return kExitOk;
  }
  return state.exit_code;
}

}  // namespace
}  // namespace cairn::cli

int main(int argc, char** argv) { return cairn::cli::Main(argc, argv); }
