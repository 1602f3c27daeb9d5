#include "cairn/cli/command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace cairn::cli {
namespace {

class OwnedContents : public io::FileContents {
 public:
  explicit OwnedContents(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string_view data() const override { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace

std::string HelpText(const CLI::App* command, const std::string& full_name) {
  // Not App::help(): once a subcommand was parsed, it prints that subcommand's help instead.
  return command->get_formatter()->make_help(command, full_name, CLI::AppFormatMode::Normal);
}

CLI::App* AddCommandGroup(CLI::App& app, const std::string& name, const std::string& description) {
  CLI::App* group = app.add_subcommand(name, description);
  group->require_subcommand(0, 1);
  group->callback([group, &app] {
    if (group->get_subcommands().empty()) {
      std::fputs(HelpText(group, app.get_name() + " " + group->get_name()).c_str(), stdout);
    }
  });
  return group;
}

Result<std::unique_ptr<io::FileContents>> ReadInput(const std::string& path) {
  if (path == "-") {
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, io::ReadAllFromFd(STDIN_FILENO, "standard input"));
    return std::unique_ptr<io::FileContents>(new OwnedContents(std::move(bytes)));
  }
  return io::Env::Default()->ReadFile(path);
}

int ReportError(const Status& status) {
  // The message already carries its context; HTTP facts follow in parentheses, as in ToString.
  std::string line = "cairn: ";
  line += status.message();
  const ErrorDetail& d = status.detail();
  if (d.http_status != 0) {
    line += " (HTTP " + std::to_string(d.http_status);
    if (!d.service_code.empty() &&
        status.message().find(d.service_code) == std::string_view::npos) {
      line += ", " + d.service_code;
    }
    if (!d.request_id.empty()) line += ", request id " + d.request_id;
    line += ")";
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  return kExitError;
}

std::string FormatUtc(int64_t unix_seconds, const char* format) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), format, &tm);
  return std::string(buf, n);
}

Status WriteStdout(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write standard output", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

Result<std::string> ResolveToken(const std::string& token, const std::string& token_file) {
  if (!token.empty() && !token_file.empty()) {
    return InvalidArgumentError("give either --token or --token-file, not both");
  }
  if (!token.empty()) return token;
  if (token_file.empty())
    return InvalidArgumentError("a token is required: --token-file or --token");
  CAIRN_ASSIGN_OR_RETURN(auto contents, ReadInput(token_file));
  std::string_view text = contents->data();
  size_t nl = text.find('\n');
  if (nl != std::string_view::npos &&
      text.find_first_not_of(" \t\r\n", nl) != std::string_view::npos) {
    return InvalidArgumentError("token file " + token_file + " holds more than one line");
  }
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos)
    return InvalidArgumentError("token file " + token_file + " is empty");
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string ClientConfigPath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/cairn/config";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/cairn/config";
}

Result<std::string> ClientSetting(std::string_view name) {
  const std::string key(name);
  const char* env = std::getenv(key.c_str());
  if (env != nullptr && env[0] != '\0') return std::string(env);
  Result<std::unique_ptr<io::FileContents>> contents =
      io::Env::Default()->ReadFile(ClientConfigPath());
  if (!contents.ok()) {
    if (contents.status().code() == StatusCode::kNotFound) return std::string();
    return contents.status();
  }
  std::string_view text = (*contents)->data();
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=') {
      return std::string(line.substr(key.size() + 1));
    }
  }
  return std::string();
}

Result<std::string> ReadBlobSigningKey(const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(auto contents, ReadInput(path));
  std::string_view key = contents->data();
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.remove_suffix(1);
  if (key.empty()) return InvalidArgumentError("blob signing key file " + path + " is empty");
  return std::string(key);
}

namespace {
sigset_t TerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}
}  // namespace

void BlockTerminationSignals() {
  sigset_t signals = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

const char* WaitForTerminationSignal() {
  sigset_t signals = TerminationSignals();
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

}  // namespace cairn::cli
