// SPDX-License-Identifier: MPL-2.0
// PUB, XPUB, SUB and XSUB (RFC 29, PUBSUB) on inproc, ipc and tcp: one test
// case per SHALL sentence of the RFC's four socket sections, named after the
// sentence, then volley's own promises (opt::subscribe counts, xpub_verbose,
// the 0x01 / 0x00 subscription messages of XPUB and XSUB, the drops that
// socket::peers() reports). Subscriptions travel asynchronously (ZeroMQ's
// slow joiner), so a test knows one has reached the publisher only when a
// probe published in a bounded loop arrives (until_subscribed); nothing here
// waits with a sleep. Queues are filled by flooding until the publisher
// reports a drop, which works whatever the kernel buffers of a stream hold.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

using namespace volley;
using namespace std::chrono_literals;


namespace {

using schemes = std::tuple<VOLLEY_TEST_SCHEMES>;

// The longest any single wait in these tests may take.
constexpr auto patience = 5000ms;
// The body size of flood messages: large enough to fill a stream's kernel buffers quickly.
constexpr std::size_t flood_body = 1024;

// A socket whose blocking calls give up after `patience` and which drops what it still
// queues when it closes (a test that wants linger sets it).
socket bounded(context& ctx, socket_type t) {
    socket s(ctx, t);
    s.set(opt::rcvtimeo, patience);
    s.set(opt::sndtimeo, patience);
    s.set(opt::linger, 0ms);
    return s;
}

// An address nobody listens on yet, for a connect made before the bind.
template <class Scheme>
std::string unused_endpoint() {
    return Scheme::unused_endpoint();
}

// Binds `s` at a fresh endpoint of the scheme, with its monitor on; returns the endpoint.
template <class Scheme>
std::string bind_fresh(socket& s) {
    s.monitor();
    s.bind(Scheme::bind_endpoint());
    return s.last_endpoint();
}

// Waits (bounded) until `s` has `n` connections. Between looks it waits on the socket's
// monitor, so a connection made or lost ends the wait early (the events it reads are gone:
// a test that waits for a monitor event does so before calling this).
bool await_peers(socket& s, std::size_t n, std::chrono::milliseconds limit = patience) {
    const auto m = s.monitor();
    const auto start = std::chrono::steady_clock::now();
    while (s.peers().size() != n) {
        if (support::ms_since(start) > limit.count()) return false;
        m.next(10ms);
    }
    return true;
}

// A socket attaches a new connection, and tells it what it must (a SUB or XSUB: its
// subscriptions), on its own next call, as libzmq processes its commands then. Tests that wait
// on the other side of a connection the subscriber made or accepted call the subscriber once
// it has it: after the handshake event on `events` (a reconnect), or through await_peers.
void let_attach(socket& s, const monitor& events) {
    support::expect_event(events, event_type::handshake_succeeded);
    (void)s.peers();
}

// Connects `s` to `ep`, bound by `binder`, and returns once `s` finished the handshake and
// `binder` has one connection more.
void connect_to(socket& s, socket& binder, const std::string& ep) {
    const std::size_t before = binder.peers().size();
    auto ms = s.monitor();
    s.connect(ep);
    support::expect_event(ms, event_type::handshake_succeeded);
    REQUIRE_MESSAGE(await_peers(binder, before + 1), "the binder never saw the connection to " << ep);
}

// The subscription messages of XPUB and XSUB: 0x01 (subscribe) or 0x00 (cancel), then the topic.
std::string notice(int kind, std::string_view topic) {
    std::string m(1, static_cast<char>(kind));
    m.append(topic);
    return m;
}

// Subscribes / unsubscribes a SUB (option) or an XSUB (message).
void subscribe(socket& s, std::string_view topic) {
    if (s.type() == socket_type::xsub)
        REQUIRE(s.send(notice(1, topic)).ok());
    else
        s.set(opt::subscribe, std::string(topic));
}
void unsubscribe(socket& s, std::string_view topic) {
    if (s.type() == socket_type::xsub)
        REQUIRE(s.send(notice(0, topic)).ok());
    else
        s.set(opt::unsubscribe, std::string(topic));
}

// Publishes `probe` until `sub` receives it (the subscription reached the publisher), at most
// 250 times 20 ms, then reads away the copies still coming. Everything `sub` receives meanwhile
// must be the probe: a test that calls this has nothing else on the way.
bool until_subscribed(socket& pub, socket& sub, std::string_view probe) {
    sub.set(opt::rcvtimeo, 20ms);
    bool got = false;
    for (int i = 0; i < 250 && !got; ++i) {
        REQUIRE(pub.send(probe).ok());
        auto m = sub.recv();
        if (m.ok()) {
            CHECK(m.value() == probe);
            got = true;
        }
    }
    sub.set(opt::rcvtimeo, 50ms);
    for (auto m = sub.recv(); got && m.ok(); m = sub.recv()) CHECK(m.value() == probe);
    sub.set(opt::rcvtimeo, patience);
    return got;
}

// The next message's body, or a description of the failure when none came within rcvtimeo
// (so that a failed comparison prints what arrived instead).
std::string next(socket& s) {
    auto m = s.recv();
    return m.ok() ? m->to_string() : "<no message: " + m.error_code().message() + ">";
}

// `list` as text, each entry quoted with its non-printable bytes as \xHH (for INFO).
std::string printable(const std::vector<std::string>& list) {
    std::string out;
    for (const auto& e : list) {
        out += " '";
        for (unsigned char c : e) {
            if (c >= 0x20 && c < 0x7f) {
                out.push_back(static_cast<char>(c));
            } else {
                char hex[5];
                std::snprintf(hex, sizeof hex, "\\x%02X", c);
                out += hex;
            }
        }
        out += "'";
    }
    return out;
}

// Reads what `s` receives until nothing comes for `quiet`; returns the bodies.
std::vector<std::string> drain(socket& s, std::chrono::milliseconds quiet = 100ms) {
    std::vector<std::string> out;
    s.set(opt::rcvtimeo, quiet);
    for (auto m = s.recv(); m.ok(); m = s.recv()) out.push_back(m->to_string());
    s.set(opt::rcvtimeo, patience);
    return out;
}

// until_subscribed() for each of `subs` in turn, then reads away the probes the earlier ones
// received meanwhile (each must be the probe).
bool until_all_subscribed(socket& pub, std::initializer_list<socket*> subs, std::string_view probe) {
    for (socket* s : subs) {
        if (!until_subscribed(pub, *s, probe)) return false;
    }
    for (socket* s : subs) {
        for (const auto& m : drain(*s, 50ms)) CHECK(m == probe);
    }
    return true;
}

// Receives exactly `n` messages (each within `patience`); returns their bodies.
std::vector<std::string> read_exactly(socket& s, std::uint64_t n) {
    std::vector<std::string> out;
    for (std::uint64_t i = 0; i < n; ++i) {
        auto m = s.recv();
        REQUIRE_MESSAGE(m.ok(), "received " << i << " of " << n);
        out.push_back(m->to_string());
    }
    return out;
}

// "<tag><n>" padded with dots to `size` bytes.
std::string numbered(std::string_view tag, int n, std::size_t size = flood_body) {
    std::string s(tag);
    s += std::to_string(n);
    if (s.size() < size) s.resize(size, '.');
    return s;
}
// The number in a numbered() body of `tag`, or -1.
int number_of(std::string_view body, std::string_view tag) {
    if (!body.starts_with(tag) || body.size() == tag.size()) return -1;
    const auto digits = body.substr(tag.size());
    if (digits[0] < '0' || digits[0] > '9') return -1;
    return std::stoi(std::string(digits.substr(0, digits.find('.'))));
}

// What `s` dropped for its peers on endpoint `ep` (all peers when `ep` is empty).
std::uint64_t dropped_for(socket& s, const std::string& ep = {}) {
    std::uint64_t n = 0;
    for (const auto& p : s.peers()) {
        if (ep.empty() || p.endpoint == ep) n += p.dropped;
    }
    return n;
}

// Sends numbered(tag, 0), numbered(tag, 1), ... from `s` until it reports a drop for a peer
// on `ep` (any peer when empty), and returns how many it sent; 0 when no drop came within the
// bound. Every send must succeed at once: the socket types flooded here never block.
int flood_until_drop(socket& s, std::string_view tag, const std::string& ep = {}, std::size_t size = flood_body) {
    const auto start = std::chrono::steady_clock::now();
    for (int sent = 0; sent < 2'000'000 && support::ms_since(start) < 20'000;) {
        const auto r = s.send(numbered(tag, sent, size));
        REQUIRE_MESSAGE(r.ok(), "send " << sent << " failed: " << r.error_code().message());
        ++sent;
        if (sent % 32 == 0 && dropped_for(s, ep) > 0) return sent;
    }
    return 0;
}

// Bodies of a multipart message.
std::vector<std::string> bodies(const multipart& m) {
    std::vector<std::string> out;
    for (const auto& f : m) out.push_back(f.to_string());
    return out;
}

multipart frames(std::initializer_list<std::string> list) {
    multipart m;
    for (const auto& s : list) m.push_back(message(s.data(), s.size()));
    return m;
}

// A publisher (PUB or XPUB) bound at a fresh endpoint and a subscriber (SUB or XSUB) connected
// to it, subscribed to `topic` and past the slow joiner. An XPUB's notice of the subscription
// has been read. `configure` runs on both before the bind and the connect.
struct pubsub {
    socket pub;
    socket sub;
    std::string endpoint;
};
template <class Scheme, class Configure>
pubsub subscribed(context& ctx, socket_type pt, socket_type st, std::string_view topic, Configure&& configure) {
    pubsub p{bounded(ctx, pt), bounded(ctx, st), {}};
    configure(p.pub, p.sub);
    p.endpoint = bind_fresh<Scheme>(p.pub);
    connect_to(p.sub, p.pub, p.endpoint);
    subscribe(p.sub, topic);
    REQUIRE(until_subscribed(p.pub, p.sub, std::string(topic) + "probe"));
    if (pt == socket_type::xpub) CHECK(next(p.pub) == notice(1, topic));
    return p;
}
template <class Scheme>
pubsub subscribed(context& ctx, socket_type pt, socket_type st, std::string_view topic) {
    return subscribed<Scheme>(ctx, pt, st, topic, [](socket&, socket&) {});
}

// ---- checks that several sentences share ----

// The publisher (PUB or XPUB) delivers bytes and frames exactly as sent, to a subscriber of
// type `st`: every byte value, empty frames, a body that looks like a ZMTP 3.0 subscription,
// a multipart message, a large body.
template <class Scheme>
void check_delivered_unmodified(socket_type pt, socket_type st) {
    context ctx;
    auto p = subscribed<Scheme>(ctx, pt, st, "");
    std::string every_byte;
    for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
    std::string large(std::size_t{1} << 20, '\0');
    for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 131 + 7);
    const std::vector<std::vector<std::string>> sent = {
        {every_byte},
        {std::string("\x01" "A", 2)},      // a ZMTP 3.0 subscription's shape: still data here
        {std::string("\x00" "A", 2)},      // and a cancel's
        {std::string()},                   // an empty message
        {"head", "", std::string("\x00\x01\xff", 3), every_byte},
        {large},
        {"end"},
    };
    for (const auto& m : sent) {
        multipart out;
        for (const auto& f : m) out.push_back(message(f.data(), f.size()));
        REQUIRE(p.pub.send(std::move(out)).ok());
    }
    for (const auto& m : sent) {
        auto got = p.sub.recv_multipart();
        REQUIRE(got.ok());
        CHECK(bodies(*got) == m);
        for (std::size_t i = 0; i < got->size(); ++i) CHECK((*got)[i].more() == (i + 1 < got->size()));
    }
    CHECK(p.sub.recv(recv_flags::dontwait).error() == errc::would_block);
}

