// SPDX-License-Identifier: MPL-2.0
// Subscriptions on the wire in both ZMTP versions (REFERENCE.md 1.3.5), over
// tcp:// and ipc://. ZMTP 3.0 (RFC 23) carries them as ordinary message
// frames whose body is 0x01 (subscribe) or 0x00 (cancel) then the topic;
// ZMTP 3.1 (RFC 37) as SUBSCRIBE / CANCEL commands. A raw peer
// (fault/raw_peer.hpp) plays the other side, since libzmq cannot be told to
// speak 3.0: a SUB of either version against a volley PUB, which must filter
// by what it was sent, and a PUB server of either version that a volley SUB
// or XSUB connects to, where the exact bytes volley sends are checked:
//
//   3.0 subscribe "A"   00 02 01 41            (flags 0, size 2, 0x01 'A')
//   3.0 cancel "A"      00 02 00 41
//   3.1 SUBSCRIBE "A"   04 0B 09 "SUBSCRIBE" 41 (flags COMMAND, size 11)
//   3.1 CANCEL "A"      04 08 06 "CANCEL" 41
//
// The byte strings below are written out from those facts, not built with
// volley's encoder or the raw peer's helpers.
#include "fault/raw_peer.hpp"
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <tuple>

using namespace volley;
using namespace std::chrono_literals;

namespace {

using stream_schemes = std::tuple<support::tcp_scheme, support::ipc_scheme>;

// The longest any single wait here takes.
constexpr auto patience = 5000ms;

volley::socket bounded(context& ctx, socket_type t) {
    volley::socket s(ctx, t);
    s.set(opt::rcvtimeo, patience);
    s.set(opt::sndtimeo, patience);
    s.set(opt::linger, 0ms);
    return s;
}

std::string bytes(std::initializer_list<int> head, std::string_view rest = {}) {
    std::string out;
    for (int b : head) out.push_back(static_cast<char>(b));
    out.append(rest);
    return out;
}

// The wire forms of a subscription to (or cancel of) `topic`, a short frame each.
std::string wire_30(bool subscribe, std::string_view topic) {
    return bytes({0x00, static_cast<int>(topic.size() + 1), subscribe ? 0x01 : 0x00}, topic);
}
std::string wire_31(bool subscribe, std::string_view topic) {
    const std::string_view name = subscribe ? "SUBSCRIBE" : "CANCEL";
    return bytes({0x04, static_cast<int>(1 + name.size() + topic.size()), static_cast<int>(name.size())},
                 std::string(name) + std::string(topic));
}
std::string wire(std::uint8_t minor, bool subscribe, std::string_view topic) {
    return minor == 0 ? wire_30(subscribe, topic) : wire_31(subscribe, topic);
}

// The next message's body on a volley socket, or why there is none.
std::string next(volley::socket& s) {
    auto m = s.recv();
    return m.ok() ? m->to_string() : "<no message: " + m.error_code().message() + ">";
}

// A volley PUB bound at `bind_at` and a raw ZMTP 3.`minor` SUB connected to it, past the
// handshake on both sides.
struct raw_subscriber {
    context ctx;
    volley::socket pub = bounded(ctx, socket_type::pub);
    monitor events;
    std::optional<raw_zmtp::peer> raw;

    raw_subscriber(const std::string& bind_at, std::uint8_t minor) {
        events = pub.monitor();
        pub.bind(bind_at);
        raw.emplace(pub.last_endpoint());
        const auto problem = raw->handshake("SUB", minor);
        REQUIRE_MESSAGE(problem.empty(), problem);
        support::expect_event(events, event_type::handshake_succeeded);
    }

    // Publishes `probe` until the raw peer reads it (the subscription reached the PUB), at
    // most 250 times 20 ms, then reads away the copies still coming; each must be `probe`,
    // a one-frame data message.
    bool until_subscribed(std::string_view probe) {
        for (int i = 0; i < 250; ++i) {
            REQUIRE(pub.send(probe).ok());
            if (auto f = raw->read_frame(20ms)) {
                CHECK(f->flags == 0);
                CHECK(f->body == probe);
                while (auto more = raw->read_frame(50ms)) CHECK(more->body == probe);
                return true;
            }
        }
        return false;
    }

    // The next frame the PUB sends: flags and body.
    std::pair<int, std::string> next_frame() {
        auto f = raw->read_frame(patience);
        if (!f) return {-1, "<no frame>"};
        return {f->flags, f->body};
    }
};

} // namespace

