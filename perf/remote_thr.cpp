// SPDX-License-Identifier: MPL-2.0
// remote_thr <connect-to> <message-size> <message-count>: libzmq's perf tool
// of the same name and command line, on volley. A PUSH socket connects to
// local_thr and sends message-count fresh messages of message-size bytes,
// each written before it is sent (perf::fill), then closes. It must not exit before
// local_thr has them all: linger is set to volley::infinite (libzmq's default), where
// volley's default of 30 s would bound the wait, and it waits for its connection to be up
// (a context's end drops what waits for a peer not connected; libzmq's remote_thr waits in
// zmq_ctx_term instead), saying on stderr every 5 s that it still waits. Prints nothing on
// success, like libzmq's.
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <cstdio>
#include <exception>

#include <system_error>

int main(int argc, char* argv[]) try {
    perf::args a;
    if (!perf::parse(argc, argv, true, "remote_thr <connect-to> <message-size> <message-count>", a)) return 1;

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::push);
    s.set(volley::opt::linger, volley::infinite);
    const volley::monitor events = s.monitor();
    if (!perf::attach(s, false, a.endpoint)) return 1;

    for (long i = 0; i != a.count; ++i) {
        volley::message m(a.message_size);
        perf::fill(m.data(), m.size(), i);
        if (auto r = s.send(std::move(m)); !r) return perf::fail("send", r.error());
    }
    using namespace std::chrono_literals;
    while (!events.wait_for(volley::event_type::handshake_succeeded, 5s))
        std::fprintf(stderr, "remote_thr: no connection to %s yet, still waiting\n", a.endpoint.c_str());
    s.close();
    return 0;
} catch (const std::exception& e) { // out of memory for the message, say
    std::printf("error: %s\n", e.what());
    return 1;
}
