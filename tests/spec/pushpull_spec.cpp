// SPDX-License-Identifier: MPL-2.0
// PUSH and PULL over inproc (RFC 30, PIPELINE): round-robin and fair-queue
// fairness, multipart atomicity, HWM blocking and timeouts, connect before
// bind, close with linger, unbind/disconnect, context shutdown.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <thread>
#include <vector>

using namespace volley;
using namespace std::chrono_literals;

TEST_CASE("PUSH: SHALL route outgoing messages to connected peers using a round-robin strategy") {
    context ctx;
    socket push(ctx, socket_type::push);
    const auto ep = support::inproc_endpoint();
    push.bind(ep);
    std::vector<socket> pulls;
    for (int i = 0; i < 3; ++i) {
        pulls.emplace_back(ctx, socket_type::pull);
        pulls.back().connect(ep);
    }
    for (int i = 0; i < 9; ++i) REQUIRE(push.send(multipart{"head" + std::to_string(i), "tail"}).ok());
    std::set<std::string> heads;
    for (auto& pull : pulls) {
        for (int k = 0; k < 3; ++k) { // each peer got exactly three, each whole
            auto parts = pull.recv_multipart(recv_flags::dontwait);
            REQUIRE(parts.ok());
            REQUIRE(parts->size() == 2);
            CHECK((*parts)[1] == "tail");
            heads.insert((*parts)[0].to_string());
        }
        CHECK(pull.recv(recv_flags::dontwait).error() == errc::would_block);
    }
    CHECK(heads.size() == 9);
}

TEST_CASE("PULL: SHALL receive incoming messages from its peers using a fair-queuing strategy") {
    context ctx;
    socket pull(ctx, socket_type::pull);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    std::vector<socket> pushes;
    for (char name : {'A', 'B', 'C'}) {
        pushes.emplace_back(ctx, socket_type::push);
        pushes.back().connect(ep);
        for (int i = 0; i < 5; ++i) REQUIRE(pushes.back().send(std::string(1, name) + std::to_string(i)).ok());
    }
    std::vector<std::string> got;
    for (int i = 0; i < 15; ++i) got.push_back(pull.recv().value().to_string());
    // Every round of three takes one message from each sender, in each sender's order.
    for (int round = 0; round < 5; ++round) {
        std::set<char> senders;
        for (int k = 0; k < 3; ++k) {
            const auto& m = got[static_cast<std::size_t>(round * 3 + k)];
            senders.insert(m[0]);
            CHECK(m.substr(1) == std::to_string(round));
        }
        CHECK(senders.size() == 3);
    }
}

TEST_CASE("PUSH: SHALL block on send when it has no peers, or fail with would_block under dontwait") {
    context ctx;
    socket push(ctx, socket_type::push);
    push.set(opt::sndtimeo, 20ms);
    CHECK(push.send("nobody", send_flags::dontwait).error() == errc::would_block);
    CHECK(push.send("nobody").error() == errc::timed_out);
}

TEST_CASE("PUSH: SHALL block at the high-water mark of every peer, and resume as they drain") {
    context ctx;
    socket push(ctx, socket_type::push), pull(ctx, socket_type::pull);
    push.set(opt::sndhwm, 5);
    pull.set(opt::rcvhwm, 5);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    push.connect(ep);
    int sent = 0;
    while (push.send("x", send_flags::dontwait).ok()) ++sent;
    CHECK(sent == 10);
    push.set(opt::sndtimeo, 25ms);
    const auto start = std::chrono::steady_clock::now();
    CHECK(push.send("x").error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 25);
    for (int i = 0; i < sent; ++i) REQUIRE(pull.recv().ok());
    CHECK(push.send("x", send_flags::dontwait).ok());
}

