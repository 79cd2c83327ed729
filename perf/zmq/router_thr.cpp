// SPDX-License-Identifier: MPL-2.0
// router_thr <bind-to> <clients> <message-size> <request-count> against
// libzmq, written to zmq.h for side-by-side runs with perf/router_thr: the
// same ROUTER server, DEALER clients with 64 requests outstanding, warm-up
// and clock. Prints the requests answered per second, all clients together.
#include "../perf_common.hpp"
#include "zmq_tool.hpp"

#include <zmq.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {
constexpr long window = 64;
}

int main(int argc, char* argv[]) {
    perf::args a;
    int clients = 0;
    if (!perf::parse_fan(argc, argv, "router_thr <bind-to> <clients> <message-size> <request-count>", a, clients))
        return 1;

    void* ctx = zmq_ctx_new();
    if (ctx == nullptr) return perf::fail("zmq_ctx_new");
    void* router = zmq_socket(ctx, ZMQ_ROUTER);
    const int zero = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(router, a.endpoint.c_str()) != 0) return perf::fail("zmq_bind");
    char endpoint[256];
    std::size_t len = sizeof endpoint;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &len);

    std::atomic<int> warm{0}, failed{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&] {
            void* dealer = zmq_socket(ctx, ZMQ_DEALER);
            zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
            if (zmq_connect(dealer, endpoint) != 0) {
                failed = 1;
                zmq_close(dealer);
                return;
            }
            const auto send_one = [&](long i) {
                zmq_msg_t m;
                zmq_msg_init_size(&m, a.message_size);
                perf::fill(zmq_msg_data(&m), zmq_msg_size(&m), i);
                return zmq_msg_send(&m, dealer, 0) >= 0;
            };
            zmq_msg_t reply;
            zmq_msg_init(&reply);
            const auto recv_one = [&] { return zmq_msg_recv(&reply, dealer, 0) >= 0; };
            if (send_one(0) && recv_one()) { // the warm-up round trip
                ++warm;
                while (!go.load()) std::this_thread::yield();
                long sent = 0, answered = 0;
                for (; sent < window && sent < a.count; ++sent) {
                    if (!send_one(sent)) break;
                }
                while (answered < a.count) {
                    if (!recv_one()) break; // terminated
                    ++answered;
                    if (sent < a.count && !send_one(sent++)) break;
                }
            } else {
                failed = 1;
            }
            zmq_msg_close(&reply);
            zmq_close(dealer);
        });
    }
    perf::workers_guard guard(threads, [&] { zmq_ctx_shutdown(ctx); });
    const long total = a.count * clients + clients; // with the warm-up requests
    long served = 0;
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    const auto serve = [&]() -> bool {
        if (zmq_msg_recv(&id, router, 0) < 0 || zmq_msg_recv(&body, router, 0) < 0) return false;
        perf::fill(zmq_msg_data(&body), zmq_msg_size(&body), served);
        if (zmq_msg_send(&id, router, ZMQ_SNDMORE) < 0 || zmq_msg_send(&body, router, 0) < 0) return false;
        ++served;
        return true;
    };
    for (int c = 0; c < clients; ++c) { // one warm-up request from each client
        if (!serve()) return perf::fail("zmq_msg_recv");
    }
    while (warm.load() + failed.load() < clients) std::this_thread::yield(); // every reply arrived
    perf::print_fan_header(a, "clients", clients);
    perf::stopwatch watch;
    go = true;
    while (served < total) {
        if (!serve()) return perf::fail("zmq_msg_recv/send");
    }
    for (auto& t : threads) t.join();
    const double elapsed = watch.elapsed_us();
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    if (failed.load() != 0) return perf::fail("zmq_connect");
    perf::print_rate(static_cast<double>(a.count) * clients, elapsed);
    zmq_close(router);
    zmq_ctx_term(ctx);
    return 0;
}
