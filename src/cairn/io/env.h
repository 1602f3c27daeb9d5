// Env: the one door to the operating system (files, clock, sleep), after leveldb's Env.
//
// Everything above `io` receives an Env* instead of calling the OS, so tests can substitute a
// fault-injecting or in-memory Env. Env::Default() is the POSIX implementation.
//
// Thread safety: every Env method may be called concurrently. The Env returned by Default() lives
// for the whole process; objects returned by an Env are owned by the caller.
#ifndef CAIRN_IO_ENV_H_
#define CAIRN_IO_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::io {

// A read-only view of a whole file's bytes (memory-mapped when possible). The bytes stay valid
// for the object's lifetime. Not thread-hostile: data() may be read from many threads.
class FileContents {
 public:
  virtual ~FileContents() = default;
  virtual std::string_view data() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env.
  static Env* Default();

  // The whole file at `path`, mapped read-only (regular files) or read into memory (pipes,
  // /dev/stdin and other unmappable files). Errors name the path.
  virtual Result<std::unique_ptr<FileContents>> ReadFile(const std::string& path) = 0;

  // Replaces `path` with `data` atomically: write to a temporary file in the same directory,
  // fsync it, rename over `path`, fsync the directory. On error nothing is left behind and an
  // existing `path` is unchanged.
  virtual Status WriteFileAtomically(const std::string& path, std::string_view data) = 0;

  // Wall-clock time.
  virtual int64_t NowUnixSeconds() = 0;
  virtual int64_t NowUnixMicros() = 0;
  virtual void SleepForMicros(int64_t micros) = 0;
};

// Reads everything from file descriptor `fd` until end of file (used for standard input).
// `what` names the source in errors ("standard input").
Result<std::string> ReadAllFromFd(int fd, std::string_view what);

}  // namespace cairn::io

#endif  // CAIRN_IO_ENV_H_
