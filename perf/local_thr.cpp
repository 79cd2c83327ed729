// SPDX-License-Identifier: MPL-2.0
// local_thr <bind-to> <message-size> <message-count>: libzmq's perf tool of
// the same name and output, on volley. A PULL socket binds and receives
// message-count messages from remote_thr; the clock starts at the first
// message, so connection set-up is not counted, and stops at the last.
// Every message's size is checked. This side prints the throughput.
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <cstdio>
#include <exception>

#include <system_error>

int main(int argc, char* argv[]) try {
    perf::args a;
    if (!perf::parse(argc, argv, true, "local_thr <bind-to> <message-size> <message-count>", a)) return 1;

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::pull);
    if (!perf::attach(s, true, a.endpoint)) return 1;

    auto first = s.recv();
    if (!first) return perf::fail("recv", first.error());
    if (first->size() != a.message_size) return perf::wrong_size();

    perf::stopwatch watch;
    for (long i = 0; i != a.count - 1; ++i) {
        auto m = s.recv();
        if (!m) return perf::fail("recv", m.error());
        if (m->size() != a.message_size) return perf::wrong_size();
    }
    const double elapsed = watch.elapsed_us();

    perf::print_throughput_header(a);
    perf::print_throughput(a, elapsed);
    return 0;
} catch (const std::exception& e) { // out of memory for the message, say
    std::printf("error: %s\n", e.what());
    return 1;
}
