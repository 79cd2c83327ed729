// SPDX-License-Identifier: MPL-2.0
// ZMTP with no I/O: the stream codec (greeting + frames) and the protocol
// above it (greeting check, NULL handshake, commands), driven byte by byte
// between two peers held in memory, as a connection driver drives them.
#include "zmtp/commands.hpp"
#include "zmtp/protocol.hpp"
#include "zmtp/stream_codec.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace volley;
using namespace volley::zmtp;

namespace {

// One side of a connection in memory: a codec and a protocol, with what a driver would do.
struct peer {
    stream_codec codec;
    protocol proto;
    detail::peer_properties learned;
    bool greeted = false;
    bool done = false;
    std::string failure;

    // `server`: the accepting side, which answers the client's READY.
    peer(socket_type type, const std::string* routing_id, bool server = false)
        : proto(type, make_null_mechanism(type, routing_id, server)) {
        codec.start(proto.mechanism_name(), proto.as_server());
    }

    // Moves up to `n` of our pending bytes into `to`'s read target; returns how many.
    std::size_t send_to(peer& to, std::size_t n) {
        if (codec.out().empty()) return 0;
        iovec iov[1];
        codec.out().gather(iov, 1);
        auto target = to.codec.read_target();
        const std::size_t k = std::min({n, iov[0].iov_len, target.size()});
        std::memcpy(target.data(), iov[0].iov_base, k);
        codec.out().consumed(k);
        to.codec.received(k);
        return k;
    }

    // Takes what the bytes received so far make, as the driver's read loop does.
    void take() {
        for (;;) {
            message body;
            bool command = false;
            const auto st = codec.next(body, command);
            if (st == stream_codec::status::need_more) return;
            if (st == stream_codec::status::error) {
                failure = codec.error_reason();
                return;
            }
            std::vector<message> out;
            if (st == stream_codec::status::greeted) {
                greeted = true;
                if (auto why = proto.check_greeting(codec.peer_greeting()); !why.empty()) {
                    failure = why;
                    return;
                }
                codec.in().set_handshake(true);
                proto.start(out);
            } else {
                errc code{};
                std::string reason;
                const auto step = proto.handshake_frame(body, command, out, learned, code, reason);
                if (step == protocol::step::fail) {
                    failure = reason;
                    return;
                }
                done = step == protocol::step::done;
            }
            for (auto& m : out) codec.out().add(std::move(m), true);
        }
    }
};

// Runs both peers' handshakes, `chunk` bytes per read, until neither has bytes to send.
void handshake(peer& a, peer& b, std::size_t chunk) {
    for (int turns = 0; turns < 100000; ++turns) {
        const std::size_t moved = a.send_to(b, chunk) + b.send_to(a, chunk);
        a.take();
        b.take();
        if (moved == 0) return;
    }
    FAIL("the handshake did not settle");
}

std::vector<std::byte> greeting_bytes(std::string_view mechanism, std::uint8_t minor) {
    std::byte g[greeting_size];
    write_greeting(g, mechanism, false);
    g[11] = std::byte{minor};
    return {g, g + greeting_size};
}

} // namespace

TEST_CASE("a greeting fed one byte at a time is taken once, at its 64th byte") {
    stream_codec c;
    const auto g = greeting_bytes("NULL", 1);
    for (std::size_t i = 0; i < g.size(); ++i) {
        message body;
        bool command = false;
        REQUIRE(c.next(body, command) == stream_codec::status::need_more);
        auto target = c.read_target();
        REQUIRE(target.size() == greeting_size - i); // never more than the greeting lacks
        target[0] = g[i];
        c.received(1);
    }
    message body;
    bool command = false;
    CHECK(c.next(body, command) == stream_codec::status::greeted);
    CHECK(c.peer_greeting().major == 3);
    CHECK(c.peer_greeting().minor == 1);
    CHECK(c.peer_greeting().mechanism == "NULL");
    CHECK(c.next(body, command) == stream_codec::status::need_more); // frames from here on
}

