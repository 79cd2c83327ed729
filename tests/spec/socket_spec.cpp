// SPDX-License-Identifier: MPL-2.0
// The socket API itself, independent of pattern: endpoint errors name their
// cause, options validate, closed and moved-from sockets fail cleanly, and
// zero-copy bodies cross threads without a copy.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <limits>

#include <atomic>
#include <thread>

using namespace volley;
using namespace std::chrono_literals;

TEST_CASE("an unknown scheme fails with unknown_scheme, and the exception names the endpoint") {
    context ctx;
    socket s(ctx, socket_type::pair);
    std::error_code ec;
    s.bind("carrier-pigeon://coop", ec);
    CHECK(ec == errc::unknown_scheme);
    try {
        s.connect("carrier-pigeon://coop");
        FAIL("connect did not throw");
    } catch (const std::system_error& e) {
        CHECK(e.code() == errc::unknown_scheme);
        CHECK(std::string(e.what()).find("carrier-pigeon://coop") != std::string::npos);
    }
}

TEST_CASE("malformed endpoints fail with invalid_endpoint") {
    context ctx;
    socket s(ctx, socket_type::pair);
    for (const char* bad : {"", "inproc", "inproc://", "://name", "In Proc://x", "inproc:/x"}) {
        std::error_code ec;
        s.bind(bad, ec);
        CHECK_MESSAGE(ec == errc::invalid_endpoint, bad);
    }
}

TEST_CASE("binding a name twice fails with address_in_use, and unbinding frees it") {
    context ctx;
    socket a(ctx, socket_type::pull), b(ctx, socket_type::pull);
    const auto ep = support::inproc_endpoint();
    a.bind(ep);
    std::error_code ec;
    b.bind(ep, ec);
    CHECK(ec == errc::address_in_use);
    a.unbind(ep);
    b.bind(ep, ec);
    CHECK_FALSE(ec);
}

TEST_CASE("inproc names are per context") {
    context one, two;
    socket a(one, socket_type::pull), b(two, socket_type::pull);
    const auto ep = support::inproc_endpoint();
    a.bind(ep);
    b.bind(ep); // no clash: another context
}

TEST_CASE("unbind and disconnect of an unknown endpoint fail with endpoint_not_found") {
    context ctx;
    socket s(ctx, socket_type::pull);
    std::error_code ec;
    s.unbind("inproc://never-bound", ec);
    CHECK(ec == errc::endpoint_not_found);
    s.disconnect("inproc://never-connected", ec);
    CHECK(ec == errc::endpoint_not_found);
}

TEST_CASE("a peer of an incompatible type is refused") {
    context ctx;
    socket a(ctx, socket_type::push), b(ctx, socket_type::push);
    const auto ep = support::inproc_endpoint();
    a.bind(ep);
    std::error_code ec;
    b.connect(ep, ec);
    CHECK(ec == errc::incompatible_socket_type);
    CHECK(a.base()->pipe_count() == 0);
}

TEST_CASE("an incompatible connect made before the bind is dropped at the bind") {
    context ctx;
    socket a(ctx, socket_type::push), b(ctx, socket_type::pair);
    const auto ep = support::inproc_endpoint();
    b.connect(ep);
    CHECK(b.base()->pipe_count() == 1);
    a.bind(ep);
    CHECK(a.base()->pipe_count() == 0);
    CHECK(b.base()->pipe_count() == 0);
}

TEST_CASE("options have libzmq's defaults, except a bounded linger") {
    context ctx;
    socket s(ctx, socket_type::pair);
    CHECK(s.get(opt::sndhwm) == 1000);
    CHECK(s.get(opt::rcvhwm) == 1000);
    CHECK(s.get(opt::linger) == 30s);
    CHECK(s.get(opt::sndtimeo) == infinite);
    CHECK(s.get(opt::rcvtimeo) == infinite);
    CHECK(s.get(opt::routing_id).empty());
    CHECK(s.get(opt::busy_poll) == -1); // volley's own: the socket's choice
}

TEST_CASE("a rejected option value is named, with the values the option takes") {
    context ctx;
    socket s(ctx, socket_type::pair);
    const auto what_of = [](auto&& set) -> std::string {
        try {
            set();
        } catch (const std::system_error& e) {
            CHECK(e.code() == errc::invalid_argument);
            return e.what();
        }
        FAIL("no exception");
        return {};
    };
    CHECK(what_of([&] { s.set(opt::rcvhwm, -5); }).find("rcvhwm takes 0 or more, not -5") != std::string::npos);
    CHECK(what_of([&] { s.set(opt::linger, std::chrono::milliseconds(-2)); })
              .find("linger takes 0 ms or more, or volley::infinite, not -2 ms") != std::string::npos);
    CHECK(what_of([&] { s.set(opt::routing_id, std::string(256, 'x')); })
              .find("routing_id takes at most 255 bytes, not starting with a zero byte, not 256 bytes") !=
          std::string::npos);
    CHECK(what_of([&] { s.set(opt::heartbeat_ttl, std::chrono::milliseconds(7'000'000)); })
              .find("heartbeat_ttl takes 0 to 6553599 ms") != std::string::npos);
    CHECK(what_of([&] { s.set(opt::busy_poll, 1'000'001); })
              .find("busy_poll takes -1 (the socket's choice) or 0 to 1000000 microseconds, not 1000001") !=
          std::string::npos);
    CHECK(what_of([&] { s.set(opt::tcp_keepalive, 2); }).find("tcp_keepalive takes -1 (the system's), 0 or 1, not 2") !=
          std::string::npos);
}

