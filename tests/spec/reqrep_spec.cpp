// SPDX-License-Identifier: MPL-2.0
// REQ, REP, DEALER and ROUTER (RFC 28, REQREP) on every transport: one test
// case per SHALL of the RFC's four socket sections, named by its sentence,
// then volley's behaviour beyond libzmq (strict alternation errors, request
// ids, resends, ROUTER's mandatory / handover / connect ids / drop counts)
// and the stuck-REQ case: a server that dies holding a request.
//
// Every wait is bounded (rcvtimeo / sndtimeo, monitor events). Where the
// order in which messages arrive over a stream matters (fair queuing), the
// senders close after sending and the receiver waits for their disconnects:
// a connection ends only after all it carried is queued at the receiver, so
// no sleep stands in for "the bytes have crossed". inproc delivers into the
// pipe at send, so it needs no such barrier.
#include "spec_support.hpp"
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

using namespace volley;
using namespace spec;
using namespace std::chrono_literals;

namespace {

// Receives until a message whose last frame is `body` comes (skipping resent copies of
// earlier requests) and returns it.
strings recv_request(volley::socket& s, const std::string& body) {
    for (int i = 0; i < 100; ++i) {
        auto got = recv_frames(s);
        if (!got.empty() && got.back() == body) return got;
    }
    FAIL("no request '" << body << "' among 100 messages");
    return {};
}

// Waits (bounded) for a message on any of `socks`; returns which one got it, and the frames.
std::pair<std::size_t, strings> recv_any(const std::vector<volley::socket*>& socks) {
    const auto start = std::chrono::steady_clock::now();
    while (support::ms_since(start) < patience.count()) {
        for (std::size_t i = 0; i < socks.size(); ++i) {
            auto got = socks[i]->recv_multipart(recv_flags::dontwait);
            if (got.ok()) return {i, texts(*got)};
        }
        std::this_thread::yield();
    }
    FAIL("no message reached any of " << socks.size() << " sockets within " << patience.count() << " ms");
    return {socks.size(), {}};
}

std::size_t peers_with_id(volley::socket& s, const std::string& id) {
    const auto ps = s.peers();
    return static_cast<std::size_t>(
        std::count_if(ps.begin(), ps.end(), [&](const peer_info& p) { return p.routing_id == id; }));
}

std::uint64_t dropped_for(volley::socket& s, const std::string& id) {
    for (const auto& p : s.peers())
        if (p.routing_id == id) return p.dropped;
    return 0;
}

// ROUTER's form of a numbered message: the peer's id, then the numbered frame.
multipart routed(const std::string& id, int n, std::size_t size = 16 * 1024) {
    multipart m;
    m.emplace_back(std::string_view(id));
    m.push_back(numbered(n, size));
    return m;
}

// Sends with `send(i)`, i = first, first + 1, ..., until a send waits `wait` in vain: every
// queue toward the peers is full, the kernel's buffers in between included. Returns the
// number of the message that failed (not sent): [first, result) went.
template <class Send>
int send_until_full(volley::socket& s, int first, Send&& send, std::chrono::milliseconds wait = 200ms) {
    s.set(opt::sndtimeo, wait);
    int i = first;
    errc last{};
    for (; i < first + 4000; ++i) { // 64 MiB of 16 KiB frames: far past any kernel buffer
        const auto r = send(i);
        if (r.failed()) {
            last = r.error();
            break;
        }
    }
    s.set(opt::sndtimeo, patience);
    REQUIRE_MESSAGE(last == errc::timed_out, "the sends never filled the queues (" << i - first << " went)");
    return i;
}

} // namespace

// =====================================================================================
// RFC 28: the REQ socket type
// =====================================================================================

TEST_CASE_TEMPLATE_DEFINE("REQ: SHALL send and then receive exactly one message at a time", Scheme, req_lock_step) {
    context ctx;
    node rep(ctx, socket_type::rep), req(ctx, socket_type::req);
    join(req, rep, bind_node<Scheme>(rep));
    REQUIRE(req.s.send(multipart{"one", "message"}).ok());
    CHECK(req.s.send("a second request").error() == errc::wrong_state); // the reply is due first
    CHECK(recv_frames(rep.s) == strings{"one", "message"});             // the whole request, as one message
    REQUIRE(rep.s.send("reply").ok());
    CHECK(recv_frames(req.s) == strings{"reply"});
    CHECK(req.s.recv(recv_flags::dontwait).error() == errc::wrong_state); // nothing asked, nothing to receive
    CHECK(rep.s.recv(recv_flags::dontwait).error() == errc::would_block); // the refused request never went
    REQUIRE(req.s.send("next").ok());                                      // and the cycle starts over
    CHECK(recv_frames(rep.s) == strings{"next"});
}
TEST_CASE_TEMPLATE_APPLY(req_lock_step, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REQ: The request and reply messages SHALL have this format on the wire: a delimiter, "
                          "then one or more data frames",
                          Scheme, req_wire_format) {
    context ctx;
    node server(ctx, socket_type::router), req(ctx, socket_type::req);
    join(req, server, bind_node<Scheme>(server));
    REQUIRE(req.s.send(multipart{"d1", "d2"}).ok());
    const auto request = recv_frames(server.s);
    REQUIRE(request.size() == 4); // ROUTER's id frame, the delimiter, the two data frames
    CHECK(request[1].empty());
    CHECK(request[2] == "d1");
    CHECK(request[3] == "d2");
    // Replies not in that format are not replies: no delimiter, and a delimiter with no data.
    send_frames(server.s, {request[0], "no delimiter"});
    send_frames(server.s, {request[0], ""});
    send_frames(server.s, {request[0], "", "r1", "r2"});
    CHECK(recv_frames(req.s) == strings{"r1", "r2"});
}
TEST_CASE_TEMPLATE_APPLY(req_wire_format, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REQ: SHALL prefix the outgoing message with an empty delimiter frame", Scheme,
                          req_delimiter) {
    context ctx;
    node server(ctx, socket_type::router), req(ctx, socket_type::req);
    req.s.set(opt::routing_id, std::string("client"));
    join(req, server, bind_node<Scheme>(server));
    REQUIRE(req.s.send(multipart{"hello", "world"}).ok());
    CHECK(recv_frames(server.s) == strings{"client", "", "hello", "world"}); // after ROUTER's id frame
    send_frames(server.s, {"client", "", "ok"});
    REQUIRE(recv_frames(req.s) == strings{"ok"});
    // A body that starts with an empty frame gets a delimiter of its own in front.
    REQUIRE(req.s.send(multipart{"", "after an empty frame"}).ok());
    CHECK(recv_frames(server.s) == strings{"client", "", "", "after an empty frame"});
}
TEST_CASE_TEMPLATE_APPLY(req_delimiter, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REQ: SHALL route outgoing messages to connected peers using a round-robin strategy",
                          Scheme, req_round_robin) {
    context ctx;
    node req(ctx, socket_type::req);
    std::vector<node> reps;
    reps.reserve(3);
    for (int i = 0; i < 3; ++i) {
        reps.emplace_back(ctx, socket_type::rep);
        join(req, reps.back(), bind_node<Scheme>(reps.back()));
    }
    std::vector<volley::socket*> servers{&reps[0].s, &reps[1].s, &reps[2].s};
    std::vector<std::size_t> order;
    for (int i = 0; i < 9; ++i) {
        REQUIRE(req.s.send("q" + std::to_string(i)).ok());
        const auto [which, request] = recv_any(servers);
        CHECK(request == strings{"q" + std::to_string(i)});
        order.push_back(which);
        REQUIRE(servers[which]->send("a" + std::to_string(i)).ok());
        REQUIRE(recv_frames(req.s) == strings{"a" + std::to_string(i)});
    }
    CHECK(std::set<std::size_t>(order.begin(), order.begin() + 3).size() == 3); // each peer in turn
    for (std::size_t i = 3; i < order.size(); ++i) CHECK(order[i] == order[i - 3]);
}
TEST_CASE_TEMPLATE_APPLY(req_round_robin, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REQ: SHALL block on sending, or return a suitable error, when it has no connected peers",
                          Scheme, req_no_peers) {
    context ctx;
    node req(ctx, socket_type::req);
    const auto ep = bind_node<Scheme>(req); // bound, nobody connected
    CHECK(req.s.send("nobody", send_flags::dontwait).error() == errc::would_block);
    req.s.set(opt::sndtimeo, 50ms);
    const auto start = std::chrono::steady_clock::now();
    CHECK(req.s.send("nobody").error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 50);
    // A send blocked for want of a peer goes on when one connects.
    req.s.set(opt::sndtimeo, patience);
    node rep(ctx, socket_type::rep);
    std::optional<send_result> blocked;
    {
        std::jthread sender([&] { blocked = req.s.send("waited for a peer"); });
        rep.s.connect(ep);
        support::expect_event(rep.m, event_type::handshake_succeeded);
    }
    REQUIRE(blocked.has_value());
    CHECK(blocked->ok());
    CHECK(recv_frames(rep.s) == strings{"waited for a peer"});
}
TEST_CASE_TEMPLATE_APPLY(req_no_peers, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REQ: SHALL NOT discard messages that it cannot send to a connected peer", Scheme,
                          req_no_discard) {
    // A connect whose peer is not there yet: the request waits in the connect's queue.
    context ctx;
    node req(ctx, socket_type::req), rep(ctx, socket_type::rep);
    const auto ep = unbound_endpoint<Scheme>();
    req.s.connect(ep);
    CHECK(req.s.send("queued until the server comes", send_flags::dontwait).ok());
    rep.s.bind(ep);
    CHECK(recv_frames(rep.s) == strings{"queued until the server comes"});
    REQUIRE(rep.s.send("served").ok());
    CHECK(recv_frames(req.s) == strings{"served"});
}
TEST_CASE_TEMPLATE_APPLY(req_no_discard, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REQ: SHALL accept an incoming message only from the last peer that it sent a request to",
                          Scheme, req_last_peer) {
    context ctx;
    node req(ctx, socket_type::req);
    req.s.set(opt::routing_id, std::string("client")); // the servers can address it before it asks them
    const auto ep = bind_node<Scheme>(req);
    std::vector<node> servers;
    servers.reserve(2);
    for (int i = 0; i < 2; ++i) {
        servers.emplace_back(ctx, socket_type::router);
        join(servers.back(), req, ep);
    }
    REQUIRE(req.s.send("q1").ok());
    const auto [first, q1] = recv_any({&servers[0].s, &servers[1].s});
    CHECK(q1 == strings{"client", "", "q1"});
    send_frames(servers[first].s, {"client", "", "a1"});
    REQUIRE(recv_frames(req.s) == strings{"a1"});
    REQUIRE(req.s.send("q2").ok());
    const auto [second, q2] = recv_any({&servers[0].s, &servers[1].s});
    REQUIRE(second != first); // round-robin: the other server is the last peer asked now
    // The first server answers again, then goes: once its connection is down, all it sent is queued.
    send_frames(servers[first].s, {"client", "", "a1 again, from a peer not asked last"});
    servers[first].s.close();
    await_disconnects<Scheme>(req.m, 1);
    const auto early = recv_within(req.s, 100ms);
    CHECK_MESSAGE(early.error() == errc::timed_out,
                  "delivered from a peer not asked last: " << (early.ok() ? texts(*early) : strings{}));
    send_frames(servers[second].s, {"client", "", "a2"});
    CHECK(recv_frames(req.s) == strings{"a2"});
}
TEST_CASE_TEMPLATE_APPLY(req_last_peer, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REQ: SHALL discard silently any messages received from other peers", Scheme,
                          req_discard_others) {
    context ctx;
    node req(ctx, socket_type::req);
    req.s.set(opt::routing_id, std::string("client"));
    const auto ep = bind_node<Scheme>(req);
    std::vector<node> servers;
    servers.reserve(2);
    for (int i = 0; i < 2; ++i) {
        servers.emplace_back(ctx, socket_type::router);
        join(servers.back(), req, ep);
    }
    REQUIRE(req.s.send("q1").ok());
    const auto [asked, q1] = recv_any({&servers[0].s, &servers[1].s});
    REQUIRE(q1 == strings{"client", "", "q1"});
    node& other = servers[1 - asked];
    send_frames(other.s, {"client", "", "unsolicited 1"});
    send_frames(other.s, {"client", "", "unsolicited 2"});
    other.s.close();
    await_disconnects<Scheme>(req.m, 1); // both unsolicited messages are queued at the REQ
    // Discarded: not delivered, and no error either, just no reply yet.
    const auto early = recv_within(req.s, 100ms);
    CHECK_MESSAGE(early.error() == errc::timed_out,
                  "delivered from another peer: " << (early.ok() ? texts(*early) : strings{}));
    send_frames(servers[asked].s, {"client", "", "a1"});
    CHECK(recv_frames(req.s) == strings{"a1"});
    REQUIRE(req.s.send("q2").ok()); // the REQ goes on as if nothing had come
    CHECK(recv_frames(servers[asked].s) == strings{"client", "", "q2"});
    send_frames(servers[asked].s, {"client", "", "a2"});
    CHECK(recv_frames(req.s) == strings{"a2"});
}
TEST_CASE_TEMPLATE_APPLY(req_discard_others, all_schemes);

