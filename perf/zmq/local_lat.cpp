// SPDX-License-Identifier: MPL-2.0
// local_lat <bind-to> <message-size> <roundtrip-count> against libzmq,
// written to zmq.h for side-by-side runs with perf/local_lat. It binds and
// answers roundtrip-count requests from remote_lat with a REP socket, as
// libzmq's own tool does, checking each one's size and writing the reply's
// bytes before sending it; it prints nothing on success. libzmq's default
// linger (infinite) makes
// zmq_ctx_term deliver the last reply, so the one-second sleep libzmq's
// tool takes before closing is left out.
#include "../perf_common.hpp"
#include "zmq_tool.hpp"

#include <zmq.h>

int main(int argc, char* argv[]) {
    perf::args a;
    if (!perf::parse(argc, argv, true, "local_lat <bind-to> <message-size> <roundtrip-count>", a)) return 1;

    void* ctx = zmq_ctx_new();
    if (ctx == nullptr) return perf::fail("zmq_ctx_new");
    void* s = zmq_socket(ctx, ZMQ_REP);
    if (s == nullptr) return perf::fail("zmq_socket");
    if (zmq_bind(s, a.endpoint.c_str()) != 0) return perf::fail("zmq_bind");

    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (long i = 0; i != a.count; ++i) {
        if (zmq_msg_recv(&msg, s, 0) < 0) return perf::fail("zmq_msg_recv");
        if (zmq_msg_size(&msg) != a.message_size) return perf::wrong_size();
        perf::fill(zmq_msg_data(&msg), zmq_msg_size(&msg), i);
        if (zmq_msg_send(&msg, s, 0) < 0) return perf::fail("zmq_msg_send");
    }
    zmq_msg_close(&msg);

    if (zmq_close(s) != 0) return perf::fail("zmq_close");
    if (zmq_ctx_term(ctx) != 0) return perf::fail("zmq_ctx_term");
    return 0;
}
