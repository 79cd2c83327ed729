// SPDX-License-Identifier: MPL-2.0
// volley::context: the shared state behind a family of sockets (the inproc
// name space, the registry of transports, later the I/O threads). All of
// its members are thread-safe.
#pragma once

#include <memory>

namespace volley {

namespace detail {
class context_core;
}

/// Owns what a family of sockets shares; sockets made from it may talk over inproc://.
///
/// Thread-safe: any thread may create sockets from it or shut it down. Destroying the
/// context shuts it down; sockets that outlive it stay valid objects whose calls return
/// errc::terminated, so destruction order never hangs or crashes.
class context {
public:
    context();
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;
    context(context&&) noexcept;
    context& operator=(context&&) noexcept;

    /// Wakes every blocked call on every socket of this context with errc::terminated;
    /// later calls fail the same way. Returns at once; idempotent.
    void shutdown() noexcept;
    /// True once shutdown() has run.
    bool is_shut_down() const noexcept;

    /// For volley's own use (sockets, tests).
    const std::shared_ptr<detail::context_core>& core() const noexcept { return core_; }

private:
    std::shared_ptr<detail::context_core> core_;
};

} // namespace volley
