// Status: the outcome of an operation that can fail, without exceptions.
//
// A Status is either OK (a null pointer: as cheap as a pointer to copy and test) or an error with
// a canonical code, a message and optional structured detail. Codes are chosen by what the caller
// should do next (after absl::StatusCode):
//   kUnavailable        transient: retry the same call (503 SlowDown, reset, timeout)
//   kAborted            retry the whole operation (a concurrent change raced us)
//   kDataLoss           bytes did not match their hash: never hand them on
//   kNotFound, kPermissionDenied, kUnauthenticated, kInvalidArgument, kFailedPrecondition,
//   kResourceExhausted, kOutOfRange, kAlreadyExists, kUnimplemented: give up and report
// Messages put context first: "upload part 3 of s3://b/k: SlowDown (HTTP 503, request id X)".
//
// Thread safety: a Status is a value; distinct objects may be used from distinct threads.
#ifndef CAIRN_COMMON_STATUS_H_
#define CAIRN_COMMON_STATUS_H_

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace cairn {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "NOT_FOUND", "INVALID_ARGUMENT", ...
std::string_view StatusCodeName(StatusCode code);

// Structured facts about an error that callers may act on (all optional: 0 or empty = unknown).
struct ErrorDetail {
  int http_status = 0;       // HTTP status of the reply that carried the error
  std::string service_code;  // e.g. S3 "SlowDown", "NoSuchKey"
  std::string request_id;    // the server's request id, for support
  int sys_errno = 0;         // errno of a failed system call

  bool empty() const {
    return http_status == 0 && service_code.empty() && request_id.empty() && sys_errno == 0;
  }
};

class [[nodiscard]] Status {
 public:
  // OK.
  Status() noexcept = default;
  // REQUIRES: code != kOk (an OK code yields an OK status and the message is dropped).
  Status(StatusCode code, std::string_view message);
  Status(StatusCode code, std::string_view message, ErrorDetail detail);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return ok() ? StatusCode::kOk : state_->code; }
  std::string_view message() const;
  // Empty detail for an OK status.
  const ErrorDetail& detail() const;

  // "NOT_FOUND: read x: no such file (errno 2)"; "OK" for an OK status.
  std::string ToString() const;

  // The same error with "context: " put before the message; OK stays OK.
  Status WithContext(std::string_view context) const&;
  Status WithContext(std::string_view context) &&;

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b);

 private:
  struct State {
    StatusCode code;
    std::string message;
    ErrorDetail detail;
  };
  std::unique_ptr<State> state_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

// Factories, one per code, for readable call sites.
Status CancelledError(std::string_view message);
Status UnknownError(std::string_view message);
Status InvalidArgumentError(std::string_view message);
Status DeadlineExceededError(std::string_view message);
Status NotFoundError(std::string_view message);
Status AlreadyExistsError(std::string_view message);
Status PermissionDeniedError(std::string_view message);
Status ResourceExhaustedError(std::string_view message);
Status FailedPreconditionError(std::string_view message);
Status AbortedError(std::string_view message);
Status OutOfRangeError(std::string_view message);
Status UnimplementedError(std::string_view message);
Status InternalError(std::string_view message);
Status UnavailableError(std::string_view message);
Status DataLossError(std::string_view message);
Status UnauthenticatedError(std::string_view message);

// An error for a failed system call: "context: strerror(err)", code chosen from errno
// (ENOENT -> kNotFound, EACCES -> kPermissionDenied, ENOSPC -> kResourceExhausted, EINTR/EAGAIN
// -> kUnavailable, ...), detail.sys_errno = err.
Status ErrnoError(std::string_view context, int err);

namespace internal {
inline const Status& AsStatus(const Status& status) { return status; }
inline Status AsStatus(Status&& status) { return std::move(status); }
}  // namespace internal

}  // namespace cairn

#define CAIRN_STATUS_CONCAT_INNER_(a, b) a##b
#define CAIRN_STATUS_CONCAT_(a, b) CAIRN_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status or a Result<T>) is an error.
#define CAIRN_RETURN_IF_ERROR(expr)                                                               \
  do {                                                                                            \
    if (::cairn::Status cairn_status_ = ::cairn::internal::AsStatus(expr); !cairn_status_.ok()) { \
      return cairn_status_;                                                                       \
    }                                                                                             \
  } while (false)

#endif  // CAIRN_COMMON_STATUS_H_
