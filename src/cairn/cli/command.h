// Shared plumbing of the `cairn` subcommands: registration, input, output and exit codes.
#ifndef CAIRN_CLI_COMMAND_H_
#define CAIRN_CLI_COMMAND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/io/env.h"

namespace CLI {
class App;
}

namespace cairn::cli {

// Exit codes, documented in `cairn --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // the command ran and failed (message on stderr)
inline constexpr int kExitUsage = 2;  // bad command line

// Set by the subcommand that ran.
struct RunState {
  int exit_code = kExitOk;
};

// Each file of commands adds its subcommands to `app`; callbacks record their exit code in *state.
void RegisterManifestCommands(CLI::App& app, RunState* state);
void RegisterLocatorCommands(CLI::App& app, RunState* state);
void RegisterObjCommands(CLI::App& app, RunState* state);
void RegisterKeepCommands(CLI::App& app, RunState* state);
void RegisterApiCommand(CLI::App& app, RunState* state);
void RegisterAdminCommands(CLI::App& app, RunState* state);
void RegisterKeepstoreCommand(CLI::App& app, RunState* state);
void RegisterMpuCommands(CLI::App& app, RunState* state);
void RegisterServerCommand(CLI::App& app, RunState* state);
void RegisterRemoteCommands(CLI::App& app, RunState* state);
void RegisterMaterializeCommand(CLI::App& app, RunState* state);
void RegisterMountCommand(CLI::App& app, RunState* state);
// Writes a secret (a token) to `path`, created with mode 0600 and renamed into place.
Status WriteSecretFile(const std::string& path, std::string_view contents);

// The help text of `command`, whose full name is `full_name` ("cairn manifest pdh").
std::string HelpText(const CLI::App* command, const std::string& full_name);

// A command that only groups subcommands (`cairn manifest`): run alone, it prints its help.
CLI::App* AddCommandGroup(CLI::App& app, const std::string& name, const std::string& description);

// The bytes of FILE, or of standard input for "-".
Result<std::unique_ptr<io::FileContents>> ReadInput(const std::string& path);

// Prints "cairn: <message>" on stderr and returns kExitError.
int ReportError(const Status& status);

// `unix_seconds` in UTC with a strftime `format` ("%Y-%m-%dT%H:%M:%SZ").
std::string FormatUtc(int64_t unix_seconds, const char* format);

// Writes all of `data` to standard output; an error if it could not (e.g. a closed pipe).
Status WriteStdout(std::string_view data);

// The blob signing key in `path` ("-": standard input), without trailing whitespace: every service
// reads it this way, so the catalog and the keepstores agree on the key. kInvalidArgument if empty.
Result<std::string> ReadBlobSigningKey(const std::string& path);

// Blocks SIGINT and SIGTERM in the calling thread so that WaitForTerminationSignal takes them.
// Call it before any thread starts: threads inherit the mask.
void BlockTerminationSignals();

// Waits for SIGINT or SIGTERM (REQUIRES: BlockTerminationSignals()); returns its name.
const char* WaitForTerminationSignal();

// The client settings file: $XDG_CONFIG_HOME/cairn/config, else ~/.config/cairn/config, with lines
// NAME=value (CAIRN_API_HOST=…, CAIRN_API_TOKEN=…).
std::string ClientConfigPath();

// The environment variable `name` when set and not empty, else the value of its NAME=value line
// in ClientConfigPath(), else "" (a missing file is no error).
Result<std::string> ClientSetting(std::string_view name);

// A secret given as --token or read from --token-file (a path, or "-" for standard input; one
// line, surrounding whitespace removed). Exactly one must be given.
Result<std::string> ResolveToken(const std::string& token, const std::string& token_file);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_COMMAND_H_
