// SPDX-License-Identifier: MPL-2.0
// Typed socket options. Each option is a tag object in volley::opt whose
// value_type is the C++ type it takes, so a wrong type fails to compile:
//     sock.set(volley::opt::sndhwm, 100);
//     sock.set(volley::opt::linger, std::chrono::milliseconds(0));
//     auto hwm = sock.get(volley::opt::rcvhwm);
//
// When an option takes effect: live options are read as the socket works, so a change
// applies at once (sndtimeo, rcvtimeo, linger, busy_poll, subscribe, unsubscribe, xpub_verbose,
// req_relaxed, req_correlate, req_resend_ivl, router_mandatory, router_handover, and
// connect_routing_id, which the next connect() uses). Every other option is an endpoint
// option: bind() and connect() copy it into what they make, so it may be set only while the
// socket has no endpoint; set then, it fails with errc::wrong_state and keeps its value.
// docs/options.md has each option's type, default, range and sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace volley {

/// A duration option set to this means "no limit" (wait forever, linger forever).
inline constexpr std::chrono::milliseconds infinite{-1};

namespace detail {
enum class option_id {
    sndhwm, rcvhwm, linger, sndtimeo, rcvtimeo, routing_id,
    reconnect_ivl, reconnect_ivl_max, handshake_ivl, maxmsgsize,
    heartbeat_ivl, heartbeat_timeout, heartbeat_ttl,
    tcp_keepalive, tcp_keepalive_idle, tcp_keepalive_cnt, tcp_keepalive_intvl, ipv6,
    sndbuf, rcvbuf,
    input_budget, busy_poll,
    subscribe, unsubscribe, xpub_verbose,
    req_relaxed, req_correlate, req_resend_ivl,
    router_mandatory, router_handover, connect_routing_id,
};
}

