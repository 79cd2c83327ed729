// SPDX-License-Identifier: MPL-2.0
// inproc_lat <message-size> <roundtrip-count> against libzmq, written to
// zmq.h for side-by-side runs with perf/inproc_lat. Same output as libzmq's
// own tool; PAIR sockets, like the volley build, so both measure the same
// pattern.
#include <zmq.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

int fail(const char* what) {
    std::printf("error in %s: %s\n", what, zmq_strerror(zmq_errno()));
    return 1;
}

} // namespace

int main(int argc, char* argv[]) {
    if (argc != 3) {
        std::printf("usage: inproc_lat <message-size> <roundtrip-count>\n");
        return 1;
    }
    const auto message_size = static_cast<std::size_t>(std::atol(argv[1]));
    const long roundtrip_count = std::atol(argv[2]);

    void* ctx = zmq_ctx_new();
    void* s = zmq_socket(ctx, ZMQ_PAIR);
    if (s == nullptr || zmq_bind(s, "inproc://lat_test") != 0) return fail("zmq_bind");

    int worker_rc = 0;
    std::thread worker([&] {
        void* peer = zmq_socket(ctx, ZMQ_PAIR);
        if (peer == nullptr || zmq_connect(peer, "inproc://lat_test") != 0) {
            worker_rc = fail("zmq_connect");
            return;
        }
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        for (long i = 0; i != roundtrip_count; ++i) {
            if (zmq_msg_recv(&msg, peer, 0) < 0 || zmq_msg_send(&msg, peer, 0) < 0) {
                worker_rc = fail("zmq_msg_recv/send");
                return;
            }
        }
        zmq_msg_close(&msg);
        zmq_close(peer);
    });

    zmq_msg_t msg;
    zmq_msg_init_size(&msg, message_size);
    std::memset(zmq_msg_data(&msg), 0, message_size);
    std::printf("message size: %d [B]\n", static_cast<int>(message_size));
    std::printf("roundtrip count: %d\n", static_cast<int>(roundtrip_count));

    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i != roundtrip_count; ++i) {
        if (zmq_msg_send(&msg, s, 0) < 0) return fail("zmq_msg_send");
        if (zmq_msg_recv(&msg, s, 0) < 0) return fail("zmq_msg_recv");
        if (zmq_msg_size(&msg) != message_size) {
            std::printf("message of incorrect size received\n");
            return 1;
        }
    }
    const auto elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    worker.join();
    if (worker_rc != 0) return worker_rc;
    zmq_msg_close(&msg);

    std::printf("average latency: %.3f [us]\n", elapsed / (static_cast<double>(roundtrip_count) * 2));
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
