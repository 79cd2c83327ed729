// SPDX-License-Identifier: MPL-2.0
// Endpoint forms of the stream transports: tcp wildcards, ephemeral ports,
// IPv6 and host names; ipc files (stale ones replaced, live ones and
// non-socket files refused, removed when the endpoint closes), abstract
// names and ipc://*. And the errors that name what is wrong.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <vector>

using namespace volley;
using namespace std::chrono_literals;

namespace {

bool file_exists(const std::string& path) {
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string path_of(const std::string& ipc_uri) {
    return ipc_uri.substr(std::strlen("ipc://"));
}

// Messages flow between a socket bound at `bind_at` and one connected to its last_endpoint().
void check_exchange(context& ctx, const std::string& bind_at) {
    auto p = support::pair_up(ctx, socket_type::pair, socket_type::pair, bind_at);
    REQUIRE(p.b.send("hello").ok());
    CHECK(p.a.recv().value() == "hello");
}

} // namespace

TEST_CASE("tcp: a wildcard bind with an ephemeral port reports the port it got") {
    context ctx;
    volley::socket s(ctx, socket_type::pull);
    s.bind("tcp://*:*");
    const auto ep = s.last_endpoint();
    CHECK(ep.rfind("tcp://0.0.0.0:", 0) == 0);
    CHECK(ep.substr(ep.rfind(':') + 1) != "0");
    check_exchange(ctx, "tcp://127.0.0.1:*");
}

TEST_CASE("tcp: host names resolve") {
    context ctx;
    volley::socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    a.bind("tcp://localhost:*");
    const auto ep = a.last_endpoint();
    const auto port = ep.substr(ep.rfind(':') + 1);
    b.connect("tcp://localhost:" + port);
    REQUIRE(b.send("by name").ok());
    a.set(opt::rcvtimeo, 10s);
    CHECK(a.recv().value() == "by name");
}

TEST_CASE("tcp: IPv6 literals work") {
    context ctx;
    volley::socket probe(ctx, socket_type::pull);
    std::error_code ec;
    probe.bind("tcp://[::1]:*", ec);
    if (ec) {
        MESSAGE("skipped: no IPv6 loopback here (" << ec.message() << ")");
        return;
    }
    CHECK(probe.last_endpoint().rfind("tcp://[::1]:", 0) == 0);
    check_exchange(ctx, "tcp://[::1]:*");
}

TEST_CASE("tcp: with ipv6 set, a wildcard bind takes IPv4 clients too (dual stack)") {
    context ctx;
    volley::socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    a.set(opt::ipv6, true);
    std::error_code ec;
    a.bind("tcp://*:*", ec);
    if (ec) {
        MESSAGE("skipped: no IPv6 here (" << ec.message() << ")");
        return;
    }
    CHECK(a.last_endpoint().rfind("tcp://[::]:", 0) == 0);
    const auto ep = a.last_endpoint();
    b.connect("tcp://127.0.0.1:" + ep.substr(ep.rfind(':') + 1));
    REQUIRE(b.send("over IPv4").ok());
    a.set(opt::rcvtimeo, 10s);
    CHECK(a.recv().value() == "over IPv4");
}

TEST_CASE("tcp: binding to an interface name binds its address") {
    context ctx;
    volley::socket s(ctx, socket_type::pull);
    s.bind("tcp://lo:*"); // the loopback interface, as libzmq's "tcp://eth0:5555"
    CHECK(s.last_endpoint().rfind("tcp://127.0.0.1:", 0) == 0);
    volley::socket push(ctx, socket_type::push);
    push.connect(s.last_endpoint());
    REQUIRE(push.send("via lo").ok());
    s.set(opt::rcvtimeo, 10s);
    CHECK(s.recv().value() == "via lo");
}

TEST_CASE("tcp: a host name that does not resolve is retried, as libzmq does, and the reason reported") {
    context ctx;
    volley::socket s(ctx, socket_type::push);
    s.set(opt::reconnect_ivl, 10ms);
    auto m = s.monitor();
    s.connect("tcp://no-such-host.invalid:5555"); // no error: the name may resolve later
    CHECK(s.last_endpoint() == "tcp://no-such-host.invalid:5555");
    const auto e = support::expect_event(m, event_type::connect_retried);
    CHECK(e.error == errc::cannot_resolve);
    CHECK(e.detail.find("cannot resolve host 'no-such-host.invalid'") != std::string::npos);
    CHECK(e.endpoint == "tcp://no-such-host.invalid:5555");
    support::expect_event(m, event_type::connect_retried); // and again
}

TEST_CASE("tcp: a connect by host name reports the endpoint as given") {
    context ctx;
    volley::socket a(ctx, socket_type::pull), b(ctx, socket_type::push);
    a.bind("tcp://127.0.0.1:*");
    const auto ep = a.last_endpoint();
    const std::string by_name = "tcp://localhost:" + ep.substr(ep.rfind(':') + 1);
    auto m = b.monitor();
    b.connect(by_name);
    CHECK(b.last_endpoint() == by_name);
    CHECK(support::expect_event(m, event_type::handshake_succeeded).endpoint == by_name);
    b.disconnect(by_name);
}

namespace {

// The what() of the std::system_error that `call` throws, once its code is checked.
template <class Call>
std::string what_of(Call call, errc expected) {
    try {
        call();
    } catch (const std::system_error& e) {
        CHECK(e.code() == expected);
        return e.what();
    }
    FAIL("no exception");
    return {};
}

// Each bad endpoint fails with its code, and the exception of the throwing form names the
// cause (what a user needs to fix it).
void check_refused(socket_type type, const char* uri, bool bind, errc expected, const char* reason) {
    context ctx;
    volley::socket s(ctx, type);
    std::error_code ec;
    if (bind)
        s.bind(uri, ec);
    else
        s.connect(uri, ec);
    CHECK_MESSAGE(ec == expected, uri << " gave " << ec.message());
    const std::string what = what_of([&] { bind ? s.bind(uri) : s.connect(uri); }, expected);
    CHECK_MESSAGE(what.find(reason) != std::string::npos, uri << ": '" << what << "' does not say '" << reason << "'");
    CHECK_MESSAGE(what.find(uri) != std::string::npos, "'" << what << "' does not name the endpoint");
}

} // namespace

TEST_CASE("tcp: malformed addresses fail with a reason that names the part that is wrong") {
    const struct {
        const char* uri;
        bool bind;
        errc expected;
        const char* reason;
    } cases[] = {
        {"tcp://127.0.0.1", false, errc::invalid_endpoint, "no port"},
        {"tcp://127.0.0.1:", true, errc::invalid_endpoint, "no port"},
        {"tcp://:5555", false, errc::invalid_endpoint, "no host"},
        {"tcp://127.0.0.1:99999", false, errc::invalid_endpoint, "the port 99999 is out of range 1-65535"},
        {"tcp://127.0.0.1:123456", true, errc::invalid_endpoint, "the port 123456 is out of range 0-65535"},
        {"tcp://127.0.0.1:0", false, errc::invalid_endpoint, "the port 0 is out of range 1-65535"},
        {"tcp://127.0.0.1:*", false, errc::invalid_endpoint, "a connect needs a port"}, // a wildcard only binds
        {"tcp://*:5555", false, errc::invalid_endpoint, "a connect needs a host"},
        {"tcp://127.0.0.1:12x", true, errc::invalid_endpoint, "the port '12x' is not a number"},
        {"tcp://[::1:5555", true, errc::invalid_endpoint, "an IPv6 address goes in brackets"},
        {"tcp://[not-v6]:5555", true, errc::invalid_endpoint, "'not-v6' is not an IPv6 address"},
        {"tcp://no-such-host.invalid:5555", true, errc::cannot_resolve, "cannot resolve host 'no-such-host.invalid'"},
    };
    for (const auto& c : cases) check_refused(socket_type::push, c.uri, c.bind, c.expected, c.reason);
}

TEST_CASE("endpoints: a bad URI, an unknown scheme and an empty inproc name fail with a reason") {
    check_refused(socket_type::push, "127.0.0.1:5555", false, errc::invalid_endpoint, "<scheme>://<address>");
    check_refused(socket_type::push, "TCP!://127.0.0.1:5555", false, errc::invalid_endpoint,
                  "the scheme 'TCP!' has characters a scheme cannot have");
    check_refused(socket_type::push, "udp://127.0.0.1:5555", true, errc::unknown_scheme, "no transport 'udp'");
    check_refused(socket_type::push, "inproc://", true, errc::invalid_endpoint, "nothing after 'inproc://'");
    check_refused(socket_type::push, "ipc://*", false, errc::invalid_endpoint, "a connect needs a path");
}

TEST_CASE("endpoints: unbind and disconnect of an endpoint the socket does not have say so") {
    context ctx;
    volley::socket s(ctx, socket_type::pull);
    CHECK(what_of([&] { s.unbind("inproc://never-bound"); }, errc::endpoint_not_found)
              .find("this socket has not bound it") != std::string::npos);
    CHECK(what_of([&] { s.disconnect("inproc://never-connected"); }, errc::endpoint_not_found)
              .find("this socket has not connected it") != std::string::npos);
}

TEST_CASE("inproc: a second bind to a name, and a connect of the wrong type, fail with a reason") {
    context ctx;
    volley::socket a(ctx, socket_type::pull), b(ctx, socket_type::pull), c(ctx, socket_type::pull);
    a.bind("inproc://taken");
    CHECK(what_of([&] { b.bind("inproc://taken"); }, errc::address_in_use).find("another socket is bound to it") !=
          std::string::npos);
    CHECK(what_of([&] { c.connect("inproc://taken"); }, errc::incompatible_socket_type)
              .find("the socket bound there is a PULL, which a PULL cannot talk to") != std::string::npos);
}

TEST_CASE("tcp: a port in use fails with address_in_use") {
    context ctx;
    volley::socket a(ctx, socket_type::pull), b(ctx, socket_type::pull);
    a.bind("tcp://127.0.0.1:*");
    std::error_code ec;
    b.bind(a.last_endpoint(), ec);
    CHECK(ec == errc::address_in_use);
}

TEST_CASE("tcp: after unbind the port refuses connections") {
    context ctx;
    volley::socket a(ctx, socket_type::pull), b(ctx, socket_type::push);
    auto ma = a.monitor();
    a.bind("tcp://127.0.0.1:*");
    const auto ep = a.last_endpoint();
    a.unbind(ep);
    support::expect_event(ma, event_type::closed);
    b.set(opt::reconnect_ivl, 20ms);
    auto mb = b.monitor();
    b.connect(ep);
    CHECK(support::expect_event(mb, event_type::connect_retried).error);
}

TEST_CASE("tcp: keep-alive options are accepted and connections still work") {
    context ctx;
    volley::socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    for (volley::socket* s : {&a, &b}) {
        s->set(opt::tcp_keepalive, 1);
        s->set(opt::tcp_keepalive_idle, 30);
        s->set(opt::tcp_keepalive_cnt, 3);
        s->set(opt::tcp_keepalive_intvl, 5);
    }
    std::error_code ec;
    a.set(opt::tcp_keepalive, 2, ec);
    CHECK(ec == errc::invalid_argument);
    auto ma = a.monitor();
    a.bind("tcp://127.0.0.1:*");
    b.connect(a.last_endpoint());
    support::expect_event(ma, event_type::handshake_succeeded);
    REQUIRE(b.send("alive").ok());
    a.set(opt::rcvtimeo, 10s);
    CHECK(a.recv().value() == "alive");
}

TEST_CASE("ipc: a socket file left by a dead process is replaced") {
    const std::string ep = support::ipc_endpoint();
    const std::string path = path_of(ep);
    { // a listener that dies without removing its file
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        ::close(fd);
    }
    REQUIRE(file_exists(path));
    context ctx;
    check_exchange(ctx, ep);
}

TEST_CASE("ipc: a path a live socket listens on is in use") {
    context ctx;
    volley::socket a(ctx, socket_type::pull), b(ctx, socket_type::pull);
    const std::string ep = support::ipc_endpoint();
    a.bind(ep);
    std::error_code ec;
    b.bind(ep, ec);
    CHECK(ec == errc::address_in_use);
    CHECK(file_exists(path_of(ep)));
}

TEST_CASE("ipc: a path whose listener never accepts (full backlog) is in use, without hanging the bind") {
    const std::string ep = support::ipc_endpoint();
    const std::string path = path_of(ep);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    const int listener = ::socket(AF_UNIX, SOCK_STREAM, 0); // a stopped process: listens, never accepts
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 0) == 0);
    std::vector<int> queued;
    for (int i = 0; i < 16; ++i) { // fill the backlog until a connect would block
        const int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        queued.push_back(c);
        if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno == EAGAIN) break;
    }
    context ctx;
    volley::socket s(ctx, socket_type::pull);
    std::error_code ec;
    auto bound = std::async(std::launch::async, [&] { s.bind(ep, ec); });
    REQUIRE(bound.wait_for(10s) == std::future_status::ready); // a blocking probe would hang here
    CHECK(ec == errc::address_in_use);
    CHECK(file_exists(path)); // a live listener's file is left alone
    for (int c : queued) ::close(c);
    ::close(listener);
    ::unlink(path.c_str());
}

