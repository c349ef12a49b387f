#pragma once
// Result<T>: the error-or-value type used inside boxmon. Shaped like std::expected (which
// g++ 12 lacks under C++20) so it can become an alias later. Exceptions stay at the edge (cli/).

#include <cassert>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace boxmon {

// What kind of failure an Error is; cli/ maps `config` and `usage` to exit code 2.
enum class ErrorKind {
    runtime,    // the world did not cooperate: I/O, permissions, a peer (exit 1)
    config,     // the configuration is wrong (exit 2)
    usage,      // the command line is wrong (exit 2)
    not_found,  // an optional source is absent (a missing pseudo file, no GPU)
    busy,       // a resource is held by someone else (database lock, state-dir lock)
    timeout,    // a bounded wait ran out
};

// An error message that says what, where and what to do, plus the errno that caused it (0 if
// none). Messages never contain secrets.
struct Error {
    std::string message;
    ErrorKind kind = ErrorKind::runtime;
    int sys_errno = 0;
};

template <class E>
class Unexpected {
public:
    explicit Unexpected(E error) : m_error(std::move(error)) {}
    E& error() & { return m_error; }
    E&& error() && { return std::move(m_error); }

private:
    E m_error;
};

// fail("open {}: {}", path, why) builds a runtime error from a compile-time format string.
template <class... Args>
[[nodiscard]] Unexpected<Error> fail(fmt::format_string<Args...> format, Args&&... args) {
    return Unexpected<Error>(Error{fmt::format(format, std::forward<Args>(args)...)});
}

// fail_as(kind, ...) is fail() with an explicit ErrorKind.
template <class... Args>
[[nodiscard]] Unexpected<Error> fail_as(ErrorKind kind, fmt::format_string<Args...> format,
                                        Args&&... args) {
    return Unexpected<Error>(Error{fmt::format(format, std::forward<Args>(args)...), kind});
}

// fail_errno(err, ...) is fail() that records errno and appends ": <strerror>".
template <class... Args>
[[nodiscard]] Unexpected<Error> fail_errno(int err, fmt::format_string<Args...> format,
                                           Args&&... args) {
    Error e{fmt::format(format, std::forward<Args>(args)...), ErrorKind::runtime, err};
    e.message += ": ";
    e.message += fmt::format("{}", std::system_category().message(err));
    return Unexpected<Error>(std::move(e));
}

// Wraps an existing Error (to pass it up unchanged).
[[nodiscard]] inline Unexpected<Error> fail(Error e) { return Unexpected<Error>(std::move(e)); }

// Result<T> holds either a T or an Error.
template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;

    Result() requires std::is_default_constructible_v<T> : m_v(std::in_place_index<0>) {}
    template <class U = T>
        requires std::is_constructible_v<T, U&&> &&
                 (!std::is_same_v<std::remove_cvref_t<U>, Result>) &&
                 (!std::is_same_v<std::remove_cvref_t<U>, Unexpected<Error>>)
    Result(U&& value) : m_v(std::in_place_index<0>, std::forward<U>(value)) {}
    Result(Unexpected<Error> e) : m_v(std::in_place_index<1>, std::move(e).error()) {}

    bool has_value() const noexcept { return m_v.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(m_v); }
    const T& value() const& { assert(has_value()); return std::get<0>(m_v); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { assert(!has_value()); return std::get<1>(m_v); }
    Error&& error() && { assert(!has_value()); return std::get<1>(std::move(m_v)); }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, Error> m_v;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    Result() = default;
    Result(Unexpected<Error> e) : m_error(std::move(e).error()), m_ok(false) {}

    bool has_value() const noexcept { return m_ok; }
    explicit operator bool() const noexcept { return m_ok; }
    void value() const { assert(m_ok); }
    const Error& error() const& { assert(!m_ok); return m_error; }
    Error&& error() && { assert(!m_ok); return std::move(m_error); }

private:
    Error m_error;
    bool m_ok = true;
};

// ok() is the successful Result<void>.
[[nodiscard]] inline Result<void> ok() { return {}; }

}  // namespace boxmon

// BOXMON_TRY(var, expr): evaluates expr (a Result); on error returns it from the enclosing
// function, otherwise moves the value into a new variable `var`.
#define BOXMON_TRY(var, expr)                                          \
    auto var##_result_ = (expr);                                       \
    if (!var##_result_) return ::boxmon::fail(std::move(var##_result_).error()); \
    auto var = std::move(var##_result_).value()

// BOXMON_CHECK(expr): evaluates expr (a Result<void> or Result<T>) and returns its error.
#define BOXMON_CHECK(expr)                                                   \
    do {                                                                     \
        auto boxmon_check_result_ = (expr);                                  \
        if (!boxmon_check_result_)                                           \
            return ::boxmon::fail(std::move(boxmon_check_result_).error());  \
    } while (false)
