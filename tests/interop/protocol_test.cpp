// SPDX-License-Identifier: MPL-2.0
// The parts of ZMTP beyond plain messages, between volley and other peers on
// tcp:// and ipc://: heartbeats with libzmq in both roles (libzmq pinging
// volley, volley pinging libzmq) across idle periods, the socket-type check
// in the handshake (PUSH to PUSH is refused), and a ZMTP 3.0 peer, which has
// no PING/PONG and must never be sent one. The 3.0 peer is a raw socket
// (fault/raw_peer.hpp): libzmq cannot be told to speak 3.0.
#include "fault/raw_peer.hpp"
#include "interop/zmq_peer.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace volley;
using namespace interop;

namespace {

// Idle time in the heartbeat tests: several heartbeat intervals and timeouts.
constexpr auto idle = 1200ms;

// Watches `events` for `idle` (a bounded wait on the monitor, not a sleep) and fails the
// test case on any sign that the connection was lost or remade meanwhile.
void expect_connection_kept(const monitor& events) {
    const auto end = std::chrono::steady_clock::now() + idle;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        const auto e = events.next(left);
        if (!e) return;
        CHECK_MESSAGE((e->type != event_type::disconnected && e->type != event_type::connect_retried &&
                       e->type != event_type::handshake_succeeded && e->type != event_type::handshake_failed),
                      "idle connection: ", to_string(e->type), " (", e->detail, ")");
    }
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("volley answers libzmq heartbeats so an idle connection stays up", Setup, zmq_pings) {
    context ctx;
    libzmq_context zctx;
    auto v = bounded_socket(ctx, socket_type::pair);
    libzmq_socket z(zctx, ZMQ_PAIR);
    z.set(ZMQ_HEARTBEAT_IVL, 100);     // libzmq PINGs every 100 ms
    z.set(ZMQ_HEARTBEAT_TIMEOUT, 300); // and hangs up 300 ms after a PING that brought nothing back
    const auto events = v.monitor();
    link<Setup>(v, events, z);
    expect_connection_kept(events);
    REQUIRE(v.send("still there?").ok());
    const auto got = z.recv();
    REQUIRE(got.has_value());
    CHECK(*got == frames{"still there?"});
    REQUIRE(z.send("yes"));
    CHECK(v.recv().value() == "yes");
}
TEST_CASE_TEMPLATE_INSTANTIATE(zmq_pings, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("volley heartbeats to libzmq keep an idle connection up", Setup, volley_pings) {
    context ctx;
    libzmq_context zctx;
    auto v = bounded_socket(ctx, socket_type::pair);
    v.set(opt::heartbeat_ivl, 100ms);
    v.set(opt::heartbeat_timeout, 500ms); // generous for loaded machines; still well inside `idle`
    libzmq_socket z(zctx, ZMQ_PAIR);
    const auto events = v.monitor();
    link<Setup>(v, events, z);
    expect_connection_kept(events); // libzmq's PONGs (or any traffic) keep volley's timeout away
    REQUIRE(z.send("after the idle period"));
    CHECK(v.recv().value() == "after the idle period");
    REQUIRE(v.send("and back").ok());
    const auto got = z.recv();
    REQUIRE(got.has_value());
    CHECK(*got == frames{"and back"});
}
TEST_CASE_TEMPLATE_INSTANTIATE(volley_pings, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("volley PUSH and libzmq PUSH fail the handshake as incompatible", Setup, push_push) {
    context ctx;
    libzmq_context zctx;
    auto v = bounded_socket(ctx, socket_type::push);
    const auto events = v.monitor();
    std::string endpoint = Setup::endpoint();
    std::vector<std::unique_ptr<libzmq_socket>> peers;
    auto new_peer = [&] { return peers.emplace_back(std::make_unique<libzmq_socket>(zctx, ZMQ_PUSH)).get(); };
    if (Setup::volley_binds) {
        v.bind(endpoint);
        endpoint = v.last_endpoint();
        new_peer()->connect(endpoint);
    } else {
        v.connect(new_peer()->bind(endpoint)); // volley retries after each failure
    }
    // Every attempt must fail, and say why. An attempt where libzmq hung up before
    // volley's ERROR went out can be reported as a write failure instead: that masking
    // is a volley bug, reproduced deterministically in tests/fault ("... hangs up at
    // once"), so here it is logged and another attempt is made (libzmq itself does not
    // reconnect after a protocol error, so a bound volley gets a fresh libzmq peer).
    std::optional<monitor_event> refused;
    for (int attempt = 0; attempt < 20 && !refused; ++attempt) {
        const auto e = support::expect_event(events, event_type::handshake_failed, 5s);
        if (e.error == errc::incompatible_socket_type) {
            refused = e;
            break;
        }
        MESSAGE("handshake_failed for another reason: ", e.error.message(), " (", e.detail, ")");
        if (Setup::volley_binds) new_peer()->connect(endpoint);
    }
    REQUIRE_MESSAGE(refused.has_value(), "no handshake_failed with incompatible_socket_type in 20 attempts");
    CHECK(refused->detail.find("PUSH") != std::string::npos);
    CHECK_FALSE(events.wait_for(event_type::handshake_succeeded, 0ms).has_value());
    if (Setup::volley_binds) // a bound PUSH gets a pipe only from a good handshake (a connecting one queues)
        CHECK(v.send("nowhere", send_flags::dontwait).error() == errc::would_block);
}
TEST_CASE_TEMPLATE_INSTANTIATE(push_push, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

namespace {

// Binds a volley PAIR with heartbeat_ivl 100 ms, and connects a raw peer that completes
// the handshake announcing ZMTP 3.`minor`.
struct raw_session {
    context ctx;
    volley::socket v = bounded_socket(ctx, socket_type::pair);
    monitor events;
    std::optional<raw_zmtp::peer> raw;

    raw_session(const std::string& bind_at, std::uint8_t minor) {
        v.set(opt::heartbeat_ivl, 100ms);
        v.set(opt::heartbeat_timeout, 5000ms); // the raw peer never answers PINGs
        events = v.monitor();
        v.bind(bind_at);
        raw.emplace(v.last_endpoint());
        const auto problem = raw->handshake("PAIR", minor);
        REQUIRE_MESSAGE(problem.empty(), problem);
        support::expect_event(events, event_type::handshake_succeeded);
    }

    // Every frame volley sends within `window`.
    std::vector<raw_zmtp::frame_in> frames_within(std::chrono::milliseconds window) {
        std::vector<raw_zmtp::frame_in> out;
        const auto deadline = std::chrono::steady_clock::now() + window;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                     std::chrono::steady_clock::now());
            if (left.count() <= 0) return out;
            auto f = raw->read_frame(left);
            if (!f) return out;
            out.push_back(std::move(*f));
        }
    }
};

int count_pings(const std::vector<raw_zmtp::frame_in>& frames) {
    int n = 0;
    for (const auto& f : frames) n += f.command_name() == "PING" ? 1 : 0;
    return n;
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("volley exchanges messages with a ZMTP 3.0 peer and never sends it PING", Scheme,
                          zmtp30_peer) {
    raw_session s(Scheme::bind_endpoint(), 0);
    REQUIRE(s.raw->send(raw_zmtp::frame("from the", raw_zmtp::flag_more) + raw_zmtp::frame("3.0 peer")));
    const auto got = s.v.recv_multipart();
    REQUIRE(got.ok());
    CHECK(to_frames(*got) == frames{"from the", "3.0 peer"});
    REQUIRE(s.v.send(multipart{"to the", "3.0 peer"}).ok());
    // Three heartbeat intervals of what volley sends: the message, and no command at all.
    const auto sent = s.frames_within(350ms);
    CHECK(count_pings(sent) == 0);
    std::vector<std::string> data;
    for (const auto& f : sent) {
        CHECK_MESSAGE(!f.is_command(), "volley sent a command to a ZMTP 3.0 peer: " << f.command_name());
        if (!f.is_command()) data.push_back(f.body);
    }
    CHECK(data == std::vector<std::string>{"to the", "3.0 peer"});
    CHECK_FALSE(s.events.wait_for(event_type::disconnected, 0ms).has_value());
}
TEST_CASE_TEMPLATE_INSTANTIATE(zmtp30_peer, support::tcp_scheme, support::ipc_scheme);

TEST_CASE_TEMPLATE_DEFINE("volley sends PING to a ZMTP 3.1 peer when heartbeat_ivl is set", Scheme, zmtp31_peer) {
    // The control for the 3.0 case above: the same setup with minor version 1 does see PINGs.
    raw_session s(Scheme::bind_endpoint(), 1);
    const auto sent = s.frames_within(350ms);
    CHECK(count_pings(sent) >= 2);
    for (const auto& f : sent) {
        if (f.command_name() != "PING") continue;
        CHECK(f.body.size() >= 1 + 4 + 2); // name, then a 2-byte TTL (0: heartbeat_ttl unset)
        CHECK(f.body.substr(5, 2) == std::string(2, '\0'));
    }
}
TEST_CASE_TEMPLATE_INSTANTIATE(zmtp31_peer, support::tcp_scheme, support::ipc_scheme);
