// SPDX-License-Identifier: MPL-2.0
// opt::sndbuf and opt::rcvbuf: what each tcp and ipc connection's descriptor
// is given, read back from the kernel. Both ends live in this process, so the
// test finds the connection's two descriptors in /proc/self/fd by address.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

using namespace volley;
using namespace std::chrono_literals;

namespace {

// The connected (not listening) sockets of this process whose local or peer address is
// `ep`'s: the two ends of a connection made to it.
std::vector<int> connection_fds(const std::string& ep) {
    const bool ipc = ep.rfind("ipc://", 0) == 0;
    const std::string path = ipc ? ep.substr(std::strlen("ipc://")) : "";
    const int port = ipc ? 0 : std::atoi(ep.substr(ep.rfind(':') + 1).c_str());
    auto matches = [&](const sockaddr_storage& a) {
        if (ipc) return a.ss_family == AF_UNIX && reinterpret_cast<const sockaddr_un&>(a).sun_path == path;
        return a.ss_family == AF_INET && ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port) == port;
    };
    std::vector<int> out;
    DIR* dir = ::opendir("/proc/self/fd");
    REQUIRE(dir != nullptr);
    while (const dirent* e = ::readdir(dir)) {
        const int fd = std::atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == ::dirfd(dir)) continue;
        int listening = 0;
        socklen_t len = sizeof listening;
        if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening != 0) continue;
        sockaddr_storage local{}, peer{};
        socklen_t ll = sizeof local, pl = sizeof peer;
        const bool named = ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) == 0 && matches(local);
        const bool peered = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) == 0 && matches(peer);
        if (named || peered) out.push_back(fd);
    }
    ::closedir(dir);
    return out;
}

int socket_int(int fd, int name) {
    int v = 0;
    socklen_t len = sizeof v;
    REQUIRE(::getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0);
    return v;
}

long sysctl_value(const char* path) {
    std::ifstream in(path);
    long v = 0;
    in >> v;
    return v;
}

// What getsockopt reports after setsockopt(`asked`): Linux doubles the value (for its own
// bookkeeping) after capping it at the sysctl's maximum.
int kernel_reports(int asked, const char* max_path) {
    return 2 * static_cast<int>(std::min<long>(asked, sysctl_value(max_path)));
}

// Binds a PAIR at `bind_at` and connects another, both with `setup` applied first; returns
// once both ends finished the handshake, with the two sockets kept alive in `keep`.
std::vector<int> connected_fds(context& ctx, const std::string& bind_at, std::vector<volley::socket>& keep,
                               void (*setup)(volley::socket&)) {
    keep.emplace_back(ctx, socket_type::pair);
    keep.emplace_back(ctx, socket_type::pair);
    volley::socket& a = keep[0];
    volley::socket& b = keep[1];
    setup(a);
    setup(b);
    auto ma = a.monitor();
    auto mb = b.monitor();
    a.bind(bind_at);
    b.connect(a.last_endpoint());
    support::expect_event(ma, event_type::handshake_succeeded);
    support::expect_event(mb, event_type::handshake_succeeded);
    return connection_fds(a.last_endpoint());
}

} // namespace

TEST_CASE("sndbuf and rcvbuf take -1 or a positive size, and read back") {
    context ctx;
    volley::socket s(ctx, socket_type::push);
    CHECK(s.get(opt::sndbuf) == -1);
    CHECK(s.get(opt::rcvbuf) == -1);
    for (const int bad : {0, -2}) {
        std::error_code ec;
        s.set(opt::sndbuf, bad, ec);
        CHECK(ec == errc::invalid_argument);
        s.set(opt::rcvbuf, bad, ec);
        CHECK(ec == errc::invalid_argument);
    }
    s.set(opt::sndbuf, 65536);
    s.set(opt::rcvbuf, 32768);
    CHECK(s.get(opt::sndbuf) == 65536);
    CHECK(s.get(opt::rcvbuf) == 32768);
}

TEST_CASE("ipc: a connection's send buffer is 1 MiB by default, at both ends") {
    context ctx;
    std::vector<volley::socket> keep;
    const auto fds = connected_fds(ctx, support::ipc_endpoint(), keep, [](volley::socket&) {});
    REQUIRE(fds.size() == 2);
    for (const int fd : fds) CHECK(socket_int(fd, SO_SNDBUF) == kernel_reports(1 << 20, "/proc/sys/net/core/wmem_max"));
}

TEST_CASE("ipc: opt::sndbuf sets the connection's send buffer") {
    context ctx;
    std::vector<volley::socket> keep;
    const auto fds = connected_fds(ctx, support::ipc_endpoint(), keep, [](volley::socket& s) { s.set(opt::sndbuf, 65536); });
    REQUIRE(fds.size() == 2);
    for (const int fd : fds) CHECK(socket_int(fd, SO_SNDBUF) == kernel_reports(65536, "/proc/sys/net/core/wmem_max"));
}

TEST_CASE("tcp: the kernel's buffers by default; opt::sndbuf and opt::rcvbuf set them") {
    context ctx;
    std::vector<volley::socket> plain;
    const auto untouched = connected_fds(ctx, "tcp://127.0.0.1:*", plain, [](volley::socket&) {});
    REQUIRE(untouched.size() == 2);
    // Left alone, a tcp socket starts at net.ipv4.tcp_wmem's middle value (and may grow); set,
    // it is exactly twice what was asked (and never grows).
    for (const int fd : untouched) CHECK(socket_int(fd, SO_SNDBUF) != kernel_reports(40000, "/proc/sys/net/core/wmem_max"));

    std::vector<volley::socket> tuned;
    const auto fds = connected_fds(ctx, "tcp://127.0.0.1:*", tuned, [](volley::socket& s) {
        s.set(opt::sndbuf, 40000);
        s.set(opt::rcvbuf, 50000);
    });
    REQUIRE(fds.size() == 2);
    for (const int fd : fds) {
        CHECK(socket_int(fd, SO_SNDBUF) == kernel_reports(40000, "/proc/sys/net/core/wmem_max"));
        CHECK(socket_int(fd, SO_RCVBUF) == kernel_reports(50000, "/proc/sys/net/core/rmem_max"));
    }
    REQUIRE(tuned[1].send("tuned").ok());
    tuned[0].set(opt::rcvtimeo, 10s);
    CHECK(tuned[0].recv().value() == "tuned");
}