TEST_CASE("options are validated, and a rejected value leaves the option unchanged") {
    context ctx;
    socket s(ctx, socket_type::pair);
    std::error_code ec;
    s.set(opt::sndhwm, -1, ec);
    CHECK(ec == errc::invalid_argument);
    CHECK(s.get(opt::sndhwm) == 1000);
    s.set(opt::linger, std::chrono::milliseconds(-2), ec);
    CHECK(ec == errc::invalid_argument);
    s.set(opt::routing_id, std::string("\0abc", 4), ec);
    CHECK(ec == errc::invalid_argument);
    s.set(opt::routing_id, std::string(256, 'x'), ec);
    CHECK(ec == errc::invalid_argument);
    CHECK_THROWS_AS(s.set(opt::rcvhwm, -5), std::system_error);
    s.set(opt::routing_id, "worker-1");
    CHECK(s.get(opt::routing_id) == "worker-1");
    s.set(opt::rcvtimeo, 15ms);
    CHECK(s.get(opt::rcvtimeo) == 15ms);
    // Intervals that arm timers stay within libzmq's int range.
    const auto int_max = std::chrono::milliseconds(std::numeric_limits<int>::max());
    const auto bounded = [&](auto o) {
        s.set(o, int_max + 1ms, ec);
        CHECK(ec == errc::invalid_argument);
        s.set(o, int_max, ec);
        CHECK_FALSE(ec);
    };
    bounded(opt::reconnect_ivl);
    bounded(opt::reconnect_ivl_max);
    bounded(opt::handshake_ivl);
    bounded(opt::heartbeat_ivl);
    bounded(opt::heartbeat_timeout);
}

TEST_CASE("an endpoint option set while the socket has an endpoint is refused, naming the rule; a live one applies") {
    context ctx;
    for (const bool bind : {true, false}) {
        CAPTURE(bind);
        socket s(ctx, socket_type::dealer);
        const std::string ep = support::inproc_endpoint();
        bind ? s.bind(ep) : s.connect(ep);
        // Each endpoint option, with a valid value other than its default: refused, unchanged.
        const auto refused = [&](auto o, auto value, const char* name) {
            CAPTURE(name);
            const auto before = s.get(o);
            std::error_code ec;
            s.set(o, value, ec);
            CHECK(ec == errc::wrong_state);
            CHECK(s.get(o) == before);
            try {
                s.set(o, value);
                FAIL("no exception");
            } catch (const std::system_error& e) {
                CHECK(e.code() == errc::wrong_state);
                CHECK(std::string(e.what()).find(std::string(name) + " is read when bind() or connect() makes an "
                                                 "endpoint: set it before the first (this socket has 1 endpoint)") !=
                      std::string::npos);
            }
        };
        refused(opt::sndhwm, 5, "sndhwm");
        refused(opt::rcvhwm, 5, "rcvhwm");
        refused(opt::routing_id, std::string("late"), "routing_id");
        refused(opt::reconnect_ivl, 5ms, "reconnect_ivl");
        refused(opt::reconnect_ivl_max, 5ms, "reconnect_ivl_max");
        refused(opt::handshake_ivl, 5ms, "handshake_ivl");
        refused(opt::maxmsgsize, std::int64_t{5}, "maxmsgsize");
        refused(opt::input_budget, std::int64_t{5}, "input_budget");
        refused(opt::heartbeat_ivl, 5ms, "heartbeat_ivl");
        refused(opt::heartbeat_timeout, 5ms, "heartbeat_timeout");
        refused(opt::heartbeat_ttl, 500ms, "heartbeat_ttl");
        refused(opt::tcp_keepalive, 1, "tcp_keepalive");
        refused(opt::tcp_keepalive_idle, 5, "tcp_keepalive_idle");
        refused(opt::tcp_keepalive_cnt, 5, "tcp_keepalive_cnt");
        refused(opt::tcp_keepalive_intvl, 5, "tcp_keepalive_intvl");
        refused(opt::ipv6, true, "ipv6");
        refused(opt::sndbuf, 4096, "sndbuf");
        refused(opt::rcvbuf, 4096, "rcvbuf");
        // Live options are read as the socket works: taken, and they apply at once.
        s.set(opt::rcvtimeo, 20ms);
        const auto start = std::chrono::steady_clock::now();
        CHECK(s.recv().error() == errc::timed_out);
        CHECK(support::ms_since(start) >= 20);
        s.set(opt::linger, 0ms);
        CHECK(s.get(opt::linger) == 0ms);
        s.set(opt::req_correlate, true);
        CHECK(s.get(opt::req_correlate));
        s.set(opt::busy_poll, 0);
        CHECK(s.get(opt::busy_poll) == 0);
        // With no endpoint left, endpoint options may be set again (for the next one).
        bind ? s.unbind(ep) : s.disconnect(ep);
        s.set(opt::sndhwm, 5);
        CHECK(s.get(opt::sndhwm) == 5);
    }
}

