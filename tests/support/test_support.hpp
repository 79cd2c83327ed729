// SPDX-License-Identifier: MPL-2.0
// Helpers shared by the tests: unique endpoints per transport, and waiting
// for connections through monitor events (never with sleeps).
#pragma once

#include <volley/volley.hpp>

#include "socket_base.hpp" // peer counts, for tests that check attachments

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace support {

using namespace std::chrono_literals;

/// A fresh inproc endpoint name, unique within the process.
inline std::string inproc_endpoint() {
    static std::atomic<int> next{0};
    return "inproc://test-" + std::to_string(next.fetch_add(1));
}

/// A fresh ipc endpoint: a file in /tmp named by pid, a random per-process token and a
/// counter. The token matters: pids are reused, and a run that was killed leaves socket
/// files behind that a later process with the same pid would otherwise meet.
inline std::string ipc_endpoint() {
    static const std::string prefix = [] {
        char token[17];
        std::snprintf(token, sizeof token, "%016llx", static_cast<unsigned long long>(std::random_device{}()) << 32 |
                                                          std::random_device{}());
        return "ipc:///tmp/volley-test-" + std::to_string(::getpid()) + "-" + token + "-";
    }();
    static std::atomic<int> next{0};
    return prefix + std::to_string(next.fetch_add(1)) + ".ipc";
}

/// A tcp endpoint nobody listens on: bound once on an ephemeral port, then released (the
/// probe socket and its context are gone when this returns; SO_REUSEADDR frees the port).
inline std::string unused_tcp_endpoint() {
    volley::context probe;
    volley::socket s(probe, volley::socket_type::pull);
    s.bind("tcp://127.0.0.1:*");
    return s.last_endpoint();
}

/// Milliseconds elapsed since `start`.
inline long long ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

/// Waits (bounded) for an event of `type` on `m`; fails the test case if none comes.
inline volley::monitor_event expect_event(const volley::monitor& m, volley::event_type type,
                                          std::chrono::milliseconds timeout = 10s) {
    auto e = m.wait_for(type, timeout);
    REQUIRE_MESSAGE(e.has_value(), "no " << volley::to_string(type) << " event within " << timeout.count() << " ms");
    return *e;
}

// The transports the conformance suite runs on. Each says where to bind (the test then
// connects to last_endpoint()), where nobody listens now (for a connect made first), and
// whether it has connections (reconnects, refusals).
struct inproc_scheme {
    static constexpr const char* name = "inproc";
    static constexpr bool stream = false;
    static std::string bind_endpoint() { return inproc_endpoint(); }
    static std::string unused_endpoint() { return bind_endpoint(); }
};
struct ipc_scheme {
    static constexpr const char* name = "ipc";
    static constexpr bool stream = true;
    static std::string bind_endpoint() { return ipc_endpoint(); }
    static std::string unused_endpoint() { return bind_endpoint(); }
};
struct tcp_scheme {
    static constexpr const char* name = "tcp";
    static constexpr bool stream = true;
    static std::string bind_endpoint() { return "tcp://127.0.0.1:*"; }
    static std::string unused_endpoint() { return unused_tcp_endpoint(); }
};

// rdma:// on the address of the one RDMA device (the Soft-RoCE VM's, tests/rdma), for the
// rdma binaries: the same sources built with VOLLEY_TEST_RDMA run on rdma alone.
struct rdma_scheme {
    static constexpr const char* name = "rdma";
    static constexpr bool stream = true;
    static std::string bind_endpoint() {
        const char* addr = std::getenv("RDMA_ADDR");
        return std::string("rdma://") + (addr != nullptr ? addr : "10.0.0.1") + ":*";
    }
    static std::string unused_endpoint() { // a port the CM gave out and took back
        volley::context probe;
        volley::socket s(probe, volley::socket_type::pull);
        s.bind(bind_endpoint());
        return s.last_endpoint();
    }
};

// The transports a suite is instantiated for.
#ifdef VOLLEY_TEST_RDMA
#define VOLLEY_TEST_SCHEMES support::rdma_scheme
#else
#define VOLLEY_TEST_SCHEMES support::inproc_scheme, support::ipc_scheme, support::tcp_scheme
#endif

/// Two connected sockets: `a` bound, `b` connected, both past the handshake.
struct connected_pair {
    volley::socket a;
    volley::socket b;
    std::string endpoint;
};

/// Binds `a` (type ta) at `endpoint`, connects `b` (type tb) and returns once both report
/// handshake_succeeded (nng's nuts_marry): no sleeps, and messages flow at once.
inline connected_pair pair_up(volley::context& ctx, volley::socket_type ta, volley::socket_type tb,
                              const std::string& endpoint) {
    volley::socket a(ctx, ta), b(ctx, tb);
    auto ma = a.monitor();
    auto mb = b.monitor();
    a.bind(endpoint);
    const std::string resolved = a.last_endpoint();
    b.connect(resolved);
    expect_event(ma, volley::event_type::handshake_succeeded);
    expect_event(mb, volley::event_type::handshake_succeeded);
    return {std::move(a), std::move(b), resolved};
}

template <class Scheme>
connected_pair pair_up(volley::context& ctx, volley::socket_type ta, volley::socket_type tb) {
    return pair_up(ctx, ta, tb, Scheme::bind_endpoint());
}

} // namespace support

// Multipart messages print as {"frame", "frame"}, non-printable bytes escaped.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
    static String convert(const std::vector<std::string>& frames) {
        std::string out = "{";
        for (std::size_t i = 0; i < frames.size(); ++i) {
            out += i == 0 ? "\"" : ", \"";
            for (unsigned char c : frames[i].substr(0, 64)) {
                if (c >= 0x20 && c < 0x7f) {
                    out += static_cast<char>(c);
                } else {
                    char hex[5];
                    std::snprintf(hex, sizeof hex, "\\x%02x", c);
                    out += hex;
                }
            }
            out += frames[i].size() > 64 ? "...\"" : "\"";
        }
        return (out + "}").c_str();
    }
};
} // namespace doctest

// Test names read "...<tcp>", the same in every file of a test binary.
TYPE_TO_STRING_AS("inproc", support::inproc_scheme);
TYPE_TO_STRING_AS("ipc", support::ipc_scheme);
TYPE_TO_STRING_AS("tcp", support::tcp_scheme);
