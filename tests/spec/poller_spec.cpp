// SPDX-License-Identifier: MPL-2.0
// Waiting on several things at once, over inproc, ipc and tcp: volley::poller
// on sockets and raw descriptors; each socket's readiness descriptor in an
// epoll set of the application's own, edge-triggered; events() in and out;
// and volley::proxy as the broker of request-reply and publish-subscribe,
// steerable (PAUSE, RESUME, STATISTICS, TERMINATE) with a capture socket.
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <sys/epoll.h>
#include <thread>
#include <tuple>
#include <unistd.h>

using namespace volley;
using namespace std::chrono_literals;

using all_schemes = std::tuple<VOLLEY_TEST_SCHEMES>;

TEST_CASE_TEMPLATE_DEFINE("the poller returns the socket that has a message, and nothing on timeout", Scheme,
                          poller_sockets) {
    context ctx;
    auto a = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    auto b = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    poller p;
    p.add(a.a, poll_events::in);
    p.add(b.a, poll_events::in);
    CHECK(p.wait(0ms).empty());
    CHECK(p.wait(20ms).empty());
    REQUIRE(b.b.send("to b").ok());
    const auto ready = p.wait(5000ms);
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].sock == &b.a);
    CHECK(has(ready[0].events, poll_events::in));
    CHECK(b.a.recv(recv_flags::dontwait).value() == "to b"); // events said in: it is there
    CHECK(p.wait(0ms).empty());
    REQUIRE(a.b.send("to a").ok());
    REQUIRE(b.b.send("to b again").ok());
    std::size_t seen = 0;
    for (int i = 0; i < 10 && seen < 2; ++i) {
        for (const auto& it : p.wait(5000ms)) {
            CHECK(it.sock->recv(recv_flags::dontwait).ok());
            ++seen;
        }
    }
    CHECK(seen == 2);
}

