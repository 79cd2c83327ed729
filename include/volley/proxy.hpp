// SPDX-License-Identifier: MPL-2.0
// volley::proxy: forwards whole messages between two sockets in both
// directions (libzmq's zmq_proxy), a broker in one call: ROUTER frontend and
// DEALER backend for request-reply, XSUB and XPUB for publish-subscribe,
// PULL and PUSH for a pipeline stage. It runs on the calling thread until the
// sockets' context is shut down, or a steerable proxy is told to stop.
#pragma once

#include <volley/socket.hpp>

#include <cstdint>
#include <system_error>

namespace volley {

/// Forwards every message that arrives on `frontend` to `backend` and back, each message
/// whole, a send waiting as the target socket's sndtimeo allows (a message that cannot be
/// sent is dropped and counted in the statistics). With `capture`, a copy of each message also
/// goes there, never waiting (a slow capture loses copies, not traffic). Returns
/// errc::terminated when the context is shut down, errc::closed if a socket is closed.
std::error_code proxy(socket& frontend, socket& backend, socket* capture = nullptr) noexcept;

/// What a steerable proxy counts (the STATISTICS reply, in this order, as libzmq sends it:
/// eight 8-byte frames in host byte order).
struct proxy_statistics {
    // Each line: a `///` above for its first member, a `///<` after it for its second.
    /// Messages received from the frontend, those dropped included (a multipart message counts once).
    std::uint64_t frontend_messages_in = 0, frontend_bytes_in = 0;   ///< bytes received from the frontend, all frames
    /// Messages sent to the frontend whole (one the frontend could not take is not counted).
    std::uint64_t frontend_messages_out = 0, frontend_bytes_out = 0; ///< bytes sent to the frontend, all frames
    /// Messages received from the backend, those dropped included.
    std::uint64_t backend_messages_in = 0, backend_bytes_in = 0;     ///< bytes received from the backend, all frames
    /// Messages sent to the backend whole (one the backend could not take is not counted).
    std::uint64_t backend_messages_out = 0, backend_bytes_out = 0;   ///< bytes sent to the backend, all frames
};

/// proxy(), steered by commands arriving on `control` as single-frame messages (libzmq's
/// zmq_proxy_steerable): "PAUSE" stops forwarding (messages wait in the sockets' queues),
/// "RESUME" starts again, "TERMINATE" returns {}, "STATISTICS" replies with the counts (see
/// proxy_statistics). A REP control socket gets a reply to every command (empty for all but
/// STATISTICS), so that its alternation holds. Unknown commands are ignored (REP: empty reply).
std::error_code proxy_steerable(socket& frontend, socket& backend, socket* capture, socket& control) noexcept;

} // namespace volley
