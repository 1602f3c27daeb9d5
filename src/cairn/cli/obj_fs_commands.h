// `cairn obj` on any object store through the FileSystem facade (objstore/fs): every subcommand
// for swift://container/object URLs, and `rm -r` / `mv -r` within one bucket or container for
// s3:// too (FileSystem Delete and Rename on a bounded pool of --jobs threads). The S3-only paths
// of obj_commands.cc and obj_transfer_commands.cc handle the rest.
#ifndef CAIRN_CLI_OBJ_FS_COMMANDS_H_
#define CAIRN_CLI_OBJ_FS_COMMANDS_H_

#include <string>
#include <string_view>

#include "cairn/common/status.h"

namespace CLI {
class App;
}

namespace cairn::cli {

struct FsCommandArgs {
  std::string verb;  // ls, stat, cat, rm, mb, rb, cp, mv
  std::string url;   // the URL of one-URL commands; the SOURCE of cp and mv
  std::string destination;
  bool recursive = false;
  bool json = false;
  bool force = false;
  bool quiet = false;
  // S3 connection flags (s3:// URLs), as obj_commands.cc takes them.
  std::string profile;
  std::string region;
  std::string endpoint_url;
};

// Whether `verb` on these URLs goes through this file: a swift:// URL anywhere, or rm -r of an
// s3:// prefix, or mv -r within one s3:// bucket.
bool UseFsCommand(std::string_view verb, std::string_view url, std::string_view destination,
                  bool recursive);

// Runs ls, stat, cat, rm, mb or rb; the caller reports the error.
Status RunFsCommand(const FsCommandArgs& args);
// Runs cp or mv; reports errors itself and returns the exit code.
int RunFsCopy(const FsCommandArgs& args);

// Adds `--jobs N` (copies, renames and deletes in flight; default 16) to a subcommand.
void AddJobsFlag(CLI::App* command);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_OBJ_FS_COMMANDS_H_
