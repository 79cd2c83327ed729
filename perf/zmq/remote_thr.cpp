// SPDX-License-Identifier: MPL-2.0
// remote_thr <connect-to> <message-size> <message-count> against libzmq,
// written to zmq.h for side-by-side runs with perf/remote_thr. Same loop as
// libzmq's own tool: a PUSH socket connects and sends message-count fresh
// messages of message-size bytes, each written before it is sent (unlike
// libzmq's tool, as applications do: see perf::fill); libzmq's default
// linger is infinite.
// One addition: before closing, it waits until local_thr has disconnected,
// that is, until local_thr has received everything. libzmq 4.3 drops the
// unread tail of an ipc connection when the sender closes while the
// receiver sits at its high-water mark (EPOLLHUP stops its input for good,
// libzmq#4660), so closing first made local_thr hang now and then. The
// figure is unaffected: local_thr's clock stops at the last message.
#include "../perf_common.hpp"
#include "zmq_tool.hpp"

#include <zmq.h>

#include <cstdint>
#include <cstring>

namespace {

// Receives events from `monitor` until ZMQ_EVENT_DISCONNECTED; false on error.
bool wait_disconnected(void* monitor) {
    for (;;) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, monitor, 0) < 0) return false;
        // First frame: 16-bit event id and 32-bit value; second: the endpoint.
        std::uint16_t event = 0;
        if (zmq_msg_size(&frame) >= sizeof event) std::memcpy(&event, zmq_msg_data(&frame), sizeof event);
        while (zmq_msg_more(&frame)) {
            if (zmq_msg_recv(&frame, monitor, 0) < 0) return false;
        }
        zmq_msg_close(&frame);
        if (event == ZMQ_EVENT_DISCONNECTED) return true;
    }
}

} // namespace

int main(int argc, char* argv[]) {
    perf::args a;
    if (!perf::parse(argc, argv, true, "remote_thr <connect-to> <message-size> <message-count>", a)) return 1;

    void* ctx = zmq_ctx_new();
    if (ctx == nullptr) return perf::fail("zmq_ctx_new");
    void* s = zmq_socket(ctx, ZMQ_PUSH);
    if (s == nullptr) return perf::fail("zmq_socket");
    if (zmq_socket_monitor(s, "inproc://remote_thr.monitor", ZMQ_EVENT_DISCONNECTED) != 0)
        return perf::fail("zmq_socket_monitor");
    void* monitor = zmq_socket(ctx, ZMQ_PAIR);
    if (monitor == nullptr || zmq_connect(monitor, "inproc://remote_thr.monitor") != 0) return perf::fail("zmq_connect");
    if (zmq_connect(s, a.endpoint.c_str()) != 0) return perf::fail("zmq_connect");

    for (long i = 0; i != a.count; ++i) {
        zmq_msg_t msg;
        if (zmq_msg_init_size(&msg, a.message_size) != 0) return perf::fail("zmq_msg_init_size");
        perf::fill(zmq_msg_data(&msg), zmq_msg_size(&msg), i);
        if (zmq_msg_send(&msg, s, 0) < 0) return perf::fail("zmq_msg_send");
        zmq_msg_close(&msg);
    }

    if (!wait_disconnected(monitor)) return perf::fail("zmq_msg_recv (monitor)");
    zmq_close(monitor);
    if (zmq_close(s) != 0) return perf::fail("zmq_close");
    if (zmq_ctx_term(ctx) != 0) return perf::fail("zmq_ctx_term");
    return 0;
}
