// SPDX-License-Identifier: MPL-2.0
// The libzmq side of the interop tests, through zmq.h: a context and a socket
// with RAII, bounded waits everywhere (receive and send timeouts, linger 0 so
// that zmq_ctx_term never hangs) and whole multipart messages as vectors of
// strings. Also the setups the tests run under: which transport, and which
// side (volley or libzmq) binds.
#pragma once

#include "support/test_support.hpp"

#include <doctest/doctest.h>
#include <zmq.h>

#include <cerrno>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace interop {

using namespace std::chrono_literals;
using frames = std::vector<std::string>;

// The text of libzmq's last error on this thread.
inline std::string zmq_error() { return zmq_strerror(zmq_errno()); }

// How long any single libzmq send or receive may wait.
inline constexpr int zmq_timeout_ms = 5000;

// A libzmq context; zmq_ctx_term at the end (sockets close first, with linger 0).
class libzmq_context {
public:
    libzmq_context() : ctx_(zmq_ctx_new()) { REQUIRE(ctx_ != nullptr); }
    ~libzmq_context() { zmq_ctx_term(ctx_); }
    libzmq_context(const libzmq_context&) = delete;
    libzmq_context& operator=(const libzmq_context&) = delete;
    void* get() const noexcept { return ctx_; }

private:
    void* ctx_;
};

// A libzmq socket with linger 0 and send/receive timeouts of zmq_timeout_ms.
class libzmq_socket {
public:
    libzmq_socket(libzmq_context& ctx, int type) : s_(::zmq_socket(ctx.get(), type)) {
        REQUIRE(s_ != nullptr);
        set(ZMQ_LINGER, 0);
        set(ZMQ_RCVTIMEO, zmq_timeout_ms);
        set(ZMQ_SNDTIMEO, zmq_timeout_ms);
    }
    ~libzmq_socket() {
        zmq_close(s_);
        // libzmq leaves the socket file of an ipc endpoint it bound (it removes only those
        // of "ipc://*"); the path is unique to this test, so removing it here is safe.
        for (const auto& path : ipc_files_) ::unlink(path.c_str());
    }
    libzmq_socket(const libzmq_socket&) = delete;
    libzmq_socket& operator=(const libzmq_socket&) = delete;

    void set(int option, int value) { REQUIRE(zmq_setsockopt(s_, option, &value, sizeof value) == 0); }
    void set(int option, const std::string& value) {
        REQUIRE(zmq_setsockopt(s_, option, value.data(), value.size()) == 0);
    }

    // Binds and returns the resolved endpoint (ZMQ_LAST_ENDPOINT: the wildcard port filled in).
    std::string bind(const std::string& endpoint) {
        REQUIRE_MESSAGE(zmq_bind(s_, endpoint.c_str()) == 0, "zmq_bind " << endpoint << ": " << zmq_error());
        char buf[256];
        std::size_t len = sizeof buf;
        REQUIRE(zmq_getsockopt(s_, ZMQ_LAST_ENDPOINT, buf, &len) == 0);
        std::string resolved(buf);
        if (resolved.starts_with("ipc://")) ipc_files_.push_back(resolved.substr(6));
        return resolved;
    }
    void connect(const std::string& endpoint) {
        REQUIRE_MESSAGE(zmq_connect(s_, endpoint.c_str()) == 0,
                        "zmq_connect " << endpoint << ": " << zmq_error());
    }

    // Sends every frame as one message; false (with errno) if any frame could not go.
    bool send(const frames& parts) {
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const int flags = i + 1 < parts.size() ? ZMQ_SNDMORE : 0;
            if (zmq_send(s_, parts[i].data(), parts[i].size(), flags) < 0) return false;
        }
        return true;
    }
    bool send(const std::string& one) { return send(frames{one}); }

    // Lets libzmq process the commands its I/O thread sent the socket (a pipe attached for a
    // new connection, ...): libzmq does that only inside its API calls, so a socket left
    // alone does not, e.g., send its stored subscriptions to a new peer.
    void process_commands() {
        int events = 0;
        std::size_t len = sizeof events;
        zmq_getsockopt(s_, ZMQ_EVENTS, &events, &len);
    }

    // Every frame of the next message, or nullopt when none arrives within the timeout.
    std::optional<frames> recv() {
        frames out;
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s_, 0) < 0) {
                zmq_msg_close(&m);
                return std::nullopt;
            }
            out.emplace_back(static_cast<const char*>(zmq_msg_data(&m)), zmq_msg_size(&m));
            const bool more = zmq_msg_more(&m) != 0;
            zmq_msg_close(&m);
            if (!more) return out;
        }
    }