TEST_CASE_TEMPLATE_DEFINE("the poller waits on raw descriptors beside sockets", Scheme, poller_fds) {
    context ctx;
    auto s = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    poller p;
    p.add(s.a, poll_events::in);
    p.add(fds[0], poll_events::in);
    CHECK(p.wait(0ms).empty());
    REQUIRE(::write(fds[1], "x", 1) == 1);
    const auto ready = p.wait(5000ms);
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].sock == nullptr);
    CHECK(ready[0].fd == fds[0]);
    CHECK(has(ready[0].events, poll_events::in));
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE_TEMPLATE_DEFINE("events() reports out until the high-water mark, and again once the peer reads", Scheme,
                          events_out) {
    context ctx;
    volley::socket pull(ctx, socket_type::pull), push(ctx, socket_type::push);
    pull.set(opt::rcvhwm, 4);
    push.set(opt::sndhwm, 4);
    auto mp = pull.monitor(), mq = push.monitor();
    pull.bind(Scheme::bind_endpoint());
    push.connect(pull.last_endpoint());
    support::expect_event(mp, event_type::handshake_succeeded);
    support::expect_event(mq, event_type::handshake_succeeded);
    CHECK(has(push.events(), poll_events::out));
    CHECK_FALSE(has(pull.events(poll_events::out), poll_events::out)); // PULL never sends
    // Fill every queue on the way (the pipes and, on a stream, the kernel's buffers): until
    // a send finds no room for a while. A send that fails at once may only have met a pipe
    // the I/O thread had not yet drained into the kernel.
    push.set(opt::sndtimeo, 200ms);
    const std::string body(16 * 1024, 'm');
    int sent = 0;
    while (sent < 100'000 && push.send(body).ok()) ++sent;
    CHECK(sent < 100'000); // the queues filled
    CHECK_FALSE(has(push.events(poll_events::out), poll_events::out));
    poller p;
    p.add(push, poll_events::out);
    std::thread reader([&] {
        pull.set(opt::rcvtimeo, 5000ms);
        for (int i = 0; i < sent; ++i) (void)pull.recv();
    });
    const auto ready = p.wait(5000ms);
    REQUIRE(ready.size() == 1);
    CHECK(has(ready[0].events, poll_events::out));
    reader.join();
}

TEST_CASE_TEMPLATE_DEFINE("a socket's readiness descriptor works in an epoll set, edge-triggered", Scheme, epoll_fd) {
    context ctx;
    auto s = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    const int fd = s.a.readiness_fd();
    REQUIRE(fd >= 0);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    REQUIRE(ep >= 0);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    REQUIRE(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
    for (int round = 0; round < 3; ++round) {
        CHECK(s.a.events(poll_events::in) == poll_events::none); // nothing yet: this arms the descriptor
        REQUIRE(s.b.send("round " + std::to_string(round)).ok());
        epoll_event out{};
        REQUIRE(::epoll_wait(ep, &out, 1, 5000) == 1);
        std::uint64_t drained;
        (void)::read(fd, &drained, sizeof drained);
        // The edge means "ask again": events() may have to look more than once while the
        // message is on its way over a stream transport; it arms again each time it finds none.
        poll_events got = poll_events::none;
        for (int i = 0; i < 100 && !has(got, poll_events::in); ++i) {
            got = s.a.events(poll_events::in);
            if (!has(got, poll_events::in)) REQUIRE(::epoll_wait(ep, &out, 1, 5000) == 1);
            (void)::read(fd, &drained, sizeof drained);
        }
        REQUIRE(has(got, poll_events::in));
        CHECK(s.a.recv(recv_flags::dontwait).value() == "round " + std::to_string(round));
    }
    ::close(ep);
}

TEST_CASE_TEMPLATE_DEFINE("events() on a SUB is exact: what it is not subscribed to does not count", Scheme,
                          events_exact) {
    context ctx;
    volley::socket pub(ctx, socket_type::pub), xsub(ctx, socket_type::xsub);
    auto mp = pub.monitor();
    pub.bind(Scheme::bind_endpoint());
    xsub.set(opt::rcvtimeo, 5000ms);
    xsub.connect(pub.last_endpoint());
    support::expect_event(mp, event_type::handshake_succeeded);
    REQUIRE(xsub.send(std::string("\x01" "A", 2)).ok());
    bool through = false;
    for (int i = 0; i < 500 && !through; ++i) { // until the subscription reached the PUB
        REQUIRE(pub.send("A probe").ok());
        through = has(xsub.events(poll_events::in), poll_events::in);
        if (!through) std::this_thread::sleep_for(2ms); // the publisher's pace
    }
    REQUIRE(through);
    // Probes may still be on their way: read up to a last one, which comes after them all.
    REQUIRE(pub.send("A end").ok());
    for (;;) {
        auto m = xsub.recv();
        REQUIRE(m.ok());
        if (m->view() == "A end") break;
    }
    REQUIRE(pub.send("B not subscribed").ok());
    CHECK(xsub.events(poll_events::in) == poll_events::none);
    REQUIRE(pub.send("A after").ok()); // and what it is subscribed to does
    auto m = xsub.recv();
    REQUIRE(m.ok());
    CHECK(m->view() == "A after");
}

TEST_CASE_TEMPLATE_DEFINE("a shut-down context wakes a poller with err", Scheme, poller_shutdown) {
    volley::context ctx;
    auto s = support::pair_up<Scheme>(ctx, socket_type::pull, socket_type::push);
    poller p;
    p.add(s.a, poll_events::in);
    std::thread stopper([&] {
        std::this_thread::sleep_for(20ms); // let the poller go to sleep first
        ctx.shutdown();
    });
    const auto ready = p.wait(10'000ms);
    stopper.join();
    REQUIRE(ready.size() == 1);
    CHECK(has(ready[0].events, poll_events::err));
}

TEST_CASE_TEMPLATE_DEFINE("a poller on a REQ that awaits its reply waits, and wakes at shutdown", Scheme,
                          poller_req_state) {
    // The REQ's pipe has room but its state forbids sending: the poller must sleep armed
    // (not spin, not sleep deaf), and a context shut-down still reaches it.
    volley::context ctx;
    auto s = support::pair_up<Scheme>(ctx, socket_type::rep, socket_type::req);
    REQUIRE(s.b.send("question").ok());
    CHECK(s.b.events(poll_events::out) == poll_events::none);
    CHECK(s.b.events(poll_events::in | poll_events::out) == poll_events::none); // no reply yet
    poller p;
    p.add(s.b, poll_events::out);
    CHECK(p.wait(20ms).empty());
    std::thread stopper([&] {
        std::this_thread::sleep_for(20ms); // let the poller go to sleep first
        ctx.shutdown();
    });
    const auto ready = p.wait(10'000ms);
    stopper.join();
    REQUIRE(ready.size() == 1);
    CHECK(has(ready[0].events, poll_events::err));
}

TEST_CASE_TEMPLATE_DEFINE("proxy: a ROUTER/DEALER broker carries REQ clients to REP workers", Scheme, proxy_broker) {
    context ctx;
    volley::socket front(ctx, socket_type::router), back(ctx, socket_type::dealer);
    front.bind(Scheme::bind_endpoint());
    back.bind(Scheme::bind_endpoint());
    const auto fe = front.last_endpoint(), be = back.last_endpoint();
    std::error_code result;
    std::thread broker([&] { result = proxy(front, back); });
    {
        std::vector<volley::socket> workers;
        std::vector<std::thread> threads;
        for (int w = 0; w < 2; ++w) {
            workers.emplace_back(ctx, socket_type::rep);
            workers.back().set(opt::rcvtimeo, 5000ms);
            workers.back().connect(be);
        }
        for (int w = 0; w < 2; ++w) {
            threads.emplace_back([&, w] {
                for (;;) {
                    auto q = workers[static_cast<std::size_t>(w)].recv();
                    if (!q) return; // timed out or terminated: done
                    (void)workers[static_cast<std::size_t>(w)].send("answer to " + q->to_string());
                }
            });
        }
        volley::socket client(ctx, socket_type::req);
        client.set(opt::rcvtimeo, 5000ms);
        client.connect(fe);
        for (int i = 0; i < 20; ++i) {
            REQUIRE(client.send("q" + std::to_string(i)).ok());
            CHECK(client.recv().value() == "answer to q" + std::to_string(i));
        }
        ctx.shutdown(); // ends the proxy and the workers
        for (auto& t : threads) t.join();
    }
    broker.join();
    CHECK(result == errc::terminated);
}

TEST_CASE_TEMPLATE_DEFINE("proxy: XSUB/XPUB forwards subscriptions up and messages down, with a capture", Scheme,
                          proxy_pubsub) {
    context ctx;
    volley::socket publisher(ctx, socket_type::pub);
    publisher.bind(Scheme::bind_endpoint());
    volley::socket xsub(ctx, socket_type::xsub), xpub(ctx, socket_type::xpub);
    xsub.connect(publisher.last_endpoint());
    xpub.bind(Scheme::bind_endpoint());
    volley::socket capture_in(ctx, socket_type::pull), capture_out(ctx, socket_type::push);
    capture_in.bind(support::inproc_endpoint());
    capture_out.connect(capture_in.last_endpoint());
    std::thread broker([&] { (void)proxy(xsub, xpub, &capture_out); });
    volley::socket subscriber(ctx, socket_type::sub);
    subscriber.set(opt::subscribe, std::string("news"));
    subscriber.set(opt::rcvtimeo, 20ms);
    subscriber.connect(xpub.last_endpoint());
    bool through = false;
    for (int i = 0; i < 500 && !through; ++i) { // the subscription travels sub -> xpub -> xsub -> pub
        REQUIRE(publisher.send("news probe").ok());
        through = subscriber.recv().ok();
    }
    REQUIRE(through);
    REQUIRE(publisher.send("weather: filtered at the publisher").ok());
    REQUIRE(publisher.send("news: flash").ok());
    subscriber.set(opt::rcvtimeo, 5000ms);
    for (;;) {
        auto m = subscriber.recv();
        REQUIRE(m.ok());
        CHECK(m->view().starts_with("news"));
        if (m->view() == "news: flash") break;
    }
    capture_in.set(opt::rcvtimeo, 5000ms);
    bool captured = false; // the capture saw the subscription going up (0x01 "news")
    while (auto c = capture_in.recv(recv_flags::dontwait)) {
        if (c->view() == std::string("\x01news", 5)) captured = true;
    }
    CHECK(captured);
    ctx.shutdown();
    broker.join();
}

TEST_CASE_TEMPLATE_DEFINE("proxy_steerable: PAUSE, RESUME, STATISTICS and TERMINATE", Scheme, proxy_steer) {
    context ctx;
    volley::socket front(ctx, socket_type::pull), back(ctx, socket_type::push);
    front.bind(Scheme::bind_endpoint());
    back.bind(Scheme::bind_endpoint());
    volley::socket control(ctx, socket_type::rep), commander(ctx, socket_type::req);
    control.bind(support::inproc_endpoint());
    commander.connect(control.last_endpoint());
    commander.set(opt::rcvtimeo, 5000ms);
    std::error_code result = make_error_code(errc::timed_out);
    std::thread broker([&] { result = proxy_steerable(front, back, nullptr, control); });
    volley::socket source(ctx, socket_type::push), sink(ctx, socket_type::pull);
    source.connect(front.last_endpoint());
    sink.connect(back.last_endpoint());
    sink.set(opt::rcvtimeo, 5000ms);
    const auto command = [&](const char* c) {
        REQUIRE(commander.send(c).ok());
        return commander.recv_multipart();
    };
    REQUIRE(source.send("one").ok());
    CHECK(sink.recv().value() == "one");
    REQUIRE(command("PAUSE").ok());
    REQUIRE(source.send("two").ok());
    sink.set(opt::rcvtimeo, 100ms);
    CHECK(sink.recv().error() == errc::timed_out); // paused: it waits in the proxy's queue
    REQUIRE(command("RESUME").ok());
    sink.set(opt::rcvtimeo, 5000ms);
    CHECK(sink.recv().value() == "two");
    const auto stats = command("STATISTICS");
    REQUIRE(stats.ok());
    REQUIRE(stats->size() == 8);
    std::uint64_t front_in = 0, back_out = 0, front_bytes = 0;
    std::memcpy(&front_in, (*stats)[0].data(), 8);
    std::memcpy(&front_bytes, (*stats)[1].data(), 8);
    std::memcpy(&back_out, (*stats)[6].data(), 8);
    CHECK(front_in == 2);
    CHECK(front_bytes == 6);
    CHECK(back_out == 2);
    REQUIRE(command("TERMINATE").ok());
    broker.join();
    CHECK_FALSE(result);
}

TEST_CASE_TEMPLATE_APPLY(poller_sockets, all_schemes);
TEST_CASE_TEMPLATE_APPLY(poller_fds, all_schemes);
TEST_CASE_TEMPLATE_APPLY(events_out, all_schemes);
TEST_CASE_TEMPLATE_APPLY(epoll_fd, all_schemes);
TEST_CASE_TEMPLATE_APPLY(events_exact, all_schemes);
TEST_CASE_TEMPLATE_APPLY(poller_shutdown, all_schemes);
TEST_CASE_TEMPLATE_APPLY(poller_req_state, all_schemes);
TEST_CASE_TEMPLATE_APPLY(proxy_broker, all_schemes);
TEST_CASE_TEMPLATE_APPLY(proxy_pubsub, all_schemes);
TEST_CASE_TEMPLATE_APPLY(proxy_steer, all_schemes);
