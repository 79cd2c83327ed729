// SPDX-License-Identifier: MPL-2.0
// Socket monitoring: what happened to a socket's endpoints and connections,
// as a queue of events the application reads when it likes (like libzmq's
// zmq_socket_monitor, without the extra socket). Events are produced on
// volley's I/O threads and never call into application code there.
#pragma once

#include <volley/options.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace volley {

namespace detail {
class monitor_queue;
}

/// What happened.
enum class event_type {
    listening,           ///< bind succeeded; the endpoint accepts connections
    bind_failed,         ///< bind failed (error says why)
    accepted,            ///< a connection was accepted on a bound endpoint
    accept_failed,       ///< accepting a connection failed (error says why)
    connected,           ///< an outgoing connection was established
    connect_retried,     ///< a connection attempt failed or was lost; retrying after `interval`
    disconnected,        ///< an established connection ended (error says why, if it was not a clean close)
    handshake_succeeded, ///< the ZMTP handshake completed: messages flow
    handshake_failed,    ///< the ZMTP handshake failed (error and detail say why)
    closed,              ///< an endpoint ended: a bound one stopped listening (unbind or close), or a
                         ///< connect gave up because reconnect_ivl is -1 (error and detail say why)
};

/// Name of an event type as the enum spells it ("listening", "bind_failed", ...).
std::string_view to_string(event_type t) noexcept;

/// One event.
struct monitor_event {
    event_type type;                    ///< what happened
    std::string endpoint;               ///< the endpoint URI (resolved: a wildcard port filled in)
    std::error_code error;              ///< why, for failures and disconnects; empty otherwise
    std::string detail;                 ///< a sentence with the specifics (such as the peer's bad greeting), at most
                                        ///< 1024 bytes; what it quotes of a peer's bytes is a short prefix between
                                        ///< single quotes, every byte outside printable ASCII written as `\xHH`
    std::chrono::milliseconds interval{}; ///< connect_retried: how long until the next attempt
};

/// The receiving end of a socket's events. Thread-safe; copies share one queue.
class monitor {
public:
    monitor() = default;
    /// The next event, waiting up to `timeout` (0 = do not wait; volley::infinite = no limit).
    std::optional<monitor_event> next(std::chrono::milliseconds timeout = infinite) const;
    /// Waits up to `timeout` for an event of type `type`, discarding others; nullopt on timeout.
    std::optional<monitor_event> wait_for(event_type type, std::chrono::milliseconds timeout) const;
    /// Events lost because nobody read them (the queue keeps at most 10000, and at most 4 MiB).
    std::size_t dropped() const noexcept;
    /// True for a monitor from socket::monitor(). A default-constructed one has no queue:
    /// next() and wait_for() return nullopt at once, dropped() is 0.
    explicit operator bool() const noexcept { return queue_ != nullptr; }

    /// For volley's own use.
    explicit monitor(std::shared_ptr<detail::monitor_queue> q) : queue_(std::move(q)) {}

private:
    std::shared_ptr<detail::monitor_queue> queue_;
};

} // namespace volley