private:
    void* s_;
    std::vector<std::string> ipc_files_;
};

// A volley message as frames of text.
inline frames to_frames(const volley::multipart& m) {
    frames out;
    for (const auto& part : m) out.push_back(part.to_string());
    return out;
}

// A volley multipart message made of `parts`.
inline volley::multipart to_multipart(const frames& parts) {
    volley::multipart m;
    for (const auto& p : parts) m.emplace_back(p.data(), p.size());
    return m;
}

// A volley socket with bounded waits: send and receive time out, close drops the rest.
inline volley::socket bounded_socket(volley::context& ctx, volley::socket_type type) {
    volley::socket s(ctx, type);
    s.set(volley::opt::rcvtimeo, std::chrono::milliseconds(zmq_timeout_ms));
    s.set(volley::opt::sndtimeo, std::chrono::milliseconds(zmq_timeout_ms));
    s.set(volley::opt::linger, 0ms);
    return s;
}

// The setups: a transport, and which side binds (the other connects).
struct tcp_volley_binds {
    static constexpr bool volley_binds = true;
    static std::string endpoint() { return "tcp://127.0.0.1:*"; }
};
struct tcp_zmq_binds {
    static constexpr bool volley_binds = false;
    static std::string endpoint() { return "tcp://127.0.0.1:*"; }
};
struct ipc_volley_binds {
    static constexpr bool volley_binds = true;
    static std::string endpoint() { return support::ipc_endpoint(); }
};
struct ipc_zmq_binds {
    static constexpr bool volley_binds = false;
    static std::string endpoint() { return support::ipc_endpoint(); }
};

// Joins `v` and `z` as Setup says and returns once volley reports handshake_succeeded
// (libzmq queues or blocks, within its timeouts, until its side is up too). Returns
// the endpoint used; `events` is v's monitor, started before the bind or connect.
template <class Setup>
std::string link(volley::socket& v, const volley::monitor& events, libzmq_socket& z) {
    std::string endpoint = Setup::endpoint();
    if (Setup::volley_binds) {
        v.bind(endpoint);
        endpoint = v.last_endpoint();
        z.connect(endpoint);
    } else {
        endpoint = z.bind(endpoint);
        v.connect(endpoint);
    }
    support::expect_event(events, volley::event_type::handshake_succeeded);
    return endpoint;
}

// A volley socket and a libzmq one of the given types, linked as `Setup` says and past the
// handshake. `configure(v, z)` runs before they are linked (options, subscriptions).
template <class Setup>
struct linked {
    volley::context ctx;
    libzmq_context zctx;
    volley::socket v;
    libzmq_socket z;
    volley::monitor events;
    template <class Configure>
    linked(volley::socket_type vt, int zt, Configure&& configure)
        : v(bounded_socket(ctx, vt)), z(zctx, zt), events(v.monitor()) {
        configure(v, z);
        link<Setup>(v, events, z);
    }
    linked(volley::socket_type vt, int zt) : linked(vt, zt, [](volley::socket&, libzmq_socket&) {}) {}
};

} // namespace interop

TYPE_TO_STRING_AS("tcp volley-binds", interop::tcp_volley_binds);
TYPE_TO_STRING_AS("tcp libzmq-binds", interop::tcp_zmq_binds);
TYPE_TO_STRING_AS("ipc volley-binds", interop::ipc_volley_binds);
TYPE_TO_STRING_AS("ipc libzmq-binds", interop::ipc_zmq_binds);
