// SPDX-License-Identifier: MPL-2.0
// rdma:// under faults, on real verbs (the Soft-RoCE VM): a peer that is not
// volley (a bare rdma_cm client) is refused with the reason on both sides,
// and the bind still serves a volley peer; a connect to nobody says so; a
// peer process killed with
// SIGKILL mid-stream is seen to go, and its replacement is served. Every
// wait is bounded.
#include "support/test_support.hpp"
#include "rdma_hello.hpp"

#include <doctest/doctest.h>

#include <rdma/rdma_cma.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <netdb.h>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace volley;
using namespace std::chrono_literals;

namespace {

// A bare rdma_cm client: resolves, makes a QP, connects with `private_data`; returns the
// event the connect ended with and, for REJECTED, the private data the listener sent.
struct bare_result {
    rdma_cm_event_type event{};
    std::string reject_text;
};

bool wait_event(rdma_event_channel* ch, rdma_cm_event_type want, bare_result& r, std::string& reject) {
    pollfd p{ch->fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return false;
    rdma_cm_event* ev = nullptr;
    if (rdma_get_cm_event(ch, &ev) != 0) return false;
    r.event = ev->event;
    if (ev->event == RDMA_CM_EVENT_REJECTED && ev->param.conn.private_data != nullptr)
        reject.assign(static_cast<const char*>(ev->param.conn.private_data),
                      strnlen(static_cast<const char*>(ev->param.conn.private_data), ev->param.conn.private_data_len));
    rdma_ack_cm_event(ev);
    return r.event == want;
}

bare_result bare_connect(const std::string& endpoint, const void* private_data, std::uint8_t len) {
    bare_result r;
    const std::string hostport = endpoint.substr(std::strlen("rdma://"));
    const auto colon = hostport.rfind(':');
    addrinfo* ai = nullptr;
    REQUIRE(::getaddrinfo(hostport.substr(0, colon).c_str(), hostport.substr(colon + 1).c_str(), nullptr, &ai) == 0);
    rdma_event_channel* ch = rdma_create_event_channel();
    REQUIRE(ch != nullptr);
    rdma_cm_id* id = nullptr;
    REQUIRE(rdma_create_id(ch, &id, nullptr, RDMA_PS_TCP) == 0);
    std::string reject;
    REQUIRE(rdma_resolve_addr(id, nullptr, ai->ai_addr, 2000) == 0);
    ::freeaddrinfo(ai);
    REQUIRE(wait_event(ch, RDMA_CM_EVENT_ADDR_RESOLVED, r, reject));
    REQUIRE(rdma_resolve_route(id, 2000) == 0);
    REQUIRE(wait_event(ch, RDMA_CM_EVENT_ROUTE_RESOLVED, r, reject));
    ibv_qp_init_attr attr{};
    attr.qp_type = IBV_QPT_RC;
    attr.cap.max_send_wr = attr.cap.max_recv_wr = 4;
    attr.cap.max_send_sge = attr.cap.max_recv_sge = 1;
    REQUIRE(rdma_create_qp(id, nullptr, &attr) == 0);
    rdma_conn_param p{};
    p.private_data = private_data;
    p.private_data_len = len;
    p.retry_count = 7;
    REQUIRE(rdma_connect(id, &p) == 0);
    wait_event(ch, RDMA_CM_EVENT_REJECTED, r, reject);
    r.reject_text = reject;
    rdma_destroy_qp(id);
    rdma_destroy_id(id);
    rdma_destroy_event_channel(ch);
    return r;
}

} // namespace

TEST_CASE("a bare rdma_cm peer is refused with the reason on both sides, and a volley peer is served after it") {
    context ctx;
    volley::socket pull(ctx, socket_type::pull);
    auto m = pull.monitor();
    pull.set(opt::rcvtimeo, 5000ms);
    pull.bind(support::rdma_scheme::bind_endpoint());
    const std::string ep = pull.last_endpoint();
    for (const std::string& data : {std::string(), std::string("GET / HTTP/1.1\r\n")}) {
        CAPTURE(data);
        const auto r = bare_connect(ep, data.empty() ? nullptr : data.data(), static_cast<std::uint8_t>(data.size()));
        CHECK(r.event == RDMA_CM_EVENT_REJECTED);
        CHECK_MESSAGE(r.reject_text.find("volley: not a volley peer") == 0, r.reject_text);
        const auto e = support::expect_event(m, event_type::handshake_failed);
        CHECK(e.error == errc::protocol_error);
        CHECK_MESSAGE(e.detail.find("not a volley peer") != std::string::npos, e.detail);
    }
    // A volley hello of another version: refused, naming the versions.
    std::byte hello[detail::rdma_hello_size];
    detail::write_hello(detail::rdma_hello{socket_type::push, 3, 1, false, 8192, 16, "NULL"}, hello);
    hello[3] = std::byte{9};
    const auto r = bare_connect(ep, hello, sizeof hello);
    CHECK(r.event == RDMA_CM_EVENT_REJECTED);
    CHECK_MESSAGE(r.reject_text.find("hello version 9") != std::string::npos, r.reject_text);
    CHECK(support::expect_event(m, event_type::handshake_failed).detail.find("version 9") != std::string::npos);
    volley::socket push(ctx, socket_type::push);
    push.connect(ep);
    REQUIRE(push.send("still served").ok());
    const auto got = pull.recv();
    REQUIRE(got.ok());
    CHECK(got->view() == "still served");
}

TEST_CASE("a connect to a port nobody listens on is retried, naming why") {
    context ctx;
    volley::socket push(ctx, socket_type::push);
    push.set(opt::reconnect_ivl, 50ms);
    auto m = push.monitor();
    {
        volley::socket pull(ctx, socket_type::pull);
        pull.bind(support::rdma_scheme::bind_endpoint());
        const std::string ep = pull.last_endpoint();
        pull.close(); // nothing listens there now
        push.connect(ep);
    }
    const auto e = support::expect_event(m, event_type::connect_retried);
    CHECK_FALSE(e.detail.empty());
    MESSAGE("a connect to nobody: " << e.detail);
}

TEST_CASE("a peer killed with SIGKILL mid-stream is seen to go, and the next one is served") {
    context ctx;
    volley::socket pull(ctx, socket_type::pull);
    auto m = pull.monitor();
    pull.set(opt::rcvtimeo, 10000ms);
    pull.bind(support::rdma_scheme::bind_endpoint());
    const std::string ep = pull.last_endpoint();
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) { // a sender that never stops, until it is killed (rdma_main.cpp)
        ::execl("/proc/self/exe", "rdma_fault", "--volley-rdma-sender", ep.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    support::expect_event(m, event_type::handshake_succeeded);
    int got = 0;
    for (; got < 200; ++got) REQUIRE(pull.recv().ok());
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    const auto gone = m.wait_for(event_type::disconnected, 30s);
    REQUIRE_MESSAGE(gone.has_value(), "the killed peer's connection was never seen to end");
    MESSAGE("killed peer: " << gone->detail);
    while (pull.recv(recv_flags::dontwait).ok()) {
    } // what arrived before the kill stays readable
    volley::socket push(ctx, socket_type::push);
    push.connect(ep);
    REQUIRE(push.send("after the kill").ok());
    for (;;) { // whole messages of the dead peer may precede it
        const auto msg = pull.recv();
        REQUIRE(msg.ok());
        if (msg->view() == "after the kill") break;
        CHECK(msg->view().find_first_not_of('k') == std::string::npos);
    }
}
