// SPDX-License-Identifier: MPL-2.0
// Endpoint lifetimes at the edges: endpoints that finish on their own, and
// context ends that must stay bounded by linger whatever the peer does.
// Each bounded case runs the shutdown on another thread and waits for it
// with a timeout, so a hang is a failure rather than a stuck test.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <memory>
#include <vector>

using namespace volley;
using namespace std::chrono_literals;

namespace {

// Runs `fn` on its own thread; true if it returned within `limit`.
template <class Fn>
bool finishes_within(std::chrono::milliseconds limit, Fn&& fn) {
    auto done = std::async(std::launch::async, std::forward<Fn>(fn));
    return done.wait_for(limit) == std::future_status::ready;
}

// A PUSH (in a context of its own, with `linger`) connected to a PULL that never reads,
// with every buffer on the way full: the peer's pipe, both kernels, the PUSH's pipe.
struct stalled_peer {
    explicit stalled_peer(std::chrono::milliseconds linger) {
        pull.set(opt::rcvhwm, 10);
        pull.bind("tcp://127.0.0.1:*");
        push.set(opt::sndhwm, 100'000);
        push.set(opt::linger, linger);
        auto mp = push.monitor();
        push.connect(pull.last_endpoint());
        support::expect_event(mp, event_type::handshake_succeeded);
        const message body(std::size_t{4096});
        while (sent < 100'000 && push.send(message(body), send_flags::dontwait).ok()) ++sent;
    }
    context peer_ctx;
    volley::socket pull{peer_ctx, socket_type::pull};
    std::unique_ptr<context> ctx = std::make_unique<context>();
    volley::socket push{*ctx, socket_type::push};
    int sent = 0;
};

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
    const std::string ep = support::unused_tcp_endpoint();
    auto ctx = std::make_unique<context>();
    volley::socket push(*ctx, socket_type::push);
    push.set(opt::reconnect_ivl, infinite);
    push.set(opt::linger, 100ms);
    push.connect(ep);
    // Queued if the refusal has not ended the endpoint yet; would_block (no peer) if it has.
    const auto r = push.send("queued", send_flags::dontwait);
    CHECK((r.ok() || r.error() == errc::would_block));
    CHECK(finishes_within(10s, [&] { ctx.reset(); }));
}

TEST_CASE("context end gives up within linger on a peer that never reads") {
    stalled_peer t(200ms);
    CHECK(t.sent > 10);
    // The socket stays open; the context ends: its connection may linger 200 ms, no more
    // (it must not reconnect to try again).
    CHECK(finishes_within(10s, [&] { t.ctx.reset(); }));
}

TEST_CASE("context end honours the linger the socket has then, set after connect too") {
    stalled_peer t(30'000ms);
    CHECK(t.sent > 10);
    t.push.set(opt::linger, 200ms); // a live option: the connection made before reads it
    CHECK(finishes_within(10s, [&] { t.ctx.reset(); }));
}

// The one rule at context end (context.hpp): only a peer connected now still gets what is queued.
TEST_CASE("the context's destructor drops at once what waits for a peer that never connected, whatever the linger") {
    for (const auto linger : {std::chrono::milliseconds(30'000), infinite}) {
        CAPTURE(linger.count());
        const std::string ep = support::unused_tcp_endpoint();
        auto ctx = std::make_unique<context>();
        volley::socket open_push(*ctx, socket_type::push), closed_push(*ctx, socket_type::push);
        for (auto* s : {&open_push, &closed_push}) {
            s->set(opt::linger, linger);
            s->connect(ep);
            REQUIRE(s->send("queued for nobody", send_flags::dontwait).ok());
        }
        closed_push.close(); // its queue lingers while the context lives; the end drops it
        CHECK(finishes_within(10s, [&] { ctx.reset(); }));
    }
}

TEST_CASE("the context's destructor delivers what is queued to a connected peer") {
    context peer_ctx;
    volley::socket pull(peer_ctx, socket_type::pull);
    pull.bind("tcp://127.0.0.1:*");
    auto ctx = std::make_unique<context>();
    volley::socket push(*ctx, socket_type::push);
    auto mp = push.monitor();
    push.connect(pull.last_endpoint());
    support::expect_event(mp, event_type::handshake_succeeded);
    constexpr int count = 1000; // within the HWMs: all queued at once
    for (int i = 0; i < count; ++i) REQUIRE(push.send(std::to_string(i), send_flags::dontwait).ok());
    REQUIRE(finishes_within(20s, [&] { ctx.reset(); })); // the socket is still open
    pull.set(opt::rcvtimeo, 10s);
    for (int i = 0; i < count; ++i) {
        auto m = pull.recv();
        REQUIRE(m.ok());
        CHECK(m->view() == std::to_string(i));
    }
}

TEST_CASE("shutdown() drops what is queued: the destructor then returns at once, even with linger infinite") {
    stalled_peer t(infinite);
    CHECK(t.sent > 10);
    t.ctx->shutdown();
    CHECK(t.push.send("after", send_flags::dontwait).error() == errc::terminated);
    CHECK(finishes_within(10s, [&] { t.ctx.reset(); }));
}

TEST_CASE("retries far apart do not stretch context end past linger") {
    const std::string ep = support::unused_tcp_endpoint();
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

TEST_CASE("reconnect waits, jitter included, never exceed reconnect_ivl_max") {
    context ctx;
    volley::socket push(ctx, socket_type::push);
    push.set(opt::reconnect_ivl, 40ms);
    push.set(opt::reconnect_ivl_max, 80ms);
    auto mp = push.monitor();
    push.connect(support::unused_tcp_endpoint());
    std::vector<std::chrono::milliseconds> waits;
    for (int i = 0; i < 6; ++i) waits.push_back(support::expect_event(mp, event_type::connect_retried).interval);
    CHECK(waits.front() >= 40ms);
    for (auto w : waits) CHECK(w <= 80ms);
    CHECK(waits.back() == 80ms); // doubled to the cap (jitter cannot lift it past)
}

TEST_CASE("reconnect_ivl 0 backs off from 1 ms instead of spinning") {
    context ctx;
    volley::socket push(ctx, socket_type::push);
    push.set(opt::reconnect_ivl, 0ms);
    push.set(opt::reconnect_ivl_max, 1000ms);
    auto mp = push.monitor();
    push.connect(support::unused_tcp_endpoint());
    std::vector<std::chrono::milliseconds> waits;
    for (int i = 0; i < 9; ++i) waits.push_back(support::expect_event(mp, event_type::connect_retried).interval);
    CHECK(waits.front() >= 1ms);
    for (std::size_t i = 1; i < waits.size(); ++i) CHECK(waits[i] >= waits[i - 1]);
    CHECK(waits.back() >= 256ms); // 1, 2, 4, ... doubled eight times
    CHECK(mp.dropped() == 0);
}

TEST_CASE("with reconnect_ivl -1 a lost connection ends its endpoint: reported once, and no longer routed to") {
    context ctx;
    volley::socket push(ctx, socket_type::push);
    push.set(opt::reconnect_ivl, infinite);
    auto mp = push.monitor();
    volley::socket stays(ctx, socket_type::pull);
    stays.bind("tcp://127.0.0.1:*");
    push.connect(stays.last_endpoint());
    support::expect_event(mp, event_type::handshake_succeeded);
    {
        volley::socket leaves(ctx, socket_type::pull);
        leaves.bind("tcp://127.0.0.1:*");
        push.connect(leaves.last_endpoint());
        support::expect_event(mp, event_type::handshake_succeeded);
    }
    support::expect_event(mp, event_type::disconnected);
    const auto next = mp.next(10s); // the endpoint's end, not a second disconnect
    REQUIRE(next.has_value());
    CHECK(next->type == event_type::closed);
    CHECK(next->detail.find("not reconnecting") != std::string::npos);
    constexpr int count = 100;
    for (int i = 0; i < count; ++i) REQUIRE(push.send(std::to_string(i)).ok());
    stays.set(opt::rcvtimeo, 10s);
    int got = 0;
    for (; got < count; ++got) {
        auto m = stays.recv();
        if (!m || m.value() != std::to_string(got)) break;
    }
    CHECK(got == count); // none went into the dead connection's pipe
}

TEST_CASE("with reconnect_ivl -1 a refused connect ends its endpoint with closed, not disconnected") {
    context ctx;
    volley::socket push(ctx, socket_type::push);
    push.set(opt::reconnect_ivl, infinite);
    auto mp = push.monitor();
    push.connect(support::unused_tcp_endpoint());
    const auto e = mp.next(10s);
    REQUIRE(e.has_value());
    CHECK(e->type == event_type::closed);
    CHECK(e->error);
}

TEST_CASE("a timeout of years means waiting, not timing out at once") {
    context ctx;
    volley::socket pull(ctx, socket_type::pull), push(ctx, socket_type::push);
    pull.bind(support::inproc_endpoint());
    push.connect(pull.last_endpoint());
    pull.set(opt::rcvtimeo, std::chrono::milliseconds(10'000'000'000'000)); // ~317 years
    auto got = std::async(std::launch::async, [&] { return pull.recv(); });
    CHECK(got.wait_for(100ms) == std::future_status::timeout); // still waiting
    REQUIRE(push.send("late").ok());
    REQUIRE(got.wait_for(10s) == std::future_status::ready);
    CHECK(got.get().value() == "late");
}

TEST_CASE("an inproc connect that never met its bind frees what it queued") {
    std::atomic<int> freed{0};
    const auto free_fn = [](void*, void* hint) { static_cast<std::atomic<int>*>(hint)->fetch_add(1); };
    static char buffer[1024];
    {
        context ctx;
        // Connect-and-close churn to names never bound: each is dropped once its linger ends.
        for (int i = 0; i < 10; ++i) {
            volley::socket push(ctx, socket_type::push);
            push.set(opt::linger, 0ms);
            push.connect(support::inproc_endpoint());
            REQUIRE(push.send(message(buffer, sizeof buffer, free_fn, &freed)).ok());
        }
        volley::socket last(ctx, socket_type::push);
        last.connect(support::inproc_endpoint());
        CHECK(freed.load() == 10);
        // The context's end drops a connect still waiting, with its messages.
        REQUIRE(last.send(message(buffer, sizeof buffer, free_fn, &freed)).ok());
    }
    CHECK(freed.load() == 11);
}
