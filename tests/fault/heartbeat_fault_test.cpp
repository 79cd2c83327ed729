// SPDX-License-Identifier: MPL-2.0
// Peers that complete the handshake and then fall silent: one that never
// answers the listener's PINGs, and one that asks, in its own PING, to be
// dropped if it says nothing more for its TTL. Each must be disconnected
// with timed_out and a detail naming the heartbeat, while well-behaved
// peers (which answer PINGs) stay connected and served.
#include "fault/listener_fixture.hpp"
#include "fault/raw_peer.hpp"

#include <doctest/doctest.h>

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