TEST_CASE("a peer that is not ZMTP is refused at its first byte, with the reason") {
    stream_codec c;
    c.read_target()[0] = std::byte{'G'}; // "GET / HTTP/1.1"
    c.received(1);
    message body;
    bool command = false;
    REQUIRE(c.next(body, command) == stream_codec::status::error);
    CHECK(c.error_code() == errc::protocol_error);
    CHECK(c.error_reason().find("not a ZMTP peer") != std::string::npos);
    CHECK(c.next(body, command) == stream_codec::status::error); // and stays refused
}

TEST_CASE("a ZMTP 2.0 peer is refused at its eleventh byte") {
    stream_codec c;
    auto g = greeting_bytes("NULL", 0);
    g[10] = std::byte{1};
    for (std::size_t i = 0; i < 11; ++i) {
        message body;
        bool command = false;
        REQUIRE(c.next(body, command) == stream_codec::status::need_more);
        c.read_target()[0] = g[i];
        c.received(1);
    }
    message body;
    bool command = false;
    REQUIRE(c.next(body, command) == stream_codec::status::error);
    CHECK(c.error_reason().find("ZMTP 2.0") != std::string::npos);
}

TEST_CASE("the NULL handshake completes byte by byte and names each peer to the other") {
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
        CAPTURE(chunk);
        const std::string id = "client-7";
        peer dealer(socket_type::dealer, &id);
        peer router(socket_type::router, nullptr, true);
        handshake(dealer, router, chunk);
        REQUIRE(dealer.failure.empty());
        REQUIRE(router.failure.empty());
        CHECK(dealer.done);
        CHECK(router.done);
        CHECK(router.learned.type == socket_type::dealer);
        CHECK(router.learned.routing_id == id);
        CHECK(dealer.learned.type == socket_type::router);
        CHECK(dealer.learned.routing_id.empty());
        CHECK(dealer.proto.peer_has_commands());
    }
}

TEST_CASE("the NULL server sends its READY only in answer to the client's") {
    std::vector<message> out;
    protocol client(socket_type::dealer, make_null_mechanism(socket_type::dealer, nullptr, false));
    client.start(out);
    REQUIRE(out.size() == 1); // the client speaks first
    const message ready = std::move(out[0]);
    out.clear();
    protocol server(socket_type::router, make_null_mechanism(socket_type::router, nullptr, true));
    server.start(out);
    CHECK(out.empty()); // nothing before the client's READY: a refusal can take its place
    detail::peer_properties learned;
    errc code{};
    std::string reason;
    REQUIRE(server.handshake_frame(ready, true, out, learned, code, reason) == protocol::step::done);
    REQUIRE(out.size() == 1);
    const auto answer = parse_command(out[0]);
    REQUIRE(answer.has_value());
    CHECK(answer->name == "READY");
    CHECK(learned.type == socket_type::dealer);
}

TEST_CASE("a greeting naming another mechanism is refused, naming both") {
    protocol p(socket_type::pull, make_null_mechanism(socket_type::pull, nullptr, false));
    greeting g;
    g.major = 3;
    g.minor = 1;
    g.mechanism = "CURVE";
    const auto why = p.check_greeting(g);
    CHECK(why.find("'CURVE'") != std::string::npos);
    CHECK(why.find("NULL") != std::string::npos);
    g.mechanism = "NULL";
    CHECK(p.check_greeting(g).empty());
}

TEST_CASE("the handshake refuses what is not a well-formed READY, with the reason") {
    protocol p(socket_type::push, make_null_mechanism(socket_type::push, nullptr, false));
    std::vector<message> out;
    detail::peer_properties who;
    errc code{};
    std::string reason;
    const auto step_of = [&](const message& body, bool command) {
        reason.clear();
        return p.handshake_frame(body, command, out, who, code, reason);
    };
    CHECK(step_of(message(std::string_view("hello")), false) == protocol::step::fail);
    CHECK(reason == "the peer sent a message before READY");
    CHECK(step_of(message(std::string_view("\x09READY")), true) == protocol::step::fail);
    CHECK(reason == "malformed command during the handshake");
    CHECK(step_of(make_error("go away"), true) == protocol::step::fail);
    CHECK(reason.find("go away") != std::string::npos);
    CHECK(step_of(make_ping(0, {}), true) == protocol::step::fail);
    CHECK(reason.find("expected READY") != std::string::npos);
    CHECK(step_of(message(std::string_view("\x05READY")), true) == protocol::step::fail);
    CHECK(reason == "READY without a Socket-Type");
    CHECK(step_of(make_ready(socket_type::pull, nullptr), true) == protocol::step::done);
    CHECK(who.type == socket_type::pull);
    CHECK(code == errc::protocol_error);
}