TEST_CASE("an action a socket type does not take is refused and not stored") {
    context ctx;
    socket s(ctx, socket_type::push);
    std::error_code ec;
    s.set(opt::subscribe, std::string("news"), ec);
    CHECK(ec == errc::not_supported);
    CHECK(s.get(opt::subscribe).empty());
}

TEST_CASE("recv waits no longer than rcvtimeo") {
    context ctx;
    socket s(ctx, socket_type::pull);
    s.set(opt::rcvtimeo, 30ms);
    const auto start = std::chrono::steady_clock::now();
    CHECK(s.recv().error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 30);
    s.set(opt::rcvtimeo, 0ms);
    CHECK(s.recv().error() == errc::would_block);
}

TEST_CASE("a closed or moved-from socket fails every call with closed") {
    context ctx;
    socket s(ctx, socket_type::pair);
    socket moved = std::move(s);
    CHECK_FALSE(s.is_open()); // NOLINT(bugprone-use-after-move): that is the point
    CHECK(s.send("x").error() == errc::closed);
    CHECK(s.recv().error() == errc::closed);
    std::error_code ec;
    s.bind("inproc://x", ec);
    CHECK(ec == errc::closed);
    moved.close();
    moved.close(); // idempotent
    CHECK(moved.send("x").error() == errc::closed);
    CHECK_THROWS_AS(moved.get(opt::sndhwm), std::system_error);
}

TEST_CASE("a socket cannot be created in a shut-down context") {
    context ctx;
    ctx.shutdown();
    CHECK(ctx.is_shut_down());
    CHECK_THROWS_AS(socket(ctx, socket_type::pair), std::system_error);
}

TEST_CASE("a socket outliving its context fails with terminated, without hanging") {
    auto ctx = std::make_unique<context>();
    socket s(*ctx, socket_type::pull);
    s.bind(support::inproc_endpoint());
    ctx.reset();
    CHECK(s.recv().error() == errc::terminated);
}

TEST_CASE("last_endpoint reports the endpoint last bound or connected") {
    context ctx;
    socket s(ctx, socket_type::pull);
    CHECK(s.last_endpoint().empty());
    const auto ep = support::inproc_endpoint();
    s.bind(ep);
    CHECK(s.last_endpoint() == ep);
}

TEST_CASE("every socket type can be made, and a value that names none is refused with not_supported") {
    context ctx;
    for (auto t : {socket_type::pair, socket_type::push, socket_type::pull, socket_type::pub, socket_type::sub,
                   socket_type::xpub, socket_type::xsub, socket_type::req, socket_type::rep, socket_type::dealer,
                   socket_type::router}) {
        socket s(ctx, t);
        CHECK(s.type() == t);
    }
    try {
        socket s(ctx, static_cast<socket_type>(99));
        FAIL("no exception");
    } catch (const std::system_error& e) {
        CHECK(e.code() == errc::not_supported);
    }
}

namespace {
std::atomic<int> frees{0};
void count_free(void*, void*) { frees.fetch_add(1); }
} // namespace

TEST_CASE("a zero-copy body crosses threads without a copy and is freed once") {
    context ctx;
    socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    const auto ep = support::inproc_endpoint();
    a.bind(ep);
    b.connect(ep);
    static char buffer[1 << 16];
    std::thread receiver([&] {
        auto m = b.recv();
        CHECK(m.ok());
        CHECK(reinterpret_cast<const char*>(m->data()) == buffer); // same bytes, not a copy
        CHECK(m->size() == sizeof buffer);
    });
    REQUIRE(a.send(message(buffer, sizeof buffer, &count_free)).ok());
    receiver.join();
    CHECK(frees.load() == 1);
}

TEST_CASE("error codes have readable messages in the volley category") {
    std::error_code ec = errc::would_block;
    CHECK(std::string(ec.category().name()) == "volley");
    CHECK(ec.message() == "operation would block");
    CHECK(make_error_code(errc::incompatible_socket_type).message().find("incompatible") != std::string::npos);
}
