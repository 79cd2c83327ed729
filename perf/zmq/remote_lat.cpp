// SPDX-License-Identifier: MPL-2.0
// remote_lat <connect-to> <message-size> <roundtrip-count> against libzmq,
// written to zmq.h for side-by-side runs with perf/remote_lat. It connects
// to local_lat with a REQ socket, as libzmq's own tool does, sends a request
// of message-size bytes (written before each send) roundtrip-count times,
// waiting for each reply, and prints the mean one-way latency, with the same
// output as libzmq's tool.
#include "../perf_common.hpp"
#include "zmq_tool.hpp"

#include <zmq.h>

#include <cstring>

int main(int argc, char* argv[]) {
    perf::args a;
    if (!perf::parse(argc, argv, true, "remote_lat <connect-to> <message-size> <roundtrip-count>", a)) return 1;

    void* ctx = zmq_ctx_new();
    if (ctx == nullptr) return perf::fail("zmq_ctx_new");
    void* s = zmq_socket(ctx, ZMQ_REQ);
    if (s == nullptr) return perf::fail("zmq_socket");
    if (zmq_connect(s, a.endpoint.c_str()) != 0) return perf::fail("zmq_connect");

    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, a.message_size) != 0) return perf::fail("zmq_msg_init_size");

    perf::stopwatch watch;
    for (long i = 0; i != a.count; ++i) {
        perf::fill(zmq_msg_data(&msg), zmq_msg_size(&msg), i);
        if (zmq_msg_send(&msg, s, 0) < 0) return perf::fail("zmq_msg_send");
        if (zmq_msg_recv(&msg, s, 0) < 0) return perf::fail("zmq_msg_recv");
        if (zmq_msg_size(&msg) != a.message_size) return perf::wrong_size();
    }
    const double elapsed = watch.elapsed_us();
    zmq_msg_close(&msg);

    perf::print_latency_header(a);
    perf::print_latency(a, elapsed);
    if (zmq_close(s) != 0) return perf::fail("zmq_close");
    if (zmq_ctx_term(ctx) != 0) return perf::fail("zmq_ctx_term");
    return 0;
}