// The publisher compares the subscription, byte for byte, with the start of the first frame.
template <class Scheme>
void check_binary_prefix(socket_type pt) {
    context ctx;
    const std::string topic("\x00\xff" "Ab", 4); // a NUL and a high byte inside
    auto p = subscribed<Scheme>(ctx, pt, socket_type::sub, topic);
    const std::vector<std::vector<std::string>> not_matching = {
        {std::string("\x00\xff" "AB", 4)},             // case differs
        {std::string("\x00\xfe" "Ab", 4)},             // one byte differs
        {std::string("\x00\xff" "A", 3)},              // shorter than the subscription
        {std::string("x\x00\xff" "Ab", 5)},            // the topic, but not at the start
        {"other", std::string("\x00\xff" "Ab", 4)},    // the topic in the second frame only
        {std::string()},
    };
    const std::vector<std::vector<std::string>> matching = {
        {topic},
        {topic + "c"},
        {topic + "\xff", "tail"},
    };
    for (std::size_t i = 0; i < not_matching.size(); ++i) {
        multipart a;
        for (const auto& f : not_matching[i]) a.push_back(message(f.data(), f.size()));
        REQUIRE(p.pub.send(std::move(a)).ok());
        if (i < matching.size()) {
            multipart b;
            for (const auto& f : matching[i]) b.push_back(message(f.data(), f.size()));
            REQUIRE(p.pub.send(std::move(b)).ok());
        }
    }
    REQUIRE(p.pub.send(topic + " end").ok());
    for (const auto& m : matching) {
        auto got = p.sub.recv_multipart();
        REQUIRE(got.ok());
        CHECK(bodies(*got) == m);
    }
    CHECK(next(p.sub) == topic + " end");
}

// The subscriber stops reading, the publisher (PUB or XPUB; or XSUB toward its publishers)
// floods it: every send succeeds at once, the publisher counts drops for that peer, and the
// subscriber then gets exactly what was not dropped, in order, with gaps where the drops were.
template <class Scheme>
void check_drops_when_full(socket_type pt, socket_type st) {
    context ctx;
    auto p = subscribed<Scheme>(ctx, pt, st, "m", [](socket& pub, socket& sub) {
        pub.set(opt::sndhwm, 2);
        sub.set(opt::rcvhwm, 2);
    });
    const int sent = flood_until_drop(p.pub, "m");
    REQUIRE_MESSAGE(sent > 0, "no drop reported by the publisher");
    const std::uint64_t dropped = dropped_for(p.pub);
    REQUIRE(dropped < static_cast<std::uint64_t>(sent));
    const auto expected = static_cast<std::uint64_t>(sent) - dropped;
    int last = -1;
    std::uint64_t received = 0;
    for (; received < expected; ++received) {
        auto m = p.sub.recv();
        REQUIRE_MESSAGE(m.ok(), "received " << received << " of " << expected);
        const int n = number_of(m->view(), "m");
        CHECK(n > last); // in order; gaps are the drops
        last = n;
    }
    CHECK(received < static_cast<std::uint64_t>(sent));
    CHECK(p.sub.recv(recv_flags::dontwait).error() == errc::would_block); // nothing beyond what was counted
    // The subscriber is still served once it has room again.
    REQUIRE(p.pub.send("m after").ok());
    CHECK(next(p.sub) == "m after");
}

// A socket that never blocks on send: with no peer at all, and with a peer that reads nothing
// (sndtimeo is 2 s: a send that waited would fail with timed_out).
template <class Scheme>
void check_never_blocks(socket_type pt, socket_type st) {
    context ctx;
    {
        socket lonely = bounded(ctx, pt);
        lonely.set(opt::sndtimeo, 2000ms);
        CHECK(lonely.send("nobody").ok());
        CHECK(lonely.send("nobody", send_flags::dontwait).ok());
        CHECK(lonely.send(multipart{"nobody", "at all"}).ok());
    }
    auto p = subscribed<Scheme>(ctx, pt, st, "", [](socket& pub, socket& sub) {
        pub.set(opt::sndhwm, 1);
        sub.set(opt::rcvhwm, 1);
    });
    p.pub.set(opt::sndtimeo, 2000ms);
    CHECK(flood_until_drop(p.pub, "x") > 0);
    for (int i = 0; i < 1000; ++i) REQUIRE(p.pub.send(numbered("x", i)).ok()); // past the drop as well
}

// Each of three senders queues a backlog of messages for one receiver that holds only 2 per
// sender. That is more than a stream's kernel buffers take, so when the receiver starts
// reading, every sender has a backlog waiting at the receiver's end of its connection, and
// a fair receiver takes from them in turn (a strict rotation on inproc). What is asserted
// is the absence of starvation: every sender has delivered `enough` messages before any
// sender's backlog ran out. A receiver that preferred one connection would drain it first
// and fail. The margin (tens of thousands of messages) is wide because on a stream
// transport a connection's bytes reach the receiver's queue through the I/O thread or the
// receiver's own reads, and a thread that loses its CPU for a while (a loaded machine)
// delays one connection while the others deliver thousands: a delay, not starvation.
// `pt` sends: PUB or XPUB to a SUB or XSUB receiver; XSUB to an XPUB receiver.
template <class Scheme>
void check_fair_queue(socket_type pt, socket_type st) {
    constexpr int backlog = 40'000, enough = 1000;
    context ctx;
    socket receiver = bounded(ctx, st);
    receiver.set(opt::rcvhwm, 2);
    if (st == socket_type::xpub) bind_fresh<Scheme>(receiver);
    std::vector<socket> senders;
    const std::vector<std::string> tags = {"a:", "b:", "c:"};
    for (std::size_t i = 0; i < tags.size(); ++i) {
        senders.push_back(bounded(ctx, pt));
        senders.back().set(opt::sndhwm, 0); // all of the backlog is queued, none dropped
        if (st == socket_type::xpub) {
            connect_to(senders.back(), receiver, receiver.last_endpoint());
        } else {
            const auto ep = bind_fresh<Scheme>(senders.back());
            connect_to(receiver, senders.back(), ep);
        }
    }
    if (st != socket_type::xpub) {
        subscribe(receiver, "");
        for (auto& s : senders) {
            REQUIRE(until_subscribed(s, receiver, "probe"));
            if (pt == socket_type::xpub) CHECK(next(s) == notice(1, ""));
        }
    }
    for (std::size_t i = 0; i < senders.size(); ++i) {
        for (int n = 0; n < backlog; ++n) REQUIRE(senders[i].send(numbered(tags[i], n, 64)).ok());
        REQUIRE(dropped_for(senders[i]) == 0);
    }
    std::map<char, int> from;
    std::string order; // the first messages, for the report
    const auto served = [&] {
        return std::all_of(tags.begin(), tags.end(), [&](const std::string& t) { return from[t[0]] >= enough; });
    };
    const auto exhausted = [&] {
        return std::any_of(tags.begin(), tags.end(), [&](const std::string& t) { return from[t[0]] == backlog; });
    };
    int received = 0;
    for (; !served() && !exhausted(); ++received) {
        auto m = receiver.recv();
        REQUIRE(m.ok());
        REQUIRE(m->size() > 2);
        const auto tag = m->view().substr(0, 2);
        from[tag[0]]++;
        if (received < 200) order += std::string(tag) + std::to_string(number_of(m->view(), tag)) + " ";
    }
    INFO("first received: " << order);
    INFO("after " << received << " messages: a " << from['a'] << ", b " << from['b'] << ", c " << from['c']);
    CHECK(served());
}

// Sets a short reconnect interval: a stream connection comes back quickly after its peer restarts.
void quick_reconnect(socket& s) {
    s.set(opt::reconnect_ivl, 10ms);
}

} // namespace

