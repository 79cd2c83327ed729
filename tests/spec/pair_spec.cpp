// SPDX-License-Identifier: MPL-2.0
// PAIR over inproc (RFC 31, EXPAIR). Cases are named after the RFC's
// SHALL sentences where there is one.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace volley;
using namespace std::chrono_literals;

TEST_CASE("PAIR: messages flow both ways between the two peers") {
    context ctx;
    socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    const auto ep = support::inproc_endpoint();
    a.bind(ep);
    b.connect(ep);
    REQUIRE(a.send("ping").ok());
    CHECK(b.recv().value() == "ping");
    REQUIRE(b.send("pong").ok());
    CHECK(a.recv().value() == "pong");
}

TEST_CASE("PAIR: SHALL deliver a multipart message whole, frames in order") {
    context ctx;
    socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    const auto ep = support::inproc_endpoint();
    a.bind(ep);
    b.connect(ep);
    REQUIRE(a.send("1", send_flags::more).ok());
    REQUIRE(a.send("2", send_flags::more).ok());
    CHECK(b.recv(recv_flags::dontwait).error() == errc::would_block); // not before the last frame
    REQUIRE(a.send("3").ok());
    auto parts = b.recv_multipart();
    REQUIRE(parts.ok());
    REQUIRE(parts->size() == 3);
    CHECK((*parts)[0] == "1");
    CHECK((*parts)[0].more());
    CHECK((*parts)[2] == "3");
    CHECK_FALSE((*parts)[2].more());

    REQUIRE(b.send(multipart{"x", "y"}).ok());
    auto first = a.recv();
    REQUIRE(first.ok());
    CHECK(first.value() == "x");
    CHECK(first->more());
    CHECK(a.recv().value() == "y");
}

TEST_CASE("PAIR: SHALL NOT accept more than one peer at a time") {
    context ctx;
    socket a(ctx, socket_type::pair), b(ctx, socket_type::pair), intruder(ctx, socket_type::pair);
    const auto ep = support::inproc_endpoint();
    a.bind(ep);
    b.connect(ep);
    intruder.connect(ep);
    CHECK(a.base()->pipe_count() == 1);
    REQUIRE(b.send("from b").ok());
    CHECK(a.recv().value() == "from b");
    // The intruder's pipe was closed by a: it has no peer to send to.
    CHECK(intruder.base()->pipe_count() == 0);
    CHECK(intruder.send("lost?", send_flags::dontwait).error() == errc::would_block);
}

TEST_CASE("PAIR: a connect before the bind waits for it, and what was sent meanwhile arrives") {
    context ctx;
    socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    const auto ep = support::inproc_endpoint();
    b.connect(ep);
    REQUIRE(b.send("early").ok());
    a.bind(ep);
    CHECK(a.recv().value() == "early");
    REQUIRE(a.send("reply").ok());
    CHECK(b.recv().value() == "reply");
}

TEST_CASE("PAIR: SHALL block on send at the high-water mark, and time out") {
    context ctx;
    socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    a.set(opt::sndhwm, 2);
    b.set(opt::rcvhwm, 2); // inproc: the pipe holds sndhwm + rcvhwm
    const auto ep = support::inproc_endpoint();
    b.bind(ep);
    a.connect(ep);
    for (int i = 0; i < 4; ++i) REQUIRE(a.send("m", send_flags::dontwait).ok());
    CHECK(a.send("m", send_flags::dontwait).error() == errc::would_block);
    a.set(opt::sndtimeo, 30ms);
    const auto start = std::chrono::steady_clock::now();
    CHECK(a.send("m").error() == errc::timed_out);
    CHECK(support::ms_since(start) >= 30);
    // Draining the peer lets the sender go on.
    for (int i = 0; i < 4; ++i) REQUIRE(b.recv().ok());
    CHECK(a.send("m").ok());
}

TEST_CASE("PAIR: a blocked send resumes when the peer reads") {
    context ctx;
    socket a(ctx, socket_type::pair), b(ctx, socket_type::pair);
    a.set(opt::sndhwm, 1);
    b.set(opt::rcvhwm, 1);
    const auto ep = support::inproc_endpoint();
    b.bind(ep);
    a.connect(ep);
    std::thread sender([&] {
        for (int i = 0; i < 1000; ++i) CHECK(a.send(std::to_string(i)).ok());
    });
    for (int i = 0; i < 1000; ++i) REQUIRE(b.recv().value() == std::to_string(i));
    sender.join();
}

TEST_CASE("PAIR: a second connect made before the bind is refused at the bind") {
    context ctx;
    socket a(ctx, socket_type::pair), c(ctx, socket_type::pair);
    const auto ep = support::inproc_endpoint();
    c.connect(ep);
    std::error_code ec;
    c.connect(ep, ec); // c itself keeps one peer; the bind must cope with the extra pipe
    a.bind(ep);
    CHECK(a.base()->pipe_count() == 1);
    REQUIRE(c.send("x").ok());
    CHECK(a.recv().value() == "x");
}

TEST_CASE("PAIR: a message whose peer left mid-way is dropped whole, and the next peer gets whole messages") {
    context ctx;
    socket a(ctx, socket_type::pair);
    const auto ep = support::inproc_endpoint();
    a.bind(ep);
    {
        socket b(ctx, socket_type::pair);
        b.connect(ep);
        REQUIRE(b.send("left 1").ok());
        REQUIRE(b.send("left 2").ok());
        REQUIRE(a.send("f1", send_flags::more).ok());
    } // b leaves with two messages for a still queued, while a is mid-message towards b
    CHECK(a.recv(recv_flags::dontwait).value() == "left 1");
    CHECK(a.send("f2", send_flags::more).ok()); // accepted and dropped: b is gone
    CHECK(a.send("f3").ok());
    CHECK(a.recv(recv_flags::dontwait).value() == "left 2");
    CHECK(a.recv(recv_flags::dontwait).error() == errc::would_block);
    socket c(ctx, socket_type::pair);
    c.connect(ep);
    REQUIRE(a.send("hello").ok());
    c.set(opt::rcvtimeo, 5s);
    auto got = c.recv();
    REQUIRE(got.ok());
    CHECK(got.value() == "hello");
    CHECK_FALSE(got->more());
}
