// SPDX-License-Identifier: MPL-2.0
// local_lat <bind-to> <message-size> <roundtrip-count>: libzmq's perf tool
// of the same name and command line, on volley. A REP socket binds, then
// answers roundtrip-count requests from remote_lat, checking each one's size
// and writing the reply's bytes before sending it (as an application would);
// remote_lat does the timing, so this side prints nothing on success, as
// libzmq's does. REQ/REP, as in libzmq's tools, so each build pairs with the
// other's. The last reply must reach remote_lat before we exit: linger is set
// to volley::infinite (libzmq's default) instead of libzmq's one-second sleep
// before closing.
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <cstdio>
#include <exception>

#include <system_error>

int main(int argc, char* argv[]) try {
    perf::args a;
    if (!perf::parse(argc, argv, true, "local_lat <bind-to> <message-size> <roundtrip-count>", a)) return 1;

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::rep);
    s.set(volley::opt::linger, volley::infinite);
    if (!perf::attach(s, true, a.endpoint)) return 1;

    for (long i = 0; i != a.count; ++i) {
        auto m = s.recv();
        if (!m) return perf::fail("recv", m.error());
        if (m->size() != a.message_size) return perf::wrong_size();
        perf::fill(m->data(), m->size(), i);
        if (auto r = s.send(std::move(*m)); !r) return perf::fail("send", r.error());
    }
    s.close();
    return 0;
} catch (const std::exception& e) { // out of memory for the message, say
    std::printf("error: %s\n", e.what());
    return 1;
}
