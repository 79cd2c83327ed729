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
/// Thread-safe: any thread may create sockets from it or shut it down. Sockets that
/// outlive it stay valid objects whose calls return errc::terminated, so destruction order
/// never crashes.
///
/// How it ends, one rule: **only a peer connected now still gets what is queued.**
/// - The destructor wakes every blocked call (errc::terminated), then waits while messages
///   already queued toward a peer whose connection (handshake included) is up now are
///   delivered, each socket's `linger` at most; what waits for a peer not connected at that
///   moment (a connect that never reached its peer, or is between reconnects) is dropped
///   at once, and nothing reconnects. With linger 0 (or no connected peer) it returns at once.
/// - shutdown() stops now: blocked calls wake, every connection closes, and everything
///   queued is dropped; a destructor after it does not wait.
/// - socket::close() never blocks: its queued messages stay deliverable for its linger,
///   to peers that connect meanwhile too, while the context lives.
class context {
public:
    context();
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;
    /// Takes over the other context and its sockets; the moved-from one is left empty:
    /// is_shut_down() is true and a socket made from it throws (errc::terminated).
    context(context&&) noexcept;
    /// Ends this context as its destructor would (waiting within linger for connected
    /// peers), then takes over the other one, which is left empty.
    context& operator=(context&&) noexcept;

    /// Stops now: wakes every blocked call on every socket of this context with
    /// errc::terminated (later calls fail the same way), closes every connection and drops
    /// every queued message, whatever the linger. Returns at once; idempotent.
    void shutdown() noexcept;
    /// True once shutdown() has run.
    bool is_shut_down() const noexcept;

    /// For volley's own use (sockets, tests).
    const std::shared_ptr<detail::context_core>& core() const noexcept { return core_; }

private:
    std::shared_ptr<detail::context_core> core_;
};

} // namespace volley
