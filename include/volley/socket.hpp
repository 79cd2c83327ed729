// SPDX-License-Identifier: MPL-2.0
// volley::socket, the application's handle on one pattern socket. Endpoints
// are URIs whose scheme picks the transport ("inproc://name"). Control-plane
// calls (bind, connect, options) come in two overloads, one that throws
// std::system_error and one that fills a std::error_code; data-plane calls
// (send, recv) never throw and return a result.
#pragma once

#include <volley/context.hpp>
#include <volley/error.hpp>
#include <volley/message.hpp>
#include <volley/monitor.hpp>
#include <volley/options.hpp>
#include <volley/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace volley {

namespace detail {
class socket_base;
using option_value = std::variant<int, std::chrono::milliseconds, std::string, std::int64_t, bool>;
}

/// The messaging patterns. Each socket type talks only to its counterparts
/// (pair-pair, push-pull, ...); a mismatched peer is refused.
enum class socket_type { pair, push, pull, pub, sub, xpub, xsub, req, rep, dealer, router };

/// Name of a socket type in the ZMTP spelling ("PAIR", "PUSH", ...).
std::string_view to_string(socket_type t) noexcept;

/// Flags for send.
enum class send_flags : unsigned {
    none = 0,
    dontwait = 1, ///< fail with errc::would_block instead of waiting
    more = 2,     ///< another frame of this message follows
};
/// Flags for recv.
enum class recv_flags : unsigned {
    none = 0,
    dontwait = 1, ///< fail with errc::would_block instead of waiting
};
/// Both sets of flags: `send_flags::more | send_flags::dontwait`.
constexpr send_flags operator|(send_flags a, send_flags b) noexcept {
    return static_cast<send_flags>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
/// True when `set` includes the flag `f`.
constexpr bool has(send_flags set, send_flags f) noexcept {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(f)) != 0;
}
/// True when `set` includes the flag `f`.
constexpr bool has(recv_flags set, recv_flags f) noexcept {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(f)) != 0;
}

/// One connection of a socket, as socket::peers() reports it.
struct peer_info {
    std::string endpoint;        ///< the endpoint (bound or connected) the connection belongs to
    std::string routing_id;      ///< the id the peer announced (or ROUTER gave it); may be empty
    std::uint64_t dropped = 0;   ///< messages dropped for it (PUB/XPUB: it was at its high-water
                                 ///< mark; ROUTER: likewise, without router_mandatory)
};

