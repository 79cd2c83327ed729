// SPDX-License-Identifier: MPL-2.0
// pub_thr <bind-to> <subscribers> <message-size> <message-count> against
// libzmq, written to zmq.h for side-by-side runs with perf/pub_thr: the same
// threads, probes, unlimited high-water marks and clock. Prints the messages
// delivered per second, all subscribers together.
#include "../perf_common.hpp"
#include "zmq_tool.hpp"

#include <zmq.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

int main(int argc, char* argv[]) {
    perf::args a;
    int subscribers = 0;
    if (!perf::parse_fan(argc, argv, "pub_thr <bind-to> <subscribers> <message-size> <message-count>", a, subscribers))
        return 1;

    void* ctx = zmq_ctx_new();
    if (ctx == nullptr) return perf::fail("zmq_ctx_new");
    void* pub = zmq_socket(ctx, ZMQ_PUB);
    const int zero = 0;
    zmq_setsockopt(pub, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(pub, a.endpoint.c_str()) != 0) return perf::fail("zmq_bind");
    char endpoint[256];
    std::size_t len = sizeof endpoint;
    zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, endpoint, &len);

    std::atomic<int> ready{0}, failed{0};
    std::atomic<long long> last_done_us{0};
    const auto start_time = std::chrono::steady_clock::now();
    std::vector<std::thread> subs;
    for (int s = 0; s < subscribers; ++s) {
        subs.emplace_back([&] {
            void* sub = zmq_socket(ctx, ZMQ_SUB);
            zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof zero);
            zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof zero);
            zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
            if (zmq_connect(sub, endpoint) != 0) {
                failed = 1;
                zmq_close(sub);
                return;
            }
            bool counted = false;
            zmq_msg_t m;
            zmq_msg_init(&m);
            for (long got = 0; got < a.count;) {
                if (zmq_msg_recv(&m, sub, 0) < 0) {
                    if (zmq_errno() != ETERM) failed = 1;
                    break;
                }
                if (zmq_msg_size(&m) != a.message_size) { // a probe
                    if (!counted) ++ready;
                    counted = true;
                    continue;
                }
                if (++got == a.count) {
                    const long long t = std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::steady_clock::now() - start_time)
                                            .count();
                    for (long long seen = last_done_us.load();
                         t > seen && !last_done_us.compare_exchange_weak(seen, t);) {
                    }
                }
            }
            zmq_msg_close(&m);
            zmq_close(sub);
        });
    }
    perf::workers_guard guard(subs, [&] { zmq_ctx_shutdown(ctx); });
    while (ready.load() < subscribers && failed.load() == 0) { // until every subscription arrived
        zmq_msg_t probe;
        zmq_msg_init_size(&probe, a.message_size + 1);
        perf::fill(zmq_msg_data(&probe), zmq_msg_size(&probe), 0);
        zmq_msg_send(&probe, pub, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    perf::print_fan_header(a, "subscribers", subscribers);
    const long long started_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_time).count();
    for (long i = 0; i != a.count; ++i) {
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, a.message_size) != 0) return perf::fail("zmq_msg_init_size");
        perf::fill(zmq_msg_data(&m), zmq_msg_size(&m), i);
        if (zmq_msg_send(&m, pub, 0) < 0) return perf::fail("zmq_msg_send");
    }
    for (auto& t : subs) t.join();
    if (failed.load() != 0) return perf::fail("zmq_msg_recv");
    perf::print_rate(static_cast<double>(a.count) * subscribers, static_cast<double>(last_done_us - started_us));
    zmq_close(pub);
    zmq_ctx_term(ctx);
    return 0;
}
