// Result<T>: either a value of type T or an error Status (never an OK status without a value).
//
//   Result<Manifest> m = Manifest::Parse(text);
//   if (!m.ok()) return m.status();
//   CAIRN_ASSIGN_OR_RETURN(Manifest manifest, Manifest::Parse(text));
//
// Thread safety: a value type, like T.
#ifndef CAIRN_COMMON_RESULT_H_
#define CAIRN_COMMON_RESULT_H_

#include <type_traits>
#include <utility>
#include <variant>

#include "cairn/common/status.h"

namespace cairn {

namespace internal {
// Aborts with the status printed; used when value() is called on an error.
[[noreturn]] void DieOnBadResultAccess(const Status& status);
// The status stored when a Result is built from an OK Status (a programming error).
Status OkStatusGivenToResult();
}  // namespace internal

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "Result<Status> is meaningless");
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");

 public:
  // REQUIRES: !status.ok().
  Result(const Status& status) : rep_(status) { CheckNotOk(); }        // NOLINT: implicit by design
  Result(Status&& status) : rep_(std::move(status)) { CheckNotOk(); }  // NOLINT
  Result(const T& value) : rep_(std::in_place_index<1>, value) {}      // NOLINT
  Result(T&& value) : rep_(std::in_place_index<1>, std::move(value)) {}  // NOLINT
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Status> &&
           !std::is_same_v<std::decay_t<U>, Result> && !std::is_same_v<std::decay_t<U>, T>)
      Result(U&& value)
      : rep_(std::in_place_index<1>, std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return rep_.index() == 1; }

  // OK when a value is held.
  Status status() const& { return ok() ? Status() : std::get<0>(rep_); }
  Status status() && { return ok() ? Status() : std::get<0>(std::move(rep_)); }

  // REQUIRES: ok(); aborts with the error otherwise.
  T& value() & {
    CheckOk();
    return std::get<1>(rep_);
  }
  const T& value() const& {
    CheckOk();
    return std::get<1>(rep_);
  }
  T&& value() && {
    CheckOk();
    return std::get<1>(std::move(rep_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<1>(rep_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void CheckNotOk() {
    if (std::get<0>(rep_).ok()) rep_ = internal::OkStatusGivenToResult();
  }
  void CheckOk() const {
    if (!ok()) internal::DieOnBadResultAccess(std::get<0>(rep_));
  }

  std::variant<Status, T> rep_;
};

namespace internal {
template <typename T>
Status AsStatus(const Result<T>& result) {
  return result.status();
}
}  // namespace internal

}  // namespace cairn

// Evaluates `rexpr` (a Result<T>); on error returns its status from the enclosing function,
// otherwise move-assigns the value to `lhs` (which may be a declaration: `auto x`).
#define CAIRN_ASSIGN_OR_RETURN(lhs, rexpr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL_(CAIRN_STATUS_CONCAT_(cairn_result_, __LINE__), lhs, rexpr)

#define CAIRN_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                                 \
  if (!result.ok()) return std::move(result).status();   \
  lhs = std::move(result).value()

#endif  // CAIRN_COMMON_RESULT_H_
