// SPDX-License-Identifier: MPL-2.0
// Error codes of volley. Failures volley has a name for are a volley::errc
// inside a std::error_code of the "volley" category, so callers can compare
// against the enum directly (ec == volley::errc::would_block); send and recv
// fail only with those. What the operating system refuses and volley does
// not translate (bind to an address this host does not have: EADDRNOTAVAIL;
// an ipc path in a missing directory: ENOENT; out of memory) keeps its errno
// in std::system_category, so ec.message() still names the cause.
// Control-plane calls throw std::system_error carrying the code, with a
// message that names the cause; data-plane calls return the code as a value.
#pragma once

#include <string>
#include <system_error>

namespace volley {

/// Every reason a volley call can fail.
enum class errc {
    would_block = 1,          ///< nothing could be done now without blocking (dontwait, or timeout 0)
    timed_out,                ///< sndtimeo / rcvtimeo expired before the operation could complete
    closed,                   ///< the socket was closed (or moved from)
    terminated,               ///< the context was shut down
    invalid_argument,         ///< an option value or argument is out of range
    invalid_endpoint,         ///< the endpoint URI is malformed
    unknown_scheme,           ///< the endpoint URI names a transport volley does not have
    address_in_use,           ///< bind: the endpoint is already bound
    endpoint_not_found,       ///< unbind / disconnect: this socket has no such endpoint
    incompatible_socket_type, ///< the peer's socket type cannot talk to this one (e.g. push to push)
    not_supported,            ///< the socket type does not do this (e.g. recv on push)
    protocol_error,           ///< the peer broke the wire protocol
    message_too_large,        ///< a message from a peer exceeds maxmsgsize or input_budget
    connection_refused,       ///< the connection was refused: a PAIR that has its peer refuses a further one in the
                              ///< handshake (a connect that finds nobody listening reports the system's ECONNREFUSED)
    host_unreachable,         ///< the peer cannot be reached; ROUTER with router_mandatory: no peer has that id
    wrong_state,              ///< the pattern does not allow this now (REQ: send before the reply came,
                              ///< recv with no request out; REP: send before a request, recv before the
                              ///< reply; libzmq's EFSM)
    cannot_resolve,           ///< the endpoint's host name does not resolve (bind; a connect retries)
};

/// The "volley" error category.
const std::error_category& error_category() noexcept;

/// Makes an error code of the volley category; found by ADL for `ec = errc::closed`.
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace volley

/// Makes volley::errc an error code enum: it converts to std::error_code, and
/// `ec == volley::errc::closed` compiles.
template <>
struct std::is_error_code_enum<volley::errc> : std::true_type {};