TEST_CASE("ipc: a path holding an ordinary file is in use, and the file is left alone") {
    const std::string ep = support::ipc_endpoint();
    const std::string path = path_of(ep);
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "precious", 8) == 8);
    ::close(fd);
    context ctx;
    volley::socket s(ctx, socket_type::pull);
    std::error_code ec;
    s.bind(ep, ec);
    CHECK(ec == errc::address_in_use);
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(st.st_size == 8);
    ::unlink(path.c_str());
}

TEST_CASE("ipc: the socket file is removed on unbind and on close") {
    context ctx;
    const std::string ep1 = support::ipc_endpoint(), ep2 = support::ipc_endpoint();
    volley::socket s(ctx, socket_type::pull);
    auto m = s.monitor();
    s.bind(ep1);
    s.bind(ep2);
    CHECK(file_exists(path_of(ep1)));
    s.unbind(ep1);
    support::expect_event(m, event_type::closed);
    CHECK_FALSE(file_exists(path_of(ep1)));
    s.close();
    support::expect_event(m, event_type::closed);
    CHECK_FALSE(file_exists(path_of(ep2)));
}

TEST_CASE("ipc: abstract names work and leave no file") {
    context ctx;
    const std::string name = "@volley-test-" + std::to_string(::getpid());
    check_exchange(ctx, "ipc://" + name);
    CHECK_FALSE(file_exists(name));
}