// ============================================================================ PUB
// "MAY be connected to any number of SUB or XSUB subscribers, and SHALL only send messages."

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL only send messages", Scheme, pub_only_sends) {
    context ctx;
    socket pub = bounded(ctx, socket_type::pub);
    const auto ep = bind_fresh<Scheme>(pub);
    socket sub = bounded(ctx, socket_type::sub), xsub = bounded(ctx, socket_type::xsub);
    connect_to(sub, pub, ep);
    connect_to(xsub, pub, ep);
    subscribe(sub, "");
    subscribe(xsub, "");
    REQUIRE(until_all_subscribed(pub, {&sub, &xsub}, "probe"));
    REQUIRE(pub.send("to both").ok());
    CHECK(next(sub) == "to both");
    CHECK(next(xsub) == "to both");
    CHECK(pub.recv(recv_flags::dontwait).error() == errc::not_supported);
    CHECK(pub.recv().error() == errc::not_supported); // refused at once, never waits
    CHECK(pub.recv_multipart().error() == errc::not_supported);
}
TEST_CASE_TEMPLATE_APPLY(pub_only_sends, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL maintain a single outgoing message queue for each connected subscriber", Scheme,
                          pub_queue_per_subscriber) {
    // One subscriber stops reading; its queue fills and loses messages, while the other
    // subscriber's queue is untouched: it gets every message, none is counted dropped for it.
    context ctx;
    socket pub = bounded(ctx, socket_type::pub);
    pub.set(opt::sndhwm, 4);
    const auto slow_ep = bind_fresh<Scheme>(pub);
    const auto fast_ep = bind_fresh<Scheme>(pub);
    socket slow = bounded(ctx, socket_type::sub), fast = bounded(ctx, socket_type::sub);
    slow.set(opt::rcvhwm, 4);
    fast.set(opt::rcvhwm, 4);
    connect_to(slow, pub, slow_ep);
    connect_to(fast, pub, fast_ep);
    subscribe(slow, "");
    subscribe(fast, "");
    REQUIRE(until_all_subscribed(pub, {&slow, &fast}, "probe"));
    REQUIRE(pub.peers().size() == 2);
    int sent = 0;
    const auto start = std::chrono::steady_clock::now();
    while (dropped_for(pub, slow_ep) == 0 && sent < 200'000 && support::ms_since(start) < 20'000) {
        for (int k = 0; k < 16; ++k, ++sent) { // fast reads each message before the next is sent
            REQUIRE(pub.send(numbered("m", sent, 4096)).ok());
            auto m = fast.recv();
            REQUIRE(m.ok());
            REQUIRE(number_of(m->view(), "m") == sent);
        }
    }
    INFO(sent << " messages sent");
    const auto lost = dropped_for(pub, slow_ep);
    REQUIRE(lost > 0);
    REQUIRE(lost < static_cast<std::uint64_t>(sent));
    CHECK(dropped_for(pub, fast_ep) == 0);
    read_exactly(slow, static_cast<std::uint64_t>(sent) - lost); // what its own queue kept
    CHECK(slow.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(pub_queue_per_subscriber, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL create a queue when initiating an outgoing connection to a subscriber, and "
                          "SHALL maintain the queue whether or not the connection is established",
                          Scheme, pub_connect_queue) {
    context ctx;
    socket pub = bounded(ctx, socket_type::pub);
    quick_reconnect(pub);
    auto events = pub.monitor();
    const auto ep = unused_endpoint<Scheme>();
    pub.connect(ep);
    CHECK(pub.peers().size() == 1); // the queue exists before any connection
    CHECK(pub.send("nobody subscribed yet").ok());
    {
        socket sub = bounded(ctx, socket_type::sub);
        subscribe(sub, "A");
        sub.bind(ep);
        REQUIRE(until_subscribed(pub, sub, "A probe"));
        CHECK(pub.peers().size() == 1);
    }
    if constexpr (Scheme::stream) { // the subscriber went: the queue stays, and serves its successor
        support::expect_event(events, event_type::disconnected);
        CHECK(pub.peers().size() == 1);
        socket sub = bounded(ctx, socket_type::sub);
        subscribe(sub, "B");
        sub.bind(ep);
        REQUIRE(until_subscribed(pub, sub, "B probe"));
        CHECK(pub.peers().size() == 1);
    }
}
TEST_CASE_TEMPLATE_APPLY(pub_connect_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL create a queue when a subscriber connects to it", Scheme, pub_accept_queue) {
    context ctx;
    socket pub = bounded(ctx, socket_type::pub);
    const auto ep = bind_fresh<Scheme>(pub);
    CHECK(pub.peers().empty());
    socket a = bounded(ctx, socket_type::sub), b = bounded(ctx, socket_type::sub);
    connect_to(a, pub, ep);
    CHECK(pub.peers().size() == 1);
    connect_to(b, pub, ep);
    CHECK(pub.peers().size() == 2);
    subscribe(a, "");
    subscribe(b, "");
    REQUIRE(until_all_subscribed(pub, {&a, &b}, "probe"));
    REQUIRE(pub.send("to each").ok());
    CHECK(next(a) == "to each");
    CHECK(next(b) == "to each");
}
TEST_CASE_TEMPLATE_APPLY(pub_accept_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: If this subscriber disconnects, the PUB socket SHALL destroy its queue and SHALL "
                          "discard any messages it contains",
                          Scheme, pub_discard_on_disconnect) {
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::pub, socket_type::sub, "A",
                                [](socket&, socket& sub) { sub.set(opt::rcvhwm, 1); });
    for (int i = 0; i < 100; ++i) REQUIRE(p.pub.send(numbered("A old ", i, 16)).ok()); // unread
    p.sub.close();
    REQUIRE_MESSAGE(await_peers(p.pub, 0), "the queue of the gone subscriber is still there");
    // A new subscriber gets a new queue: none of what was queued for the old one reaches it
    // (until_subscribed checks that everything received is the probe).
    socket successor = bounded(ctx, socket_type::sub);
    connect_to(successor, p.pub, p.endpoint);
    subscribe(successor, "A");
    REQUIRE(until_subscribed(p.pub, successor, "A probe"));
    REQUIRE(p.pub.send("A new").ok());
    CHECK(next(successor) == "A new");
}
TEST_CASE_TEMPLATE_APPLY(pub_discard_on_disconnect, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL silently discard any messages that subscribers send it", Scheme,
                          pub_discards_input) {
    // An XSUB sends ordinary messages, far more than the PUB's receive queue holds, then a
    // subscription behind them. The PUB discards the messages (it cannot deliver them), so the
    // subscription is read and honoured; and the connection stays up.
    context ctx;
    socket pub = bounded(ctx, socket_type::pub);
    pub.set(opt::rcvhwm, 100); // far fewer than the XSUB sends
    const auto ep = bind_fresh<Scheme>(pub);
    socket xsub = bounded(ctx, socket_type::xsub);
    xsub.set(opt::sndhwm, 0); // the XSUB itself never drops one: all reach the PUB
    connect_to(xsub, pub, ep);
    for (int i = 0; i < 2000; ++i) {
        REQUIRE(xsub.send(numbered("junk ", i, 64)).ok());
        REQUIRE(xsub.send(multipart{"A junk", "in two frames"}).ok());
    }
    subscribe(xsub, "A");
    REQUIRE(until_subscribed(pub, xsub, "A probe"));
    CHECK(pub.recv(recv_flags::dontwait).error() == errc::not_supported);
    CHECK(pub.peers().size() == 1);
    REQUIRE(pub.send("A data").ok());
    CHECK(next(xsub) == "A data"); // nothing the XSUB sent came back
}
TEST_CASE_TEMPLATE_APPLY(pub_discards_input, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL not modify outgoing messages in any way", Scheme, pub_unmodified) {
    check_delivered_unmodified<Scheme>(socket_type::pub, socket_type::sub);
}
TEST_CASE_TEMPLATE_APPLY(pub_unmodified, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL perform a binary comparison of the subscription against the start of the "
                          "first frame of the message",
                          Scheme, pub_binary_prefix) {
    check_binary_prefix<Scheme>(socket_type::pub);
}
TEST_CASE_TEMPLATE_APPLY(pub_binary_prefix, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL silently drop the message if the queue for a subscriber is full", Scheme,
                          pub_drops_when_full) {
    check_drops_when_full<Scheme>(socket_type::pub, socket_type::sub);
}
TEST_CASE_TEMPLATE_APPLY(pub_drops_when_full, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL NOT block on sending", Scheme, pub_never_blocks) {
    check_never_blocks<Scheme>(socket_type::pub, socket_type::sub);
}
TEST_CASE_TEMPLATE_APPLY(pub_never_blocks, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL receive subscribe and unsubscribe requests from subscribers depending on the "
                          "transport protocol used",
                          Scheme, pub_takes_subscriptions) {
    // Seen from outside: after the subscribe, the PUB sends matching messages; after the
    // unsubscribe it sends none (a flood of them costs the non-reading subscriber nothing:
    // no drop is counted, so none was queued for it).
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::pub, socket_type::sub, "A", [](socket& pub, socket& sub) {
        pub.set(opt::sndhwm, 1);
        sub.set(opt::rcvhwm, 1);
    });
    unsubscribe(p.sub, "A");
    subscribe(p.sub, "B");
    REQUIRE(until_subscribed(p.pub, p.sub, "B probe")); // the cancel went before it, on the same queue
    for (int i = 0; i < 10'000; ++i) REQUIRE(p.pub.send(numbered("A ", i, 4096)).ok());
    CHECK(dropped_for(p.pub) == 0);
    REQUIRE(p.pub.send("B after").ok());
    CHECK(next(p.sub) == "B after");
}
TEST_CASE_TEMPLATE_APPLY(pub_takes_subscriptions, schemes);

TEST_CASE_TEMPLATE_DEFINE("PUB: SHALL NOT deliver these commands to its calling application", Scheme,
                          pub_hides_subscriptions) {
    // The PUB has no receive path at all: subscriptions (as SUBSCRIBE / CANCEL, or as 0x01 /
    // 0x00 messages from an XSUB) act on its filter and never surface through recv.
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::pub, socket_type::sub, "A");
    socket xsub = bounded(ctx, socket_type::xsub);
    connect_to(xsub, p.pub, p.endpoint);
    subscribe(xsub, "C");
    REQUIRE(until_subscribed(p.pub, xsub, "C probe"));
    unsubscribe(p.sub, "A");
    unsubscribe(xsub, "C");
    subscribe(xsub, "D");
    REQUIRE(until_subscribed(p.pub, xsub, "D probe"));
    CHECK(p.pub.recv(recv_flags::dontwait).error() == errc::not_supported);
    CHECK(p.pub.recv_multipart(recv_flags::dontwait).error() == errc::not_supported);
}
TEST_CASE_TEMPLATE_APPLY(pub_hides_subscriptions, schemes);

// =========================================================================== XPUB
// "MAY be connected to any number of SUB or XSUB subscribers, and MAY both send and receive
// messages." has no SHALL; the "MAY ... normalize commands" sentence is a MAY too (volley's
// xpub_verbose, tested below with volley's own promises).

namespace {

// A double queue: with the queue toward the peer full (it flooded until it dropped), messages
// still come from the peer; with the queue from the peer full, messages still go to it.
// `xpub_binds` picks which side binds.
template <class Scheme>
void check_double_queue(bool xpub_binds) {
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub), xsub = bounded(ctx, socket_type::xsub);
    for (socket* s : {&xpub, &xsub}) {
        s->set(opt::sndhwm, 2);
        s->set(opt::rcvhwm, 2);
    }
    if (xpub_binds)
        connect_to(xsub, xpub, bind_fresh<Scheme>(xpub));
    else
        connect_to(xpub, xsub, bind_fresh<Scheme>(xsub));
    subscribe(xsub, "");
    REQUIRE(until_subscribed(xpub, xsub, "probe"));
    CHECK(next(xpub) == notice(1, ""));

    // XPUB -> XSUB full; XSUB -> XPUB still flows.
    const int down = flood_until_drop(xpub, "down ");
    REQUIRE(down > 0);
    REQUIRE(xsub.send("up").ok());
    CHECK(next(xpub) == "up");
    read_exactly(xsub, static_cast<std::uint64_t>(down) - dropped_for(xpub));

