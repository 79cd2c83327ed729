// SPDX-License-Identifier: MPL-2.0
// inproc_thr <message-size> <message-count> against libzmq, written to
// zmq.h for side-by-side runs with perf/inproc_thr. Same loop and output as
// libzmq's own tool: a PUSH thread sends fresh messages, PULL receives.
#include "../perf_common.hpp"
#include "zmq_tool.hpp"

#include <zmq.h>

#include <atomic>
#include <cerrno>
#include <thread>

int main(int argc, char* argv[]) {
    perf::args a;
    if (!perf::parse(argc, argv, false, "inproc_thr <message-size> <message-count>", a)) return 1;

    void* ctx = zmq_ctx_new();
    void* s = zmq_socket(ctx, ZMQ_PULL);
    if (s == nullptr || zmq_bind(s, "inproc://thr_test") != 0) return perf::fail("zmq_bind");

    std::atomic<int> worker_rc{0};
    std::thread worker([&] {
        void* push = zmq_socket(ctx, ZMQ_PUSH);
        if (push == nullptr || zmq_connect(push, "inproc://thr_test") != 0) {
            worker_rc = perf::fail("zmq_connect");
        } else {
            for (long i = 0; i != a.count; ++i) {
                zmq_msg_t msg;
                if (zmq_msg_init_size(&msg, a.message_size) != 0) {
                    worker_rc = perf::fail("zmq_msg_init_size");
                    break;
                }
                perf::fill(zmq_msg_data(&msg), zmq_msg_size(&msg), i);
                if (zmq_msg_send(&msg, push, 0) < 0) {
                    if (zmq_errno() != ETERM) worker_rc = perf::fail("zmq_msg_send");
                    zmq_msg_close(&msg);
                    break;
                }
                zmq_msg_close(&msg);
            }
        }
        if (push != nullptr) zmq_close(push);
        if (worker_rc != 0) zmq_ctx_shutdown(ctx); // main must not wait for messages that never come
    });
    perf::worker_guard guard(worker, [&] { zmq_ctx_shutdown(ctx); });
    const auto failed = [&](const char* what) { return worker_rc != 0 ? worker_rc.load() : perf::fail(what); };

    zmq_msg_t msg;
    zmq_msg_init(&msg);
    perf::print_throughput_header(a);
    if (zmq_msg_recv(&msg, s, 0) < 0) return failed("zmq_msg_recv");
    perf::stopwatch watch;
    for (long i = 0; i != a.count - 1; ++i) {
        if (zmq_msg_recv(&msg, s, 0) < 0) return failed("zmq_msg_recv");
        if (zmq_msg_size(&msg) != a.message_size) return perf::wrong_size();
    }
    const double elapsed = watch.elapsed_us();
    worker.join();
    if (worker_rc != 0) return worker_rc;
    zmq_msg_close(&msg);
    zmq_close(s);
    zmq_ctx_term(ctx);
    perf::print_throughput(a, elapsed);
    return 0;
}