TEST_CASE("PULL: a message is received whole or not at all, even if its sender dies mid-way") {
    context ctx;
    socket pull(ctx, socket_type::pull);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    {
        socket push(ctx, socket_type::push);
        push.connect(ep);
        REQUIRE(push.send("complete", send_flags::more).ok());
        REQUIRE(push.send("message").ok());
        REQUIRE(push.send("half", send_flags::more).ok());
        REQUIRE(push.send("of a message", send_flags::more).ok());
        // closed here, before the last frame
    }
    auto whole = pull.recv_multipart();
    REQUIRE(whole.ok());
    CHECK(whole->size() == 2);
    CHECK(pull.recv(recv_flags::dontwait).error() == errc::would_block);
}

TEST_CASE("PUSH: a connect before the bind queues messages until the bind") {
    context ctx;
    socket push(ctx, socket_type::push), pull(ctx, socket_type::pull);
    const auto ep = support::inproc_endpoint();
    push.connect(ep);
    for (int i = 0; i < 3; ++i) REQUIRE(push.send(std::to_string(i), send_flags::dontwait).ok());
    pull.bind(ep);
    for (int i = 0; i < 3; ++i) CHECK(pull.recv().value() == std::to_string(i));
}

TEST_CASE("PUSH: messages queued at close are still delivered within linger") {
    context ctx;
    socket pull(ctx, socket_type::pull);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    {
        socket push(ctx, socket_type::push);
        push.set(opt::linger, 10s);
        push.connect(ep);
        for (int i = 0; i < 3; ++i) REQUIRE(push.send(std::to_string(i)).ok());
    }
    for (int i = 0; i < 3; ++i) CHECK(pull.recv().value() == std::to_string(i));
    CHECK(pull.base()->pipe_count() == 0); // the drained pipe is gone
}

TEST_CASE("PUSH: with linger 0, messages still queued at close are dropped") {
    context ctx;
    socket pull(ctx, socket_type::pull);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    {
        socket push(ctx, socket_type::push);
        push.set(opt::linger, 0ms);
        push.connect(ep);
        for (int i = 0; i < 3; ++i) REQUIRE(push.send(std::to_string(i)).ok());
    }
    CHECK(pull.recv(recv_flags::dontwait).error() == errc::would_block);
    CHECK(pull.base()->pipe_count() == 0);
}

TEST_CASE("PULL: unbind closes the connections made through that endpoint") {
    context ctx;
    socket pull(ctx, socket_type::pull), push(ctx, socket_type::push);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    push.connect(ep);
    CHECK(pull.base()->pipe_count() == 1);
    pull.unbind(ep);
    CHECK(pull.base()->pipe_count() == 0);
    CHECK(push.base()->pipe_count() == 0);
    CHECK(push.send("x", send_flags::dontwait).error() == errc::would_block);
    // The name is free again.
    socket other(ctx, socket_type::pull);
    other.bind(ep);
}

TEST_CASE("PUSH: disconnect closes the connection made by connect") {
    context ctx;
    socket pull(ctx, socket_type::pull), push(ctx, socket_type::push);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    push.connect(ep);
    push.disconnect(ep);
    CHECK(push.base()->pipe_count() == 0);
    CHECK(pull.base()->pipe_count() == 0);
    std::error_code ec;
    push.disconnect(ep, ec);
    CHECK(ec == errc::endpoint_not_found);
}

TEST_CASE("context shutdown wakes a blocked recv and a blocked send with terminated") {
    context ctx;
    socket pull(ctx, socket_type::pull), push(ctx, socket_type::push);
    errc recv_error{}, send_error{};
    std::thread receiver([&] { recv_error = pull.recv().error(); });
    std::thread sender([&] { send_error = push.send("no peer").error(); });
    ctx.shutdown();
    receiver.join();
    sender.join();
    CHECK(recv_error == errc::terminated);
    CHECK(send_error == errc::terminated);
    CHECK(pull.recv(recv_flags::dontwait).error() == errc::terminated);
    std::error_code ec;
    pull.bind(support::inproc_endpoint(), ec);
    CHECK(ec == errc::terminated);
}

