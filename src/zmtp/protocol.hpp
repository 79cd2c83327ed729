// SPDX-License-Identifier: MPL-2.0
// protocol: ZMTP above the framing, with no I/O. It decides what a peer's
// greeting, handshake commands and later commands mean, and what our
// commands are; the connection driver (driver/driver.hpp) feeds it the frames
// its wire decoded and writes what it returns. Every transport that carries
// ZMTP frames shares it: a byte stream (tcp, ipc) frames them with the ZMTP
// codec (stream_codec.hpp), a message transport (rdma) carries them as they
// are. What is ZMTP and what is the transport's stays apart:
//
//   driver --frames--> protocol: greeting check, mechanism handshake, PING/PONG,
//     |                          ERROR, SUBSCRIBE/CANCEL <-> control frames
//     +---frames---> wire: stream (greeting bytes + codec + fd) | frame channel (rdma)
//
// The handshake: check_greeting() (same mechanism, version), then start()
// (the session admitted the peer so far: our first commands), then every
// command of the peer's through handshake_command() until it says done.
// Afterwards on_command() interprets the peer's commands, and outgoing()
// turns the socket's control frames (subscriptions) into what this peer's
// version understands.
//
// Single-threaded: the connection's lock is held around every call.
#pragma once

#include "peer.hpp"
#include "zmtp/mechanism.hpp"
#include "zmtp/wire.hpp"

#include <volley/error.hpp>
#include <volley/message.hpp>
#include <volley/socket.hpp>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace volley::zmtp {

class protocol {
public:
    // `type`: our socket's; `m`: the security mechanism (NULL for now). Throws std::bad_alloc.
    protocol(socket_type type, std::unique_ptr<mechanism> m);

    // Our greeting's mechanism and as-server flag.
    std::string_view mechanism_name() const noexcept { return mechanism_->name(); }
    bool as_server() const noexcept { return mechanism_->as_server(); }

    // The peer's greeting arrived (or, on a message transport, what its hello said): the
    // reason to refuse it, or an empty string.
    std::string check_greeting(const greeting& g);
    // The peer speaks ZMTP 3.1 or later (PING/PONG, SUBSCRIBE/CANCEL commands).
    bool peer_has_commands() const noexcept { return peer_minor_ >= 1; }

    // ---- the handshake ----
    // Our first handshake commands, in order. Throws std::bad_alloc.
    void start(std::vector<message>& out);
    // What one frame of the peer's during the handshake did.
    enum class step { more, done, fail };
    // `body`, `command`: the frame. On done, `peer` holds who the peer is; on fail, `code`
    // and `reason` say why. Commands to send go into `out`. noexcept: out of memory fails.
    step handshake_frame(const message& body, bool command, std::vector<message>& out,
                         detail::peer_properties& peer, errc& code, std::string& reason) noexcept;

    // ---- afterwards ----
    // What a command of the peer's asks of the connection.
    enum class action {
        ignore,  // nothing (PONG: any traffic counts as life; commands we do not know)
        deliver, // SUBSCRIBE / CANCEL for a socket that takes them: `body` is now the control
                 // frame its pipe carries (not a command any more)
        ping,    // PING: answer with pong(); `ttl` is the peer's, zero when it set none
        fail,    // close the connection: `reason` says why
    };
    struct command_result {
        action what = action::ignore;
        std::chrono::milliseconds ttl{0};
        message pong; // action::ping
        std::string reason;
    };
    // `mid_message`: a message of the peer's is half delivered (a subscription must not
    // land inside it). noexcept: out of memory fails or answers no PING.
    command_result on_command(message& body, bool mid_message) noexcept;

    // A control frame of the socket's (`m`, not control::none) is about to be sent: rewrites
    // it as this peer understands it (ZMTP 3.1: a SUBSCRIBE / CANCEL command, `command` set;
    // 3.0: a 0x01 / 0x00-prefixed message). False when it is not to be sent (the reset
    // marker, and what came before it; see expect_reset()). Throws std::bad_alloc.
    bool outgoing(message& m, bool& command);
    // The socket resends its subscriptions behind a reset marker (a subscriber's reconnect):
    // control frames before the marker are dropped.
    void expect_reset() noexcept { awaiting_reset_ = true; }

private:
    socket_type type_;
    std::unique_ptr<mechanism> mechanism_;
    std::uint8_t peer_minor_ = 0;
    bool awaiting_reset_ = false;
};

// The reason an ERROR command gives, quoted for a monitor detail.
std::string error_reason(std::span<const std::byte> error_data);

} // namespace volley::zmtp
