// SPDX-License-Identifier: MPL-2.0
// Endpoint lifetimes at the edges: endpoints that finish on their own, and
// context ends that must stay bounded by linger whatever the peer does.
// Each bounded case runs the shutdown on another thread and waits for it
// with a timeout, so a hang is a failure rather than a stuck test.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <future>
#include <memory>

using namespace volley;
using namespace std::chrono_literals;

namespace {

// Runs `fn` on its own thread; true if it returned within `limit`.
template <class Fn>
bool finishes_within(std::chrono::milliseconds limit, Fn&& fn) {
    auto done = std::async(std::launch::async, std::forward<Fn>(fn));
    return done.wait_for(limit) == std::future_status::ready;
}

} // namespace

TEST_CASE("a PAIR connecting twice to one endpoint, then disconnecting, is harmless") {
    // The second connect's pipe is refused by the PAIR itself, so its connector finishes
    // on its own; disconnecting afterwards must not touch it.
    context ctx;
    volley::socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    auto ma = a.monitor();
    a.bind("tcp://127.0.0.1:*");
    const auto ep = a.last_endpoint();
    b.connect(ep);
    support::expect_event(ma, event_type::handshake_succeeded);
    std::error_code ec;
    b.connect(ep, ec); // a second endpoint for the same address
    b.disconnect(ep);
    // Whatever is left (a pending connect, or nothing) takes it or refuses it, without harm.
    const auto r = b.send("still fine", send_flags::dontwait);
    CHECK((r.ok() || r.error() == errc::would_block));
    b.close();
    a.close();
}

TEST_CASE("a sender that never reconnects ends at once at context end, messages queued or not") {
    std::string ep;
    {
        context probe;
        volley::socket s(probe, socket_type::pull);
        s.bind("tcp://127.0.0.1:*");
        ep = s.last_endpoint(); // free again once s closes
    }
    auto ctx = std::make_unique<context>();
    volley::socket push(*ctx, socket_type::push);
    push.set(opt::reconnect_ivl, infinite);
    push.set(opt::linger, 100ms);
    push.connect(ep);
    REQUIRE(push.send("queued", send_flags::dontwait).ok());
    CHECK(finishes_within(10s, [&] { ctx.reset(); }));
}

TEST_CASE("context end gives up within linger on a peer that never reads") {
    context peer_ctx;
    volley::socket pull(peer_ctx, socket_type::pull);
    pull.set(opt::rcvhwm, 10);
    pull.bind("tcp://127.0.0.1:*");
    auto ctx = std::make_unique<context>();
    volley::socket push(*ctx, socket_type::push);
    push.set(opt::sndhwm, 100'000);
    push.set(opt::linger, 200ms);
    auto mp = push.monitor();
    push.connect(pull.last_endpoint());
    support::expect_event(mp, event_type::handshake_succeeded);
    // Fill every buffer on the way: the peer's pipe, both kernels, our pipe.
    const message body(std::size_t{4096});
    int sent = 0;
    while (sent < 100'000 && push.send(message(body), send_flags::dontwait).ok()) ++sent;
    CHECK(sent > 10);
    // The socket stays open; the context ends: its connection may linger 200 ms, no more
    // (it must not reconnect to try again).
    CHECK(finishes_within(10s, [&] { ctx.reset(); }));
}

TEST_CASE("retries far apart do not stretch context end past linger") {
    std::string ep;
    {
        context probe;
        volley::socket s(probe, socket_type::pull);
        s.bind("tcp://127.0.0.1:*");
        ep = s.last_endpoint();
    }
    auto ctx = std::make_unique<context>();
    volley::socket push(*ctx, socket_type::push);
    push.set(opt::reconnect_ivl, 30s);
    push.set(opt::linger, 100ms);
    auto mp = push.monitor();
    push.connect(ep);
    support::expect_event(mp, event_type::connect_retried); // the next try is 30 s away
    REQUIRE(push.send("queued", send_flags::dontwait).ok());
    const auto start = std::chrono::steady_clock::now();
    CHECK(finishes_within(10s, [&] { ctx.reset(); }));
    CHECK(support::ms_since(start) < 5000);
}
