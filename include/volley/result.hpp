// SPDX-License-Identifier: MPL-2.0
// Results of the data-plane calls. send and recv never throw: they return
// one of these, where would_block, timed_out, closed and terminated are
// ordinary values. result<T> is a small std::expected stand-in (C++20 has
// none): a value or an errc.
#pragma once

#include <volley/error.hpp>

#include <optional>
#include <system_error>
#include <utility>

namespace volley {

/// Outcome of a send: ok, or the errc that stopped it. [[nodiscard]]: a send that failed
/// (would_block, timed_out, closed, ...) left the message with the caller.
class [[nodiscard]] send_result {
public:
    constexpr send_result() noexcept = default;
    /// A failed send, stopped by `e`; a send_result() is ok.
    constexpr send_result(errc e) noexcept : error_(e) {} // NOLINT: implicit by design

    /// True when the message was queued for delivery.
    constexpr bool ok() const noexcept { return error_ == errc{}; }
    /// True when it was not; the message passed in is then left unchanged.
    constexpr bool failed() const noexcept { return !ok(); }
    /// The reason for failure (errc{} when ok).
    constexpr errc error() const noexcept { return error_; }
    /// error() as a std::error_code of the volley category (empty when ok).
    std::error_code error_code() const noexcept { return ok() ? std::error_code{} : make_error_code(error_); }
    /// ok(), so that `if (!sock.send("hi"))` tests for a failure.
    constexpr explicit operator bool() const noexcept { return ok(); }

private:
    errc error_{};
};

/// A value of type T, or the errc explaining why there is none. [[nodiscard]]: a result
/// thrown away is a message or an error lost.
template <class T>
class [[nodiscard]] result {
public:
    /// A result holding `value`.
    result(T value) noexcept(std::is_nothrow_move_constructible_v<T>) // NOLINT: implicit by design
        : value_(std::move(value)) {}
    /// A result holding no value, for the reason `e`.
    result(errc e) noexcept : error_(e) {} // NOLINT: implicit by design

    /// True when there is a value.
    bool has_value() const noexcept { return value_.has_value(); }
    /// True when there is a value (has_value()).
    bool ok() const noexcept { return has_value(); }
    /// True when there is none; error() says why.
    bool failed() const noexcept { return !has_value(); }
    /// has_value(): `if (auto m = s.recv()) use(*m);`
    constexpr explicit operator bool() const noexcept { return has_value(); }
    /// The reason for failure (errc{} when there is a value).
    errc error() const noexcept { return error_; }
    /// error() as a std::error_code of the volley category (empty when there is a value).
    std::error_code error_code() const noexcept { return ok() ? std::error_code{} : make_error_code(error_); }

    /// The value; throws std::system_error with error() when there is none.
    T& value() & { check(); return *value_; }
    /// The value; throws std::system_error with error() when there is none.
    const T& value() const& { check(); return *value_; }
    /// The value, to move from; throws std::system_error with error() when there is none.
    T&& value() && { check(); return std::move(*value_); }
    /// The value, unchecked: only when there is one.
    T& operator*() noexcept { return *value_; }
    /// The value, unchecked: only when there is one.
    const T& operator*() const noexcept { return *value_; }
    /// The value's members, unchecked: only when there is one.
    T* operator->() noexcept { return &*value_; }
    /// The value's members, unchecked: only when there is one.
    const T* operator->() const noexcept { return &*value_; }

private:
    void check() const {
        if (!value_) throw std::system_error(make_error_code(error_), "volley: result holds no value");
    }
    std::optional<T> value_;
    errc error_{};
};

} // namespace volley
