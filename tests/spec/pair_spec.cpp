// SPDX-License-Identifier: MPL-2.0
// PAIR (RFC 31, EXPAIR) on every transport: one test case per SHALL of the
// RFC's socket section, named by its sentence, then what volley does beyond
// them: its first sentence is a MAY ("MAY be connected to at most one PAIR
// peers"), which volley makes a rule by refusing a second peer; multipart
// messages whole; connects before the bind; a peer that leaves mid-message.
//
// Every wait is bounded (rcvtimeo / sndtimeo, monitor events). Queues are
// filled with send_until_full: over a stream the kernel's buffers sit between
// the two high-water marks, so only inproc has an exact capacity (sndhwm +
// rcvhwm), checked there. A refused second peer on a stream is given
// reconnect_ivl -1, or it would come back every 10 ms.
//
// "If this peer disconnects, the PAIR socket SHALL destroy its double queue
// and SHALL discard any messages it contains" is read as in reqrep_spec.cpp
// for DEALER: what was queued toward the peer is discarded, never given to
// the next peer; what the peer itself sent before it went had been received
// and stays deliverable, as in libzmq.
#include "spec_support.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <thread>
#include <vector>

using namespace volley;
using namespace spec;
using namespace std::chrono_literals;

namespace {

// Waits until `intruder`, a second peer `a` refused, has lost its connection and its queue
// (with reconnect_ivl -1 its endpoint ends with that first connection). A socket takes in
// new connections, and so refuses them, within its own calls (as libzmq's commands), so `a`
// is called meanwhile: peers() handles what its mailbox holds.
template <class Scheme>
void await_refused(node& a, node& intruder) {
    CHECK(eventually([&] {
        (void)a.s.peers();
        return intruder.s.base()->pipe_count() == 0;
    }));
    if constexpr (Scheme::stream) {
        // Refused in the handshake, with the reason in a ZMTP ERROR: never "up", so nothing
        // it sent was taken and lost.
        std::optional<monitor_event> e;
        while ((e = intruder.m.next(10s)) && e->type != event_type::handshake_failed)
            CHECK(e->type != event_type::handshake_succeeded);
        REQUIRE(e.has_value());
        CHECK_MESSAGE(e->detail.find("already has a peer") != std::string::npos, e->detail);
        const auto refused = support::expect_event(a.m, event_type::handshake_failed);
        CHECK(refused.error == errc::connection_refused);
        CHECK(refused.detail.find("refused a further peer") != std::string::npos);
    }
}

} // namespace

