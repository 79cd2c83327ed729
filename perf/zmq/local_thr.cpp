// SPDX-License-Identifier: MPL-2.0
// local_thr <bind-to> <message-size> <message-count> against libzmq,
// written to zmq.h for side-by-side runs with perf/local_thr. Same loop and
// output as libzmq's own tool: a PULL socket binds, receives the first
// message, starts the clock and receives the rest, checking every size.
#include "../perf_common.hpp"
#include "zmq_tool.hpp"

#include <zmq.h>

int main(int argc, char* argv[]) {
    perf::args a;
    if (!perf::parse(argc, argv, true, "local_thr <bind-to> <message-size> <message-count>", a)) return 1;

    void* ctx = zmq_ctx_new();
    if (ctx == nullptr) return perf::fail("zmq_ctx_new");
    void* s = zmq_socket(ctx, ZMQ_PULL);
    if (s == nullptr) return perf::fail("zmq_socket");
    if (zmq_bind(s, a.endpoint.c_str()) != 0) return perf::fail("zmq_bind");

    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, s, 0) < 0) return perf::fail("zmq_msg_recv");
    if (zmq_msg_size(&msg) != a.message_size) return perf::wrong_size();

    perf::stopwatch watch;
    for (long i = 0; i != a.count - 1; ++i) {
        if (zmq_msg_recv(&msg, s, 0) < 0) return perf::fail("zmq_msg_recv");
        if (zmq_msg_size(&msg) != a.message_size) return perf::wrong_size();
    }
    const double elapsed = watch.elapsed_us();
    zmq_msg_close(&msg);

    perf::print_throughput_header(a);
    perf::print_throughput(a, elapsed);
    if (zmq_close(s) != 0) return perf::fail("zmq_close");
    if (zmq_ctx_term(ctx) != 0) return perf::fail("zmq_ctx_term");
    return 0;
}
