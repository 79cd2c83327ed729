// SPDX-License-Identifier: MPL-2.0
// remote_lat <connect-to> <message-size> <roundtrip-count>: libzmq's perf
// tool of the same name and output, on volley. A REQ socket connects to
// local_lat, sends a request of message-size bytes (written before each
// send) and waits for the reply, roundtrip-count times, and prints the mean
// one-way latency (elapsed time / (2 x roundtrips)). REQ/REP, as in libzmq's
// tools, so each build pairs with the other's. The clock runs from the first
// send, so it includes connection set-up, as libzmq's does.
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <cstdio>
#include <exception>

#include <cstring>
#include <system_error>

int main(int argc, char* argv[]) try {
    perf::args a;
    if (!perf::parse(argc, argv, true, "remote_lat <connect-to> <message-size> <roundtrip-count>", a)) return 1;

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::req);
    if (!perf::attach(s, false, a.endpoint)) return 1;

    volley::message msg(a.message_size);

    perf::stopwatch watch;
    for (long i = 0; i != a.count; ++i) {
        perf::fill(msg.data(), msg.size(), i);
        if (auto r = s.send(std::move(msg)); !r) return perf::fail("send", r.error());
        auto m = s.recv();
        if (!m) return perf::fail("recv", m.error());
        if (m->size() != a.message_size) return perf::wrong_size();
        msg = std::move(*m);
    }
    const double elapsed = watch.elapsed_us();

    perf::print_latency_header(a);
    perf::print_latency(a, elapsed);
    return 0;
} catch (const std::exception& e) { // out of memory for the message, say
    std::printf("error: %s\n", e.what());
    return 1;
}