// ------------------------------------------------------- raw SUB, volley PUB

TEST_CASE_TEMPLATE_DEFINE("a ZMTP 3.0 SUB subscribes to a volley PUB with 0x01 messages and gets only what matches",
                          Scheme, zmtp30_sub) {
    raw_subscriber s(Scheme::bind_endpoint(), 0);
    REQUIRE(s.raw->send(bytes({0x00, 0x02, 0x01, 'A'}))); // subscribe "A", the 3.0 way
    REQUIRE(s.until_subscribed("A probe"));
    REQUIRE(s.pub.send("B not subscribed").ok());
    REQUIRE(s.pub.send(multipart{"A multi", "part"}).ok());
    REQUIRE(s.pub.send(multipart{"B", "A in a later frame"}).ok());
    REQUIRE(s.pub.send("AB too").ok());
    REQUIRE(s.pub.send("A end").ok());
    using frame = std::pair<int, std::string>;
    CHECK(s.next_frame() == frame{raw_zmtp::flag_more, "A multi"});
    CHECK(s.next_frame() == frame{0, "part"});
    CHECK(s.next_frame() == frame{0, "AB too"});
    CHECK(s.next_frame() == frame{0, "A end"});
    // Cancel "A", subscribe "C": the cancel is taken too.
    REQUIRE(s.raw->send(bytes({0x00, 0x02, 0x00, 'A'}) + bytes({0x00, 0x02, 0x01, 'C'})));
    REQUIRE(s.until_subscribed("C probe"));
    REQUIRE(s.pub.send("A cancelled").ok());
    REQUIRE(s.pub.send("C here").ok());
    CHECK(s.next_frame() == frame{0, "C here"});
    CHECK_FALSE(s.events.wait_for(event_type::disconnected, 0ms).has_value());
}
TEST_CASE_TEMPLATE_APPLY(zmtp30_sub, stream_schemes);

TEST_CASE_TEMPLATE_DEFINE("a ZMTP 3.1 SUB subscribes to a volley PUB with SUBSCRIBE and CANCEL commands", Scheme,
                          zmtp31_sub) {
    raw_subscriber s(Scheme::bind_endpoint(), 1);
    REQUIRE(s.raw->send(bytes({0x04, 0x0B, 0x09}, "SUBSCRIBEA")));
    REQUIRE(s.until_subscribed("A probe"));
    REQUIRE(s.pub.send("B not subscribed").ok());
    REQUIRE(s.pub.send(multipart{"A multi", "part"}).ok());
    REQUIRE(s.pub.send("A end").ok());
    using frame = std::pair<int, std::string>;
    CHECK(s.next_frame() == frame{raw_zmtp::flag_more, "A multi"});
    CHECK(s.next_frame() == frame{0, "part"});
    CHECK(s.next_frame() == frame{0, "A end"});
    REQUIRE(s.raw->send(bytes({0x04, 0x08, 0x06}, "CANCELA") + bytes({0x04, 0x0B, 0x09}, "SUBSCRIBEC")));
    REQUIRE(s.until_subscribed("C probe"));
    REQUIRE(s.pub.send("A cancelled").ok());
    REQUIRE(s.pub.send("C here").ok());
    CHECK(s.next_frame() == frame{0, "C here"});
    // A 3.1 peer may still use the 3.0 form (libzmq's PUB accepts both; REFERENCE.md 1.3.5).
    REQUIRE(s.raw->send(bytes({0x00, 0x02, 0x01, 'D'})));
    REQUIRE(s.until_subscribed("D probe"));
    CHECK_FALSE(s.events.wait_for(event_type::disconnected, 0ms).has_value());
}
TEST_CASE_TEMPLATE_APPLY(zmtp31_sub, stream_schemes);

// ---------------------------------------------- volley SUB / XSUB, raw PUB server

namespace {

// A raw ZMTP 3.`minor` PUB listening on the scheme, and a volley SUB or XSUB connected to it,
// subscribed to "A" before the connection was made; past the handshake on both sides.
template <class Scheme>
struct raw_publisher {
    std::string ipc_path = std::is_same_v<Scheme, support::ipc_scheme>
                               ? support::ipc_endpoint().substr(std::string_view("ipc://").size())
                               : std::string();
    raw_zmtp::server server{Scheme::name, ipc_path};
    context ctx;
    volley::socket sub;
    monitor events;
    std::unique_ptr<raw_zmtp::peer> raw;

