// SPDX-License-Identifier: MPL-2.0
// A crowded context (more sockets waiting than CPUs: crowding.hpp) leaves
// all I/O to its I/O thread. Messages must flow the same either way: here
// the CPU count is set so that a context is crowded from its first waits
// (one CPU: a single waiting socket and the I/O thread fill it), or never
// (as many CPUs as a big machine has), and request-reply and a pipeline run
// over tcp and ipc, with every message checked, in order.
#include "crowding.hpp"
#include "support/test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace volley;
using volley::detail::crowding;
using namespace std::chrono_literals;

namespace {

// Contexts made while this lives count `cpus` CPUs.
struct cpus_for_testing {
    explicit cpus_for_testing(int cpus) { crowding::set_cpus_for_testing(cpus); }
    ~cpus_for_testing() { crowding::set_cpus_for_testing(0); }
};

constexpr int clients = 3;
constexpr int requests = 2000; // per client
constexpr int window = 16;     // requests a client keeps outstanding

// A ROUTER echoing the requests of `clients` DEALER threads, each checking that its
// replies come back whole and in order. Returns the replies received in all.
int router_exchange(const std::string& bind_to) {
    context ctx;
    socket router(ctx, socket_type::router);
    router.set(opt::rcvtimeo, 10s);
    router.bind(bind_to);
    const std::string ep = router.last_endpoint();
    std::atomic<int> answered{0};
    std::atomic<bool> in_order{true};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            socket dealer(ctx, socket_type::dealer);
            dealer.set(opt::rcvtimeo, 10s);
            dealer.connect(ep);
            const auto body = [c](int i) { return std::to_string(c) + ":" + std::to_string(i); };
            int sent = 0;
            for (; sent < window; ++sent) {
                if (!dealer.send(message(body(sent)))) { // a dealer with no HWM reached takes them all
                    in_order = false;
                    return;
                }
            }
            for (int got = 0; got < requests; ++got) {
                auto r = dealer.recv();
                if (!r || *r != body(got)) {
                    in_order = false;
                    return;
                }
                answered.fetch_add(1);
                if (sent < requests && !dealer.send(message(body(sent++)))) {
                    in_order = false;
                    return;
                }
            }
        });
    }
    for (int served = 0; served < clients * requests; ++served) {
        auto req = router.recv_multipart();
        if (!req || req->size() != 2) break;
        if (!router.send(std::move(*req))) break;
    }
    for (auto& t : threads) t.join();
    CHECK(in_order.load());
    return answered.load();
}

// A PUSH streaming `count` numbered messages to a PULL, each on its thread; returns how
// many arrived in order.
int pipeline(const std::string& bind_to, int count) {
    context ctx;
    socket pull(ctx, socket_type::pull);
    pull.set(opt::rcvtimeo, 10s);
    pull.bind(bind_to);
    const std::string ep = pull.last_endpoint();
    std::thread pusher([&] {
        socket push(ctx, socket_type::push);
        push.connect(ep);
        for (int i = 0; i < count; ++i) {
            if (!push.send(message(std::to_string(i)))) break; // the count received tells
        }
        push.close(); // linger: everything goes out
    });
    int in_order = 0;
    for (; in_order < count; ++in_order) {
        auto m = pull.recv();
        if (!m || *m != std::to_string(in_order)) break;
    }
    pusher.join();
    return in_order;
}

} // namespace

TEST_CASE_TEMPLATE("a crowded context carries request-reply and a pipeline through its I/O thread, in order", Scheme,
                   support::tcp_scheme, support::ipc_scheme) {
    const auto before = crowding::times_crowded();
    {
        cpus_for_testing one(1);
        CHECK(router_exchange(Scheme::bind_endpoint()) == clients * requests);
        CHECK(pipeline(Scheme::bind_endpoint(), 20000) == 20000);
    }
    CHECK(crowding::times_crowded() > before); // the contexts above did turn crowded
}

TEST_CASE_TEMPLATE("a context with a CPU per socket never turns crowded", Scheme, support::tcp_scheme,
                   support::ipc_scheme) {
    cpus_for_testing many(64);
    const auto before = crowding::times_crowded();
    CHECK(router_exchange(Scheme::bind_endpoint()) == clients * requests);
    CHECK(crowding::times_crowded() == before);
}