TEST_CASE("after the handshake: PING asks for its PONG, ERROR fails, unknown commands are ignored") {
    protocol p(socket_type::pub, make_null_mechanism(socket_type::pub, nullptr, false));
    const std::byte context[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
    message ping = make_ping(25, context);
    auto r = p.on_command(ping, false);
    REQUIRE(r.what == protocol::action::ping);
    CHECK(r.ttl == std::chrono::milliseconds(2500));
    const auto pong = parse_command(r.pong);
    REQUIRE(pong);
    CHECK(pong->name == "PONG");
    CHECK(pong->data.size() == 3);
    CHECK(std::memcmp(pong->data.data(), context, 3) == 0);

    message error = make_error("shutting down");
    r = p.on_command(error, false);
    CHECK(r.what == protocol::action::fail);
    CHECK(r.reason.find("shutting down") != std::string::npos);

    message unknown(std::string_view("\x05HELLO"));
    CHECK(p.on_command(unknown, false).what == protocol::action::ignore);
    message junk(std::string_view("\x20X"));
    CHECK(p.on_command(junk, false).what == protocol::action::fail);
}

TEST_CASE("SUBSCRIBE becomes a control frame for a publisher, is ignored by others, and never splits a message") {
    protocol pub(socket_type::pub, make_null_mechanism(socket_type::pub, nullptr, false));
    message sub = make_subscription(true, "news.");
    REQUIRE(pub.on_command(sub, false).what == protocol::action::deliver);
    CHECK(sub.control_kind() == message::control::subscribe);
    CHECK(sub.view() == "news.");

    message cancel = make_subscription(false, "news.");
    message mid = make_subscription(true, "x");
    CHECK(pub.on_command(mid, true).what == protocol::action::fail);
    REQUIRE(pub.on_command(cancel, false).what == protocol::action::deliver);
    CHECK(cancel.control_kind() == message::control::cancel);

    protocol push(socket_type::push, make_null_mechanism(socket_type::push, nullptr, false));
    message to_push = make_subscription(true, "news.");
    CHECK(push.on_command(to_push, false).what == protocol::action::ignore);
}

TEST_CASE("our subscriptions go out as this peer's version understands them, and none before a reset") {
    greeting g;
    g.major = 3;
    g.mechanism = "NULL";
    for (const std::uint8_t minor : {std::uint8_t{0}, std::uint8_t{1}}) {
        CAPTURE(int(minor));
        protocol p(socket_type::sub, make_null_mechanism(socket_type::sub, nullptr, false));
        g.minor = minor;
        REQUIRE(p.check_greeting(g).empty());
        message m(std::string_view("topic"));
        m.set_control(message::control::subscribe);
        bool command = false;
        REQUIRE(p.outgoing(m, command));
        CHECK(command == (minor >= 1));
        if (command) {
            const auto cmd = parse_command(m);
            REQUIRE(cmd);
            CHECK(cmd->name == "SUBSCRIBE");
        } else {
            CHECK(m.view() == std::string_view("\x01topic", 6));
        }

        p.expect_reset();
        message stale(std::string_view("old"));
        stale.set_control(message::control::cancel);
        CHECK_FALSE(p.outgoing(stale, command)); // meant for the lost connection
        message reset;
        reset.set_control(message::control::reset);
        CHECK_FALSE(p.outgoing(reset, command)); // never on the wire
        message fresh(std::string_view("new"));
        fresh.set_control(message::control::subscribe);
        CHECK(p.outgoing(fresh, command));
    }
}
