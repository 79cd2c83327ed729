// SPDX-License-Identifier: MPL-2.0
// inproc_lat <message-size> <roundtrip-count> against libzmq, written to
// zmq.h for side-by-side runs with perf/inproc_lat. Same output as libzmq's
// own tool; PAIR sockets, like the volley build, so both measure the same
// pattern.
#include "../perf_common.hpp"
#include "zmq_tool.hpp"

#include <zmq.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

int main(int argc, char* argv[]) {
    perf::args a;
    if (!perf::parse(argc, argv, false, "inproc_lat <message-size> <roundtrip-count>", a)) return 1;

    void* ctx = zmq_ctx_new();
    void* s = zmq_socket(ctx, ZMQ_PAIR);
    if (s == nullptr || zmq_bind(s, "inproc://lat_test") != 0) return perf::fail("zmq_bind");

    std::atomic<int> worker_rc{0};
    std::thread worker([&] {
        void* peer = zmq_socket(ctx, ZMQ_PAIR);
        if (peer == nullptr || zmq_connect(peer, "inproc://lat_test") != 0) {
            worker_rc = perf::fail("zmq_connect");
        } else {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            for (long i = 0; i != a.count; ++i) {
                if (zmq_msg_recv(&msg, peer, 0) < 0) {
                    if (zmq_errno() != ETERM) worker_rc = perf::fail("zmq_msg_recv");
                    break;
                }
                perf::fill(zmq_msg_data(&msg), zmq_msg_size(&msg), i);
                if (zmq_msg_send(&msg, peer, 0) < 0) {
                    if (zmq_errno() != ETERM) worker_rc = perf::fail("zmq_msg_send");
                    break;
                }
            }
            zmq_msg_close(&msg);
        }
        if (peer != nullptr) zmq_close(peer);
        if (worker_rc != 0) zmq_ctx_shutdown(ctx); // main must not wait for a reply that never comes
    });
    perf::worker_guard guard(worker, [&] { zmq_ctx_shutdown(ctx); });
    const auto failed = [&](const char* what) { return worker_rc != 0 ? worker_rc.load() : perf::fail(what); };

    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, a.message_size) != 0) return failed("zmq_msg_init_size");
    perf::print_latency_header(a);

    perf::stopwatch watch;
    for (long i = 0; i != a.count; ++i) {
        perf::fill(zmq_msg_data(&msg), zmq_msg_size(&msg), i);
        if (zmq_msg_send(&msg, s, 0) < 0) return failed("zmq_msg_send");
        if (zmq_msg_recv(&msg, s, 0) < 0) return failed("zmq_msg_recv");
        if (zmq_msg_size(&msg) != a.message_size) return perf::wrong_size();
    }
    const double elapsed = watch.elapsed_us();
    worker.join();
    if (worker_rc != 0) return worker_rc;
    zmq_msg_close(&msg);
    perf::print_latency(a, elapsed);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