/// The socket options, one tag object each, for socket::set() and socket::get().
namespace opt {

/// An option tag: `T` is the value type, `Id` the option it names.
template <class T, detail::option_id Id>
struct option {
    using value_type = T;                       ///< the type socket::set() takes and socket::get() returns
    static constexpr detail::option_id id = Id; ///< which option it is (for volley's own use)
};

/// Send high-water mark, in whole messages per peer (default 1000; 0 = no limit).
/// At the mark, send blocks (or fails with would_block / timed_out). An endpoint option.
inline constexpr option<int, detail::option_id::sndhwm> sndhwm{};
/// Receive high-water mark, in whole messages per peer (default 1000; 0 = no limit).
inline constexpr option<int, detail::option_id::rcvhwm> rcvhwm{};
/// How long messages still queued when the socket closes may be delivered
/// (default 30 s; 0 drops them at once; volley::infinite waits without limit). The context's
/// destructor waits for them only toward peers connected at that moment, and
/// context::shutdown() drops them (context.hpp states the rule).
inline constexpr option<std::chrono::milliseconds, detail::option_id::linger> linger{};
/// How long a blocking send may wait (default volley::infinite; 0 = never wait).
inline constexpr option<std::chrono::milliseconds, detail::option_id::sndtimeo> sndtimeo{};
/// How long a blocking recv may wait (default volley::infinite; 0 = never wait).
inline constexpr option<std::chrono::milliseconds, detail::option_id::rcvtimeo> rcvtimeo{};
/// The identity this socket announces to peers: 1 to 255 bytes, not starting
/// with a zero byte (those are reserved for generated ids); empty means none.
inline constexpr option<std::string, detail::option_id::routing_id> routing_id{};

/// Wait before reconnecting a lost or refused connection (default 100 ms, at least 1 ms is
/// waited; infinite = never reconnect: the endpoint ends with its first connection, monitor
/// event `closed`). The wait doubles after each failed attempt up to reconnect_ivl_max, with
/// random jitter (never past the max) so many clients do not reconnect in lockstep.
/// Intervals here and below are at most 2^31-1 ms (libzmq's range).
inline constexpr option<std::chrono::milliseconds, detail::option_id::reconnect_ivl> reconnect_ivl{};
/// Upper bound of the reconnect back-off (default 0: no back-off, every wait is reconnect_ivl).
inline constexpr option<std::chrono::milliseconds, detail::option_id::reconnect_ivl_max> reconnect_ivl_max{};
/// How long a new connection may take to complete the ZMTP handshake (default 30 s; 0 = no limit).
inline constexpr option<std::chrono::milliseconds, detail::option_id::handshake_ivl> handshake_ivl{};
/// Largest message accepted from a peer, in bytes, all frames of a multipart message counted
/// together (default -1: no limit). A peer that sends a larger one is disconnected (monitor:
/// disconnected, errc::message_too_large) and nothing of that message is delivered. libzmq
/// documents ZMQ_MAXMSGSIZE so but checks each frame alone; the whole-message bound also
/// stops a peer from growing an unfinished multipart message without end.
inline constexpr option<std::int64_t, detail::option_id::maxmsgsize> maxmsgsize{};
/// The memory one connection may hold for a message it has not finished receiving, in
/// bytes (default 64 MiB; -1 = no limit). Each frame counts its body and 128 bytes of
/// bookkeeping (the body only when it is over 120 bytes), the frame being read included,
/// so it bounds both one large frame and a message of endless small ones, whatever
/// maxmsgsize says. A peer that goes past it is disconnected (monitor: disconnected,
/// errc::message_too_large, "... exceeds input_budget ..."), and nothing of that message
/// is delivered. Raise it to receive larger messages (a 1 GiB message needs at least
/// 1 GiB + 128 bytes per frame). With N connections a listener holds at most N times this
/// for unfinished input, on top of what its queues hold (rcvhwm whole messages each).
/// libzmq has no such bound: there, a peer can grow one endless message until memory runs out.
inline constexpr option<std::int64_t, detail::option_id::input_budget> input_budget{};
/// How long a blocked send or recv may poll for its peer before the thread sleeps, in
/// microseconds, as Linux's SO_BUSY_POLL (default -1: the socket's choice, 50 us, or
/// 1000 us while it has an rdma:// endpoint, whose peer answers sooner than a sleeping
/// thread wakes; 0 = sleep at once; at most 1000000). The spin adapts below this ceiling:
/// it shrinks on an idle socket, so the ceiling bounds the CPU a wait burns, not what it
/// always burns. A live option.
inline constexpr option<int, detail::option_id::busy_poll> busy_poll{};
/// Send a ZMTP PING this often (default 0: no heartbeats).
inline constexpr option<std::chrono::milliseconds, detail::option_id::heartbeat_ivl> heartbeat_ivl{};
/// Disconnect when nothing arrives within this long after a PING (default 0: heartbeat_ivl).
inline constexpr option<std::chrono::milliseconds, detail::option_id::heartbeat_timeout> heartbeat_timeout{};
/// Ask the peer to disconnect when it hears nothing from us for this long (default 0: never;
/// sent in PING, in deciseconds, at most 6553.5 s).
inline constexpr option<std::chrono::milliseconds, detail::option_id::heartbeat_ttl> heartbeat_ttl{};
/// TCP keep-alive: -1 = OS default, 0 = off, 1 = on (default -1).
inline constexpr option<int, detail::option_id::tcp_keepalive> tcp_keepalive{};
/// TCP_KEEPIDLE in seconds (-1 = OS default).
inline constexpr option<int, detail::option_id::tcp_keepalive_idle> tcp_keepalive_idle{};
/// TCP_KEEPCNT (-1 = OS default).
inline constexpr option<int, detail::option_id::tcp_keepalive_cnt> tcp_keepalive_cnt{};
/// TCP_KEEPINTVL in seconds (-1 = OS default).
inline constexpr option<int, detail::option_id::tcp_keepalive_intvl> tcp_keepalive_intvl{};
/// Let tcp:// wildcards and host names use IPv6 too (default false: IPv4 only, as libzmq).
/// An explicit IPv6 address ("tcp://[::1]:5555") works either way.
inline constexpr option<bool, detail::option_id::ipv6> ipv6{};
/// Kernel send buffer of each tcp or ipc connection, in bytes (SO_SNDBUF; the kernel caps it
/// at net.core.wmem_max). Default -1: the transport's choice: over tcp the kernel's own
/// (which grows the buffer with the connection's needs), over ipc 1 MiB, where a unix
/// socket's 208 KiB default splits a large message into many hand-offs between the two
/// processes. An endpoint option.
inline constexpr option<int, detail::option_id::sndbuf> sndbuf{};
/// Kernel receive buffer of each tcp connection, in bytes (SO_RCVBUF, capped at
/// net.core.rmem_max; default -1: the kernel's). A unix socket has no receive buffer of its
/// own (the sender's buffer bounds what is in flight), so over ipc this does nothing.
inline constexpr option<int, detail::option_id::rcvbuf> rcvbuf{};

// ---- patterns ----

/// SUB, XSUB: receive the messages whose first frame starts with this prefix (empty: all).
/// Subscriptions count: subscribing twice to a prefix takes two unsubscribes. The publisher
/// filters, so what nobody subscribed to never crosses the wire. Takes effect at once, on
/// every peer, and is sent again to a peer that reconnects. Other socket types: not_supported.
inline constexpr option<std::string, detail::option_id::subscribe> subscribe{};
/// SUB, XSUB: takes back one subscription to this prefix (a prefix not subscribed: ignored).
inline constexpr option<std::string, detail::option_id::unsubscribe> unsubscribe{};
/// XPUB: hand the application every subscription message, not only the first one for a
/// prefix (default false, as libzmq's ZMQ_XPUB_VERBOSE).
inline constexpr option<bool, detail::option_id::xpub_verbose> xpub_verbose{};

/// REQ: allow a new request before the reply to the last one came (that reply, if it ever
/// comes, is dropped: relaxed implies request ids, as req_correlate, so a late reply from the
/// same peer cannot pass for the new one). Default false: strict alternation, send fails with
/// wrong_state.
inline constexpr option<bool, detail::option_id::req_relaxed> req_relaxed{};
/// REQ: tag each request with an id (a 4-byte frame before the empty delimiter, which REP and
/// ROUTER peers echo) and deliver only the reply carrying the current id, so a stale reply is
/// never delivered. Interoperates with libzmq's REP (as its ZMQ_REQ_CORRELATE). Default false.
inline constexpr option<bool, detail::option_id::req_correlate> req_correlate{};
/// REQ: resend an unanswered request after this long, to whichever peer the load balancer
/// picks (default 0: never), and at once when the connection it went out on is lost. Implies
/// request ids (as req_correlate), so a late reply to an earlier copy is never delivered. Like
/// nng's REQ resend time: a REQ whose server died can never get stuck. The timer runs while
/// the application is in a call on the socket (a blocking recv, typically).
inline constexpr option<std::chrono::milliseconds, detail::option_id::req_resend_ivl> req_resend_ivl{};

/// ROUTER: a message to an unknown routing id fails with host_unreachable, and one to a
/// peer at its high-water mark waits (sndtimeo) or fails with would_block / timed_out,
/// instead of both being dropped silently (default false, libzmq's ZMQ_ROUTER_MANDATORY).
inline constexpr option<bool, detail::option_id::router_mandatory> router_mandatory{};
/// ROUTER: a new peer announcing the routing id of a connected one takes it over (the old
/// connection is closed); default false: the newcomer is refused (its connection closed), as
/// libzmq's ZMQ_ROUTER_HANDOVER.
inline constexpr option<bool, detail::option_id::router_handover> router_handover{};
/// ROUTER: the routing id to give the peer of the next connect() (1-255 bytes, not starting
/// with 0), instead of the one it announces or a generated one. Used by that connect, then
/// cleared.
inline constexpr option<std::string, detail::option_id::connect_routing_id> connect_routing_id{};

} // namespace opt
} // namespace volley
