#include "cairn/common/status.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cairn/common/result.h"

namespace cairn {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kCancelled:
      return "CANCELLED";
    case StatusCode::kUnknown:
      return "UNKNOWN";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kAborted:
      return "ABORTED";
    case StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
    case StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN_CODE";
}

Status::Status(StatusCode code, std::string_view message) : Status(code, message, ErrorDetail{}) {}

Status::Status(StatusCode code, std::string_view message, ErrorDetail detail) {
  if (code == StatusCode::kOk) return;
  state_ = std::make_unique<State>(State{code, std::string(message), std::move(detail)});
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  return *this;
}

std::string_view Status::message() const { return ok() ? std::string_view() : state_->message; }

const ErrorDetail& Status::detail() const {
  static const ErrorDetail kEmpty;
  return ok() ? kEmpty : state_->detail;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(state_->code));
  out += ": ";
  out += state_->message;
  const ErrorDetail& d = state_->detail;
  if (!d.empty()) {
    std::string extra;
    auto add = [&extra](const std::string& part) {
      if (!extra.empty()) extra += ", ";
      extra += part;
    };
    if (d.http_status != 0) add("HTTP " + std::to_string(d.http_status));
    if (!d.service_code.empty()) add(d.service_code);
    if (!d.request_id.empty()) add("request id " + d.request_id);
    if (d.sys_errno != 0) add("errno " + std::to_string(d.sys_errno));
    out += " (" + extra + ")";
  }
  return out;
}

Status Status::WithContext(std::string_view context) const& {
  return Status(*this).WithContext(context);
}

Status Status::WithContext(std::string_view context) && {
  if (!ok()) {
    std::string message(context);
    message += ": ";
    message += state_->message;
    state_->message = std::move(message);
  }
  return std::move(*this);
}

bool operator==(const Status& a, const Status& b) {
  if (a.ok() || b.ok()) return a.ok() == b.ok();
  return a.code() == b.code() && a.message() == b.message();
}

std::ostream& operator<<(std::ostream& os, const Status& status) { return os << status.ToString(); }

#define CAIRN_DEFINE_ERROR_FACTORY_(Name, Code) \
  Status Name(std::string_view message) { return Status(StatusCode::Code, message); }
CAIRN_DEFINE_ERROR_FACTORY_(CancelledError, kCancelled)
CAIRN_DEFINE_ERROR_FACTORY_(UnknownError, kUnknown)
CAIRN_DEFINE_ERROR_FACTORY_(InvalidArgumentError, kInvalidArgument)
CAIRN_DEFINE_ERROR_FACTORY_(DeadlineExceededError, kDeadlineExceeded)
CAIRN_DEFINE_ERROR_FACTORY_(NotFoundError, kNotFound)
CAIRN_DEFINE_ERROR_FACTORY_(AlreadyExistsError, kAlreadyExists)
CAIRN_DEFINE_ERROR_FACTORY_(PermissionDeniedError, kPermissionDenied)
CAIRN_DEFINE_ERROR_FACTORY_(ResourceExhaustedError, kResourceExhausted)
CAIRN_DEFINE_ERROR_FACTORY_(FailedPreconditionError, kFailedPrecondition)
CAIRN_DEFINE_ERROR_FACTORY_(AbortedError, kAborted)
CAIRN_DEFINE_ERROR_FACTORY_(OutOfRangeError, kOutOfRange)
CAIRN_DEFINE_ERROR_FACTORY_(UnimplementedError, kUnimplemented)
CAIRN_DEFINE_ERROR_FACTORY_(InternalError, kInternal)
CAIRN_DEFINE_ERROR_FACTORY_(UnavailableError, kUnavailable)
CAIRN_DEFINE_ERROR_FACTORY_(DataLossError, kDataLoss)
CAIRN_DEFINE_ERROR_FACTORY_(UnauthenticatedError, kUnauthenticated)
#undef CAIRN_DEFINE_ERROR_FACTORY_

namespace {
StatusCode CodeForErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return StatusCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return StatusCode::kPermissionDenied;
    case EEXIST:
      return StatusCode::kAlreadyExists;
    case ENOSPC:
    case EDQUOT:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return StatusCode::kResourceExhausted;
    case EINTR:
    case EAGAIN:
    case EBUSY:
    case ECONNRESET:
    case ECONNREFUSED:
    case ETIMEDOUT:
    case EIO:  // as absl::ErrnoToStatusCode: the caller may retry, or try another replica
      return StatusCode::kUnavailable;
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
    case ELOOP:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kUnknown;
  }
}
}  // namespace

Status ErrnoError(std::string_view context, int err) {
  std::string message(context);
  message += ": ";
  char buf[256];
  message += strerror_r(err, buf, sizeof(buf));
  ErrorDetail detail;
  detail.sys_errno = err;
  return Status(CodeForErrno(err), message, std::move(detail));
}

namespace internal {
void DieOnBadResultAccess(const Status& status) {
  std::fprintf(stderr, "cairn: value() called on a Result holding an error: %s\n",
               status.ToString().c_str());
  std::abort();
}

Status OkStatusGivenToResult() {
  return InternalError("a Result was constructed from an OK status without a value");
}
}  // namespace internal

}  // namespace cairn
