// SPDX-License-Identifier: MPL-2.0
// mechanism: the security handshake of a ZMTP connection (RFC 23 section
// "Security"), the part of the protocol a socket chooses. Each peer names its
// mechanism in the greeting; both must name the same. Then the mechanism
// exchanges commands until it knows the peer (its properties: Socket-Type,
// Identity, metadata) or refuses it. NULL (RFC 37) is one READY each way (the
// server's may answer the client's); PLAIN and CURVE (issue 11) add a few
// commands before READY and, for CURVE, encrypt every frame afterwards.
//
// The last command of the handshake (`done`) may carry our answer in `out`:
// the driver asks the session to admit the peer before it sends that answer,
// and sends an ERROR in its place when the session refuses.
//
// A mechanism does no I/O: what it sends it appends to `out`, in order, and
// the connection writes it. It runs on the thread that holds the
// connection's lock.
#pragma once

#include "zmtp/commands.hpp"

#include <volley/error.hpp>
#include <volley/message.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace volley::zmtp {

class mechanism {
public:
    virtual ~mechanism() = default;
    // The name in the greeting: "NULL", "PLAIN", "CURVE" (at most 20 characters).
    virtual std::string_view name() const noexcept = 0;
    // The greeting's as-server flag (NULL: always false).
    virtual bool as_server() const noexcept = 0;
    // What a handshake command did.
    enum class step {
        more,  // the handshake goes on (what to send, if anything, is in `out`)
        done,  // the peer is known: `peer` holds its properties
        fail,  // refused: `reason` says why (the connection closes; an ERROR went into `out` if
               // the peer is to be told)
    };
    // The greeting is done and the peer admitted so far: the commands we send first.
    // Throws std::bad_alloc.
    virtual void start(std::vector<message>& out) = 0;
    // One command of the peer's during the handshake. Throws std::bad_alloc.
    virtual step on_command(const command& c, std::vector<message>& out, properties& peer, std::string& reason) = 0;
};

// NULL: our READY carries Socket-Type and, when `routing_id` is given, Identity. `answers`:
// we are the server (the accepting side), sending our READY once the peer's arrived.
// Throws std::bad_alloc.
std::unique_ptr<mechanism> make_null_mechanism(socket_type type, const std::string* routing_id, bool answers);

} // namespace volley::zmtp