    // XSUB -> XPUB full; XPUB -> XSUB still flows.
    const int up = flood_until_drop(xsub, "up ");
    REQUIRE(up > 0);
    REQUIRE(xpub.send("down").ok());
    CHECK(next(xsub) == "down");
    read_exactly(xpub, static_cast<std::uint64_t>(up) - dropped_for(xsub));
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL maintain a double queue for each connected subscriber, allowing outgoing and "
                          "incoming messages to be queued independently",
                          Scheme, xpub_double_queue) {
    check_double_queue<Scheme>(true);
}
TEST_CASE_TEMPLATE_APPLY(xpub_double_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL create a double queue when initiating an outgoing connection to a subscriber, "
                          "and SHALL maintain the double queue whether or not the connection is established",
                          Scheme, xpub_connect_queue) {
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    quick_reconnect(xpub);
    auto events = xpub.monitor();
    const auto ep = unused_endpoint<Scheme>();
    xpub.connect(ep);
    CHECK(xpub.peers().size() == 1);
    CHECK(xpub.send("nobody subscribed yet").ok());
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
    {
        socket sub = bounded(ctx, socket_type::sub);
        subscribe(sub, "A");
        sub.bind(ep);
        REQUIRE(await_peers(sub, 1));
        CHECK(next(xpub) == notice(1, "A")); // the incoming half
        REQUIRE(until_subscribed(xpub, sub, "A probe")); // the outgoing half
        CHECK(xpub.peers().size() == 1);
    }
    if constexpr (Scheme::stream) {
        support::expect_event(events, event_type::disconnected);
        CHECK(xpub.peers().size() == 1);
        socket sub = bounded(ctx, socket_type::sub);
        subscribe(sub, "B");
        sub.bind(ep);
        REQUIRE(await_peers(sub, 1));
        // Read past any notice about the old subscriber's "A"; "B" must come.
        bool got_b = false;
        for (int i = 0; i < 3 && !got_b; ++i) {
            auto m = xpub.recv();
            REQUIRE(m.ok());
            got_b = m.value() == notice(1, "B");
        }
        CHECK(got_b);
        REQUIRE(until_subscribed(xpub, sub, "B probe"));
        CHECK(xpub.peers().size() == 1);
    }
}
TEST_CASE_TEMPLATE_APPLY(xpub_connect_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL create a double queue when a subscriber connects to it", Scheme,
                          xpub_accept_queue) {
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    const auto ep = bind_fresh<Scheme>(xpub);
    CHECK(xpub.peers().empty());
    socket xsub = bounded(ctx, socket_type::xsub);
    connect_to(xsub, xpub, ep);
    CHECK(xpub.peers().size() == 1);
    subscribe(xsub, "T");
    CHECK(next(xpub) == notice(1, "T"));
    REQUIRE(xsub.send("hello").ok());
    CHECK(next(xpub) == "hello");
    REQUIRE(until_subscribed(xpub, xsub, "T probe"));
}
TEST_CASE_TEMPLATE_APPLY(xpub_accept_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: If this subscriber disconnects, the XPUB socket SHALL destroy its double queue and "
                          "SHALL discard any messages it contains",
                          Scheme, xpub_discard_on_disconnect) {
    // The outgoing half is checked as for PUB. What the subscriber sent before it went and had
    // fully arrived is still delivered (as libzmq does, and as every volley socket does: see
    // tests/transport/conformance.cpp); the cancel notice for its subscription follows it.
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::xpub, socket_type::xsub, "A",
                                [](socket&, socket& sub) { sub.set(opt::rcvhwm, 1); });
    for (int i = 0; i < 100; ++i) REQUIRE(p.pub.send(numbered("A old ", i, 16)).ok());
    REQUIRE(p.sub.send("last words").ok());
    p.sub.set(opt::linger, 1000ms); // "last words" is sent before the connection goes
    p.sub.close();
    CHECK(next(p.pub) == "last words");
    CHECK(next(p.pub) == notice(0, "A"));
    REQUIRE_MESSAGE(await_peers(p.pub, 0), "the queue of the gone subscriber is still there");
    socket successor = bounded(ctx, socket_type::xsub);
    connect_to(successor, p.pub, p.endpoint);
    subscribe(successor, "A");
    CHECK(next(p.pub) == notice(1, "A"));
    REQUIRE(until_subscribed(p.pub, successor, "A probe")); // never an "A old"
}
TEST_CASE_TEMPLATE_APPLY(xpub_discard_on_disconnect, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL not modify outgoing messages in any way", Scheme, xpub_unmodified) {
    SUBCASE("to a SUB") { check_delivered_unmodified<Scheme>(socket_type::xpub, socket_type::sub); }
    SUBCASE("to an XSUB") { check_delivered_unmodified<Scheme>(socket_type::xpub, socket_type::xsub); }
}
TEST_CASE_TEMPLATE_APPLY(xpub_unmodified, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL perform a binary comparison of the subscription against the start of the "
                          "first frame of the message",
                          Scheme, xpub_binary_prefix) {
    check_binary_prefix<Scheme>(socket_type::xpub);
}
TEST_CASE_TEMPLATE_APPLY(xpub_binary_prefix, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL silently drop the message if the queue for a subscriber is full", Scheme,
                          xpub_drops_when_full) {
    check_drops_when_full<Scheme>(socket_type::xpub, socket_type::sub);
}
TEST_CASE_TEMPLATE_APPLY(xpub_drops_when_full, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL NOT block on sending", Scheme, xpub_never_blocks) {
    check_never_blocks<Scheme>(socket_type::xpub, socket_type::sub);
}
TEST_CASE_TEMPLATE_APPLY(xpub_never_blocks, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL receive incoming messages from its subscribers using a fair-queuing strategy",
                          Scheme, xpub_fair_queue) {
    check_fair_queue<Scheme>(socket_type::xsub, socket_type::xpub);
}
TEST_CASE_TEMPLATE_APPLY(xpub_fair_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL deliver these messages to its calling application", Scheme, xpub_delivers) {
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    const auto ep = bind_fresh<Scheme>(xpub);
    socket xsub = bounded(ctx, socket_type::xsub);
    connect_to(xsub, xpub, ep);
    REQUIRE(xsub.send("one").ok());
    REQUIRE(xsub.send(frames({"two", "", std::string("\x02" "x", 2)})).ok());
    const std::string lookalike = std::string(1, '\x01') + "not a subscription";
    REQUIRE(xsub.send(frames({lookalike, "tail"})).ok()); // multipart: data
    CHECK(next(xpub) == "one");
    auto two = xpub.recv_multipart();
    REQUIRE(two.ok());
    CHECK(bodies(*two) == std::vector<std::string>{"two", "", std::string("\x02" "x", 2)});
    auto three = xpub.recv_multipart();
    REQUIRE(three.ok());
    CHECK(bodies(*three) == std::vector<std::string>{lookalike, "tail"});
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(xpub_delivers, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL receive subscribe and unsubscribe requests from subscribers depending on the "
                          "transport protocol used",
                          Scheme, xpub_takes_subscriptions) {
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::xpub, socket_type::sub, "A", [](socket& pub, socket& sub) {
        pub.set(opt::sndhwm, 1);
        sub.set(opt::rcvhwm, 1);
    });
    unsubscribe(p.sub, "A");
    CHECK(next(p.pub) == notice(0, "A"));
    subscribe(p.sub, "B");
    CHECK(next(p.pub) == notice(1, "B"));
    REQUIRE(until_subscribed(p.pub, p.sub, "B probe"));
    for (int i = 0; i < 10'000; ++i) REQUIRE(p.pub.send(numbered("A ", i, 4096)).ok());
    CHECK(dropped_for(p.pub) == 0); // none of them was queued for the subscriber
    REQUIRE(p.pub.send("B after").ok());
    CHECK(next(p.sub) == "B after");
}
TEST_CASE_TEMPLATE_APPLY(xpub_takes_subscriptions, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL deliver these commands to its calling application", Scheme,
                          xpub_delivers_subscriptions) {
    // A SUB's subscriptions (ZMTP SUBSCRIBE / CANCEL on a stream) reach the application as
    // the 0x01 / 0x00 messages, byte for byte, binary topics and the empty topic included.
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    const auto ep = bind_fresh<Scheme>(xpub);
    socket sub = bounded(ctx, socket_type::sub);
    connect_to(sub, xpub, ep);
    const std::string binary("\x00\x01\xff topic", 9);
    for (const auto& topic : {std::string("weather"), binary, std::string()}) {
        subscribe(sub, topic);
        CHECK(next(xpub) == notice(1, topic));
        unsubscribe(sub, topic);
        CHECK(next(xpub) == notice(0, topic));
    }
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(xpub_delivers_subscriptions, schemes);

TEST_CASE_TEMPLATE_DEFINE("XPUB: SHALL, if the subscriber peer disconnects prematurely, generate a suitable "
                          "unsubscribe request for the calling application",
                          Scheme, xpub_cancel_on_disconnect) {
    // The subscriber connected to the XPUB; the case of an XPUB that connected to its
    // subscriber is among volley's promises below.
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    const auto ep = bind_fresh<Scheme>(xpub);
    {
        socket sub = bounded(ctx, socket_type::sub);
        connect_to(sub, xpub, ep);
        subscribe(sub, "A");
        subscribe(sub, "B");
        CHECK(next(xpub) == notice(1, "A"));
        CHECK(next(xpub) == notice(1, "B"));
    } // gone without cancelling
    std::vector<std::string> cancels;
    for (int i = 0; i < 2; ++i) {
        auto m = xpub.recv();
        REQUIRE(m.ok());
        cancels.push_back(m->to_string());
    }
    std::sort(cancels.begin(), cancels.end());
    INFO("received:" << printable(cancels));
    CHECK(cancels == std::vector<std::string>{notice(0, "A"), notice(0, "B")});
}
TEST_CASE_TEMPLATE_APPLY(xpub_cancel_on_disconnect, schemes);

// ============================================================================ SUB
// "MAY send subscribe and unsubscribe requests to publishers" and "MAY ... filter messages"
// have no SHALL; the filter is volley's promise (see below).

TEST_CASE_TEMPLATE_DEFINE("SUB: SHALL only receive messages", Scheme, sub_only_receives) {
    // "MAY be connected to any number of PUB or XPUB publishers, and SHALL only receive messages."
    context ctx;
    socket sub = bounded(ctx, socket_type::sub);
    socket pub = bounded(ctx, socket_type::pub), xpub = bounded(ctx, socket_type::xpub);
    connect_to(sub, pub, bind_fresh<Scheme>(pub));
    connect_to(sub, xpub, bind_fresh<Scheme>(xpub));
    subscribe(sub, "");
    REQUIRE(until_subscribed(pub, sub, "from PUB"));
    REQUIRE(until_subscribed(xpub, sub, "from XPUB"));
    CHECK(sub.send("x").error() == errc::not_supported);
    CHECK(sub.send("x", send_flags::dontwait).error() == errc::not_supported);
    CHECK(sub.send(multipart{"x", "y"}).error() == errc::not_supported);
    CHECK(next(xpub) == notice(1, "")); // nothing from the SUB but its subscription
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(sub_only_receives, schemes);

TEST_CASE_TEMPLATE_DEFINE("SUB: SHALL maintain a single incoming message queue for each connected publisher", Scheme,
                          sub_queue_per_publisher) {
    // Publisher a fills its queue to the SUB (it counts drops); publisher b's queue is another
    // one: what b sends is neither dropped nor held up behind a's backlog for good.
    context ctx;
    socket sub = bounded(ctx, socket_type::sub);
    sub.set(opt::rcvhwm, 2);
    socket a = bounded(ctx, socket_type::pub), b = bounded(ctx, socket_type::pub);
    a.set(opt::sndhwm, 2);
    b.set(opt::sndhwm, 2);
    connect_to(sub, a, bind_fresh<Scheme>(a));
    connect_to(sub, b, bind_fresh<Scheme>(b));
    CHECK(sub.peers().size() == 2);
    subscribe(sub, "");
    REQUIRE(until_subscribed(a, sub, "a probe"));
    REQUIRE(until_subscribed(b, sub, "b probe"));
    const int flooded = flood_until_drop(a, "a ");
    REQUIRE(flooded > 0);
    for (int i = 0; i < 2; ++i) REQUIRE(b.send(numbered("b ", i, 16)).ok()); // b's queue holds them
    CHECK(dropped_for(b) == 0);
    int from_b = 0, from_a = 0;
    while (from_b < 2) {
        auto m = sub.recv();
        REQUIRE_MESSAGE(m.ok(), "got " << from_a << " from a and " << from_b << " from b");
        (m->view().starts_with("b ") ? from_b : from_a)++;
    }
    CHECK(from_a < flooded);
}
TEST_CASE_TEMPLATE_APPLY(sub_queue_per_publisher, schemes);

TEST_CASE_TEMPLATE_DEFINE("SUB: SHALL create a queue when initiating an outgoing connection to a publisher, and "
                          "SHALL maintain the queue whether or not the connection is established",
                          Scheme, sub_connect_queue) {
    context ctx;
    socket sub = bounded(ctx, socket_type::sub);
    quick_reconnect(sub);
    auto events = sub.monitor();
    subscribe(sub, "A"); // before any connection: kept, and told to each publisher
    const auto ep = unused_endpoint<Scheme>();
    sub.connect(ep);
    CHECK(sub.peers().size() == 1);
    CHECK(sub.recv(recv_flags::dontwait).error() == errc::would_block);
    {
        socket pub = bounded(ctx, socket_type::pub);
        pub.bind(ep);
        REQUIRE(until_subscribed(pub, sub, "A probe"));
        CHECK(sub.peers().size() == 1);
    }
    if constexpr (Scheme::stream) {
        support::expect_event(events, event_type::disconnected);
        CHECK(sub.peers().size() == 1);
        socket pub = bounded(ctx, socket_type::pub);
        pub.bind(ep);
        REQUIRE(until_subscribed(pub, sub, "A probe"));
        CHECK(sub.peers().size() == 1);
    }
}
TEST_CASE_TEMPLATE_APPLY(sub_connect_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("SUB: SHALL create a queue when a publisher connects to it", Scheme, sub_accept_queue) {
    context ctx;
    socket sub = bounded(ctx, socket_type::sub);
    subscribe(sub, "A");
    const auto ep = bind_fresh<Scheme>(sub);
    CHECK(sub.peers().empty());
    socket a = bounded(ctx, socket_type::pub), b = bounded(ctx, socket_type::xpub);
    connect_to(a, sub, ep);
    CHECK(sub.peers().size() == 1);
    connect_to(b, sub, ep);
    CHECK(sub.peers().size() == 2);
    REQUIRE(until_subscribed(a, sub, "A from a"));
    REQUIRE(until_subscribed(b, sub, "A from b"));
    CHECK(next(b) == notice(1, "A")); // the subscription came over the new queue
}
TEST_CASE_TEMPLATE_APPLY(sub_accept_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("SUB: If this publisher disconnects, the SUB socket SHALL destroy its queue and SHALL "
                          "discard any messages it contains",
                          Scheme, sub_discard_on_disconnect) {
    // What had fully arrived before the publisher went is still delivered (volley and libzmq
    // both do so; tests/transport/conformance.cpp promises it for every socket type); what is
    // discarded is the rest: a message the publisher had not finished never appears, nor any
    // part of it glued to a later one. Then the queue is gone.
    context ctx;
    socket sub = bounded(ctx, socket_type::sub);
    subscribe(sub, "A");
    const auto ep = bind_fresh<Scheme>(sub);
    {
        socket pub = bounded(ctx, socket_type::pub);
        pub.set(opt::linger, 1000ms);
        connect_to(pub, sub, ep);
        REQUIRE(until_subscribed(pub, sub, "A probe"));
        REQUIRE(pub.send("A whole").ok());
        REQUIRE(pub.send("A partial", send_flags::more).ok());
    } // closed before the last frame
    CHECK(next(sub) == "A whole");
    REQUIRE_MESSAGE(await_peers(sub, 0), "the queue of the gone publisher is still there");
    CHECK(sub.recv(recv_flags::dontwait).error() == errc::would_block);
    socket pub = bounded(ctx, socket_type::pub);
    connect_to(pub, sub, ep);
    REQUIRE(until_subscribed(pub, sub, "A probe")); // checks each message is exactly the probe
}
TEST_CASE_TEMPLATE_APPLY(sub_discard_on_disconnect, schemes);

TEST_CASE_TEMPLATE_DEFINE("SUB: SHALL silently discard messages if the queue for a publisher is full", Scheme,
                          sub_discards_when_full) {
    // volley's publishers filter and drop at their end, so a SUB's full queue shows as gaps
    // in what it receives, without an error or a lost connection.
    check_drops_when_full<Scheme>(socket_type::pub, socket_type::sub);
}
TEST_CASE_TEMPLATE_APPLY(sub_discards_when_full, schemes);

TEST_CASE_TEMPLATE_DEFINE("SUB: SHALL receive incoming messages from its publishers using a fair-queuing strategy",
                          Scheme, sub_fair_queue) {
    check_fair_queue<Scheme>(socket_type::pub, socket_type::sub);
}
TEST_CASE_TEMPLATE_APPLY(sub_fair_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("SUB: SHALL not modify incoming messages in any way", Scheme, sub_unmodified) {
    SUBCASE("from a PUB") { check_delivered_unmodified<Scheme>(socket_type::pub, socket_type::sub); }
    SUBCASE("from an XPUB") { check_delivered_unmodified<Scheme>(socket_type::xpub, socket_type::sub); }
}
TEST_CASE_TEMPLATE_APPLY(sub_unmodified, schemes);

TEST_CASE_TEMPLATE_DEFINE("SUB: SHALL deliver messages to its calling application", Scheme, sub_delivers) {
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::pub, socket_type::sub, "A");
    REQUIRE(p.pub.send("A one").ok());
    REQUIRE(p.pub.send(multipart{"A two", "frames"}).ok());
    CHECK(next(p.sub) == "A one");
    auto two = p.sub.recv_multipart();
    REQUIRE(two.ok());
    CHECK(bodies(*two) == std::vector<std::string>{"A two", "frames"});
}
TEST_CASE_TEMPLATE_APPLY(sub_delivers, schemes);

// =========================================================================== XSUB
// "When closing a connection to a publisher SHOULD send unsubscribe requests for all
// subscriptions" is a SHOULD; an XPUB sees the cancels either way (XPUB's disconnect sentence).

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL maintain a double queue for each connected publisher, allowing outgoing and "
                          "incoming messages to be queued independently",
                          Scheme, xsub_double_queue) {
    check_double_queue<Scheme>(false);
}
TEST_CASE_TEMPLATE_APPLY(xsub_double_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL create a double queue when initiating an outgoing connection to a publisher, "
                          "and SHALL maintain the double queue whether or not the connection is established",
                          Scheme, xsub_connect_queue) {
    context ctx;
    socket xsub = bounded(ctx, socket_type::xsub);
    quick_reconnect(xsub);
    auto events = xsub.monitor();
    const auto ep = unused_endpoint<Scheme>();
    xsub.connect(ep);
    CHECK(xsub.peers().size() == 1);
    subscribe(xsub, "A");
    REQUIRE(xsub.send("early").ok()); // queued toward the publisher that is not there yet
    {
        socket xpub = bounded(ctx, socket_type::xpub);
        xpub.bind(ep);
        CHECK(next(xpub) == notice(1, "A"));
        CHECK(next(xpub) == "early");
        REQUIRE(until_subscribed(xpub, xsub, "A probe"));
    }
    if constexpr (Scheme::stream) {
        support::expect_event(events, event_type::disconnected);
        CHECK(xsub.peers().size() == 1);
        socket xpub = bounded(ctx, socket_type::xpub);
        xpub.bind(ep);
        let_attach(xsub, events);
        CHECK(next(xpub) == notice(1, "A")); // sent again on the maintained queue
        REQUIRE(until_subscribed(xpub, xsub, "A probe"));
        REQUIRE(xsub.send("later").ok());
        CHECK(next(xpub) == "later");
    }
}
TEST_CASE_TEMPLATE_APPLY(xsub_connect_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL create a double queue when a publisher connects to it", Scheme,
                          xsub_accept_queue) {
    context ctx;
    socket xsub = bounded(ctx, socket_type::xsub);
    const auto ep = bind_fresh<Scheme>(xsub);
    subscribe(xsub, "A"); // no publisher yet: told to each as it comes
    CHECK(xsub.peers().empty());
    socket xpub = bounded(ctx, socket_type::xpub);
    connect_to(xpub, xsub, ep);
    CHECK(xsub.peers().size() == 1);
    CHECK(next(xpub) == notice(1, "A"));
    REQUIRE(xsub.send("up").ok());
    CHECK(next(xpub) == "up");
    REQUIRE(until_subscribed(xpub, xsub, "A down"));
}
TEST_CASE_TEMPLATE_APPLY(xsub_accept_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: If this publisher disconnects, the XSUB socket SHALL destroy its double queue and "
                          "SHALL discard any messages it contains",
                          Scheme, xsub_discard_on_disconnect) {
    context ctx;
    socket xsub = bounded(ctx, socket_type::xsub);
    const auto ep = bind_fresh<Scheme>(xsub);
    subscribe(xsub, "A");
    {
        socket xpub = bounded(ctx, socket_type::xpub);
        xpub.set(opt::rcvhwm, 1);
        connect_to(xpub, xsub, ep);
        CHECK(next(xpub) == notice(1, "A"));
        for (int i = 0; i < 100; ++i) REQUIRE(xsub.send(numbered("old ", i, 16)).ok()); // never read
    }
    REQUIRE_MESSAGE(await_peers(xsub, 0), "the queue of the gone publisher is still there");
    socket xpub = bounded(ctx, socket_type::xpub);
    connect_to(xpub, xsub, ep);
    CHECK(next(xpub) == notice(1, "A"));
    REQUIRE(xsub.send("new").ok());
    CHECK(next(xpub) == "new"); // nothing queued for the old publisher
}
TEST_CASE_TEMPLATE_APPLY(xsub_discard_on_disconnect, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL not modify incoming messages in any way", Scheme, xsub_unmodified_in) {
    SUBCASE("from a PUB") { check_delivered_unmodified<Scheme>(socket_type::pub, socket_type::xsub); }
    SUBCASE("from an XPUB") { check_delivered_unmodified<Scheme>(socket_type::xpub, socket_type::xsub); }
}
TEST_CASE_TEMPLATE_APPLY(xsub_unmodified_in, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL silently discard messages if the incoming queue for a publisher is full",
                          Scheme, xsub_discards_when_full) {
    check_drops_when_full<Scheme>(socket_type::pub, socket_type::xsub);
}
TEST_CASE_TEMPLATE_APPLY(xsub_discards_when_full, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL receive incoming messages from its publishers using a fair-queuing strategy",
                          Scheme, xsub_fair_queue) {
    check_fair_queue<Scheme>(socket_type::pub, socket_type::xsub);
}
TEST_CASE_TEMPLATE_APPLY(xsub_fair_queue, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL deliver messages to its calling application", Scheme, xsub_delivers) {
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::xpub, socket_type::xsub, "A");
    REQUIRE(p.pub.send("A one").ok());
    REQUIRE(p.pub.send(multipart{"A two", "frames"}).ok());
    CHECK(next(p.sub) == "A one");
    auto two = p.sub.recv_multipart();
    REQUIRE(two.ok());
    CHECK(bodies(*two) == std::vector<std::string>{"A two", "frames"});
}
TEST_CASE_TEMPLATE_APPLY(xsub_delivers, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL not modify outgoing messages in any way", Scheme, xsub_unmodified_out) {
    // Only a one-frame message starting with 0x01 or 0x00 is a subscription (the next
    // sentences); everything else goes out as it is, a multipart one starting with 0x01 too.
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    const auto ep = bind_fresh<Scheme>(xpub);
    socket xsub = bounded(ctx, socket_type::xsub);
    connect_to(xsub, xpub, ep);
    std::string every_byte;
    for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
    std::string large(std::size_t{1} << 20, '\0');
    for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 131 + 7);
    const std::vector<std::vector<std::string>> sent = {
        {std::string(1, '\x02') + every_byte},
        {std::string()},
        {std::string("\x01" "A", 2), "a multipart message, not a subscription"},
        {std::string("\x00" "A", 2), ""},
        {"head", "", every_byte},
        {large},
    };
    for (const auto& m : sent) {
        multipart out;
        for (const auto& f : m) out.push_back(message(f.data(), f.size()));
        REQUIRE(xsub.send(std::move(out)).ok());
    }
    for (const auto& m : sent) {
        auto got = xpub.recv_multipart();
        REQUIRE(got.ok());
        CHECK(bodies(*got) == m);
    }
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(xsub_unmodified_out, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL send all messages to all connected publishers", Scheme, xsub_sends_to_all) {
    context ctx;
    socket xsub = bounded(ctx, socket_type::xsub);
    std::vector<socket> xpubs;
    for (int i = 0; i < 3; ++i) {
        xpubs.push_back(bounded(ctx, socket_type::xpub));
        connect_to(xsub, xpubs.back(), bind_fresh<Scheme>(xpubs.back()));
    }
    for (int i = 0; i < 5; ++i) REQUIRE(xsub.send(numbered("m", i, 8)).ok());
    REQUIRE(xsub.send(multipart{"whole", "message"}).ok());
    for (auto& x : xpubs) {
        for (int i = 0; i < 5; ++i) CHECK(next(x) == numbered("m", i, 8));
        auto whole = x.recv_multipart();
        REQUIRE(whole.ok());
        CHECK(bodies(*whole) == std::vector<std::string>{"whole", "message"});
    }
}
TEST_CASE_TEMPLATE_APPLY(xsub_sends_to_all, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL silently drop the message if the outgoing queue for a publisher is full",
                          Scheme, xsub_drops_when_full) {
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    xpub.set(opt::rcvhwm, 2);
    const auto ep = bind_fresh<Scheme>(xpub);
    socket xsub = bounded(ctx, socket_type::xsub);
    xsub.set(opt::sndhwm, 2);
    connect_to(xsub, xpub, ep);
    const int sent = flood_until_drop(xsub, "m");
    REQUIRE_MESSAGE(sent > 0, "the XSUB reported no drop");
    const std::uint64_t dropped = dropped_for(xsub);
    REQUIRE(dropped < static_cast<std::uint64_t>(sent));
    const auto expected = static_cast<std::uint64_t>(sent) - dropped;
    int last = -1;
    for (std::uint64_t received = 0; received < expected; ++received) {
        auto m = xpub.recv();
        REQUIRE_MESSAGE(m.ok(), "received " << received << " of " << expected);
        const int n = number_of(m->view(), "m");
        CHECK(n > last);
        last = n;
    }
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
    REQUIRE(xsub.send("after").ok());
    CHECK(next(xpub) == "after");
}
TEST_CASE_TEMPLATE_APPLY(xsub_drops_when_full, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL NOT block on sending", Scheme, xsub_never_blocks) {
    context ctx;
    {
        socket lonely = bounded(ctx, socket_type::xsub);
        lonely.set(opt::sndtimeo, 2000ms);
        CHECK(lonely.send("nobody").ok());
        CHECK(lonely.send(multipart{"nobody", "at all"}).ok());
        CHECK(lonely.send(notice(1, "A")).ok());
    }
    socket xpub = bounded(ctx, socket_type::xpub);
    xpub.set(opt::rcvhwm, 1);
    const auto ep = bind_fresh<Scheme>(xpub);
    socket xsub = bounded(ctx, socket_type::xsub);
    xsub.set(opt::sndhwm, 1);
    xsub.set(opt::sndtimeo, 2000ms);
    connect_to(xsub, xpub, ep);
    CHECK(flood_until_drop(xsub, "x") > 0);
    for (int i = 0; i < 1000; ++i) REQUIRE(xsub.send(numbered("x", i)).ok());
}
TEST_CASE_TEMPLATE_APPLY(xsub_never_blocks, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL accept subscription commands from its calling application", Scheme,
                          xsub_accepts_subscriptions) {
    context ctx;
    socket pub = bounded(ctx, socket_type::pub);
    const auto ep = bind_fresh<Scheme>(pub);
    socket xsub = bounded(ctx, socket_type::xsub);
    connect_to(xsub, pub, ep);
    REQUIRE(xsub.send(notice(1, "A")).ok());
    REQUIRE(until_subscribed(pub, xsub, "A probe"));
    REQUIRE(xsub.send(notice(0, "A")).ok());
    REQUIRE(xsub.send(notice(1, "B")).ok());
    REQUIRE(until_subscribed(pub, xsub, "B probe"));
    REQUIRE(pub.send("A no more").ok());
    REQUIRE(pub.send("B yes").ok());
    CHECK(next(xsub) == "B yes");
    // The option works as well.
    xsub.set(opt::subscribe, std::string("C"));
    REQUIRE(until_subscribed(pub, xsub, "C probe"));
}
TEST_CASE_TEMPLATE_APPLY(xsub_accepts_subscriptions, schemes);

TEST_CASE_TEMPLATE_DEFINE("XSUB: SHALL send subscribe and unsubscribe requests to publishers depending on the "
                          "transport protocol used",
                          Scheme, xsub_sends_subscriptions) {
    // To an XPUB (which shows what arrived) and to a PUB (which filters by it) at once.
    context ctx;
    socket xsub = bounded(ctx, socket_type::xsub);
    socket xpub = bounded(ctx, socket_type::xpub), pub = bounded(ctx, socket_type::pub);
    connect_to(xsub, xpub, bind_fresh<Scheme>(xpub));
    connect_to(xsub, pub, bind_fresh<Scheme>(pub));
    const std::string binary("\x00\xff", 2);
    for (const auto& topic : {std::string("A"), binary}) {
        subscribe(xsub, topic);
        CHECK(next(xpub) == notice(1, topic));
        REQUIRE(until_subscribed(pub, xsub, topic + " probe"));
        unsubscribe(xsub, topic);
        CHECK(next(xpub) == notice(0, topic));
    }
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(xsub_sends_subscriptions, schemes);

// ======================================================= volley's own promises

TEST_CASE_TEMPLATE_DEFINE("volley: a subscription is a prefix of the first frame, and the empty prefix matches all",
                          Scheme, prefix_matching) {
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::pub, socket_type::sub, "news");
    for (const char* m : {"new", "news", "newsflash", "News", "sports news", "", "news: end"})
        REQUIRE(p.pub.send(m).ok());
    CHECK(next(p.sub) == "news");
    CHECK(next(p.sub) == "newsflash");
    CHECK(next(p.sub) == "news: end");
    // Overlapping prefixes: a message matching both is delivered once.
    subscribe(p.sub, "newsf");
    REQUIRE(until_subscribed(p.pub, p.sub, "newsf probe"));
    REQUIRE(p.pub.send("newsflash").ok());
    REQUIRE(p.pub.send("news: end").ok());
    CHECK(next(p.sub) == "newsflash");
    CHECK(next(p.sub) == "news: end");
    // The empty prefix: everything, the empty message too.
    subscribe(p.sub, "");
    REQUIRE(until_subscribed(p.pub, p.sub, "any probe"));
    for (const char* m : {"sports", "", "x"}) REQUIRE(p.pub.send(m).ok());
    CHECK(next(p.sub) == "sports");
    CHECK(next(p.sub) == "");
    CHECK(next(p.sub) == "x");
    // Cancel the empty prefix and "news": "newsf" still holds.
    unsubscribe(p.sub, "");
    unsubscribe(p.sub, "news");
    subscribe(p.sub, "z");
    REQUIRE(until_subscribed(p.pub, p.sub, "z probe"));
    for (const char* m : {"news", "", "sports", "newsflash", "news: end", "z end"}) REQUIRE(p.pub.send(m).ok());
    CHECK(next(p.sub) == "newsflash");
    CHECK(next(p.sub) == "z end");
    // With no subscription at all, nothing.
    unsubscribe(p.sub, "newsf");
    unsubscribe(p.sub, "z");
    for (const char* m : {"news", "", "zz", "newsflash"}) REQUIRE(p.pub.send(m).ok());
    socket fresh = bounded(ctx, socket_type::sub); // never subscribed
    connect_to(fresh, p.pub, p.endpoint);
    for (const char* m : {"news", "", "zz"}) REQUIRE(p.pub.send(m).ok());
    // A probe through a third subscriber marks the point by which all of them had arrived.
    socket witness = bounded(ctx, socket_type::sub);
    connect_to(witness, p.pub, p.endpoint);
    subscribe(witness, "");
    REQUIRE(until_subscribed(p.pub, witness, "witness"));
    CHECK(p.sub.recv(recv_flags::dontwait).error() == errc::would_block);
    CHECK(fresh.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(prefix_matching, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: subscriptions count: two subscribes to a prefix take two unsubscribes", Scheme,
                          subscriptions_count) {
    context ctx;
    SUBCASE("a SUB keeps receiving until the second unsubscribe") {
        auto p = subscribed<Scheme>(ctx, socket_type::pub, socket_type::sub, "A");
        subscribe(p.sub, "A");
        unsubscribe(p.sub, "A");
        subscribe(p.sub, "B");
        REQUIRE(until_subscribed(p.pub, p.sub, "B probe")); // the cancel has arrived
        REQUIRE(p.pub.send("A still").ok());
        CHECK(next(p.sub) == "A still");
        unsubscribe(p.sub, "A");
        unsubscribe(p.sub, "A"); // one too many: ignored
        subscribe(p.sub, "C");
        REQUIRE(until_subscribed(p.pub, p.sub, "C probe"));
        REQUIRE(p.pub.send("A gone").ok());
        REQUIRE(p.pub.send("C here").ok());
        CHECK(next(p.sub) == "C here");
        subscribe(p.sub, "A"); // the extra cancel left no debt: one subscribe is enough again
        REQUIRE(until_subscribed(p.pub, p.sub, "A again"));
    }
    SUBCASE("the publisher counts too: an XPUB hears the cancel only after the second") {
        auto p = subscribed<Scheme>(ctx, socket_type::xpub, socket_type::sub, "A");
        subscribe(p.sub, "A");
        unsubscribe(p.sub, "A");
        subscribe(p.sub, "B");
        CHECK(next(p.pub) == notice(1, "B")); // not 0x00 A: one subscription is left
        unsubscribe(p.sub, "A");
        CHECK(next(p.pub) == notice(0, "A"));
        unsubscribe(p.sub, "A"); // nothing held: nothing sent
        subscribe(p.sub, "C");
        CHECK(next(p.pub) == notice(1, "C"));
    }
}
TEST_CASE_TEMPLATE_APPLY(subscriptions_count, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: data nobody subscribed to never reaches the subscriber's queue", Scheme,
                          unsubscribed_never_queued) {
    // The SUB's queue holds one message and it reads nothing: a flood of what it did not
    // subscribe to neither blocks the publisher nor counts as dropped, so none of it was queued.
    context ctx;
    auto p = subscribed<Scheme>(ctx, socket_type::pub, socket_type::sub, "A", [](socket& pub, socket& sub) {
        pub.set(opt::sndhwm, 1);
        sub.set(opt::rcvhwm, 1);
    });
    p.pub.set(opt::sndtimeo, 2000ms);
    for (int i = 0; i < 20'000; ++i) REQUIRE(p.pub.send(numbered("B ", i, 4096)).ok());
    REQUIRE(p.pub.send(multipart{"B multipart", "A in the second frame"}).ok());
    CHECK(dropped_for(p.pub) == 0);
    REQUIRE(p.pub.send("A wanted").ok());
    CHECK(next(p.sub) == "A wanted");
    CHECK(dropped_for(p.pub) == 0);
}
TEST_CASE_TEMPLATE_APPLY(unsubscribed_never_queued, schemes);


TEST_CASE_TEMPLATE_DEFINE("volley: PUB never blocks, and a subscriber at its high-water mark loses messages, counted "
                          "in peers()",
                          Scheme, pub_loss_counted) {
    // Two subscribers on two endpoints read nothing while the PUB floods both: every send
    // succeeds at once, each one's losses are counted for it, and exactly: what it receives
    // afterwards plus what was counted dropped for it is what was sent.
    context ctx;
    socket pub = bounded(ctx, socket_type::pub);
    pub.set(opt::sndhwm, 2);
    pub.set(opt::sndtimeo, 2000ms); // a send that waited would fail with timed_out
    const auto ep_a = bind_fresh<Scheme>(pub);
    const auto ep_b = bind_fresh<Scheme>(pub);
    socket a = bounded(ctx, socket_type::sub), b = bounded(ctx, socket_type::sub);
    a.set(opt::rcvhwm, 2);
    b.set(opt::rcvhwm, 2);
    connect_to(a, pub, ep_a);
    connect_to(b, pub, ep_b);
    subscribe(a, "m");
    subscribe(b, "m");
    REQUIRE(until_all_subscribed(pub, {&a, &b}, "m probe"));
    REQUIRE(dropped_for(pub) == 0);
    int sent = 0;
    const auto start = std::chrono::steady_clock::now();
    while ((dropped_for(pub, ep_a) == 0 || dropped_for(pub, ep_b) == 0) && support::ms_since(start) < 20'000) {
        for (int k = 0; k < 32; ++k, ++sent) REQUIRE(pub.send(numbered("m", sent)).ok());
    }
    INFO(sent << " sent");
    const auto peers = pub.peers();
    REQUIRE(peers.size() == 2);
    CHECK(peers[0].endpoint != peers[1].endpoint);
    for (const auto& peer : peers) {
        CHECK((peer.endpoint == ep_a || peer.endpoint == ep_b));
        CHECK(peer.dropped > 0);
    }
    for (socket* s : {&a, &b}) {
        const auto lost = dropped_for(pub, s == &a ? ep_a : ep_b);
        REQUIRE(lost < static_cast<std::uint64_t>(sent));
        const auto expected = static_cast<std::uint64_t>(sent) - lost;
        std::uint64_t received = 0;
        for (; received < expected; ++received) REQUIRE_MESSAGE(s->recv().ok(), received << " of " << expected);
        CHECK(s->recv(recv_flags::dontwait).error() == errc::would_block);
    }
}
TEST_CASE_TEMPLATE_APPLY(pub_loss_counted, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: a SUB sends its subscriptions again after a reconnect", Scheme, sub_resends) {
    context ctx;
    socket sub = bounded(ctx, socket_type::sub);
    quick_reconnect(sub);
    auto events = sub.monitor();
    subscribe(sub, "A");
    subscribe(sub, "B");
    subscribe(sub, "B"); // counted: sent as many times as held
    socket xpub = bounded(ctx, socket_type::xpub);
    xpub.set(opt::xpub_verbose, true);
    std::string ep;
    if constexpr (Scheme::stream) {
        socket pub = bounded(ctx, socket_type::pub);
        ep = bind_fresh<Scheme>(pub);
        sub.connect(ep);
        REQUIRE(until_subscribed(pub, sub, "A probe"));
        pub.close(); // the publisher restarts on the same endpoint, as an XPUB that shows what arrives
        support::expect_event(events, event_type::disconnected);
        xpub.bind(ep);
    } else {
        // inproc has no connection to lose and remake; the closest: subscriptions held by a SUB
        // whose connect waits for its bind reach the publisher that binds.
        ep = unused_endpoint<Scheme>();
        sub.connect(ep);
        xpub.bind(ep);
    }
    REQUIRE(until_subscribed(xpub, sub, "A probe")); // the SUB, in recv, has learnt of the new connection
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) {
        auto m = xpub.recv();
        REQUIRE(m.ok());
        got.push_back(m->to_string());
    }
    std::sort(got.begin(), got.end());
    INFO("received:" << printable(got));
    CHECK(got == std::vector<std::string>{notice(1, "A"), notice(1, "B"), notice(1, "B")});
    subscribe(sub, "Z");
    CHECK(next(xpub) == notice(1, "Z")); // and nothing else was sent before it
}
TEST_CASE_TEMPLATE_APPLY(sub_resends, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: a subscription made while the publisher is away reaches it once", Scheme,
                          sub_away_once) {
    // A subscription made while there is no connection waits in the SUB's queue; the
    // reconnect also makes the SUB tell the new publisher everything it holds. The publisher
    // must get it once, or its counts are off (a cancel would leave one behind).
    context ctx;
    socket sub = bounded(ctx, socket_type::sub);
    quick_reconnect(sub);
    auto events = sub.monitor();
    subscribe(sub, "A");
    socket xpub = bounded(ctx, socket_type::xpub);
    xpub.set(opt::xpub_verbose, true); // every subscription that arrives is shown
    if constexpr (Scheme::stream) {
        socket pub = bounded(ctx, socket_type::pub);
        const auto ep = bind_fresh<Scheme>(pub);
        sub.connect(ep);
        REQUIRE(until_subscribed(pub, sub, "A probe"));
        pub.close();
        support::expect_event(events, event_type::disconnected);
        subscribe(sub, "C"); // while away
        xpub.bind(ep);
    } else {
        // inproc: the connect waits for its bind; "C" is made while it waits.
        const auto ep = unused_endpoint<Scheme>();
        sub.connect(ep);
        subscribe(sub, "C");
        xpub.bind(ep);
    }
    REQUIRE(until_subscribed(xpub, sub, "C probe"));
    subscribe(sub, "Z");
    std::vector<std::string> got;
    for (;;) {
        auto m = xpub.recv();
        REQUIRE(m.ok());
        if (m.value() == notice(1, "Z")) break;
        got.push_back(m->to_string());
    }
    std::sort(got.begin(), got.end());
    INFO("received:" << printable(got));
    CHECK(got == std::vector<std::string>{notice(1, "A"), notice(1, "C")});
    // The consequence of a duplicate: the cancel leaves the publisher subscribed.
    xpub.set(opt::xpub_verbose, false);
    unsubscribe(sub, "C");
    CHECK(next(xpub) == notice(0, "C"));
}
TEST_CASE_TEMPLATE_APPLY(sub_away_once, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: XPUB hands the first subscription to a prefix as 0x01 and the last cancel as 0x00",
                          Scheme, xpub_first_and_last) {
    // Each check waits for the notice the step before it caused, so a notice that should not
    // exist would be the one read.
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    const auto ep = bind_fresh<Scheme>(xpub);
    socket s1 = bounded(ctx, socket_type::sub), s2 = bounded(ctx, socket_type::sub);
    connect_to(s1, xpub, ep);
    connect_to(s2, xpub, ep);
    subscribe(s1, "A");
    CHECK(next(xpub) == notice(1, "A"));
    subscribe(s2, "A"); // not the first: no notice
    subscribe(s2, "B");
    CHECK(next(xpub) == notice(1, "B"));
    subscribe(s1, "A"); // s1's second: no notice
    unsubscribe(s1, "A");
    unsubscribe(s1, "A"); // s2 still holds A: no notice
    subscribe(s1, "C");
    CHECK(next(xpub) == notice(1, "C"));
    unsubscribe(s2, "A"); // the last one
    CHECK(next(xpub) == notice(0, "A"));
    unsubscribe(s2, "B");
    CHECK(next(xpub) == notice(0, "B"));
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(xpub_first_and_last, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: with xpub_verbose, XPUB hands the application every subscription", Scheme,
                          xpub_verbose_all) {
    // Every subscribe; cancels still only when the last subscription to a prefix goes (as
    // libzmq's ZMQ_XPUB_VERBOSE; ZMQ_XPUB_VERBOSER, which passes every cancel, volley lacks).
    context ctx;
    socket xpub = bounded(ctx, socket_type::xpub);
    xpub.set(opt::xpub_verbose, true);
    const auto ep = bind_fresh<Scheme>(xpub);
    socket s1 = bounded(ctx, socket_type::sub), s2 = bounded(ctx, socket_type::sub);
    connect_to(s1, xpub, ep);
    connect_to(s2, xpub, ep);
    subscribe(s1, "A");
    CHECK(next(xpub) == notice(1, "A"));
    subscribe(s2, "A");
    CHECK(next(xpub) == notice(1, "A"));
    subscribe(s1, "A");
    CHECK(next(xpub) == notice(1, "A"));
    unsubscribe(s1, "A");
    unsubscribe(s1, "A");
    subscribe(s1, "Z");
    CHECK(next(xpub) == notice(1, "Z"));
    unsubscribe(s2, "A");
    CHECK(next(xpub) == notice(0, "A"));
    // Turned off again: only firsts.
    xpub.set(opt::xpub_verbose, false);
    subscribe(s2, "Z");
    subscribe(s2, "Y");
    CHECK(next(xpub) == notice(1, "Y"));
}
TEST_CASE_TEMPLATE_APPLY(xpub_verbose_all, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: XPUB hands 0x00 for a prefix when its last subscriber disconnects", Scheme,
                          xpub_last_subscriber_gone) {
    context ctx;
    SUBCASE("subscribers connected to the XPUB") {
        socket xpub = bounded(ctx, socket_type::xpub);
        const auto ep = bind_fresh<Scheme>(xpub);
        socket s2 = bounded(ctx, socket_type::sub);
        connect_to(s2, xpub, ep);
        {
            socket s1 = bounded(ctx, socket_type::sub);
            connect_to(s1, xpub, ep);
            subscribe(s1, "A");
            subscribe(s1, "B");
            CHECK(next(xpub) == notice(1, "A"));
            CHECK(next(xpub) == notice(1, "B"));
            subscribe(s2, "A");
            subscribe(s2, "M");
            CHECK(next(xpub) == notice(1, "M"));
        } // s1 goes: B had only it, A has s2 still
        CHECK(next(xpub) == notice(0, "B"));
        subscribe(s2, "Z");
        CHECK(next(xpub) == notice(1, "Z")); // no 0x00 A came with the 0x00 B
        s2.close();
        std::vector<std::string> got;
        for (int i = 0; i < 3; ++i) {
            auto m = xpub.recv();
            REQUIRE(m.ok());
            got.push_back(m->to_string());
        }
        std::sort(got.begin(), got.end());
        INFO("received:" << printable(got));
        CHECK(got == std::vector<std::string>{notice(0, "A"), notice(0, "M"), notice(0, "Z")});
    }
    SUBCASE("the XPUB connected to its subscriber") {
        socket xpub = bounded(ctx, socket_type::xpub);
        quick_reconnect(xpub);
        const auto ep = unused_endpoint<Scheme>();
        {
            socket sub = bounded(ctx, socket_type::sub);
            sub.bind(ep);
            xpub.connect(ep);
            REQUIRE(await_peers(sub, 1));
            subscribe(sub, "A");
            CHECK(next(xpub) == notice(1, "A"));
        } // the subscriber goes; on a stream the XPUB keeps its queue and tries to reconnect
        auto gone = xpub.recv();
        CHECK_MESSAGE(gone.ok(), "no notice within " << patience.count() << " ms of the subscriber's end");
        if (gone.ok()) CHECK(gone.value() == notice(0, "A"));
        if constexpr (Scheme::stream) { // a new subscriber on the same endpoint is a first again
            socket sub = bounded(ctx, socket_type::sub);
            sub.bind(ep);
            REQUIRE(await_peers(sub, 1));
            subscribe(sub, "A");
            auto again = xpub.recv();
            CHECK_MESSAGE(again.ok(), "no notice of the new subscriber's subscription");
            if (again.ok()) CHECK(again.value() == notice(1, "A"));
        }
    }
}
TEST_CASE_TEMPLATE_APPLY(xpub_last_subscriber_gone, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: XSUB sends 0x01 and 0x00 messages as subscriptions, and other messages to its "
                          "publishers as they are",
                          Scheme, xsub_messages) {
    context ctx;
    socket xsub = bounded(ctx, socket_type::xsub);
    socket xpub = bounded(ctx, socket_type::xpub), pub = bounded(ctx, socket_type::pub);
    connect_to(xsub, xpub, bind_fresh<Scheme>(xpub));
    connect_to(xsub, pub, bind_fresh<Scheme>(pub));
    REQUIRE(xsub.send(notice(1, "A")).ok());
    CHECK(next(xpub) == notice(1, "A"));
    REQUIRE(until_subscribed(pub, xsub, "A probe")); // a subscription, not a message, for the PUB
    REQUIRE(xsub.send("hello").ok());
    CHECK(next(xpub) == "hello");
    REQUIRE(xsub.send(frames({std::string("\x01" "B", 2), "y"})).ok()); // multipart: a message
    auto m = xpub.recv_multipart();
    REQUIRE(m.ok());
    CHECK(bodies(*m) == std::vector<std::string>{std::string("\x01" "B", 2), "y"});
    REQUIRE(xsub.send(std::string("\x02" "A", 2)).ok()); // another first byte: a message
    CHECK(next(xpub) == std::string("\x02" "A", 2));
    REQUIRE(pub.send("B not subscribed").ok());
    REQUIRE(pub.send("A subscribed").ok());
    CHECK(next(xsub) == "A subscribed");
    REQUIRE(xsub.send(notice(0, "A")).ok());
    CHECK(next(xpub) == notice(0, "A"));
    REQUIRE(xsub.send(notice(1, "C")).ok());
    CHECK(next(xpub) == notice(1, "C"));
    REQUIRE(until_subscribed(pub, xsub, "C probe"));
    REQUIRE(pub.send("A cancelled").ok());
    REQUIRE(pub.send("C subscribed").ok());
    CHECK(next(xsub) == "C subscribed");
    CHECK(xpub.recv(recv_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_APPLY(xsub_messages, schemes);

TEST_CASE_TEMPLATE_DEFINE("volley: a multipart message is filtered on its first frame and delivered whole", Scheme,
                          multipart_filtering) {
    context ctx;
    for (auto st : {socket_type::sub, socket_type::xsub}) {
        CAPTURE(to_string(st));
        auto p = subscribed<Scheme>(ctx, socket_type::pub, st, "news");
        REQUIRE(p.pub.send(multipart{"news", "a", "b"}).ok());
        REQUIRE(p.pub.send(multipart{"sport", "news", "c"}).ok()); // "news" only in a later frame
        REQUIRE(p.pub.send(multipart{"news!", ""}).ok());
        REQUIRE(p.pub.send(multipart{"new", "s"}).ok()); // the frames together would match
        REQUIRE(p.pub.send("news end").ok());
        // Frame by frame: each with its more flag; the frames after the first are there at once.
        bool in_message = false;
        for (const auto& [body, more] : std::vector<std::pair<std::string, bool>>{
                 {"news", true}, {"a", true}, {"b", false}, {"news!", true}, {"", false}, {"news end", false}}) {
            auto f = p.sub.recv(in_message ? recv_flags::dontwait : recv_flags::none);
            REQUIRE(f.ok());
            CHECK(f.value() == body);
            CHECK(f->more() == more);
            in_message = f->more();
        }
        // A message that meets a full queue is dropped whole, never in part.
        socket small = bounded(ctx, st);
        small.set(opt::rcvhwm, 2);
        socket pub = bounded(ctx, socket_type::pub);
        pub.set(opt::sndhwm, 2); // marks are endpoint options: set before the bind
        const auto ep = bind_fresh<Scheme>(pub);
        connect_to(small, pub, ep);
        subscribe(small, "m");
        REQUIRE(until_subscribed(pub, small, "m probe"));
        int sent = 0;
        const auto start = std::chrono::steady_clock::now();
        while (dropped_for(pub, ep) == 0 && support::ms_since(start) < 20'000) {
            for (int k = 0; k < 32; ++k, ++sent) {
                multipart m;
                m.push_back(message(numbered("m", sent)));
                m.push_back(message(std::string(flood_body, 'x')));
                m.push_back(message(std::string("last")));
                REQUIRE(pub.send(std::move(m)).ok());
            }
        }
        const auto lost = dropped_for(pub, ep);
        REQUIRE(lost > 0);
        REQUIRE(lost < static_cast<std::uint64_t>(sent));
        for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(sent) - lost; ++i) {
            auto m = small.recv_multipart();
            REQUIRE(m.ok());
            REQUIRE(m->size() == 3);
            CHECK(number_of((*m)[0].view(), "m") >= 0);
            CHECK((*m)[1].size() == flood_body);
            CHECK((*m)[2] == "last");
        }
        CHECK(small.recv(recv_flags::dontwait).error() == errc::would_block);
    }
}
TEST_CASE_TEMPLATE_APPLY(multipart_filtering, schemes);