// =====================================================================================
// RFC 28: the REP socket type
// =====================================================================================

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL not filter or modify outgoing or incoming messages in any way", Scheme,
                          rep_unmodified) {
    context ctx;
    node rep(ctx, socket_type::rep), client(ctx, socket_type::dealer);
    join(client, rep, bind_node<Scheme>(rep));
    const std::string binary("\0\x01\xff\x7f\0", 5);
    const std::string large(100'000, '\xa5');
    send_frames(client.s, {"", binary, "", large, "text"});
    CHECK(recv_frames(rep.s) == strings{binary, "", large, "text"});
    REQUIRE(rep.s.send(frames_of({"text", large, "", binary})).ok());
    CHECK(recv_frames(client.s) == strings{"", "text", large, "", binary});
}
TEST_CASE_TEMPLATE_APPLY(rep_unmodified, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL receive and then send exactly one message at a time", Scheme, rep_lock_step) {
    context ctx;
    node rep(ctx, socket_type::rep), client(ctx, socket_type::dealer);
    join(client, rep, bind_node<Scheme>(rep));
    CHECK(rep.s.send("no request yet").error() == errc::wrong_state);
    send_frames(client.s, {"", "first"});
    send_frames(client.s, {"", "second"});
    CHECK(recv_frames(rep.s) == strings{"first"});
    CHECK(rep.s.recv(recv_flags::dontwait).error() == errc::wrong_state); // the second waits for the reply
    REQUIRE(rep.s.send("reply to first").ok());
    CHECK(rep.s.send("a second reply").error() == errc::wrong_state);
    CHECK(recv_frames(rep.s) == strings{"second"});
    REQUIRE(rep.s.send("reply to second").ok());
    CHECK(recv_frames(client.s) == strings{"", "reply to first"});
    CHECK(recv_frames(client.s) == strings{"", "reply to second"});
    CHECK(recv_within(client.s, 50ms).error() == errc::timed_out); // and no third
}
TEST_CASE_TEMPLATE_APPLY(rep_lock_step, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: The request and reply messages SHALL have this format on the wire: an address "
                          "envelope of zero or more frames, a delimiter, then one or more data frames",
                          Scheme, rep_wire_format) {
    context ctx;
    node rep(ctx, socket_type::rep), client(ctx, socket_type::dealer);
    join(client, rep, bind_node<Scheme>(rep));
    // Not in the format, so not requests: no delimiter; an envelope and a delimiter but no data.
    send_frames(client.s, {"no delimiter"});
    send_frames(client.s, {"hop", ""});
    send_frames(client.s, {"", "zero-hop"});
    send_frames(client.s, {"hop-1", "hop-2", "hop-3", "", "three-hop"});
    CHECK(recv_frames(rep.s) == strings{"zero-hop"});
    REQUIRE(rep.s.send("r0").ok());
    CHECK(recv_frames(client.s) == strings{"", "r0"});
    CHECK(recv_frames(rep.s) == strings{"three-hop"});
    REQUIRE(rep.s.send("r3").ok());
    CHECK(recv_frames(client.s) == strings{"hop-1", "hop-2", "hop-3", "", "r3"});
}
TEST_CASE_TEMPLATE_APPLY(rep_wire_format, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL receive incoming messages from its peers using a fair-queuing strategy", Scheme,
                          rep_fair_queue) {
    context ctx;
    node rep(ctx, socket_type::rep);
    const auto ep = bind_node<Scheme>(rep);
    {
        std::vector<node> clients;
        clients.reserve(3);
        for (int c = 0; c < 3; ++c) {
            clients.emplace_back(ctx, socket_type::dealer);
            join(clients.back(), rep, ep);
        }
        // Skewed on purpose: all of A's requests go first, then B's, then C's.
        for (int c = 0; c < 3; ++c)
            for (int i = 0; i < 5; ++i)
                send_frames(clients[c].s, {"", std::string(1, char('A' + c)) + std::to_string(i)});
    } // the clients close; what they sent is delivered first (linger)
    await_disconnects<Scheme>(rep.m, 3);
    strings got;
    for (int i = 0; i < 15; ++i) {
        const auto request = recv_frames(rep.s);
        REQUIRE(request.size() == 1);
        got.push_back(request[0]);
        REQUIRE(rep.s.send("done").ok()); // to a peer that has gone: dropped
    }
    for (int round = 0; round < 5; ++round) { // every round of three takes one from each, in order
        std::set<char> senders;
        for (int k = 0; k < 3; ++k) {
            const auto& m = got[static_cast<std::size_t>(round * 3 + k)];
            senders.insert(m[0]);
            CHECK(m.substr(1) == std::to_string(round));
        }
        CHECK_MESSAGE(senders.size() == 3, "round " << round << " of " << got);
    }
}
TEST_CASE_TEMPLATE_APPLY(rep_fair_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL remove and store the address envelope, including the delimiter", Scheme,
                          rep_store_envelope) {
    context ctx;
    node rep(ctx, socket_type::rep), client(ctx, socket_type::dealer);
    join(client, rep, bind_node<Scheme>(rep));
    send_frames(client.s, {"id-1", std::string("\0id-2", 4), "", "body"});
    CHECK(recv_frames(rep.s) == strings{"body"}); // removed: the application sees none of it
    REQUIRE(rep.s.send("reply").ok());
    CHECK(recv_frames(client.s) == strings{"id-1", std::string("\0id-2", 4), "", "reply"}); // stored: it comes back
}
TEST_CASE_TEMPLATE_APPLY(rep_store_envelope, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL pass the remaining data frames to its calling application", Scheme,
                          rep_pass_data) {
    context ctx;
    node rep(ctx, socket_type::rep), client(ctx, socket_type::dealer);
    join(client, rep, bind_node<Scheme>(rep));
    // After the delimiter, every frame is data, empty ones included.
    send_frames(client.s, {"hop", "", "f1", "", "f3", ""});
    CHECK(recv_frames(rep.s) == strings{"f1", "", "f3", ""});
}
TEST_CASE_TEMPLATE_APPLY(rep_pass_data, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL wait for a single reply message from its calling application", Scheme,
                          rep_single_reply) {
    context ctx;
    node rep(ctx, socket_type::rep), client(ctx, socket_type::dealer);
    join(client, rep, bind_node<Scheme>(rep));
    send_frames(client.s, {"", "question"});
    REQUIRE(recv_frames(rep.s) == strings{"question"});
    REQUIRE(rep.s.send("part 1", send_flags::more).ok());
    REQUIRE(rep.s.send("part 2", send_flags::more).ok());
    CHECK(recv_within(client.s, 50ms).error() == errc::timed_out); // nothing before the whole reply
    CHECK(rep.s.recv(recv_flags::dontwait).error() == errc::wrong_state);
    REQUIRE(rep.s.send("part 3").ok());
    CHECK(recv_frames(client.s) == strings{"", "part 1", "part 2", "part 3"});
}
TEST_CASE_TEMPLATE_APPLY(rep_single_reply, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL prepend the address envelope and delimiter", Scheme, rep_prepend) {
    context ctx;
    node rep(ctx, socket_type::rep), client(ctx, socket_type::dealer);
    join(client, rep, bind_node<Scheme>(rep));
    send_frames(client.s, {"e1", "e2", "", "q"});
    REQUIRE(recv_frames(rep.s) == strings{"q"});
    REQUIRE(rep.s.send(multipart{"r1", "r2"}).ok());
    CHECK(recv_frames(client.s) == strings{"e1", "e2", "", "r1", "r2"});
    send_frames(client.s, {"", "q"}); // an empty envelope: the delimiter alone goes before the reply
    REQUIRE(recv_frames(rep.s) == strings{"q"});
    REQUIRE(rep.s.send("r").ok());
    CHECK(recv_frames(client.s) == strings{"", "r"});
}
TEST_CASE_TEMPLATE_APPLY(rep_prepend, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL deliver this message back to the originating peer", Scheme, rep_back_to_origin) {
    context ctx;
    node rep(ctx, socket_type::rep), a(ctx, socket_type::dealer), b(ctx, socket_type::dealer);
    const auto ep = bind_node<Scheme>(rep);
    join(a, rep, ep);
    join(b, rep, ep);
    send_frames(b.s, {"", "from b"});
    CHECK(recv_frames(rep.s) == strings{"from b"});
    REQUIRE(rep.s.send("to b").ok());
    send_frames(a.s, {"", "from a"});
    CHECK(recv_frames(rep.s) == strings{"from a"});
    REQUIRE(rep.s.send("to a").ok());
    CHECK(recv_frames(a.s) == strings{"", "to a"});
    CHECK(recv_frames(b.s) == strings{"", "to b"});
}
TEST_CASE_TEMPLATE_APPLY(rep_back_to_origin, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL silently discard the reply, or return an error, if the originating peer is "
                          "no longer connected",
                          Scheme, rep_peer_gone) {
    context ctx;
    node rep(ctx, socket_type::rep);
    const auto ep = bind_node<Scheme>(rep);
    {
        node gone(ctx, socket_type::dealer);
        join(gone, rep, ep);
        send_frames(gone.s, {"", "question"});
        REQUIRE(recv_frames(rep.s) == strings{"question"});
    } // the requester goes before the reply
    await_disconnects<Scheme>(rep.m, 1);
    node next(ctx, socket_type::dealer);
    join(next, rep, ep);
    const auto start = std::chrono::steady_clock::now();
    const auto r = rep.s.send("answer for a peer that left");
    CHECK((r.ok() || r.error() != errc::timed_out)); // discarded or refused, not waited on
    CHECK(support::ms_since(start) < 1000);
    // Either way the REP takes the next request, and the next peer gets only its own reply.
    send_frames(next.s, {"", "second question"});
    CHECK(recv_frames(rep.s) == strings{"second question"});
    REQUIRE(rep.s.send("second answer").ok());
    CHECK(recv_frames(next.s) == strings{"", "second answer"});
}
TEST_CASE_TEMPLATE_APPLY(rep_peer_gone, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("REP: SHALL not block on sending", Scheme, rep_no_block) {
    // A requester that never reads its replies, behind small queues: the REP's replies
    // overflow them (and the kernel's buffers: 1 MiB each), yet no send waits.
    context ctx;
    node rep(ctx, socket_type::rep), client(ctx, socket_type::dealer);
    rep.s.set(opt::sndhwm, 1);
    client.s.set(opt::rcvhwm, 1);
    client.s.set(opt::routing_id, std::string("lazy"));
    join(client, rep, bind_node<Scheme>(rep));
    constexpr int requests = 40;
    for (int i = 0; i < requests; ++i) send_frames(client.s, {"", "q" + std::to_string(i)});
    const message big(std::size_t{1} << 20); // copies share the body
    long long slowest = 0;
    for (int i = 0; i < requests; ++i) {
        REQUIRE(recv_frames(rep.s) == strings{"q" + std::to_string(i)});
        const auto start = std::chrono::steady_clock::now();
        const auto r = rep.s.send(message(big));
        slowest = std::max(slowest, support::ms_since(start));
        REQUIRE_MESSAGE(r.ok(), "reply " << i << ": " << r.error_code().message());
    }
    CHECK(slowest < 1000);
    CHECK(dropped_for(rep.s, "lazy") > 0); // the queues were full: a blocking REP would have waited
}
TEST_CASE_TEMPLATE_APPLY(rep_no_block, all_schemes);

// =====================================================================================
// RFC 28: the DEALER socket type
// =====================================================================================

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL not filter or modify outgoing or incoming messages in any way", Scheme,
                          dealer_unmodified) {
    context ctx;
    node router(ctx, socket_type::router), dealer(ctx, socket_type::dealer);
    dealer.s.set(opt::routing_id, std::string("d"));
    join(dealer, router, bind_node<Scheme>(router));
    const std::string binary("\0\xff\0", 3);
    send_frames(dealer.s, {"", "x", "", binary});
    CHECK(recv_frames(router.s) == strings{"d", "", "x", "", binary});
    send_frames(router.s, {"d", binary, "", "", "y"});
    CHECK(recv_frames(dealer.s) == strings{binary, "", "", "y"});
    // DEALER to DEALER: no envelope is added or taken away.
    node peer(ctx, socket_type::dealer);
    const auto ep2 = bind_node<Scheme>(peer);
    node lone(ctx, socket_type::dealer);
    join(lone, peer, ep2);
    send_frames(lone.s, {"plain", ""});
    CHECK(recv_frames(peer.s) == strings{"plain", ""});
    send_frames(peer.s, {""});
    CHECK(recv_frames(lone.s) == strings{""});
}
TEST_CASE_TEMPLATE_APPLY(dealer_unmodified, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL maintain a double queue for each connected peer, allowing outgoing and "
                          "incoming messages to be queued independently",
                          Scheme, dealer_double_queue) {
    context ctx;
    node peer(ctx, socket_type::dealer), dealer(ctx, socket_type::dealer);
    dealer.s.set(opt::sndhwm, 5);
    peer.s.set(opt::rcvhwm, 5);
    join(dealer, peer, bind_node<Scheme>(peer));
    // The outgoing queue fills up (the peer does not read)...
    const int sent = send_until_full(dealer.s, 0, [&](int i) { return dealer.s.send(numbered(i)); });
    // ...while the incoming one still takes and delivers what the peer sends.
    for (int i = 0; i < 3; ++i) REQUIRE(peer.s.send("incoming " + std::to_string(i)).ok());
    for (int i = 0; i < 3; ++i) CHECK(recv_frames(dealer.s) == strings{"incoming " + std::to_string(i)});
    expect_numbers(peer.s, 0, sent); // and nothing queued outgoing was lost meanwhile
}
TEST_CASE_TEMPLATE_APPLY(dealer_double_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL create a double queue when initiating an outgoing connection to a peer, "
                          "and SHALL maintain the double queue whether or not the connection is established",
                          Scheme, dealer_connect_queue) {
    context ctx;
    node dealer(ctx, socket_type::dealer);
    const auto ep = unbound_endpoint<Scheme>();
    dealer.s.connect(ep);
    CHECK(dealer.s.peers().size() == 1); // the connect's queue, before any connection
    CHECK(dealer.s.send("before the connection", send_flags::dontwait).ok());
    {
        node first(ctx, socket_type::dealer);
        first.s.bind(ep);
        support::expect_event(dealer.m, event_type::handshake_succeeded);
        CHECK(recv_frames(first.s) == strings{"before the connection"});
    }
    if constexpr (Scheme::stream) { // inproc has no connection to lose and come back
        support::expect_event(dealer.m, event_type::disconnected);
        CHECK(dealer.s.peers().size() == 1); // kept while the connection is down
        CHECK(dealer.s.send("while it is down", send_flags::dontwait).ok());
        node second(ctx, socket_type::dealer);
        second.s.bind(ep);
        support::expect_event(dealer.m, event_type::handshake_succeeded);
        CHECK(recv_frames(second.s) == strings{"while it is down"});
    }
}
TEST_CASE_TEMPLATE_APPLY(dealer_connect_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL create a double queue when a peer connects to it. If this peer "
                          "disconnects, the DEALER socket SHALL destroy its double queue and SHALL discard any "
                          "messages it contains",
                          Scheme, dealer_accept_queue) {
    context ctx;
    node dealer(ctx, socket_type::dealer);
    const auto ep = bind_node<Scheme>(dealer);
    CHECK(dealer.s.peers().empty());
    {
        node gone(ctx, socket_type::dealer);
        gone.s.set(opt::linger, 0ms);
        join(gone, dealer, ep);
        CHECK(dealer.s.peers().size() == 1); // made when the peer connected
        for (int i = 0; i < 3; ++i) REQUIRE(dealer.s.send("for the peer that goes " + std::to_string(i)).ok());
    } // it goes without reading them
    await_disconnects<Scheme>(dealer.m, 1);
    CHECK(eventually([&] { return dealer.s.peers().empty(); })); // destroyed
    // Not kept for anybody else: a new peer gets only what is sent from now on.
    node next(ctx, socket_type::dealer);
    join(next, dealer, ep);
    REQUIRE(dealer.s.send("fresh").ok());
    CHECK(recv_frames(next.s) == strings{"fresh"});
    CHECK(recv_within(next.s, 50ms).error() == errc::timed_out);
    // (What the departed peer itself sent before going stays deliverable, as in libzmq: it had
    // been received; only what was queued toward it dies with it.)
}
TEST_CASE_TEMPLATE_APPLY(dealer_accept_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL consider a peer as available only when it has a outgoing queue that is not "
                          "full",
                          Scheme, dealer_available) {
    context ctx;
    node dealer(ctx, socket_type::dealer), a(ctx, socket_type::dealer), b(ctx, socket_type::dealer);
    dealer.s.set(opt::sndhwm, 5);
    a.s.set(opt::rcvhwm, 5);
    b.s.set(opt::rcvhwm, 5);
    join(dealer, a, bind_node<Scheme>(a));
    join(dealer, b, bind_node<Scheme>(b));
    const int full = send_until_full(dealer.s, 0, [&](int i) { return dealer.s.send(numbered(i)); });
    const auto b_first = drain_numbers(b.s); // b reads, a does not: only b's queue has room now
    constexpr int more = 10;
    for (int i = full; i < full + more; ++i) REQUIRE(dealer.s.send(numbered(i)).ok());
    expect_numbers(b.s, full, more); // all of them went to b
    const auto a_got = drain_numbers(a.s);
    CHECK(std::all_of(a_got.begin(), a_got.end(), [&](int n) { return n < full; }));
    std::vector<int> all(a_got);
    all.insert(all.end(), b_first.begin(), b_first.end());
    std::sort(all.begin(), all.end());
    CHECK(all.size() == static_cast<std::size_t>(full)); // and the rest arrived, each once
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
}
TEST_CASE_TEMPLATE_APPLY(dealer_available, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL route outgoing messages to available peers using a round-robin strategy",
                          Scheme, dealer_round_robin) {
    context ctx;
    node dealer(ctx, socket_type::dealer);
    std::vector<node> peers;
    peers.reserve(3);
    for (int i = 0; i < 3; ++i) {
        peers.emplace_back(ctx, socket_type::dealer);
        join(dealer, peers.back(), bind_node<Scheme>(peers.back()));
    }
    for (int i = 0; i < 9; ++i) REQUIRE(dealer.s.send(multipart{std::to_string(i), "tail"}).ok());
    std::set<int> firsts;
    for (auto& p : peers) {
        std::vector<int> got;
        for (int k = 0; k < 3; ++k) {
            const auto m = recv_frames(p.s);
            REQUIRE(m.size() == 2); // whole messages
            got.push_back(std::stoi(m[0]));
        }
        CHECK(got[1] == got[0] + 3); // every third message, in order
        CHECK(got[2] == got[0] + 6);
        firsts.insert(got[0]);
        CHECK(recv_within(p.s, 20ms).error() == errc::timed_out);
    }
    CHECK(firsts == std::set<int>{0, 1, 2});
}
TEST_CASE_TEMPLATE_APPLY(dealer_round_robin, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL block on sending, or return a suitable error, when it has no available "
                          "peers",
                          Scheme, dealer_no_peers) {
    context ctx;
    node dealer(ctx, socket_type::dealer);
    dealer.s.set(opt::sndhwm, 5); // an endpoint option: before the bind
    const auto ep = bind_node<Scheme>(dealer);
    CHECK(dealer.s.send("nobody", send_flags::dontwait).error() == errc::would_block); // no peer at all
    dealer.s.set(opt::sndtimeo, 50ms);
    auto start = std::chrono::steady_clock::now();
    CHECK(dealer.s.send("nobody").error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 50);
    // A peer that is full is no more available than none.
    node peer(ctx, socket_type::dealer);
    peer.s.set(opt::rcvhwm, 5);
    join(peer, dealer, ep);
    send_until_full(dealer.s, 0, [&](int i) { return dealer.s.send(numbered(i)); });
    CHECK(dealer.s.send(numbered(-1), send_flags::dontwait).error() == errc::would_block);
    dealer.s.set(opt::sndtimeo, 50ms);
    start = std::chrono::steady_clock::now();
    CHECK(dealer.s.send(numbered(-1)).error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 50);
}
TEST_CASE_TEMPLATE_APPLY(dealer_no_peers, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL not accept further messages when it has no available peers", Scheme,
                          dealer_refuse) {
    context ctx;
    node dealer(ctx, socket_type::dealer), peer(ctx, socket_type::dealer);
    dealer.s.set(opt::sndhwm, 5);
    peer.s.set(opt::rcvhwm, 5);
    join(dealer, peer, bind_node<Scheme>(peer));
    const int accepted = send_until_full(dealer.s, 0, [&](int i) { return dealer.s.send(numbered(i)); });
    int refused = 0;
    for (int i = 0; i < 5; ++i) refused += dealer.s.send(numbered(accepted), send_flags::dontwait).failed() ? 1 : 0;
    CHECK(refused == 5);
    expect_numbers(peer.s, 0, accepted); // exactly the accepted ones arrive, none of the refused
    CHECK(recv_within(peer.s, 50ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(dealer_refuse, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL NOT discard messages that it cannot queue", Scheme, dealer_no_discard) {
    context ctx;
    node dealer(ctx, socket_type::dealer), peer(ctx, socket_type::dealer);
    dealer.s.set(opt::sndhwm, 5);
    peer.s.set(opt::rcvhwm, 5);
    join(dealer, peer, bind_node<Scheme>(peer));
    const int accepted = send_until_full(dealer.s, 0, [&](int i) { return dealer.s.send(numbered(i)); });
    message refused = numbered(accepted);
    REQUIRE(dealer.s.send(std::move(refused), send_flags::dontwait).failed());
    CHECK(number_of(refused.view()) == accepted); // still the caller's, unchanged
    expect_numbers(peer.s, 0, accepted);           // every accepted one arrived
    REQUIRE(dealer.s.send(std::move(refused)).ok()); // and the refused one goes once there is room
    expect_numbers(peer.s, accepted, 1);
}
TEST_CASE_TEMPLATE_APPLY(dealer_no_discard, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL receive incoming messages from its peers using a fair-queuing strategy",
                          Scheme, dealer_fair_queue) {
    context ctx;
    node dealer(ctx, socket_type::dealer);
    const auto ep = bind_node<Scheme>(dealer);
    {
        std::vector<node> senders;
        senders.reserve(3);
        for (int c = 0; c < 3; ++c) {
            senders.emplace_back(ctx, socket_type::dealer);
            join(senders.back(), dealer, ep);
        }
        for (int c = 0; c < 3; ++c)
            for (int i = 0; i < 5; ++i)
                REQUIRE(senders[c].s.send(std::string(1, char('A' + c)) + std::to_string(i)).ok());
    }
    await_disconnects<Scheme>(dealer.m, 3);
    strings got;
    for (int i = 0; i < 15; ++i) got.push_back(recv_frames(dealer.s).at(0));
    for (int round = 0; round < 5; ++round) {
        std::set<char> senders;
        for (int k = 0; k < 3; ++k) {
            const auto& m = got[static_cast<std::size_t>(round * 3 + k)];
            senders.insert(m[0]);
            CHECK(m.substr(1) == std::to_string(round));
        }
        CHECK_MESSAGE(senders.size() == 3, "round " << round << " of " << got);
    }
}
TEST_CASE_TEMPLATE_APPLY(dealer_fair_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("DEALER: SHALL deliver these to its calling application", Scheme, dealer_deliver) {
    context ctx;
    node dealer(ctx, socket_type::dealer), a(ctx, socket_type::dealer), b(ctx, socket_type::router);
    dealer.s.set(opt::routing_id, std::string("dealer"));
    const auto ep = bind_node<Scheme>(dealer);
    join(a, dealer, ep);
    join(b, dealer, ep);
    std::multiset<strings> sent{{"one"}, {"two", "frames"}, {"", "three", ""}};
    for (const auto& m : sent) send_frames(a.s, m);
    send_frames(b.s, {"dealer", "from a router"});
    sent.insert(strings{"from a router"});
    std::multiset<strings> got;
    for (std::size_t i = 0; i < sent.size(); ++i) got.insert(recv_frames(dealer.s));
    CHECK(got == sent);
    CHECK(recv_within(dealer.s, 20ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(dealer_deliver, all_schemes);

// =====================================================================================
// RFC 28: the ROUTER socket type
// =====================================================================================

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL maintain a double queue for each connected peer, allowing outgoing and "
                          "incoming messages to be queued independently",
                          Scheme, router_double_queue) {
    context ctx;
    node router(ctx, socket_type::router), a(ctx, socket_type::dealer), b(ctx, socket_type::dealer);
    router.s.set(opt::router_mandatory, true); // so a full queue shows, instead of a silent drop
    router.s.set(opt::sndhwm, 5);
    a.s.set(opt::routing_id, std::string("A"));
    a.s.set(opt::rcvhwm, 5);
    b.s.set(opt::routing_id, std::string("B"));
    const auto ep = bind_node<Scheme>(router);
    join(a, router, ep);
    join(b, router, ep);
    const int to_a = send_until_full(router.s, 0, [&](int i) { return router.s.send(routed("A", i)); });
    // A's full outgoing queue holds up neither A's incoming one nor B's queues.
    for (int i = 0; i < 3; ++i) REQUIRE(a.s.send("from A " + std::to_string(i)).ok());
    for (int i = 0; i < 3; ++i) CHECK(recv_frames(router.s) == strings{"A", "from A " + std::to_string(i)});
    REQUIRE(router.s.send(multipart{"B", "to B"}).ok());
    CHECK(recv_frames(b.s) == strings{"to B"});
    expect_numbers(a.s, 0, to_a);
}
TEST_CASE_TEMPLATE_APPLY(router_double_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL create a double queue when initiating an outgoing connection to a peer, "
                          "and SHALL maintain the double queue whether or not the connection is established",
                          Scheme, router_connect_queue) {
    // Observable only for a peer the application can name before it connects: one given
    // connect_routing_id. router_mandatory makes a missing queue an error, not a silent drop.
    context ctx;
    node router(ctx, socket_type::router);
    router.s.set(opt::router_mandatory, true);
    const auto ep = unbound_endpoint<Scheme>();
    router.s.set(opt::connect_routing_id, std::string("server"));
    router.s.connect(ep);
    CHECK(peers_with_id(router.s, "server") == 1);
    const auto early = router.s.send(multipart{"server", "before the connection"}, send_flags::dontwait);
    CHECK_MESSAGE(early.ok(), "no queue before the connection: " << early.error_code().message());
    {
        node first(ctx, socket_type::dealer);
        first.s.bind(ep);
        support::expect_event(router.m, event_type::handshake_succeeded);
        if (early.ok()) CHECK(recv_frames(first.s) == strings{"before the connection"});
        REQUIRE(router.s.send(multipart{"server", "while connected"}).ok());
        CHECK(recv_frames(first.s) == strings{"while connected"});
    }
    if constexpr (Scheme::stream) { // inproc has no connection to lose and come back
        support::expect_event(router.m, event_type::disconnected);
        CHECK(eventually([&] { return peers_with_id(router.s, "server") == 1; }));
        const auto down = router.s.send(multipart{"server", "while it is down"}, send_flags::dontwait);
        CHECK_MESSAGE(down.ok(), "no queue while the connection is down: " << down.error_code().message());
        node second(ctx, socket_type::dealer);
        second.s.bind(ep);
        support::expect_event(router.m, event_type::handshake_succeeded);
        if (down.ok()) CHECK(recv_frames(second.s) == strings{"while it is down"});
    }
}
TEST_CASE_TEMPLATE_APPLY(router_connect_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL create a double queue when a peer connects to it. If this peer "
                          "disconnects, the ROUTER socket SHALL destroy its double queue and SHALL discard any "
                          "messages it contains",
                          Scheme, router_accept_queue) {
    context ctx;
    node router(ctx, socket_type::router);
    router.s.set(opt::router_mandatory, true);
    const auto ep = bind_node<Scheme>(router);
    {
        node gone(ctx, socket_type::dealer);
        gone.s.set(opt::routing_id, std::string("peer"));
        gone.s.set(opt::linger, 0ms);
        join(gone, router, ep);
        CHECK(peers_with_id(router.s, "peer") == 1); // made when the peer connected
        for (int i = 0; i < 3; ++i) REQUIRE(router.s.send(multipart{"peer", "old " + std::to_string(i)}).ok());
    } // it goes without reading them
    await_disconnects<Scheme>(router.m, 1);
    CHECK(eventually([&] { return peers_with_id(router.s, "peer") == 0; })); // destroyed
    CHECK(router.s.send(multipart{"peer", "to nobody"}).error() == errc::host_unreachable);
    node again(ctx, socket_type::dealer); // the same id comes back: a new queue, empty
    again.s.set(opt::routing_id, std::string("peer"));
    join(again, router, ep);
    REQUIRE(router.s.send(multipart{"peer", "fresh"}).ok());
    CHECK(recv_frames(again.s) == strings{"fresh"});
    CHECK(recv_within(again.s, 50ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(router_accept_queue, all_schemes);

namespace {

// A stream peer announcing a routing id another peer of `router` has is refused in its
// handshake with the reason in a ZMTP ERROR (never "up"), and the router says whom it refused.
void expect_id_refused(node& router, node& newcomer) {
    std::optional<monitor_event> e;
    while ((e = newcomer.m.next(10s)) && e->type != event_type::handshake_failed)
        CHECK(e->type != event_type::handshake_succeeded);
    REQUIRE(e.has_value());
    CHECK_MESSAGE(e->detail.find("already has a peer with this routing id") != std::string::npos, e->detail);
    const auto refused = support::expect_event(router.m, event_type::handshake_failed);
    CHECK(refused.error == errc::connection_refused);
    CHECK_MESSAGE(refused.detail.find("refused a peer with routing id") != std::string::npos, refused.detail);
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL identify each double queue using a unique \"identity\" binary string", Scheme,
                          router_unique_identity) {
    context ctx;
    node router(ctx, socket_type::router);
    const auto ep = bind_node<Scheme>(router);
    const std::string binary_id("\x01\0\xfe", 3);
    std::vector<node> peers;
    peers.reserve(4);
    for (const std::string& id : {std::string(), std::string(), binary_id, std::string("dup")}) {
        peers.emplace_back(ctx, socket_type::dealer);
        if (!id.empty()) peers.back().s.set(opt::routing_id, id);
        join(peers.back(), router, ep);
    }
    std::set<std::string> ids;
    for (std::size_t i = 0; i < peers.size(); ++i) {
        REQUIRE(peers[i].s.send("from " + std::to_string(i)).ok());
        const auto got = recv_frames(router.s);
        REQUIRE(got.size() == 2);
        REQUIRE(got[1] == "from " + std::to_string(i)); // each peer in turn: nothing else is sent
        ids.insert(got[0]);
        if (i == 2) CHECK(got[0] == binary_id);
    }
    CHECK(ids.size() == 4); // unique
    // A second peer announcing an id in use does not get that id (refused, without handover).
    node twin(ctx, socket_type::dealer);
    twin.s.set(opt::routing_id, std::string("dup"));
    twin.s.set(opt::reconnect_ivl, infinite); // refused once is enough
    twin.s.connect(ep);
    if constexpr (Scheme::stream) {
        expect_id_refused(router, twin);
    } else { // inproc has no handshake: the router drops the pipe
        support::expect_event(twin.m, event_type::handshake_succeeded);
        support::expect_event(router.m, event_type::handshake_succeeded);
    }
    REQUIRE(router.s.send(multipart{"dup", "to the first of that name"}).ok());
    CHECK(recv_frames(peers[3].s) == strings{"to the first of that name"});
    CHECK(peers_with_id(router.s, "dup") == 1);
    CHECK(recv_within(twin.s, 50ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(router_unique_identity, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHOULD allow the peer to specify its identity explicitly through the Identity "
                          "metadata property",
                          Scheme, router_peer_identity) {
    context ctx;
    node router(ctx, socket_type::router), peer(ctx, socket_type::dealer);
    peer.s.set(opt::routing_id, std::string("chosen-by-peer"));
    join(peer, router, bind_node<Scheme>(router));
    CHECK(peers_with_id(router.s, "chosen-by-peer") == 1);
    REQUIRE(peer.s.send("hello").ok());
    CHECK(recv_frames(router.s) == strings{"chosen-by-peer", "hello"});
    REQUIRE(router.s.send(multipart{"chosen-by-peer", "hi"}).ok());
    CHECK(recv_frames(peer.s) == strings{"hi"});
}
TEST_CASE_TEMPLATE_APPLY(router_peer_identity, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL receive incoming messages from its peers using a fair-queuing strategy",
                          Scheme, router_fair_queue) {
    context ctx;
    node router(ctx, socket_type::router);
    const auto ep = bind_node<Scheme>(router);
    {
        std::vector<node> senders;
        senders.reserve(3);
        for (int c = 0; c < 3; ++c) {
            senders.emplace_back(ctx, socket_type::dealer);
            senders.back().s.set(opt::routing_id, std::string(1, char('A' + c)));
            join(senders.back(), router, ep);
        }
        for (int c = 0; c < 3; ++c)
            for (int i = 0; i < 5; ++i) REQUIRE(senders[c].s.send(std::to_string(i)).ok());
    }
    await_disconnects<Scheme>(router.m, 3);
    strings got;
    for (int i = 0; i < 15; ++i) {
        const auto m = recv_frames(router.s);
        REQUIRE(m.size() == 2);
        got.push_back(m[0] + m[1]);
    }
    for (int round = 0; round < 5; ++round) {
        std::set<char> senders;
        for (int k = 0; k < 3; ++k) {
            const auto& m = got[static_cast<std::size_t>(round * 3 + k)];
            senders.insert(m[0]);
            CHECK(m.substr(1) == std::to_string(round));
        }
        CHECK_MESSAGE(senders.size() == 3, "round " << round << " of " << got);
    }
}
TEST_CASE_TEMPLATE_APPLY(router_fair_queue, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL prefix each incoming message with a frame containing the identity of the "
                          "originating double queue",
                          Scheme, router_prefix) {
    context ctx;
    node router(ctx, socket_type::router), a(ctx, socket_type::dealer), b(ctx, socket_type::dealer);
    a.s.set(opt::routing_id, std::string("a"));
    b.s.set(opt::routing_id, std::string("b"));
    const auto ep = bind_node<Scheme>(router);
    join(a, router, ep);
    join(b, router, ep);
    send_frames(b.s, {"x", "y"});
    CHECK(recv_frames(router.s) == strings{"b", "x", "y"});
    send_frames(a.s, {""});
    CHECK(recv_frames(router.s) == strings{"a", ""});
}
TEST_CASE_TEMPLATE_APPLY(router_prefix, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL deliver the resulting messages to its calling application", Scheme,
                          router_deliver) {
    context ctx;
    node router(ctx, socket_type::router), a(ctx, socket_type::dealer), b(ctx, socket_type::req);
    a.s.set(opt::routing_id, std::string("a"));
    b.s.set(opt::routing_id, std::string("b"));
    const auto ep = bind_node<Scheme>(router);
    join(a, router, ep);
    join(b, router, ep);
    send_frames(a.s, {"one"});
    send_frames(a.s, {"two", "", "frames"});
    REQUIRE(b.s.send("a request").ok());
    std::multiset<strings> got;
    for (int i = 0; i < 3; ++i) got.insert(recv_frames(router.s));
    CHECK(got == std::multiset<strings>{{"a", "one"}, {"a", "two", "", "frames"}, {"b", "", "a request"}});
    CHECK(recv_within(router.s, 20ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(router_deliver, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL remove the first frame from each outgoing message and use this as the "
                          "identity of a double queue",
                          Scheme, router_route_by_first_frame) {
    context ctx;
    node router(ctx, socket_type::router), a(ctx, socket_type::dealer), b(ctx, socket_type::dealer);
    a.s.set(opt::routing_id, std::string("a"));
    b.s.set(opt::routing_id, std::string("b"));
    const auto ep = bind_node<Scheme>(router);
    join(a, router, ep);
    join(b, router, ep);
    REQUIRE(router.s.send(multipart{"b", "payload", "more"}).ok());
    REQUIRE(router.s.send(multipart{"a", "for a"}).ok());
    CHECK(recv_frames(b.s) == strings{"payload", "more"});
    CHECK(recv_frames(a.s) == strings{"for a"}); // a's first message is its own: nothing misrouted
}
TEST_CASE_TEMPLATE_APPLY(router_route_by_first_frame, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL route the message to the outgoing queue if that queue exists, and has space",
                          Scheme, router_route_existing) {
    context ctx;
    node router(ctx, socket_type::router);
    const auto ep = bind_node<Scheme>(router);
    std::vector<node> peers;
    peers.reserve(3);
    for (int i = 0; i < 3; ++i) {
        peers.emplace_back(ctx, socket_type::dealer);
        peers.back().s.set(opt::routing_id, "p" + std::to_string(i));
        join(peers.back(), router, ep);
    }
    for (int round = 0; round < 2; ++round)
        for (int i = 2; i >= 0; --i)
            REQUIRE(router.s.send(frames_of({"p" + std::to_string(i), std::to_string(round)})).ok());
    for (int i = 0; i < 3; ++i) {
        CHECK(recv_frames(peers[i].s) == strings{"0"});
        CHECK(recv_frames(peers[i].s) == strings{"1"});
    }
    CHECK(dropped_for(router.s, "p0") + dropped_for(router.s, "p1") + dropped_for(router.s, "p2") == 0);
}
TEST_CASE_TEMPLATE_APPLY(router_route_existing, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL either silently drop the message, or return an error, depending on "
                          "configuration, if the queue does not exist, or is full",
                          Scheme, router_drop_or_error) {
    context ctx;
    node router(ctx, socket_type::router), peer(ctx, socket_type::dealer);
    router.s.set(opt::sndhwm, 5);
    peer.s.set(opt::rcvhwm, 5);
    peer.s.set(opt::routing_id, std::string("slow"));
    join(peer, router, bind_node<Scheme>(router));
    // router_mandatory: an error for an unknown id, and for a full queue.
    router.s.set(opt::router_mandatory, true);
    CHECK(router.s.send(multipart{"nobody", "x"}).error() == errc::host_unreachable);
    const int accepted = send_until_full(router.s, 0, [&](int i) { return router.s.send(routed("slow", i)); });
    CHECK(router.s.send(routed("slow", accepted), send_flags::dontwait).error() == errc::would_block);
    // The default: a silent drop for both.
    router.s.set(opt::router_mandatory, false);
    CHECK(router.s.send(multipart{"nobody", "x"}).ok());
    const auto before = dropped_for(router.s, "slow");
    CHECK(router.s.send(routed("slow", accepted)).ok());
    CHECK(dropped_for(router.s, "slow") == before + 1);
    expect_numbers(peer.s, 0, accepted); // what was accepted arrives; the dropped one does not
    CHECK(recv_within(peer.s, 50ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(router_drop_or_error, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("ROUTER: SHALL NOT block on sending", Scheme, router_no_block) {
    context ctx;
    node router(ctx, socket_type::router), peer(ctx, socket_type::dealer);
    router.s.set(opt::sndhwm, 5);
    peer.s.set(opt::rcvhwm, 5);
    peer.s.set(opt::routing_id, std::string("slow"));
    join(peer, router, bind_node<Scheme>(router));
    // 64 MiB toward a peer that does not read, with sndtimeo 5 s: none of the sends waits.
    long long slowest = 0;
    for (int i = 0; i < 1024; ++i) {
        const auto start = std::chrono::steady_clock::now();
        REQUIRE(router.s.send(routed("slow", i, 64 * 1024)).ok());
        slowest = std::max(slowest, support::ms_since(start));
    }
    CHECK(slowest < 1000);
    CHECK(dropped_for(router.s, "slow") > 0); // the queue was full: a blocking send would have waited
}
TEST_CASE_TEMPLATE_APPLY(router_no_block, all_schemes);

// =====================================================================================
// volley beyond libzmq: strict alternation, request ids, resends
// =====================================================================================

TEST_CASE_TEMPLATE_DEFINE("volley REQ: out of turn, send and recv fail at once with wrong_state, the message kept",
                          Scheme, req_wrong_state) {
    context ctx;
    node rep(ctx, socket_type::rep), req(ctx, socket_type::req);
    join(req, rep, bind_node<Scheme>(rep));
    auto start = std::chrono::steady_clock::now();
    CHECK(req.s.recv().error() == errc::wrong_state); // nothing asked: no wait for rcvtimeo
    CHECK(support::ms_since(start) < 1000);
    REQUIRE(req.s.send("question").ok());
    message again("a second question");
    start = std::chrono::steady_clock::now();
    CHECK(req.s.send(std::move(again)).error() == errc::wrong_state);
    CHECK(support::ms_since(start) < 1000);
    CHECK(again == "a second question"); // not consumed
    multipart parts{"two", "frames"};
    CHECK(req.s.send(std::move(parts)).error() == errc::wrong_state);
    CHECK(texts(parts) == strings{"two", "frames"});
    REQUIRE(recv_frames(rep.s) == strings{"question"});
    REQUIRE(rep.s.send("answer").ok());
    CHECK(recv_frames(req.s) == strings{"answer"});
    CHECK(req.s.recv().error() == errc::wrong_state); // the reply was taken: nothing more to get
    CHECK(req.s.send(std::move(again)).ok());
    CHECK(recv_frames(rep.s) == strings{"a second question"});
}
TEST_CASE_TEMPLATE_APPLY(req_wrong_state, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley REP: out of turn, send and recv fail at once with wrong_state, the message kept",
                          Scheme, rep_wrong_state) {
    context ctx;
    node rep(ctx, socket_type::rep), req(ctx, socket_type::req);
    join(req, rep, bind_node<Scheme>(rep));
    message early("too early");
    CHECK(rep.s.send(std::move(early)).error() == errc::wrong_state);
    CHECK(early == "too early");
    REQUIRE(req.s.send("question").ok());
    REQUIRE(recv_frames(rep.s) == strings{"question"});
    const auto start = std::chrono::steady_clock::now();
    CHECK(rep.s.recv().error() == errc::wrong_state); // the reply is due: no wait for rcvtimeo
    CHECK(support::ms_since(start) < 1000);
    REQUIRE(rep.s.send("answer").ok());
    CHECK(rep.s.send(std::move(early)).error() == errc::wrong_state);
    CHECK(recv_frames(req.s) == strings{"answer"});
}
TEST_CASE_TEMPLATE_APPLY(rep_wrong_state, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley REQ req_relaxed: a new request may go before the reply, whose late reply is "
                          "dropped",
                          Scheme, req_relaxed_single_peer) {
    // One server, so both requests go to the same peer; no request ids (req_correlate off).
    // options.hpp: "allow a new request before the reply to the last one came (that reply, if
    // it ever comes, is dropped)".
    context ctx;
    node server(ctx, socket_type::router), req(ctx, socket_type::req);
    req.s.set(opt::req_relaxed, true);
    join(req, server, bind_node<Scheme>(server));
    REQUIRE(req.s.send("first").ok());
    auto a1 = recv_frames(server.s);
    REQUIRE(a1.back() == "first");
    REQUIRE(req.s.send("second").ok()); // no wrong_state
    auto a2 = recv_frames(server.s);
    REQUIRE(a2.back() == "second");
    // The server answers both, each behind its request's whole envelope, as a REP would.
    a1.back() = "answer to first";
    a2.back() = "answer to second";
    send_frames(server.s, a1);
    send_frames(server.s, a2);
    CHECK(recv_frames(req.s) == strings{"answer to second"});
}
TEST_CASE_TEMPLATE_APPLY(req_relaxed_single_peer, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley REQ req_relaxed with req_correlate: only the newest request's reply is delivered",
                          Scheme, req_relaxed_correlated) {
    context ctx;
    node server(ctx, socket_type::router), req(ctx, socket_type::req);
    req.s.set(opt::req_relaxed, true);
    req.s.set(opt::req_correlate, true);
    join(req, server, bind_node<Scheme>(server));
    REQUIRE(req.s.send("first").ok());
    const auto q1 = recv_frames(server.s);
    REQUIRE(q1.size() == 4);
    REQUIRE(req.s.send("second").ok());
    const auto q2 = recv_frames(server.s);
    REQUIRE(q2.size() == 4);
    CHECK(q1[1] != q2[1]);
    send_frames(server.s, {q1[0], q1[1], "", "answer to first"});
    send_frames(server.s, {q2[0], q2[1], "", "answer to second"});
    CHECK(recv_frames(req.s) == strings{"answer to second"});
    // A relaxed REQ also goes on after giving up on a request that is never answered.
    REQUIRE(req.s.send("third").ok());
    const auto q3 = recv_frames(server.s);
    REQUIRE(req.s.send("fourth").ok());
    const auto q4 = recv_frames(server.s);
    send_frames(server.s, {q4[0], q4[1], "", "answer to fourth"});
    CHECK(recv_frames(req.s) == strings{"answer to fourth"});
    send_frames(server.s, {q3[0], q3[1], "", "answer to third, too late"});
    REQUIRE(req.s.send("fifth").ok());
    const auto q5 = recv_frames(server.s);
    send_frames(server.s, {q5[0], q5[1], "", "answer to fifth"});
    CHECK(recv_frames(req.s) == strings{"answer to fifth"});
}
TEST_CASE_TEMPLATE_APPLY(req_relaxed_correlated, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley REQ req_correlate: each request carries a fresh id, and a reply with a wrong id "
                          "is never delivered",
                          Scheme, req_correlate) {
    // The server is a ROUTER, so that it can answer with any id (ZMTP pairs REQ with REP and
    // ROUTER only: a DEALER server is refused as incompatible).
    context ctx;
    node server(ctx, socket_type::router), req(ctx, socket_type::req);
    req.s.set(opt::req_correlate, true);
    join(req, server, bind_node<Scheme>(server));
    REQUIRE(req.s.send("question").ok());
    const auto q = recv_frames(server.s);
    REQUIRE(q.size() == 4);
    const std::string& peer = q[0];
    CHECK(q[1].size() == 4); // the id, before the delimiter
    CHECK(q[2].empty());
    CHECK(q[3] == "question");
    std::string wrong = q[1];
    wrong[3] = static_cast<char>(wrong[3] ^ 1);
    send_frames(server.s, {peer, wrong, "", "reply with a wrong id"});
    send_frames(server.s, {peer, "", "reply with no id"});
    send_frames(server.s, {peer, q[1], "", "the reply"});
    CHECK(recv_frames(req.s) == strings{"the reply"});
    // The right id for a request no longer out is a wrong id too.
    REQUIRE(req.s.send("next question").ok());
    const auto q2 = recv_frames(server.s);
    REQUIRE(q2.size() == 4);
    CHECK(q2[1] != q[1]);
    send_frames(server.s, {peer, q[1], "", "a duplicate of the last reply"});
    send_frames(server.s, {peer, q2[1], "", "the next reply"});
    CHECK(recv_frames(req.s) == strings{"the next reply"});
}
TEST_CASE_TEMPLATE_APPLY(req_correlate, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley REQ req_resend_ivl: an unanswered request is sent again after the interval, with "
                          "the same id",
                          Scheme, req_resend_after_interval) {
    context ctx;
    node server(ctx, socket_type::router), req(ctx, socket_type::req);
    req.s.set(opt::req_resend_ivl, 150ms);
    join(req, server, bind_node<Scheme>(server));
    REQUIRE(req.s.send("please").ok());
    const auto sent_at = std::chrono::steady_clock::now();
    std::optional<recv_multipart_result> reply;
    strings first, again;
    long long waited = 0;
    {
        std::jthread waiter([&] { reply = req.s.recv_multipart(); }); // the timer runs in the REQ's calls
        first = recv_frames(server.s);
        again = recv_frames(server.s);
        waited = support::ms_since(sent_at);
        send_frames(server.s, {first[0], first[1], "", "answer"});
        send_frames(server.s, {again[0], again[1], "", "answer to the copy"}); // both copies answered
    }
    CHECK(first.size() == 4);
    CHECK(again == first); // the same request, the same id
    CHECK(waited >= 140);  // not before the interval (a few ms of timer slack allowed)
    REQUIRE(reply.has_value());
    REQUIRE(reply->ok());
    CHECK(texts(**reply) == strings{"answer"}); // delivered once
    // The answer to the copy is stale now; the next request's own reply is the one delivered.
    REQUIRE(req.s.send("next").ok());
    const auto q = recv_request(server.s, "next");
    send_frames(server.s, {q[0], q[1], "", "next answer"});
    CHECK(recv_frames(req.s) == strings{"next answer"});
}
TEST_CASE_TEMPLATE_APPLY(req_resend_after_interval, all_schemes);

namespace {

// The REQ (connecting, or bound) sends a request; the server that takes it dies without a
// reply. With a resend interval far longer than the test, the other server must get the
// request at once, from the REQ blocked in recv.
template <class Scheme>
void resend_on_lost_connection(bool req_binds) {
    context ctx;
    node req(ctx, socket_type::req);
    req.s.set(opt::req_resend_ivl, 30s);
    std::vector<node> servers;
    servers.reserve(2);
    const std::string req_ep = req_binds ? bind_node<Scheme>(req) : std::string();
    for (int i = 0; i < 2; ++i) {
        servers.emplace_back(ctx, socket_type::rep);
        if (req_binds)
            join(servers.back(), req, req_ep);
        else
            join(req, servers.back(), bind_node<Scheme>(servers.back()));
    }
    REQUIRE(req.s.send("who takes it").ok());
    const auto [taker, request] = recv_any({&servers[0].s, &servers[1].s});
    REQUIRE(request == strings{"who takes it"});
    node& other = servers[1 - taker];
    other.s.set(opt::rcvtimeo, 3s);
    req.s.set(opt::rcvtimeo, 4s);
    servers[taker].s.close(); // dies holding the request
    const auto lost_at = std::chrono::steady_clock::now();
    std::optional<recv_multipart_result> reply;
    recv_multipart_result resent = errc::closed;
    long long after = 0;
    {
        std::jthread waiter([&] { reply = req.s.recv_multipart(); });
        resent = other.s.recv_multipart();
        after = support::ms_since(lost_at);
        if (resent.ok()) (void)other.s.send("taken over");
    }
    REQUIRE_MESSAGE(resent.ok(), "the request was not resent within 3 s of losing its connection");
    CHECK(texts(*resent) == strings{"who takes it"});
    CHECK(after < 3000);
    REQUIRE(reply.has_value());
    REQUIRE(reply->ok());
    CHECK(texts(**reply) == strings{"taken over"});
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("volley REQ req_resend_ivl: a request is resent at once when the connection it went out "
                          "on is lost (REQ connects)",
                          Scheme, req_resend_on_loss_connect) {
    resend_on_lost_connection<Scheme>(false);
}
TEST_CASE_TEMPLATE_APPLY(req_resend_on_loss_connect, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley REQ req_resend_ivl: a request is resent at once when the connection it went out "
                          "on is lost (REQ binds)",
                          Scheme, req_resend_on_loss_bind) {
    resend_on_lost_connection<Scheme>(true);
}
TEST_CASE_TEMPLATE_APPLY(req_resend_on_loss_bind, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley DEALER: sndhwm bounds what waits for a peer that does not read, however the sends "
                          "are paced",
                          Scheme, dealer_paced_hwm) {
    // The smallest form of what "DEALER: SHALL consider a peer as available only when it has
    // a outgoing queue that is not full" needs: one peer, one sender whose sends are spaced
    // out (not a burst), as a DEALER's are when it round-robins over several peers.
    context ctx;
    node peer(ctx, socket_type::dealer), dealer(ctx, socket_type::dealer);
    dealer.s.set(opt::sndhwm, 5);
    peer.s.set(opt::rcvhwm, 5);
    join(dealer, peer, bind_node<Scheme>(peer));
    const int accepted = send_until_full(dealer.s, 0, [&](int i) {
        std::this_thread::sleep_for(20us); // paces the sender: each send comes on its own
        return dealer.s.send(numbered(i));
    });
    expect_numbers(peer.s, 0, accepted);
}
TEST_CASE_TEMPLATE_APPLY(dealer_paced_hwm, all_schemes);

// =====================================================================================
// volley beyond libzmq: ROUTER options, ids and drop counts; REP and peers that go
// =====================================================================================

TEST_CASE_TEMPLATE_DEFINE("volley ROUTER router_mandatory: a message to an unknown id fails with host_unreachable",
                          Scheme, router_mandatory_unknown) {
    context ctx;
    node router(ctx, socket_type::router), peer(ctx, socket_type::dealer);
    router.s.set(opt::router_mandatory, true);
    peer.s.set(opt::routing_id, std::string("known"));
    join(peer, router, bind_node<Scheme>(router));
    multipart lost{"unknown", "x"};
    const auto start = std::chrono::steady_clock::now();
    CHECK(router.s.send(std::move(lost)).error() == errc::host_unreachable);
    CHECK(support::ms_since(start) < 1000); // at once, not after sndtimeo
    CHECK(texts(lost) == strings{"unknown", "x"});
    REQUIRE(router.s.send(multipart{"known", "hello"}).ok()); // the failure left nothing half sent
    CHECK(recv_frames(peer.s) == strings{"hello"});
    peer.s.close();
    await_disconnects<Scheme>(router.m, 1);
    CHECK(eventually([&] { return router.s.send(multipart{"known", "gone"}).error() == errc::host_unreachable; }));
}
TEST_CASE_TEMPLATE_APPLY(router_mandatory_unknown, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley ROUTER router_mandatory: at the high-water mark a send waits or fails, it never "
                          "drops",
                          Scheme, router_mandatory_hwm) {
    context ctx;
    node router(ctx, socket_type::router), peer(ctx, socket_type::dealer);
    router.s.set(opt::router_mandatory, true);
    router.s.set(opt::sndhwm, 5);
    peer.s.set(opt::rcvhwm, 5);
    peer.s.set(opt::routing_id, std::string("slow"));
    join(peer, router, bind_node<Scheme>(router));
    int n = 0;
    errc e{};
    for (; n < 20'000; ++n) {
        const auto r = router.s.send(routed("slow", n), send_flags::dontwait);
        if (r.failed()) {
            e = r.error();
            break;
        }
    }
    CHECK(e == errc::would_block);
    n = send_until_full(router.s, n, [&](int i) { return router.s.send(routed("slow", i)); });
    router.s.set(opt::sndtimeo, 100ms);
    const auto start = std::chrono::steady_clock::now();
    CHECK(router.s.send(routed("slow", n)).error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 100);
    router.s.set(opt::sndtimeo, patience);
    CHECK(dropped_for(router.s, "slow") == 0);
    // A send blocked at the mark goes on when the peer reads.
    std::optional<send_result> blocked;
    {
        std::jthread sender([&] { blocked = router.s.send(routed("slow", n)); });
        expect_numbers(peer.s, 0, n);
    }
    REQUIRE(blocked.has_value());
    CHECK(blocked->ok());
    expect_numbers(peer.s, n, 1);
}
TEST_CASE_TEMPLATE_APPLY(router_mandatory_hwm, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley ROUTER: peers() counts the messages dropped for each peer", Scheme,
                          router_drop_counts) {
    context ctx;
    node router(ctx, socket_type::router), slow(ctx, socket_type::dealer), quick(ctx, socket_type::dealer);
    router.s.set(opt::sndhwm, 5);
    slow.s.set(opt::rcvhwm, 5);
    slow.s.set(opt::routing_id, std::string("slow"));
    quick.s.set(opt::routing_id, std::string("quick"));
    const auto ep = bind_node<Scheme>(router);
    join(slow, router, ep);
    join(quick, router, ep);
    const message body(std::size_t{64} * 1024); // copies share it
    constexpr int total = 1024;                 // 64 MiB toward a peer that does not read yet
    for (int i = 0; i < total; ++i) {
        multipart m;
        m.emplace_back(std::string_view("slow"));
        m.emplace_back(std::string_view(std::to_string(i) + "|"));
        m.push_back(body);
        REQUIRE(router.s.send(std::move(m)).ok());
    }
    REQUIRE(router.s.send(multipart{"quick", "0|"}).ok());
    const auto dropped = dropped_for(router.s, "slow");
    CHECK(dropped > 0);
    std::vector<int> got;
    for (;;) { // what was not dropped arrives, in order
        auto m = recv_within(slow.s, 500ms);
        if (!m.ok()) break;
        REQUIRE(m->size() == 2);
        got.push_back(number_of((*m)[0].view()));
    }
    CHECK(std::is_sorted(got.begin(), got.end()));
    CHECK(got.size() + dropped == static_cast<std::size_t>(total)); // each message either arrived or counted
    CHECK(recv_frames(quick.s) == strings{"0|"});
    CHECK(dropped_for(router.s, "quick") == 0);
}
TEST_CASE_TEMPLATE_APPLY(router_drop_counts, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley ROUTER router_handover: a newcomer with a connected peer's id takes it over",
                          Scheme, router_handover_on) {
    context ctx;
    node router(ctx, socket_type::router), old(ctx, socket_type::dealer), fresh(ctx, socket_type::dealer);
    router.s.set(opt::router_handover, true);
    old.s.set(opt::routing_id, std::string("worker"));
    old.s.set(opt::reconnect_ivl, infinite); // once displaced, it stays away
    fresh.s.set(opt::routing_id, std::string("worker"));
    const auto ep = bind_node<Scheme>(router);
    join(old, router, ep);
    join(fresh, router, ep);
    REQUIRE(router.s.send(multipart{"worker", "to whoever has the id"}).ok());
    CHECK(recv_frames(fresh.s) == strings{"to whoever has the id"});
    if constexpr (Scheme::stream)
        support::expect_event(old.m, event_type::disconnected); // the old connection was closed
    else
        CHECK(eventually([&] { return old.s.base()->pipe_count() == 0; }));
    CHECK(peers_with_id(router.s, "worker") == 1);
    REQUIRE(fresh.s.send("from the new one").ok());
    CHECK(recv_frames(router.s) == strings{"worker", "from the new one"});
}
TEST_CASE_TEMPLATE_APPLY(router_handover_on, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley ROUTER without router_handover: a newcomer with a connected peer's id is refused",
                          Scheme, router_handover_off) {
    context ctx;
    node router(ctx, socket_type::router), first(ctx, socket_type::dealer), second(ctx, socket_type::dealer);
    first.s.set(opt::routing_id, std::string("worker"));
    second.s.set(opt::routing_id, std::string("worker"));
    second.s.set(opt::reconnect_ivl, infinite); // refused once is enough
    const auto ep = bind_node<Scheme>(router);
    join(first, router, ep);
    REQUIRE(router.s.send(multipart{"worker", "to the first"}).ok()); // the router knows it now
    CHECK(recv_frames(first.s) == strings{"to the first"});
    if constexpr (Scheme::stream) {
        second.s.connect(ep);
        expect_id_refused(router, second);
    } else { // inproc has no handshake: the router drops the pipe
        join(second, router, ep);
        REQUIRE(router.s.send(multipart{"worker", "still to the first"}).ok());
        CHECK(recv_frames(first.s) == strings{"still to the first"});
        CHECK(eventually([&] { return second.s.base()->pipe_count() == 0; }));
    }
    CHECK(peers_with_id(router.s, "worker") == 1);
    CHECK(recv_within(second.s, 20ms).error() == errc::timed_out);
}
TEST_CASE_TEMPLATE_APPLY(router_handover_off, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley ROUTER connect_routing_id: the next connect's peer gets the chosen id, then the "
                          "option clears",
                          Scheme, router_connect_routing_id) {
    context ctx;
    node router(ctx, socket_type::router), server(ctx, socket_type::dealer), other(ctx, socket_type::dealer);
    router.s.set(opt::routing_id, std::string("client"));
    server.s.set(opt::routing_id, std::string("announced"));
    other.s.set(opt::routing_id, std::string("announced-2"));
    router.s.set(opt::connect_routing_id, std::string("chosen"));
    join(router, server, bind_node<Scheme>(server));
    CHECK(router.s.get(opt::connect_routing_id).empty()); // used by that connect, then cleared
    CHECK(peers_with_id(router.s, "chosen") == 1);
    CHECK(peers_with_id(router.s, "announced") == 0);
    REQUIRE(router.s.send(multipart{"chosen", "hello"}).ok());
    CHECK(recv_frames(server.s) == strings{"hello"});
    REQUIRE(server.s.send("back").ok());
    CHECK(recv_frames(router.s) == strings{"chosen", "back"});
    join(router, other, bind_node<Scheme>(other)); // the next connect: the id the peer announces
    REQUIRE(other.s.send("hi").ok());
    CHECK(recv_frames(router.s) == strings{"announced-2", "hi"});
    // ROUTER to ROUTER, the use it exists for: the connecting side can address its peer at once.
    node server_router(ctx, socket_type::router);
    const auto ep = bind_node<Scheme>(server_router);
    router.s.set(opt::connect_routing_id, std::string("the-server"));
    join(router, server_router, ep);
    REQUIRE(router.s.send(multipart{"the-server", "ping"}).ok());
    CHECK(recv_frames(server_router.s) == strings{"client", "ping"});
    REQUIRE(server_router.s.send(multipart{"client", "pong"}).ok());
    CHECK(recv_frames(router.s) == strings{"the-server", "pong"});
}
TEST_CASE_TEMPLATE_APPLY(router_connect_routing_id, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley ROUTER: generated ids are 5 bytes, the first one 0, and distinct", Scheme,
                          router_generated_ids) {
    context ctx;
    node router(ctx, socket_type::router), a(ctx, socket_type::dealer), b(ctx, socket_type::req);
    const auto ep = bind_node<Scheme>(router);
    join(a, router, ep);
    join(b, router, ep);
    REQUIRE(a.s.send("from a").ok());
    const auto from_a = recv_frames(router.s);
    REQUIRE(b.s.send("from b").ok());
    const auto from_b = recv_frames(router.s);
    REQUIRE(from_a.size() == 2);
    REQUIRE(from_b.size() == 3);
    for (const auto& id : {from_a[0], from_b[0]}) {
        CHECK(id.size() == 5);
        CHECK(id[0] == '\0');
        CHECK(peers_with_id(router.s, id) == 1);
    }
    CHECK(from_a[0] != from_b[0]);
    REQUIRE(router.s.send(frames_of({from_a[0], "back to a"})).ok());
    CHECK(recv_frames(a.s) == strings{"back to a"});
    REQUIRE(router.s.send(frames_of({from_b[0], "", "back to b"})).ok());
    CHECK(recv_frames(b.s) == strings{"back to b"});
}
TEST_CASE_TEMPLATE_APPLY(router_generated_ids, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("volley REP: a reply to a peer that has gone is dropped, not sent to its successor on a "
                          "reconnected connection",
                          Scheme, rep_reply_after_reconnect) {
    // The REP connects (a worker to its broker): its connection to the endpoint outlives the
    // peer behind it. The peer that asked goes; a new one binds there; the reply is not its.
    context ctx;
    node rep(ctx, socket_type::rep);
    std::string ep;
    {
        node first(ctx, socket_type::dealer);
        ep = bind_node<Scheme>(first);
        join(rep, first, ep);
        send_frames(first.s, {"", "question"});
        REQUIRE(recv_frames(rep.s) == strings{"question"});
    }
    await_disconnects<Scheme>(rep.m, 1);
    node second(ctx, socket_type::dealer);
    second.s.bind(ep);
    if constexpr (!Scheme::stream) rep.s.connect(ep); // inproc connections do not come back by themselves
    support::expect_event(rep.m, event_type::handshake_succeeded);
    support::expect_event(second.m, event_type::handshake_succeeded);
    REQUIRE(rep.s.send("answer meant for the first peer").ok());
    send_frames(second.s, {"", "second question"});
    CHECK(recv_frames(rep.s) == strings{"second question"});
    REQUIRE(rep.s.send("second answer").ok());
    CHECK(recv_frames(second.s) == strings{"", "second answer"});
}
TEST_CASE_TEMPLATE_APPLY(rep_reply_after_reconnect, all_schemes);

// =====================================================================================
// The stuck-REQ case
// =====================================================================================

namespace {

// A server that lives in its own context on stream transports (so "dies" closes the context
// too) and in the REQ's on inproc (an inproc peer must share the context).
template <class Scheme>
struct server_context {
    context& get(context& shared) {
        if constexpr (Scheme::stream) {
            own.emplace();
            return *own;
        } else {
            return shared;
        }
    }
    std::optional<context> own;
};

// A REP receives until the request `body` comes. Resent copies of requests it answered
// already may come first: each gets a throwaway reply, which its REQ drops as stale.
void take(volley::socket& rep, const std::string& body) {
    for (int i = 0; i < 100; ++i) {
        if (recv_frames(rep) == strings{body}) return;
        REQUIRE(rep.send("for a copy answered already").ok());
    }
    FAIL("no request '" << body << "' among 100 messages");
}

void answer(volley::socket& rep, const std::string& body, const std::string& reply) {
    take(rep, body);
    REQUIRE(rep.send(reply).ok());
}

// The REQ under test (request ids, a resend interval) is served once, then its server takes
// "r2" and dies. Returns the endpoint, free now for a restarted server.
template <class Scheme>
std::string serve_then_die(context& ctx, node& req) {
    server_context<Scheme> sctx;
    node rep(sctx.get(ctx), socket_type::rep);
    const auto ep = bind_node<Scheme>(rep);
    join(req, rep, ep);
    REQUIRE(req.s.send("r1").ok());
    answer(rep.s, "r1", "a1");
    REQUIRE(recv_frames(req.s) == strings{"a1"});
    REQUIRE(req.s.send("r2").ok());
    take(rep.s, "r2");
    rep.s.close(); // dies without replying: its socket, then (stream) its context
    return ep;
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("stuck REQ: a request taken by a REP that dies is answered by the REP restarted on the same "
                          "endpoint",
                          Scheme, stuck_req_restarted_rep) {
    context ctx;
    node req(ctx, socket_type::req);
    req.s.set(opt::req_correlate, true);
    req.s.set(opt::req_resend_ivl, 200ms);
    req.s.set(opt::rcvtimeo, 10s);
    const auto ep = serve_then_die<Scheme>(ctx, req);
    await_disconnects<Scheme>(req.m, 1);
    server_context<Scheme> sctx;
    node rep(sctx.get(ctx), socket_type::rep);
    rep.s.set(opt::rcvtimeo, 10s);
    rep.s.bind(ep);
    if constexpr (!Scheme::stream) req.s.connect(ep); // inproc connections do not come back by themselves
    std::optional<recv_multipart_result> reply;
    recv_multipart_result request = errc::closed;
    {
        std::jthread waiter([&] { reply = req.s.recv_multipart(); }); // the REQ blocks, as a stuck one would
        request = rep.s.recv_multipart();
        if (request.ok()) (void)rep.s.send("a2 from the restarted server");
    }
    REQUIRE_MESSAGE(request.ok(), "the restarted server never got the request");
    CHECK(texts(*request) == strings{"r2"});
    REQUIRE(reply.has_value());
    REQUIRE_MESSAGE(reply->ok(), "the REQ got no reply: " << reply->error_code().message());
    CHECK(texts(**reply) == strings{"a2 from the restarted server"});
    REQUIRE(req.s.send("r3").ok()); // and it goes on
    answer(rep.s, "r3", "a3");
    CHECK(recv_frames(req.s) == strings{"a3"});
}
TEST_CASE_TEMPLATE_APPLY(stuck_req_restarted_rep, all_schemes);

TEST_CASE_TEMPLATE_DEFINE("stuck REQ: a restarted server that answers an old request id after the new one never has "
                          "the stale reply delivered",
                          Scheme, stuck_req_stale_reply) {
    context ctx;
    node req(ctx, socket_type::req);
    req.s.set(opt::req_correlate, true);
    req.s.set(opt::req_resend_ivl, 200ms);
    req.s.set(opt::rcvtimeo, 10s);
    const auto ep = serve_then_die<Scheme>(ctx, req);
    await_disconnects<Scheme>(req.m, 1);
    // The restarted server is a ROUTER, so that it can answer any id it likes.
    server_context<Scheme> sctx;
    node server(sctx.get(ctx), socket_type::router);
    server.s.set(opt::rcvtimeo, 10s);
    server.s.bind(ep);
    if constexpr (!Scheme::stream) req.s.connect(ep);
    std::optional<recv_multipart_result> reply;
    recv_multipart_result resent = errc::closed;
    {
        std::jthread waiter([&] { reply = req.s.recv_multipart(); });
        resent = server.s.recv_multipart();
        if (resent.ok() && resent->size() == 4)
            (void)server.s.send(frames_of({(*resent)[0].to_string(), (*resent)[1].to_string(), "", "a2"}));
    }
    REQUIRE_MESSAGE(resent.ok(), "the restarted server never got the request");
    const auto r2 = texts(*resent); // [REQ's id at this server, request id, "", "r2"]
    REQUIRE(r2.size() == 4);
    CHECK(r2[1].size() == 4);
    CHECK(r2[3] == "r2");
    REQUIRE(reply.has_value());
    REQUIRE(reply->ok());
    CHECK(texts(**reply) == strings{"a2"});
    const std::string& peer = r2[0];
    const std::string& old_id = r2[1]; // the id the dead server took, answered already
    // r3: answered, then the old id answered again after it ("answers an old id after the new one").
    REQUIRE(req.s.send("r3").ok());
    const auto r3 = recv_request(server.s, "r3");
    CHECK(r3[1] != old_id);
    send_frames(server.s, {peer, r3[1], "", "a3"});
    send_frames(server.s, {peer, old_id, "", "stale: a2 again"});
    CHECK(recv_frames(req.s) == strings{"a3"});
    // r4: the stale reply is queued ahead of r4's reply on the same connection, so the REQ
    // meets it first, and must skip it.
    REQUIRE(req.s.send("r4").ok());
    const auto r4 = recv_request(server.s, "r4");
    send_frames(server.s, {peer, old_id, "", "stale: a2 once more, before a4"});
    send_frames(server.s, {peer, r4[1], "", "a4"});
    CHECK(recv_frames(req.s) == strings{"a4"});
}
TEST_CASE_TEMPLATE_APPLY(stuck_req_stale_reply, all_schemes);