TEST_CASE("ipc: ipc://* is not stopped by files planted at names an attacker could predict") {
    std::vector<std::string> planted;
    for (int i = 0; i < 8; ++i) { // pid and counter alone made the name
        planted.push_back("/tmp/volley-" + std::to_string(::getpid()) + "-" + std::to_string(i) + ".ipc");
        const int fd = ::open(planted.back().c_str(), O_CREAT | O_WRONLY, 0600);
        if (fd >= 0) ::close(fd);
    }
    context ctx;
    volley::socket s(ctx, socket_type::pull);
    std::error_code ec;
    s.bind("ipc://*", ec);
    CHECK_FALSE(ec);
    for (const auto& p : planted) ::unlink(p.c_str());
}

TEST_CASE("ipc: ipc://* binds a fresh path and reports it") {
    context ctx;
    volley::socket s(ctx, socket_type::pull);
    s.bind("ipc://*");
    const auto ep = s.last_endpoint();
    CHECK(ep.rfind("ipc://", 0) == 0);
    CHECK(ep != "ipc://*");
    CHECK(file_exists(path_of(ep)));
}

TEST_CASE("ipc: a path too long for a unix socket is an invalid endpoint, and the error gives the limit") {
    const std::string uri = "ipc:///tmp/" + std::string(200, 'x');
    check_refused(socket_type::pull, uri.c_str(), true, errc::invalid_endpoint,
                  "the path is 205 bytes, over the 107-byte limit of a unix socket");
    check_refused(socket_type::push, ("ipc://@" + std::string(120, 'x')).c_str(), false, errc::invalid_endpoint,
                  "the abstract name is 120 bytes, over the 107-byte limit");
}
