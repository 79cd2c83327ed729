// SPDX-License-Identifier: MPL-2.0
// inproc_thr <message-size> <message-count> against libzmq, written to
// zmq.h for side-by-side runs with perf/inproc_thr. Same loop and output as
// libzmq's own tool: a PUSH thread sends fresh messages, PULL receives.
#include <zmq.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

int fail(const char* what) {
    std::printf("error in %s: %s\n", what, zmq_strerror(zmq_errno()));
    return 1;
}

} // namespace

int main(int argc, char* argv[]) {
    if (argc != 3) {
        std::printf("usage: inproc_thr <message-size> <message-count>\n");
        return 1;
    }
    const auto message_size = static_cast<std::size_t>(std::atol(argv[1]));
    const long message_count = std::atol(argv[2]);

    void* ctx = zmq_ctx_new();
    void* s = zmq_socket(ctx, ZMQ_PULL);
    if (s == nullptr || zmq_bind(s, "inproc://thr_test") != 0) return fail("zmq_bind");

    int worker_rc = 0;
    std::thread worker([&] {
        void* push = zmq_socket(ctx, ZMQ_PUSH);
        if (push == nullptr || zmq_connect(push, "inproc://thr_test") != 0) {
            worker_rc = fail("zmq_connect");
            return;
        }
        for (long i = 0; i != message_count; ++i) {
            zmq_msg_t msg;
            if (zmq_msg_init_size(&msg, message_size) != 0 || zmq_msg_send(&msg, push, 0) < 0) {
                worker_rc = fail("zmq_msg_init_size/send");
                return;
            }
            zmq_msg_close(&msg);
        }
        zmq_close(push);
    });

    zmq_msg_t msg;
    zmq_msg_init(&msg);
    std::printf("message size: %d [B]\n", static_cast<int>(message_size));
    std::printf("message count: %d\n", static_cast<int>(message_count));

    if (zmq_msg_recv(&msg, s, 0) < 0) return fail("zmq_msg_recv");
    if (zmq_msg_size(&msg) != message_size) {
        std::printf("message of incorrect size received\n");
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i != message_count - 1; ++i) {
        if (zmq_msg_recv(&msg, s, 0) < 0) return fail("zmq_msg_recv");
        if (zmq_msg_size(&msg) != message_size) {
            std::printf("message of incorrect size received\n");
            return 1;
        }
    }
    auto elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    worker.join();
    if (worker_rc != 0) return worker_rc;
    zmq_msg_close(&msg);
    zmq_close(s);
    zmq_ctx_term(ctx);
    if (elapsed <= 0) elapsed = 1;

    const auto throughput = static_cast<unsigned long>(static_cast<double>(message_count) / elapsed * 1000000);
    const double megabits = static_cast<double>(throughput * message_size * 8) / 1000000;
    std::printf("mean throughput: %d [msg/s]\n", static_cast<int>(throughput));
    std::printf("mean throughput: %.3f [Mb/s]\n", megabits);
    return 0;
}