    raw_publisher(socket_type type, std::uint8_t minor) : sub(bounded(ctx, type)) {
        events = sub.monitor();
        subscribe("A");
        sub.connect(server.endpoint());
        raw = server.accept(patience);
        REQUIRE_MESSAGE(raw != nullptr, "volley did not connect to " << server.endpoint());
        const auto problem = raw->handshake("PUB", minor);
        REQUIRE_MESSAGE(problem.empty(), problem);
        support::expect_event(events, event_type::handshake_succeeded);
    }

    void subscribe(std::string_view topic) {
        if (sub.type() == socket_type::xsub)
            REQUIRE(sub.send(bytes({0x01}, topic)).ok());
        else
            sub.set(opt::subscribe, std::string(topic));
    }
    void unsubscribe(std::string_view topic) {
        if (sub.type() == socket_type::xsub)
            REQUIRE(sub.send(bytes({0x00}, topic)).ok());
        else
            sub.set(opt::unsubscribe, std::string(topic));
    }

    // Exactly the next `expected.size()` bytes volley sends.
    std::string read(const std::string& expected) {
        return raw->read_exact(expected.size(), patience).value_or("<fewer bytes than expected>");
    }
};

// What a volley subscriber must send a raw PUB of ZMTP 3.`minor`, byte for byte, as its
// subscriptions change; and it must deliver only what it subscribed to of what the raw PUB
// sends (a 3.0 publisher may send everything: the subscriber filters as well).
template <class Scheme>
void check_subscriber_wire(socket_type type, std::uint8_t minor) {
    raw_publisher<Scheme> p(type, minor);
    CHECK(p.read(wire(minor, true, "A")) == wire(minor, true, "A")); // queued before the connection
    REQUIRE(p.raw->send(raw_zmtp::frame("X not subscribed")));
    REQUIRE(p.raw->send(raw_zmtp::frame("A data")));
    CHECK(next(p.sub) == "A data");
    p.subscribe("BC"); // made on a live connection
    CHECK(p.read(wire(minor, true, "BC")) == wire(minor, true, "BC"));
    p.unsubscribe("A");
    CHECK(p.read(wire(minor, false, "A")) == wire(minor, false, "A"));
    p.subscribe(std::string("\x00\xff", 2)); // a binary topic goes as it is
    CHECK(p.read(wire(minor, true, std::string("\x00\xff", 2))) == wire(minor, true, std::string("\x00\xff", 2)));
    if (type == socket_type::xsub) { // anything else an XSUB sends is an ordinary message
        REQUIRE(p.sub.send("hello").ok());
        CHECK(p.read(bytes({0x00, 0x05}, "hello")) == bytes({0x00, 0x05}, "hello"));
        REQUIRE(p.sub.send(multipart{std::string("\x01" "A", 2), "x"}).ok());
        CHECK(p.read(bytes({0x01, 0x02, 0x01, 'A', 0x00, 0x01, 'x'})) == bytes({0x01, 0x02, 0x01, 'A', 0x00, 0x01, 'x'}));
    }
    REQUIRE(p.raw->send(raw_zmtp::frame("A cancelled")));
    REQUIRE(p.raw->send(raw_zmtp::frame("BC yes")));
    CHECK(next(p.sub) == "BC yes");
    CHECK_FALSE(p.raw->read_frame(200ms).has_value()); // nothing else went out
    CHECK_FALSE(p.events.wait_for(event_type::disconnected, 0ms).has_value());
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("a volley SUB sends a ZMTP 3.0 PUB its subscriptions as 0x01 and 0x00 messages", Scheme,
                          sub_to_zmtp30) {
    SUBCASE("SUB") { check_subscriber_wire<Scheme>(socket_type::sub, 0); }
    SUBCASE("XSUB") { check_subscriber_wire<Scheme>(socket_type::xsub, 0); }
}
TEST_CASE_TEMPLATE_APPLY(sub_to_zmtp30, stream_schemes);

TEST_CASE_TEMPLATE_DEFINE("a volley SUB sends a ZMTP 3.1 PUB its subscriptions as SUBSCRIBE and CANCEL commands",
                          Scheme, sub_to_zmtp31) {
    SUBCASE("SUB") { check_subscriber_wire<Scheme>(socket_type::sub, 1); }
    SUBCASE("XSUB") { check_subscriber_wire<Scheme>(socket_type::xsub, 1); }
}
TEST_CASE_TEMPLATE_APPLY(sub_to_zmtp31, stream_schemes);