TEST_CASE("PUSH/PULL: one stream through a small HWM arrives complete and in order") {
    context ctx;
    socket push(ctx, socket_type::push), pull(ctx, socket_type::pull);
    push.set(opt::sndhwm, 4);
    pull.set(opt::rcvhwm, 4);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    push.connect(ep);
    constexpr int count = 100'000;
    std::thread sender([&] {
        for (int i = 0; i < count; ++i) CHECK(push.send(std::to_string(i)).ok());
    });
    int next = 0;
    for (; next < count; ++next) {
        auto m = pull.recv();
        REQUIRE(m.ok());
        if (m.value() != std::to_string(next)) break;
    }
    sender.join();
    CHECK(next == count);
}

TEST_CASE("PUSH/PULL: many senders into one receiver keep each sender's order") {
    context ctx;
    socket pull(ctx, socket_type::pull);
    pull.set(opt::rcvhwm, 8);
    const auto ep = support::inproc_endpoint();
    pull.bind(ep);
    constexpr int senders = 4, per_sender = 25'000;
    std::vector<std::thread> threads;
    for (int s = 0; s < senders; ++s) {
        threads.emplace_back([&, s] {
            socket push(ctx, socket_type::push);
            push.set(opt::sndhwm, 8);
            push.set(opt::linger, infinite);
            push.connect(ep);
            for (int i = 0; i < per_sender; ++i) CHECK(push.send(multipart{std::to_string(s), std::to_string(i)}).ok());
        });
    }
    std::map<std::string, int> next;
    bool in_order = true;
    for (int i = 0; i < senders * per_sender; ++i) {
        auto parts = pull.recv_multipart();
        REQUIRE(parts.ok());
        REQUIRE(parts->size() == 2);
        int& expected = next[(*parts)[0].to_string()];
        in_order = in_order && (*parts)[1] == std::to_string(expected);
        ++expected;
    }
    for (auto& t : threads) t.join();
    CHECK(in_order);
    CHECK(next.size() == senders);
}

TEST_CASE("PUSH cannot receive and PULL cannot send") {
    context ctx;
    socket push(ctx, socket_type::push), pull(ctx, socket_type::pull);
    CHECK(push.recv().error() == errc::not_supported);
    CHECK(pull.send("x").error() == errc::not_supported);
}

TEST_CASE("PULL: disconnecting a peer mid-message still delivers the rest of that message") {
    context ctx;
    socket x(ctx, socket_type::push), y(ctx, socket_type::push), pull(ctx, socket_type::pull);
    const auto ex = support::inproc_endpoint(), ey = support::inproc_endpoint();
    x.bind(ex);
    y.bind(ey);
    pull.connect(ex);
    pull.connect(ey);
    REQUIRE(x.send(multipart{"a", "b"}).ok());
    auto first = pull.recv();
    REQUIRE(first.ok());
    CHECK(first.value() == "a");
    CHECK(first->more());
    pull.disconnect(ex);
    auto rest = pull.recv(recv_flags::dontwait);
    REQUIRE(rest.ok());
    CHECK(rest.value() == "b");
    CHECK_FALSE(rest->more());
    CHECK(pull.base()->pipe_count() == 1); // x's pipe went with the end of the message
    REQUIRE(y.send("c").ok());
    pull.set(opt::rcvtimeo, 5s);
    CHECK(pull.recv().value() == "c");
}

TEST_CASE("PUSH: a send blocked before the bind resumes when the bind raises the high-water mark") {
    context ctx;
    socket push(ctx, socket_type::push), pull(ctx, socket_type::pull);
    push.set(opt::sndhwm, 1);
    push.set(opt::rcvhwm, 1);
    push.set(opt::sndtimeo, 10s);
    const auto ep = support::inproc_endpoint();
    push.connect(ep);
    REQUIRE(push.send("1", send_flags::dontwait).ok());
    CHECK(push.send("2", send_flags::dontwait).error() == errc::would_block); // sndhwm alone, before the bind
    send_result blocked;
    std::thread sender([&] { blocked = push.send("2"); });
    pull.set(opt::rcvhwm, 1000);
    pull.bind(ep); // the flow may now hold 1 + 1000: the sender must not wait for a recv
    sender.join();
    CHECK(blocked.ok());
    CHECK(pull.recv().value() == "1");
    CHECK(pull.recv().value() == "2");
}
