// SPDX-License-Identifier: MPL-2.0
// inproc_lat <message-size> <roundtrip-count>: libzmq's perf tool of the
// same name and output, on volley. Two threads bounce one message over
// inproc://lat_test and the mean one-way latency is printed (elapsed time /
// (2 x roundtrips)). Both this tool and perf/zmq/inproc_lat use PAIR
// sockets, so the comparison is pattern for pattern.
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <atomic>
#include <cstring>
#include <exception>
#include <thread>

int main(int argc, char* argv[]) try {
    perf::args a;
    if (!perf::parse(argc, argv, false, "inproc_lat <message-size> <roundtrip-count>", a)) return 1;

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::pair);
    s.bind("inproc://lat_test");

    std::atomic<int> worker_rc{0};
    std::thread worker([&] {
        volley::socket peer(ctx, volley::socket_type::pair);
        peer.connect("inproc://lat_test");
        for (long i = 0; i != a.count; ++i) {
            auto m = peer.recv();
            if (!m) {
                if (m.error() != volley::errc::terminated) worker_rc = perf::fail("recv", m.error());
                break;
            }
            perf::fill(m->data(), m->size(), i);
            if (auto r = peer.send(std::move(*m)); !r) {
                worker_rc = perf::fail("send", r.error());
                break;
            }
        }
        if (worker_rc != 0) ctx.shutdown(); // main must not wait for a reply that never comes
    });
    perf::worker_guard guard(worker, [&] { ctx.shutdown(); });
    // Main's own failure, or the worker's (which shut the context down, so main fails too).
    const auto failed = [&](const char* what, volley::errc e) {
        return worker_rc != 0 ? worker_rc.load() : perf::fail(what, e);
    };

    volley::message msg(a.message_size);
    perf::print_latency_header(a);

    perf::stopwatch watch;
    for (long i = 0; i != a.count; ++i) {
        perf::fill(msg.data(), msg.size(), i);
        if (auto r = s.send(std::move(msg)); !r) return failed("send", r.error());
        auto m = s.recv();
        if (!m) return failed("recv", m.error());
        if (m->size() != a.message_size) return perf::wrong_size();
        msg = std::move(*m);
    }
    const double elapsed = watch.elapsed_us();
    worker.join();
    if (worker_rc != 0) return worker_rc;
    perf::print_latency(a, elapsed);
    return 0;
} catch (const std::exception& e) { // out of memory for the message, say
    std::printf("error: %s\n", e.what());
    return 1;
}
