// SPDX-License-Identifier: MPL-2.0
// What the spec suites of REQ/REP (RFC 28), PUSH/PULL (RFC 30) and PAIR
// (RFC 31) share, so that they read alike: a socket with its monitor and
// bounded waits, joining peers on monitor events, multipart helpers, and
// numbered messages for filling queues up to their high-water marks.
//
// Every wait is bounded: rcvtimeo / sndtimeo set to `patience`, monitor
// events through support::expect_event. Over a stream, "what a peer sent is
// queued here" is known when its connection has ended (await_disconnects):
// a connection ends only after all it carried was read off the wire. inproc
// delivers into the pipe at send, so it needs no barrier.
#pragma once

#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

namespace spec {

using namespace std::chrono_literals;

using strings = std::vector<std::string>;
using all_schemes = std::tuple<VOLLEY_TEST_SCHEMES>;

// The bound of every wait that is expected to succeed.
inline constexpr std::chrono::milliseconds patience{5000};

// A socket whose monitor records from its first endpoint on, with bounded blocking calls
// and a short reconnect interval (a restarted peer is found again at once).
struct node {
    volley::socket s;
    volley::monitor m;
    node(volley::context& ctx, volley::socket_type type) : s(ctx, type), m(s.monitor()) {
        s.set(volley::opt::rcvtimeo, patience);
        s.set(volley::opt::sndtimeo, patience);
        s.set(volley::opt::reconnect_ivl, 10ms);
    }
};

// Binds `n` where the scheme says and returns the endpoint to connect to.
template <class Scheme>
std::string bind_node(node& n) {
    n.s.bind(Scheme::bind_endpoint());
    return n.s.last_endpoint();
}

// An endpoint nobody listens on yet, which can be bound later.
template <class Scheme>
std::string unbound_endpoint() {
    return Scheme::unused_endpoint();
}

// Connects `client` to `server` (bound at `ep`) and returns once both ends are past the handshake.
inline void join(node& client, node& server, const std::string& ep) {
    client.s.connect(ep);
    support::expect_event(client.m, volley::event_type::handshake_succeeded);
    support::expect_event(server.m, volley::event_type::handshake_succeeded);
}

// Over a stream, waits until `n` connections of the monitored socket have ended: whatever
// their peers sent before closing is then queued at this socket. inproc: already there.
template <class Scheme>
void await_disconnects(const volley::monitor& m, int n) {
    if constexpr (Scheme::stream)
        for (int i = 0; i < n; ++i) support::expect_event(m, volley::event_type::disconnected);
}

inline volley::multipart frames_of(const strings& fs) {
    volley::multipart m;
    for (const auto& f : fs) m.emplace_back(std::string_view(f));
    return m;
}

inline strings texts(const volley::multipart& m) {
    strings out;
    for (const auto& f : m) out.push_back(f.to_string());
    return out;
}

inline void send_frames(volley::socket& s, const strings& fs) {
    const auto r = s.send(frames_of(fs));
    REQUIRE_MESSAGE(r.ok(), "send failed: " << r.error_code().message());
}

inline strings recv_frames(volley::socket& s) {
    auto got = s.recv_multipart();
    REQUIRE_MESSAGE(got.ok(), "recv failed: " << got.error_code().message());
    return texts(*got);
}

// One recv with rcvtimeo `t`, the result as it is.
inline volley::recv_multipart_result recv_within(volley::socket& s, std::chrono::milliseconds t) {
    s.set(volley::opt::rcvtimeo, t);
    auto got = s.recv_multipart();
    s.set(volley::opt::rcvtimeo, patience);
    return got;
}

// Polls `pred` until it holds, for at most `patience` (a state with no event to wait for).
template <class Pred>
bool eventually(Pred&& pred) {
    const auto start = std::chrono::steady_clock::now();
    while (!pred()) {
        if (support::ms_since(start) > patience.count()) return false;
        std::this_thread::yield();
    }
    return true;
}

// A frame of `size` bytes whose text starts with the number `n` and a '|'.
inline volley::message numbered(int n, std::size_t size = 16 * 1024) {
    const std::string head = std::to_string(n) + "|";
    volley::message m(std::max(size, head.size()));
    std::memset(m.data(), 'x', m.size());
    std::memcpy(m.data(), head.data(), head.size());
    return m;
}

inline int number_of(std::string_view text) {
    return std::stoi(std::string(text.substr(0, text.find('|'))));
}

// Sends numbered(i), i = first, first + 1, ..., until a send waits `wait` in vain: every
// queue toward the peers is full, the kernel's buffers in between included. Returns the
// number of the message that failed (not sent): [first, result) went.
inline int send_until_full(volley::socket& s, int first, std::chrono::milliseconds wait = 200ms) {
    s.set(volley::opt::sndtimeo, wait);
    int i = first;
    volley::errc last{};
    for (; i < first + 4000; ++i) { // 64 MiB of 16 KiB frames: far past any kernel buffer
        const auto r = s.send(numbered(i));
        if (r.failed()) {
            last = r.error();
            break;
        }
    }
    s.set(volley::opt::sndtimeo, patience);
    REQUIRE_MESSAGE(last == volley::errc::timed_out, "the sends never filled the queues (" << i - first << " went)");
    return i;
}

// Receives numbered messages until none comes within `quiet`.
inline std::vector<int> drain_numbers(volley::socket& s, std::chrono::milliseconds quiet = 500ms) {
    std::vector<int> got;
    for (;;) {
        auto m = recv_within(s, quiet);
        if (!m.ok()) {
            REQUIRE(m.error() == volley::errc::timed_out);
            return got;
        }
        got.push_back(number_of(m->back().view()));
    }
}

// Receives exactly `count` numbered messages and checks they are first, first + 1, ...
inline void expect_numbers(volley::socket& s, int first, int count) {
    for (int i = first; i < first + count; ++i) {
        auto m = s.recv_multipart();
        REQUIRE_MESSAGE(m.ok(), "message " << i << " of [" << first << ", " << first + count << ") did not come");
        const int n = number_of(m->back().view());
        REQUIRE_MESSAGE(n == i, "expected message " << i << ", got " << n);
    }
}

} // namespace spec
