// SPDX-License-Identifier: MPL-2.0
// router_thr <bind-to> <clients> <message-size> <request-count>: the request
// rate of a ROUTER server, on volley. A ROUTER binds and answers every
// request [id, body] with [id, reply], the reply written before it is sent;
// `clients` DEALER sockets, each on a thread of its own, connect and keep up
// to 64 requests outstanding (a client pipelines, as brokers and async
// clients do) until request-count of theirs are answered. After one warm-up
// round trip per client, the clock runs until the last reply. Prints the
// requests answered per second, all clients together (perf/zmq/router_thr.cpp
// is the same on libzmq).
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <atomic>
#include <exception>
#include <thread>
#include <vector>

namespace {
constexpr long window = 64;
}

int main(int argc, char* argv[]) try {
    perf::args a;
    int clients = 0;
    if (!perf::parse_fan(argc, argv, "router_thr <bind-to> <clients> <message-size> <request-count>", a, clients))
        return 1;

    volley::context ctx;
    volley::socket router(ctx, volley::socket_type::router);
    router.set(volley::opt::linger, std::chrono::milliseconds(0));
    if (!perf::attach(router, true, a.endpoint)) return 1;
    const std::string endpoint = router.last_endpoint();

    std::atomic<int> warm{0}, failed{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&] {
            volley::socket dealer(ctx, volley::socket_type::dealer);
            std::error_code cec;
            dealer.connect(endpoint, cec);
            if (cec) {
                failed = 1;
                return;
            }
            const auto send_one = [&](long i) {
                volley::message m(a.message_size);
                perf::fill(m.data(), m.size(), i);
                return dealer.send(std::move(m)).ok();
            };
            if (!send_one(0) || !dealer.recv()) { // the warm-up round trip
                failed = 1;
                return;
            }
            ++warm;
            while (!go.load()) std::this_thread::yield();
            long sent = 0, answered = 0;
            for (; sent < window && sent < a.count; ++sent) {
                if (!send_one(sent)) return;
            }
            while (answered < a.count) {
                if (!dealer.recv()) return; // terminated
                ++answered;
                if (sent < a.count && !send_one(sent++)) return;
            }
        });
    }
    perf::workers_guard guard(threads, [&] { ctx.shutdown(); });
    const long total = a.count * clients + clients; // with the warm-up requests
    long served = 0;
    const auto serve = [&]() -> bool {
        auto id = router.recv();
        if (!id) return false;
        auto body = router.recv();
        if (!body) return false;
        perf::fill(body->data(), body->size(), served);
        id->set_more(true);
        if (!router.send(std::move(*id), volley::send_flags::more) || !router.send(std::move(*body))) return false;
        ++served;
        return true;
    };
    for (int c = 0; c < clients; ++c) { // one warm-up request from each client
        if (!serve()) return perf::fail("recv", volley::errc::terminated);
    }
    while (warm.load() + failed.load() < clients) std::this_thread::yield(); // every reply arrived
    perf::print_fan_header(a, "clients", clients);
    perf::stopwatch watch;
    go = true;
    while (served < total) {
        if (!serve()) return perf::fail("recv/send", volley::errc::terminated);
    }
    for (auto& t : threads) t.join();
    const double elapsed = watch.elapsed_us();
    if (failed.load() != 0) return perf::fail("connect", volley::errc::connection_refused);
    perf::print_rate(static_cast<double>(a.count) * clients, elapsed);
    return 0;
} catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
}
