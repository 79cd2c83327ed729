// SPDX-License-Identifier: MPL-2.0
// Peers that complete the handshake and then fall silent: one that never
// answers the listener's PINGs, and one that asks, in its own PING, to be
// dropped if it says nothing more for its TTL. Each must be disconnected
// with timed_out and a detail naming the heartbeat, while well-behaved
// peers (which answer PINGs) stay connected and served. And one that is far
// from silent, only slow: it trickles a large frame without answering PINGs,
// and every byte it sends counts as a sign of life. Last, the other side of
// slowness: a receiver too busy to read must not blame the peer's silence.
#include "fault/listener_fixture.hpp"
#include "fault/raw_peer.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>

using namespace volley;
using namespace std::chrono_literals;

// A peer that finishes the handshake and then says nothing.
using silent_peer = fault::handshaken_peer;

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer that stops answering its PINGs", Scheme, unanswered_pings) {
    fault::listener l(Scheme::bind_endpoint(), [](volley::socket& s) {
        s.set(opt::heartbeat_ivl, 50ms);
        s.set(opt::heartbeat_timeout, 200ms);
    });
    silent_peer bad(l); // reads nothing, answers nothing
    l.expect(event_type::disconnected, errc::timed_out, "heartbeat");
    CHECK(bad.raw.wait_closed(5000ms));
    l.check_still_serves(); // the veteran answered every PING: still connected
}
TEST_CASE_TEMPLATE_INSTANTIATE(unanswered_pings, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("listener drops a peer whose PING TTL passes in silence", Scheme, ttl_expired) {
    fault::listener l(Scheme::bind_endpoint());
    silent_peer bad(l);
    // PING with a TTL of 2 deciseconds: "if you hear nothing from me for 200 ms, drop me".
    REQUIRE(bad.raw.send(raw_zmtp::command("PING", std::string("\x00\x02", 2))));
    const auto start = std::chrono::steady_clock::now();
    l.expect(event_type::disconnected, errc::timed_out, "TTL");
    CHECK(support::ms_since(start) >= 150); // not before the TTL (timer granularity aside)
    CHECK(bad.raw.wait_closed(5000ms));
    l.check_still_serves();
}
TEST_CASE_TEMPLATE_INSTANTIATE(ttl_expired, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("listener keeps a peer that sends a large frame slowly", Scheme, slow_large_frame) {
    fault::listener l(Scheme::bind_endpoint(), [](volley::socket& s) {
        s.set(opt::heartbeat_ivl, 50ms);
        s.set(opt::heartbeat_timeout, 200ms);
    });
    fault::handshaken_peer slow(l);
    // 256 KiB in 64 pieces, 20 ms apart: 1.3 s, many heartbeat timeouts long, while the
    // listener waits for the whole body (its low-water mark) and no PING is answered.
    constexpr std::size_t size = 256 * 1024, piece = 4 * 1024;
    std::string body(size, '\0');
    for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 26);
    REQUIRE(slow.raw.send(raw_zmtp::frame_header(0, size)));
    for (std::size_t at = 0; at < size; at += piece) {
        REQUIRE(slow.raw.send(std::string_view(body).substr(at, piece)));
        std::this_thread::sleep_for(20ms); // the peer's pace, not a wait for an event
    }
    CHECK_FALSE(l.events().wait_for(event_type::disconnected, 0ms).has_value());
    l.check_still_serves({body}); // the slow frame arrived whole
}
TEST_CASE_TEMPLATE_INSTANTIATE(slow_large_frame, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("a consumer that stops reading keeps its connection and every message", Scheme,
                          slow_consumer) {
    // The receiver's queue fills, so it stops reading the connection, and with it the
    // peer's PONGs: silence it caused itself must not count against the peer.
    context ctx;
    volley::socket pull(ctx, socket_type::pull), push(ctx, socket_type::push);
    pull.set(opt::rcvhwm, 10);
    pull.set(opt::heartbeat_ivl, 20ms);
    pull.set(opt::heartbeat_timeout, 50ms);
    pull.set(opt::rcvtimeo, 5000ms);
    auto events = pull.monitor();
    pull.bind(Scheme::bind_endpoint());
    push.connect(pull.last_endpoint());
    support::expect_event(events, event_type::handshake_succeeded);
    constexpr int count = 500;
    for (int i = 0; i < count; ++i) REQUIRE(push.send(std::to_string(i)).ok());
    // Ten heartbeat timeouts pass while the application reads nothing.
    CHECK_FALSE(events.wait_for(event_type::disconnected, 500ms).has_value());
    int next = 0;
    for (; next < count; ++next) {
        auto m = pull.recv();
        if (!m || m.value() != std::to_string(next)) break;
    }
    CHECK(next == count);
}
TEST_CASE_TEMPLATE_INSTANTIATE(slow_consumer, support::tcp_scheme, support::ipc_scheme);
