// SPDX-License-Identifier: MPL-2.0
// The transport conformance suite: written once, run on every transport
// (doctest TEST_CASE_TEMPLATE_DEFINE, like nng's NUTS_DECLARE_TRAN_TESTS).
// Whatever a socket promises must hold whichever scheme its endpoint names.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <future>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <vector>

using namespace volley;
using namespace std::chrono_literals;

namespace {

// A port nobody listens on right now (tcp), a path nobody bound (ipc), an unused name.
template <class Scheme>
std::string unused_endpoint() {
    return Scheme::unused_endpoint();
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("a message crosses both ways", Scheme, exchange) {
    context ctx;
    auto p = support::pair_up<Scheme>(ctx, socket_type::pair, socket_type::pair);
    REQUIRE(p.b.send("ping").ok());
    CHECK(p.a.recv().value() == "ping");
    REQUIRE(p.a.send("pong").ok());
    CHECK(p.b.recv().value() == "pong");
}

TEST_CASE_TEMPLATE_DEFINE("a multipart message arrives whole, frames in order", Scheme, multipart_whole) {
    context ctx;
    auto p = support::pair_up<Scheme>(ctx, socket_type::pair, socket_type::pair);
    REQUIRE(p.a.send(multipart{"one", "", "three"}).ok());
    auto got = p.b.recv_multipart();
    REQUIRE(got.ok());
    REQUIRE(got->size() == 3);
    CHECK((*got)[0] == "one");
    CHECK((*got)[1].empty());
    CHECK((*got)[2] == "three");
}

TEST_CASE_TEMPLATE_DEFINE("0-byte and 4 MiB messages arrive intact", Scheme, sizes) {
    context ctx;
    auto p = support::pair_up<Scheme>(ctx, socket_type::pair, socket_type::pair);
    message big(std::size_t{4} << 20);
    for (std::size_t i = 0; i < big.size(); ++i) big.data()[i] = static_cast<std::byte>(i * 31 + 7);
    const message copy = big;
    REQUIRE(p.a.send(message()).ok());
    REQUIRE(p.a.send(std::move(big)).ok());
    CHECK(p.b.recv().value().empty());
    auto got = p.b.recv();
    REQUIRE(got.ok());
    REQUIRE(got->size() == copy.size());
    CHECK(std::memcmp(got->data(), copy.data(), copy.size()) == 0);
}

TEST_CASE_TEMPLATE_DEFINE("the high-water mark bounds what is queued, and nothing queued is lost", Scheme, hwm) {
    context ctx;
    socket push(ctx, socket_type::push), pull(ctx, socket_type::pull);
    push.set(opt::sndhwm, 10);
    pull.set(opt::rcvhwm, 10);
    auto mp = push.monitor();
    pull.bind(Scheme::bind_endpoint());
    push.connect(pull.last_endpoint());
    support::expect_event(mp, event_type::handshake_succeeded);
    // The peer does not read: sends are accepted up to the marks (plus what the kernel
    // buffers for stream transports), then refused. The bound proves back-pressure works.
    const message body(std::size_t{1000});
    int sent = 0;
    const auto start = std::chrono::steady_clock::now();
    while (sent < 1'000'000 && support::ms_since(start) < 10'000) {
        if (push.send(message(body), send_flags::dontwait).ok()) {
            ++sent;
            continue;
        }
        // Refused: make sure it stays refused (a stream transport may still be moving bytes
        // into the kernel), by trying again after the I/O thread had time to fill it.
        push.set(opt::sndtimeo, 200ms);
        if (!push.send(message(body)).ok()) break;
        ++sent;
    }
    CHECK(sent >= 10);
    CHECK(sent < 1'000'000);
    INFO(Scheme::name << ": " << sent << " messages accepted before the high-water mark");
    // The sender closes while the receiver is at its mark (libzmq#4660 loses messages
    // here on ipc): everything it queued still arrives.
    push.set(opt::linger, 10s);
    push.close();
    pull.set(opt::rcvtimeo, 5s);
    int received = 0;
    while (received < sent && pull.recv().ok()) ++received;
    CHECK(received == sent);
    CHECK(pull.recv(recv_flags::dontwait).error() == errc::would_block);
}

TEST_CASE_TEMPLATE_DEFINE("a connect made before the bind delivers once the bind comes", Scheme, connect_first) {
    context ctx;
    const std::string ep = unused_endpoint<Scheme>();
    socket push(ctx, socket_type::push), pull(ctx, socket_type::pull);
    push.set(opt::reconnect_ivl, 10ms);
    push.connect(ep);
    REQUIRE(push.send("early", send_flags::dontwait).ok()); // queued in the pipe
    pull.bind(ep);
    pull.set(opt::rcvtimeo, 10s);
    CHECK(pull.recv().value() == "early");
}

TEST_CASE_TEMPLATE_DEFINE("messages sent before the connection are delivered after the sender closed",
                          Scheme, deliver_after_close) {
    context ctx;
    const std::string ep = unused_endpoint<Scheme>();
    {
        socket push(ctx, socket_type::push);
        push.set(opt::reconnect_ivl, 10ms);
        push.set(opt::linger, 10s);
        push.connect(ep);
        for (int i = 0; i < 3; ++i) REQUIRE(push.send(std::to_string(i), send_flags::dontwait).ok());
    } // closed before any peer exists: the messages wait, within linger
    socket pull(ctx, socket_type::pull);
    pull.bind(ep);
    pull.set(opt::rcvtimeo, 10s);
    for (int i = 0; i < 3; ++i) CHECK(pull.recv().value() == std::to_string(i));
}

TEST_CASE_TEMPLATE_DEFINE("a connection comes back after the peer restarts", Scheme, reconnect) {
    if constexpr (!Scheme::stream) return; // inproc has no connection to lose
    context ctx;
    socket push(ctx, socket_type::push);
    push.set(opt::reconnect_ivl, 10ms);
    auto mp = push.monitor();
    std::string ep;
    {
        socket pull(ctx, socket_type::pull);
        pull.bind(Scheme::bind_endpoint());
        ep = pull.last_endpoint();
        push.connect(ep);
        support::expect_event(mp, event_type::handshake_succeeded);
        REQUIRE(push.send("before").ok());
        pull.set(opt::rcvtimeo, 10s);
        CHECK(pull.recv().value() == "before");
    } // the peer goes away
    support::expect_event(mp, event_type::disconnected);
    socket pull2(ctx, socket_type::pull);
    pull2.bind(ep);
    support::expect_event(mp, event_type::handshake_succeeded);
    REQUIRE(push.send("after").ok());
    pull2.set(opt::rcvtimeo, 10s);
    CHECK(pull2.recv().value() == "after");
}

TEST_CASE_TEMPLATE_DEFINE("a refused connection is retried, and reported", Scheme, refused) {
    if constexpr (!Scheme::stream) return; // an inproc connect waits for its bind instead
    context ctx;
    socket push(ctx, socket_type::push);
    push.set(opt::reconnect_ivl, 20ms);
    auto mp = push.monitor();
    push.connect(unused_endpoint<Scheme>());
    const auto first = support::expect_event(mp, event_type::connect_retried);
    CHECK(first.error);
    CHECK(first.interval >= 20ms);
    support::expect_event(mp, event_type::connect_retried); // and again
    CHECK(push.send("nobody", send_flags::dontwait).ok()); // queued, not lost, not an error
}

TEST_CASE_TEMPLATE_DEFINE("close with linger flushes what was sent", Scheme, linger_flush) {
    context ctx;
    socket pull(ctx, socket_type::pull);
    pull.bind(Scheme::bind_endpoint());
    constexpr int count = 1000;
    {
        socket push(ctx, socket_type::push);
        auto mp = push.monitor();
        push.set(opt::linger, 10s);
        push.connect(pull.last_endpoint());
        support::expect_event(mp, event_type::handshake_succeeded);
        for (int i = 0; i < count; ++i) REQUIRE(push.send(std::to_string(i)).ok());
    } // closed at once, with everything still queued
    pull.set(opt::rcvtimeo, 10s);
    int next = 0;
    for (; next < count; ++next) {
        auto m = pull.recv();
        if (!m || m.value() != std::to_string(next)) break;
    }
    CHECK(next == count);
}

TEST_CASE_TEMPLATE_DEFINE("one bind serves 100 peers", Scheme, many_peers) {
    context ctx;
    socket pull(ctx, socket_type::pull);
    auto mp = pull.monitor();
    pull.bind(Scheme::bind_endpoint());
    const std::string ep = pull.last_endpoint();
    constexpr int peers = 100;
    std::vector<socket> pushes;
    pushes.reserve(peers);
    for (int i = 0; i < peers; ++i) {
        pushes.emplace_back(ctx, socket_type::push);
        pushes.back().connect(ep);
    }
    for (int i = 0; i < peers; ++i) support::expect_event(mp, event_type::handshake_succeeded);
    for (int i = 0; i < peers; ++i) REQUIRE(pushes[static_cast<std::size_t>(i)].send(std::to_string(i)).ok());
    pull.set(opt::rcvtimeo, 10s);
    std::set<std::string> got;
    for (int i = 0; i < peers; ++i) {
        auto m = pull.recv();
        REQUIRE(m.ok());
        got.insert(m->to_string());
    }
    CHECK(got.size() == peers);
}

TEST_CASE_TEMPLATE_DEFINE("small and large messages alternate, each arriving on its own", Scheme, large_then_small) {
    // Each message is the last one sent until it is answered, so a receiver still waiting
    // for more bytes than a message has (say, the rest of a large body already read) hangs.
    context ctx;
    auto p = support::pair_up<Scheme>(ctx, socket_type::pair, socket_type::pair);
    p.a.set(opt::rcvtimeo, 5s);
    p.b.set(opt::rcvtimeo, 5s);
    for (std::size_t round = 0; round < 30; ++round) {
        const std::size_t size = (std::size_t{256} << 10) + round * 1000;
        message big(size);
        std::memset(big.data(), static_cast<int>(round), size);
        REQUIRE(p.a.send(std::move(big)).ok());
        // Pacing, not waiting: the receiver comes to recv() at a different point of the
        // large body's arrival each round (before, during, after), and now and then the
        // small message comes after the receiver fell asleep (the reactor reads again).
        std::this_thread::sleep_for(std::chrono::microseconds(round * 5));
        auto got = p.b.recv();
        REQUIRE_MESSAGE(got.ok(), "round " << round << ": large message lost: " << got.error_code().message());
        CHECK(got->size() == size);
        REQUIRE(p.b.send("ack").ok());
        REQUIRE(p.a.recv().value() == "ack");
        if (round % 2 == 1) std::this_thread::sleep_for(1ms);
        REQUIRE(p.a.send("small " + std::to_string(round)).ok());
        auto small = p.b.recv();
        REQUIRE_MESSAGE(small.ok(), "round " << round << ": small message lost: " << small.error_code().message());
        CHECK(small.value() == "small " + std::to_string(round));
    }
}

TEST_CASE_TEMPLATE_DEFINE("a stream of 100000 small messages arrives complete and in order", Scheme, stream_order) {
    context ctx;
    auto p = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    constexpr int count = 100'000;
    std::thread sender([&] {
        for (int i = 0; i < count; ++i) CHECK(p.b.send(std::to_string(i)).ok());
    });
    p.a.set(opt::rcvtimeo, 10s);
    int next = 0;
    for (; next < count; ++next) {
        auto m = p.a.recv();
        if (!m || m.value() != std::to_string(next)) break;
    }
    sender.join();
    CHECK(next == count);
}

TEST_CASE_TEMPLATE_DEFINE("one-frame and multipart messages interleaved arrive whole and in order", Scheme,
                          mixed_stream) {
    // A receiver that reads the connection itself hands a lone one-frame message straight
    // to recv(); a frame in the middle of a multipart message, or one behind queued frames,
    // must not be taken for one.
    context ctx;
    auto p = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    constexpr int count = 50'000;
    std::thread sender([&] {
        for (int i = 0; i < count; ++i) {
            const std::string n = std::to_string(i);
            if (i % 3 == 0)
                CHECK(p.b.send(multipart{"head " + n, "", "tail " + n}).ok());
            else
                CHECK(p.b.send(n).ok());
        }
    });
    p.a.set(opt::rcvtimeo, 10s);
    int next = 0;
    for (; next < count; ++next) {
        auto m = p.a.recv_multipart();
        if (!m) break;
        const std::string n = std::to_string(next);
        const bool whole = next % 3 == 0 ? m->size() == 3 && (*m)[0] == "head " + n && (*m)[1].empty() &&
                                               (*m)[2] == "tail " + n
                                         : m->size() == 1 && (*m)[0] == n;
        if (!whole) break;
    }
    sender.join();
    CHECK(next == count);
}

TEST_CASE_TEMPLATE_DEFINE("the end of a burst arrives while the sender calls nothing more", Scheme, burst_tail) {
    // Back-to-back sends are batched by the connection; a burst that stops leaves a batch
    // that only the connection's own deadline writes out. The sender waits on the receiver
    // here, outside volley, after each burst: nothing it does could push the tail out.
    context ctx;
    auto p = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    p.a.set(opt::rcvtimeo, 5s);
    for (int round = 0; round < 20; ++round) {
        const int count = 1 + round * 13;
        std::promise<int> received;
        auto done = received.get_future();
        std::thread receiver([&] {
            int got = 0;
            for (; got < count; ++got) {
                auto m = p.a.recv_multipart();
                if (!m || m->size() != 2 || (*m)[1] != std::to_string(got)) break;
            }
            received.set_value(got);
        });
        for (int i = 0; i < count; ++i) REQUIRE(p.b.send(multipart{"tail", std::to_string(i)}).ok());
        const bool arrived = done.wait_for(5s) == std::future_status::ready;
        receiver.join();
        CHECK_MESSAGE(arrived, "round " << round << ": the burst's end never came");
        CHECK(done.get() == count);
    }
}

TEST_CASE_TEMPLATE_DEFINE("a sender kept waiting by a receiver that pauses loses nothing and never stalls", Scheme,
                          stream_with_pauses) {
    // The receiver stops now and then (its pace, not a wait for an event), so the sender's
    // output backs up: the kernel's buffer fills, the connection's queue fills, and sending
    // switches between the socket's thread and the I/O thread many times. Each switch must
    // leave somebody draining the queue.
    context ctx;
    auto p = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    constexpr int count = 400'000;
    const std::string body(64, 'b');
    p.b.set(opt::sndtimeo, 10s);
    std::thread sender([&] {
        for (int i = 0; i < count; ++i) {
            if (!p.b.send(body).ok()) {
                CHECK_MESSAGE(false, "send " << i << " timed out");
                return;
            }
        }
    });
    p.a.set(opt::rcvtimeo, 10s);
    int got = 0;
    for (; got < count; ++got) {
        if (got % 4000 == 0) std::this_thread::sleep_for(1ms);
        if (!p.a.recv().ok()) break;
    }
    sender.join();
    CHECK(got == count);
}

TEST_CASE_TEMPLATE_DEFINE("an incompatible peer is refused", Scheme, incompatible) {
    context ctx;
    socket a(ctx, socket_type::push), b(ctx, socket_type::push);
    auto mb = b.monitor();
    a.bind(Scheme::bind_endpoint());
    std::error_code ec;
    b.connect(a.last_endpoint(), ec);
    if (ec) { // inproc knows at once
        CHECK(ec == errc::incompatible_socket_type);
        return;
    }
    const auto e = support::expect_event(mb, event_type::handshake_failed);
    CHECK(e.error == errc::incompatible_socket_type);
    CHECK(e.detail.find("PUSH") != std::string::npos);
}

TEST_CASE_TEMPLATE_DEFINE("a monitor made after bind and connect hears those endpoints", Scheme, late_monitor) {
    context ctx;
    socket pull(ctx, socket_type::pull), push(ctx, socket_type::push);
    pull.bind(Scheme::bind_endpoint());
    auto mp = pull.monitor(); // after the bind: the endpoint exists already
    push.connect(pull.last_endpoint());
    support::expect_event(mp, event_type::accepted);
    support::expect_event(mp, event_type::handshake_succeeded);
    if constexpr (Scheme::stream) { // a connect's later life: retries after a refusal
        socket lonely(ctx, socket_type::push);
        lonely.set(opt::reconnect_ivl, 10ms);
        lonely.connect(unused_endpoint<Scheme>());
        auto ml = lonely.monitor();
        support::expect_event(ml, event_type::connect_retried);
    }
}

TEST_CASE_TEMPLATE_DEFINE("at every busy_poll a blocked call wakes for its peer's message", Scheme, busy_poll_wakes) {
    // 0 sleeps at once (every reply wakes a sleeping thread), 1 us spins barely, 20000 us
    // spins through most waits, -1 is the socket's choice: round trips complete in each.
    for (const int us : {0, 1, 20'000, -1}) {
        CAPTURE(us);
        context ctx;
        auto p = support::pair_up<Scheme>(ctx, socket_type::pair, socket_type::pair);
        p.a.set(opt::busy_poll, us);
        p.b.set(opt::busy_poll, us);
        CHECK(p.a.get(opt::busy_poll) == us);
        p.a.set(opt::rcvtimeo, 10s);
        p.b.set(opt::rcvtimeo, 10s);
        constexpr int rounds = 200;
        std::thread echo([&] {
            for (int i = 0; i < rounds; ++i) {
                auto m = p.a.recv();
                if (!m || !p.a.send(std::move(*m)).ok()) return;
            }
        });
        int answered = 0;
        for (int i = 0; i < rounds; ++i) {
            const std::string body = std::to_string(i);
            if (!p.b.send(body).ok()) break;
            auto r = p.b.recv();
            if (!r || *r != body) break;
            ++answered;
        }
        echo.join();
        CHECK(answered == rounds);
    }
}

TEST_CASE_TEMPLATE_DEFINE("an unbound address can be bound again at once", Scheme, rebind) {
    context ctx;
    socket pull(ctx, socket_type::pull);
    pull.bind(Scheme::bind_endpoint());
    const std::string ep = pull.last_endpoint(); // the port or path it got, bound again below
    for (int round = 0; round < 50; ++round) {
        CAPTURE(round);
        pull.unbind(ep);
        if constexpr (std::is_same_v<Scheme, support::ipc_scheme>) {
            struct stat st{};
            REQUIRE(::lstat(ep.substr(std::strlen("ipc://")).c_str(), &st) != 0); // gone when unbind returns
        }
        std::error_code ec;
        pull.bind(ep, ec);
        REQUIRE_MESSAGE(!ec, ec.message());
    }
    socket push(ctx, socket_type::push);
    push.connect(ep);
    REQUIRE(push.send("still serving").ok());
    pull.set(opt::rcvtimeo, 10s);
    CHECK(pull.recv().value() == "still serving");
}

TEST_CASE_TEMPLATE_INSTANTIATE(exchange, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(busy_poll_wakes, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(multipart_whole, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(sizes, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(hwm, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(connect_first, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(deliver_after_close, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(reconnect, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(refused, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(linger_flush, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(many_peers, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(large_then_small, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(stream_order, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(mixed_stream, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(burst_tail, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(stream_with_pauses, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(incompatible, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(late_monitor, VOLLEY_TEST_SCHEMES);
TEST_CASE_TEMPLATE_INSTANTIATE(rebind, VOLLEY_TEST_SCHEMES);
