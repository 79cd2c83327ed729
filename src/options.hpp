// SPDX-License-Identifier: MPL-2.0
// The option values of one socket, with libzmq's defaults except linger
// (bounded here: an unreachable peer must not hang shutdown forever).
#pragma once

#include <volley/socket.hpp>

#include <chrono>
#include <string>
#include <system_error>

namespace volley::detail {

struct socket_options {
    int sndhwm = 1000;
    int rcvhwm = 1000;
    std::chrono::milliseconds linger{30'000};
    std::chrono::milliseconds sndtimeo = infinite;
    std::chrono::milliseconds rcvtimeo = infinite;
    std::string routing_id;
    std::chrono::milliseconds reconnect_ivl{100};
    std::chrono::milliseconds reconnect_ivl_max{0};
    std::chrono::milliseconds handshake_ivl{30'000};
    std::int64_t maxmsgsize = -1;
    std::int64_t input_budget = std::int64_t{64} << 20;
    int busy_poll = -1; // microseconds; -1: the socket's choice (socket_base::spin_ceiling)
    std::string subscribe;   // the last value set (an action: see socket_base::set_option)
    std::string unsubscribe; // likewise
    bool xpub_verbose = false;
    bool req_relaxed = false;
    bool req_correlate = false;
    std::chrono::milliseconds req_resend_ivl{0};
    bool router_mandatory = false;
    bool router_handover = false;
    std::string connect_routing_id;
    std::chrono::milliseconds heartbeat_ivl{0};
    std::chrono::milliseconds heartbeat_timeout{0};
    std::chrono::milliseconds heartbeat_ttl{0};
    int tcp_keepalive = -1;
    int tcp_keepalive_idle = -1;
    int tcp_keepalive_cnt = -1;
    int tcp_keepalive_intvl = -1;
    bool ipv6 = false;
    int sndbuf = -1; // -1: the transport's default (see stream_family::default_send_buffer)
    int rcvbuf = -1;

    // Validates and stores one option; leaves the value unchanged on error.
    // invalid_argument for a value out of its range; `why` then names the option and what
    // it takes ("sndhwm takes 0 or more, not -5").
    std::error_code set(option_id id, const option_value& value, std::string& why) noexcept;
    option_value get(option_id id) const;
};

// Options that are actions on the pattern (subscribe, unsubscribe) rather than settings.
constexpr bool is_action(option_id id) noexcept {
    return id == option_id::subscribe || id == option_id::unsubscribe;
}

// Options read while the socket works, so a change takes effect at once. The others are
// endpoint options: bind() and connect() copy them into what they make (pipes, listeners,
// connectors, connections), so they may be set only while the socket has no endpoint.
constexpr bool is_live(option_id id) noexcept {
    switch (id) {
    case option_id::sndtimeo:
    case option_id::rcvtimeo:
    case option_id::linger:
    case option_id::busy_poll:
    case option_id::subscribe:
    case option_id::unsubscribe:
    case option_id::xpub_verbose:
    case option_id::req_relaxed:
    case option_id::req_correlate:
    case option_id::req_resend_ivl:
    case option_id::router_mandatory:
    case option_id::router_handover:
    case option_id::connect_routing_id: return true;
    default: return false;
    }
}

// The option's name as its volley::opt tag spells it ("sndhwm").
const char* option_name(option_id id) noexcept;

} // namespace volley::detail
