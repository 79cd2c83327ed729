// SPDX-License-Identifier: MPL-2.0
// Closing toward a libzmq receiver: a volley PUSH sends a burst and closes
// (socket, then context) at once, while a libzmq PULL is still reading. libzmq
// drops what it has not read yet when it sees the connection hang up
// (libzmq #4660: on ipc a close shows as a hang-up while libzmq's queue is at
// its high-water mark), so volley ends its side with a half-close and keeps
// the connection until libzmq closes its end, within linger. Every message
// of every run must arrive, in order. VOLLEY_CLOSE_RUNS sets the runs per
// setup (default 5).
#include "interop/zmq_peer.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <thread>

using namespace volley;
using namespace interop;

namespace {

int runs() {
    const char* v = std::getenv("VOLLEY_CLOSE_RUNS");
    return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : 5;
}

// One run: `count` messages, then close; returns how many the libzmq PULL received in order.
template <class Setup>
int burst_then_close(int count) {
    libzmq_context zctx;
    libzmq_socket z(zctx, ZMQ_PULL);
    z.set(ZMQ_RCVTIMEO, 2000); // after the last message: only a loss waits this long
    auto ctx = std::make_unique<context>();
    auto v = std::make_unique<volley::socket>(*ctx, socket_type::push);
    v->set(opt::sndtimeo, 5000ms);
    v->set(opt::linger, 10'000ms);
    const auto events = v->monitor();
    link<Setup>(*v, events, z);
    std::thread sender([&] {
        for (int i = 0; i < count; ++i) {
            if (!v->send("message " + std::to_string(i)).ok()) break;
        }
        v.reset(); // close right after the last send ...
        ctx.reset(); // ... and end the context, as a program that exits does
    });
    int received = 0;
    while (received < count) {
        const auto m = z.recv();
        if (!m || m->size() != 1 || (*m)[0] != "message " + std::to_string(received)) break;
        ++received;
    }
    sender.join();
    return received;
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("volley PUSH closing right after a burst loses nothing toward libzmq PULL", Setup,
                          close_to_zmq) {
    constexpr int count = 10'000;
    const int n = runs();
    int lossy = 0;
    long lost = 0;
    for (int run = 0; run < n; ++run) {
        const int got = burst_then_close<Setup>(count);
        if (got != count) ++lossy;
        lost += count - got;
    }
    MESSAGE(lossy, " of ", n, " runs lost messages, ", lost, " in all");
    CHECK(lossy == 0);
}
TEST_CASE_TEMPLATE_INSTANTIATE(close_to_zmq, ipc_zmq_binds, ipc_volley_binds, tcp_zmq_binds, tcp_volley_binds);