// =====================================================================================
// RFC 31: the PAIR socket type
// =====================================================================================

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL not filter or modify outgoing or incoming messages in any way", Scheme,
                          pair_unmodified) {
    context ctx;
    node a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    join(b, a, bind_node<Scheme>(a));
    const std::string binary("\0\x01\xff\x7f\0", 5);
    const std::string large(std::size_t{1} << 20, '\xa5');
    send_frames(a.s, {"", binary, "", large, "text"});
    send_frames(a.s, {""});
    CHECK(recv_frames(b.s) == strings{"", binary, "", large, "text"}); // outgoing, as sent
    CHECK(recv_frames(b.s) == strings{""});
    send_frames(b.s, {binary, "", ""});
    send_frames(b.s, {large});
    CHECK(recv_frames(a.s) == strings{binary, "", ""}); // incoming, as sent
    CHECK(recv_frames(a.s) == strings{large});
}
TEST_CASE_TEMPLATE_APPLY(pair_unmodified, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL maintain a double queue for its peer, allowing outgoing and incoming messages "
                          "to be queued independently",
                          Scheme, pair_double_queue) {
    context ctx;
    node a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    a.s.set(opt::sndhwm, 5);
    b.s.set(opt::rcvhwm, 5);
    join(a, b, bind_node<Scheme>(b));
    // The outgoing queue fills up (the peer does not read)...
    const int full = send_until_full(a.s, 0);
    // ...while the incoming one still takes and delivers what the peer sends.
    for (int i = 0; i < 3; ++i) REQUIRE(b.s.send("incoming " + std::to_string(i)).ok());
    for (int i = 0; i < 3; ++i) CHECK(recv_frames(a.s) == strings{"incoming " + std::to_string(i)});
    expect_numbers(b.s, 0, full); // and nothing queued outgoing was lost meanwhile
    // The other way round: the peer's incoming queue full of our messages, its own still go out.
    const int again = send_until_full(a.s, full);
    send_frames(b.s, {"still flows"});
    CHECK(recv_frames(a.s) == strings{"still flows"});
    expect_numbers(b.s, full, again - full);
}
TEST_CASE_TEMPLATE_APPLY(pair_double_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL create a double queue when initiating an outgoing connection to a peer, and "
                          "SHALL maintain the double queue whether or not the connection is established",
                          Scheme, pair_connect_queue) {
    context ctx;
    node a(ctx, socket_type::pair);
    const auto ep = unbound_endpoint<Scheme>();
    a.s.connect(ep);
    CHECK(a.s.peers().size() == 1); // the connect's double queue, before any connection
    CHECK(a.s.send("before the connection", send_flags::dontwait).ok());
    {
        node first(ctx, socket_type::pair);
        first.s.bind(ep);
        support::expect_event(a.m, event_type::handshake_succeeded);
        CHECK(recv_frames(first.s) == strings{"before the connection"});
        send_frames(first.s, {"reply"});
        send_frames(first.s, {"left behind"});
        CHECK(recv_frames(a.s) == strings{"reply"}); // both directions
    } // the peer goes, with "left behind" queued incoming
    await_disconnects<Scheme>(a.m, 1);
    CHECK(recv_frames(a.s) == strings{"left behind"}); // the incoming queue outlived the connection
    if constexpr (Scheme::stream) { // inproc has no connection to lose and come back
        CHECK(a.s.peers().size() == 1); // kept while the connection is down
        CHECK(a.s.send("while it is down", send_flags::dontwait).ok());
        node second(ctx, socket_type::pair);
        second.s.bind(ep);
        support::expect_event(a.m, event_type::handshake_succeeded);
        CHECK(recv_frames(second.s) == strings{"while it is down"});
        send_frames(second.s, {"from the second"});
        CHECK(recv_frames(a.s) == strings{"from the second"});
    }
}
TEST_CASE_TEMPLATE_APPLY(pair_connect_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL create a double queue when a peer connects to it. If this peer disconnects, "
                          "the PAIR socket SHALL destroy its double queue and SHALL discard any messages it contains",
                          Scheme, pair_accept_queue) {
    context ctx;
    node a(ctx, socket_type::pair);
    a.s.set(opt::sndhwm, 5);
    const auto ep = bind_node<Scheme>(a);
    CHECK(a.s.peers().empty());
    {
        node gone(ctx, socket_type::pair);
        gone.s.set(opt::rcvhwm, 5);
        gone.s.set(opt::linger, 0ms);
        join(gone, a, ep);
        CHECK(a.s.peers().size() == 1); // made when the peer connected
        (void)send_until_full(a.s, 0);  // queued toward it, which never reads
    } // it goes
    await_disconnects<Scheme>(a.m, 1);
    CHECK(eventually([&] { return a.s.peers().empty(); })); // destroyed
    // Discarded: the next peer gets only what is sent from now on.
    node next(ctx, socket_type::pair);
    join(next, a, ep);
    REQUIRE(a.s.send("fresh").ok());
    CHECK(recv_frames(next.s) == strings{"fresh"});
    CHECK(recv_within(next.s, 50ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(pair_accept_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL consider its peer as available only when it has a outgoing queue that is not "
                          "full",
                          Scheme, pair_available) {
    context ctx;
    node a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    a.s.set(opt::sndhwm, 5);
    b.s.set(opt::rcvhwm, 5);
    join(a, b, bind_node<Scheme>(b));
    CHECK(has(a.s.events(poll_events::out), poll_events::out)); // an empty queue: available
    const int full = send_until_full(a.s, 0);
    if constexpr (!Scheme::stream) CHECK(full == 10); // inproc: a fresh flow holds sndhwm + rcvhwm exactly
    CHECK(a.s.send(numbered(full), send_flags::dontwait).error() == errc::would_block); // full: not available
    CHECK_FALSE(has(a.s.events(poll_events::out), poll_events::out));
    expect_numbers(b.s, 0, full); // the peer reads: its queue has room, it is available again
    CHECK(eventually([&] { return has(a.s.events(poll_events::out), poll_events::out); }));
    CHECK(a.s.send(numbered(full), send_flags::dontwait).ok());
    expect_numbers(b.s, full, 1);
}
TEST_CASE_TEMPLATE_APPLY(pair_available, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL block on sending, or return a suitable error, when it has no available peer",
                          Scheme, pair_no_peer) {
    context ctx;
    node a(ctx, socket_type::pair);
    a.s.set(opt::sndhwm, 2);
    const auto ep = bind_node<Scheme>(a); // bound, no peer yet
    CHECK(a.s.send("nobody", send_flags::dontwait).error() == errc::would_block);
    a.s.set(opt::sndtimeo, 30ms);
    auto start = std::chrono::steady_clock::now();
    CHECK(a.s.send("nobody").error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 30);
    a.s.set(opt::sndtimeo, patience);
    // A send blocked for want of a peer goes on when one connects.
    node b(ctx, socket_type::pair);
    b.s.set(opt::rcvhwm, 2);
    std::optional<send_result> blocked;
    {
        std::jthread sender([&] { blocked = a.s.send("waited for a peer"); });
        b.s.connect(ep);
        support::expect_event(b.m, event_type::handshake_succeeded);
    }
    REQUIRE(blocked.has_value());
    CHECK(blocked->ok());
    CHECK(recv_frames(b.s) == strings{"waited for a peer"});
    // A peer whose queue is full is not available: the same at the high-water mark.
    const int full = send_until_full(a.s, 0);
    CHECK(a.s.send(numbered(full), send_flags::dontwait).error() == errc::would_block);
    a.s.set(opt::sndtimeo, 30ms);
    start = std::chrono::steady_clock::now();
    CHECK(a.s.send(numbered(full)).error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 30);
    a.s.set(opt::sndtimeo, patience);
    // Draining the peer lets a blocked sender go on.
    blocked.reset();
    {
        std::jthread sender([&] { blocked = a.s.send(numbered(full)); });
        expect_numbers(b.s, 0, full);
    }
    REQUIRE(blocked.has_value());
    CHECK(blocked->ok());
    expect_numbers(b.s, full, 1);
}
TEST_CASE_TEMPLATE_APPLY(pair_no_peer, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL not accept further messages when it has no available peer", Scheme,
                          pair_refuses) {
    context ctx;
    node a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    a.s.set(opt::sndhwm, 5);
    b.s.set(opt::rcvhwm, 5);
    join(b, a, bind_node<Scheme>(a));
    const int full = send_until_full(a.s, 0);
    // Refused, not taken: the message is left with the caller, unchanged.
    message refused = numbered(full);
    CHECK(a.s.send(std::move(refused), send_flags::dontwait).error() == errc::would_block);
    REQUIRE(refused.size() == 16 * 1024);
    CHECK(number_of(refused.view()) == full);
    multipart refused_parts{"refused", "multipart"};
    CHECK(a.s.send(std::move(refused_parts), send_flags::dontwait).error() == errc::would_block);
    CHECK(texts(refused_parts) == strings{"refused", "multipart"});
    // And nothing of what was refused arrives.
    expect_numbers(b.s, 0, full);
    CHECK(recv_within(b.s, 100ms).error() == errc::timed_out);
    // With no peer at all (it left), likewise: nothing is taken to be sent to a later one.
    b.s.close();
    await_disconnects<Scheme>(a.m, 1);
    CHECK(eventually([&] { return a.s.peers().empty(); }));
    multipart orphan{"for nobody"};
    CHECK(a.s.send(std::move(orphan), send_flags::dontwait).error() == errc::would_block);
    CHECK(texts(orphan) == strings{"for nobody"});
}
TEST_CASE_TEMPLATE_APPLY(pair_refuses, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL NOT discard messages that it cannot queue", Scheme, pair_no_discard) {
    // A sender faster than its reader behind marks of one message: it is held back at every
    // message, and every one arrives, once and in order.
    context ctx;
    node a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    a.s.set(opt::sndhwm, 1);
    b.s.set(opt::rcvhwm, 1);
    join(a, b, bind_node<Scheme>(b));
    constexpr int count = 10'000;
    int failed_sends = 0;
    {
        std::jthread sender([&] {
            for (int i = 0; i < count; ++i)
                if (a.s.send(std::to_string(i)).failed()) ++failed_sends;
        });
        for (int i = 0; i < count; ++i) REQUIRE(recv_frames(b.s) == strings{std::to_string(i)});
    }
    CHECK(failed_sends == 0);
    CHECK(recv_within(b.s, 20ms).error() == errc::timed_out);
    // A send that timed out at the mark kept its message: sent again, it arrives.
    const int full = send_until_full(a.s, 0);
    message retry = numbered(full);
    a.s.set(opt::sndtimeo, 20ms);
    REQUIRE(a.s.send(std::move(retry)).error() == errc::timed_out);
    a.s.set(opt::sndtimeo, patience);
    expect_numbers(b.s, 0, full);
    REQUIRE(a.s.send(std::move(retry)).ok());
    expect_numbers(b.s, full, 1);
}
TEST_CASE_TEMPLATE_APPLY(pair_no_discard, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL receive incoming messages from its single peer if it has one", Scheme,
                          pair_single_peer) {
    context ctx;
    node a(ctx, socket_type::pair);
    const auto ep = bind_node<Scheme>(a);
    CHECK(recv_within(a.s, 20ms).error() == errc::timed_out); // no peer, nothing to receive
    {
        node b(ctx, socket_type::pair), intruder(ctx, socket_type::pair);
        intruder.s.set(opt::reconnect_ivl, infinite);
        join(b, a, ep);
        intruder.s.connect(ep);
        (void)intruder.s.send("from the intruder", send_flags::dontwait); // may be queued before the refusal
        await_refused<Scheme>(a, intruder);
        send_frames(b.s, {"from the peer"});
        CHECK(recv_frames(a.s) == strings{"from the peer"});
        const auto other = recv_within(a.s, 100ms);
        CHECK_MESSAGE(other.error() == errc::timed_out,
                      "received from a second peer: " << (other.ok() ? texts(*other) : strings{}));
    } // the peer goes (a's monitor also holds the intruder's events: no disconnect count here)
    CHECK(eventually([&] { return a.s.peers().empty(); }));
    // Once it is gone, the next one is the single peer.
    node c(ctx, socket_type::pair);
    join(c, a, ep);
    send_frames(c.s, {"from the next peer"});
    CHECK(recv_frames(a.s) == strings{"from the next peer"});
}
TEST_CASE_TEMPLATE_APPLY(pair_single_peer, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: SHALL deliver these to its calling application", Scheme, pair_deliver) {
    context ctx;
    node a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    join(b, a, bind_node<Scheme>(a));
    constexpr int count = 200;
    for (int i = 0; i < count; ++i) send_frames(b.s, {std::to_string(i), "", "end"});
    // Every message, whole, in order; half of them taken frame by frame.
    for (int i = 0; i < count; ++i) {
        strings m;
        if (i % 2 == 0) {
            m = recv_frames(a.s);
        } else {
            for (bool more = true; more;) {
                auto f = a.s.recv();
                REQUIRE(f.ok());
                m.push_back(f->to_string());
                more = f->more();
            }
        }
        REQUIRE(m == strings{std::to_string(i), "", "end"});
    }
    CHECK(recv_within(a.s, 20ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(pair_deliver, all_schemes);

// =====================================================================================
// volley's PAIR beyond RFC 31
// =====================================================================================

TEST_CASE_TEMPLATE_DEFINE("PAIR: MAY be connected to at most one PAIR peers, and MAY both send and receive messages "
                          "(volley refuses a second peer)",
                          Scheme, pair_exclusive) {
    context ctx;
    node a(ctx, socket_type::pair), b(ctx, socket_type::pair), intruder(ctx, socket_type::pair);
    intruder.s.set(opt::reconnect_ivl, infinite);
    const auto ep = bind_node<Scheme>(a);
    join(b, a, ep);
    REQUIRE(a.s.send("ping").ok());
    CHECK(recv_frames(b.s) == strings{"ping"});
    REQUIRE(b.s.send("pong").ok());
    CHECK(recv_frames(a.s) == strings{"pong"});
    intruder.s.connect(ep);
    await_refused<Scheme>(a, intruder); // a closed its connection: it has no peer to send to
    CHECK(a.s.base()->pipe_count() == 1);
    CHECK(intruder.s.send("lost?", send_flags::dontwait).error() == errc::would_block);
    REQUIRE(a.s.send("still b").ok()); // and a still talks to its first peer
    CHECK(recv_frames(b.s) == strings{"still b"});
}
TEST_CASE_TEMPLATE_APPLY(pair_exclusive, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: a refused peer takes the place of the first once it has gone", Scheme, pair_next_peer) {
    context ctx;
    node a(ctx, socket_type::pair), waiting(ctx, socket_type::pair);
    const auto ep = bind_node<Scheme>(a);
    std::optional<node> first(std::in_place, ctx, socket_type::pair);
    join(*first, a, ep);
    waiting.s.connect(ep); // refused while first is there; it retries every 10 ms
    if constexpr (Scheme::stream) {
        const auto e = support::expect_event(waiting.m, event_type::handshake_failed);
        CHECK_MESSAGE(e.detail.find("already has a peer") != std::string::npos, e.detail);
    }
    REQUIRE(waiting.s.send("queued while refused").ok()); // its own pipe holds it meanwhile
    first.reset();                                          // closes: a has no peer now
    CHECK(recv_frames(a.s) == strings{"queued while refused"});
    REQUIRE(a.s.send("to the new peer").ok());
    CHECK(recv_frames(waiting.s) == strings{"to the new peer"});
}
TEST_CASE_TEMPLATE_APPLY(pair_next_peer, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: a multipart message is delivered whole, frames in order", Scheme, pair_multipart) {
    context ctx;
    node a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    join(b, a, bind_node<Scheme>(a));
    REQUIRE(a.s.send("1", send_flags::more).ok());
    REQUIRE(a.s.send("2", send_flags::more).ok());
    CHECK(recv_within(b.s, 50ms).error() == errc::timed_out); // not before the last frame
    REQUIRE(a.s.send("3").ok());
    auto parts = b.s.recv_multipart();
    REQUIRE(parts.ok());
    REQUIRE(parts->size() == 3);
    CHECK((*parts)[0] == "1");
    CHECK((*parts)[0].more());
    CHECK((*parts)[1] == "2");
    CHECK((*parts)[2] == "3");
    CHECK_FALSE((*parts)[2].more());
    REQUIRE(b.s.send(multipart{"x", "y"}).ok());
    auto first = a.s.recv();
    REQUIRE(first.ok());
    CHECK(first.value() == "x");
    CHECK(first->more());
    auto second = a.s.recv();
    REQUIRE(second.ok());
    CHECK(second.value() == "y");
    CHECK_FALSE(second->more());
}
TEST_CASE_TEMPLATE_APPLY(pair_multipart, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: a second connect made before the bind is refused, and the first one is the peer",
                          Scheme, pair_second_connect) {
    context ctx;
    node a(ctx, socket_type::pair), c(ctx, socket_type::pair);
    const auto ep = unbound_endpoint<Scheme>();
    c.s.connect(ep);
    std::error_code ec;
    c.s.connect(ep, ec); // c itself keeps one peer; the bind must cope with the extra connect
    CHECK(c.s.base()->pipe_count() == 1);
    a.s.bind(ep);
    REQUIRE(c.s.send("x").ok());
    CHECK(recv_frames(a.s) == strings{"x"});
    CHECK(a.s.base()->pipe_count() == 1);
    REQUIRE(a.s.send("back").ok());
    CHECK(recv_frames(c.s) == strings{"back"});
}
TEST_CASE_TEMPLATE_APPLY(pair_second_connect, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("PAIR: a message whose peer left mid-way is dropped whole, and the next peer gets whole "
                          "messages",
                          Scheme, pair_peer_left_mid_message) {
    context ctx;
    node a(ctx, socket_type::pair);
    const auto ep = bind_node<Scheme>(a);
    {
        node b(ctx, socket_type::pair);
        join(b, a, ep);
        REQUIRE(b.s.send("left 1").ok());
        REQUIRE(b.s.send("left 2").ok());
        REQUIRE(a.s.send("f1", send_flags::more).ok());
    } // b leaves with two messages for a still queued, while a is mid-message towards b
    await_disconnects<Scheme>(a.m, 1);
    CHECK(recv_frames(a.s) == strings{"left 1"});
    CHECK(a.s.send("f2", send_flags::more).ok()); // accepted and dropped: b is gone
    CHECK(a.s.send("f3").ok());
    CHECK(recv_frames(a.s) == strings{"left 2"});
    CHECK(a.s.recv(recv_flags::dontwait).error() == errc::would_block);
    node c(ctx, socket_type::pair);
    join(c, a, ep);
    REQUIRE(a.s.send("hello").ok());
    auto got = c.s.recv();
    REQUIRE(got.ok());
    CHECK(got.value() == "hello"); // not f2 or f3
    CHECK_FALSE(got->more());
    CHECK(recv_within(c.s, 50ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(pair_peer_left_mid_message, all_schemes);