/// What a socket can do without blocking (socket::events(), volley::poller).
enum class poll_events : unsigned {
    none = 0,
    in = 1,  ///< a recv would find a message (or the rest of one)
    out = 2, ///< a send would be taken
    err = 4, ///< the context was shut down (or the socket closed): calls fail at once
};
/// The events of either set: `poll_events::in | poll_events::out`.
constexpr poll_events operator|(poll_events a, poll_events b) noexcept {
    return static_cast<poll_events>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
/// The events of both sets.
constexpr poll_events operator&(poll_events a, poll_events b) noexcept {
    return static_cast<poll_events>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
/// True when `set` includes the event `e`.
constexpr bool has(poll_events set, poll_events e) noexcept {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(e)) != 0;
}

/// What socket::recv() returns: one frame, or the errc that stopped it.
using recv_result = result<message>;
/// What socket::recv_multipart() returns: every frame of one message, or the errc that stopped it.
using recv_multipart_result = result<multipart>;

/// One pattern socket.
///
/// Movable, not copyable. A socket is used by one thread at a time: calls on one
/// socket from several threads at once need the caller's own locking (hand a socket
/// to another thread by moving it or with a happens-before edge, e.g. a mutex or a
/// thread start). Different sockets are independent and may be used concurrently.
/// Destroying a socket closes it (see close()).
class socket {
public:
    /// A socket of `type` in `ctx`. Throws std::system_error (errc::terminated) when
    /// the context is shut down, (errc::not_supported) for a type volley lacks yet.
    socket(context& ctx, socket_type type);
    ~socket();
    /// Takes over the other socket; the moved-from one is closed (is_open() is false).
    socket(socket&&) noexcept;
    /// Closes this socket (as close()), then takes over the other one, which is left closed.
    socket& operator=(socket&&) noexcept;
    socket(const socket&) = delete;
    socket& operator=(const socket&) = delete;

    /// Listens at `uri`; peers may connect to it. Throws std::system_error.
    void bind(std::string_view uri);
    /// Same, reporting failure through `ec` (cleared on success).
    void bind(std::string_view uri, std::error_code& ec) noexcept;
    /// Connects to `uri`. A connect made before the matching bind waits for it, and
    /// messages sent meanwhile are queued (up to the high-water mark). Throws std::system_error.
    void connect(std::string_view uri);
    /// Same, reporting failure through `ec` (cleared on success).
    void connect(std::string_view uri, std::error_code& ec) noexcept;
    /// Stops listening at `uri` and closes the connections accepted through it.
    void unbind(std::string_view uri);
    /// Same, reporting failure through `ec` (cleared on success).
    void unbind(std::string_view uri, std::error_code& ec) noexcept;
    /// Closes the connection made by connect(uri).
    void disconnect(std::string_view uri);
    /// Same, reporting failure through `ec` (cleared on success).
    void disconnect(std::string_view uri, std::error_code& ec) noexcept;

    /// Sends one frame; with send_flags::more, further frames of the same message follow
    /// and the message is delivered only once its last frame is sent (whole or not at all).
    /// Blocks while no peer can take it (high-water mark, or no peer), up to sndtimeo.
    /// On success `m` is consumed; on failure it is left unchanged, so it can be retried.
    /// Fails with would_block (dontwait, or sndtimeo 0), timed_out, closed, terminated
    /// or not_supported. Never throws.
    send_result send(message&& m, send_flags flags = send_flags::none) noexcept;
    /// Sends a copy of `data` as one frame.
    send_result send(std::string_view data, send_flags flags = send_flags::none) noexcept;
    /// Sends every frame of `m` as one message. Only the first frame can wait or fail;
    /// once it is accepted, the rest follow at once. On failure `m` is unchanged.
    send_result send(multipart&& m, send_flags flags = send_flags::none) noexcept;

    /// Receives one frame; message::more() tells whether another frame of the same
    /// message follows (it is then available at once). Blocks up to rcvtimeo.
    recv_result recv(recv_flags flags = recv_flags::none) noexcept;
    /// Receives every frame of one message.
    recv_multipart_result recv_multipart(recv_flags flags = recv_flags::none) noexcept;

    /// Sets option `o` (see volley::opt). Throws std::system_error whose what() names the
    /// option and the cause: invalid_argument (with the values it takes), wrong_state (an
    /// endpoint option while the socket has an endpoint: options.hpp says which are),
    /// not_supported (subscribe on a socket that takes no subscriptions), closed.
    template <class O>
    void set(O, const typename O::value_type& value) {
        std::error_code ec;
        std::string why;
        set_option(O::id, detail::option_value(value), ec, why);
        throw_if(ec, "set option", {}, why);
    }
    /// Same, reporting failure through `ec` (cleared on success), without the text of what().
    template <class O>
    void set(O, const typename O::value_type& value, std::error_code& ec) noexcept {
        std::string why;
        set_option(O::id, detail::option_value(value), ec, why);
    }
    /// Reads option `o`. Throws std::system_error (closed).
    template <class O>
    typename O::value_type get(O) const {
        return std::get<typename O::value_type>(get_option(O::id));
    }

    /// Starts recording this socket's events (what happens from now on, on endpoints old and
    /// new) and returns the queue to read them from. Calling it again returns the same queue.
    /// Throws std::system_error (closed).
    volley::monitor monitor();

    /// The socket's connections now (those whose handshake is done, and a connect's queue
    /// before its first connection), with what was dropped for each. Throws std::system_error
    /// (closed). Counts whole messages; a PUB never blocks, so this is where its losses show.
    std::vector<peer_info> peers();

    /// What the socket can do now without blocking, of `interest` (like libzmq's ZMQ_EVENTS).
    /// `in` is exact: a recv(dontwait) right after it succeeds (a SUB has already dropped what
    /// it is not subscribed to). When none of `interest` is possible, the socket arms its
    /// readiness_fd(): it becomes readable at the next change that may matter. Never throws;
    /// a closed socket or a shut-down context reports `err`.
    poll_events events(poll_events interest = poll_events::in | poll_events::out) noexcept;
    /// A file descriptor for an external event loop (epoll, asio, libuv), like libzmq's ZMQ_FD.
    /// Edge-triggered: it becomes readable when, after an events() call that found nothing of
    /// its interest, something may have changed. Then drain it (read 8 bytes, or let the
    /// poller do it), call events() until it reports nothing, doing the sends and receives it
    /// allows, and wait again; any send or recv in between may consume the edge, so always
    /// ask events() before waiting. -1 when no descriptor could be made (descriptor limit).
    /// Owned by the socket, valid until it closes.
    int readiness_fd() noexcept;

    /// The last endpoint bound or connected, with a wildcard resolved (empty if none).
    std::string last_endpoint() const;
    /// The socket's type. Throws std::system_error (closed) on a moved-from socket.
    socket_type type() const;
    /// Closes the socket: stops its endpoints; messages it queued stay deliverable for
    /// the linger period while the context lives (when the context ends, only toward peers
    /// connected then: context.hpp). Later calls fail with errc::closed. Idempotent; never blocks.
    void close() noexcept;
    /// False once closed (or moved from).
    bool is_open() const noexcept { return impl_ != nullptr; }

    /// For volley's own use (tests, transports).
    detail::socket_base* base() const noexcept { return impl_.get(); }

private:
    void set_option(detail::option_id id, const detail::option_value& v, std::error_code& ec,
                    std::string& why) noexcept;
    detail::option_value get_option(detail::option_id id) const;
    static void throw_if(const std::error_code& ec, std::string_view what, std::string_view uri = {},
                         std::string_view why = {});

    std::unique_ptr<detail::socket_base> impl_;
};

} // namespace volley
