// SPDX-License-Identifier: MPL-2.0
// inproc_thr <message-size> <message-count>: libzmq's perf tool of the same
// name and output, on volley. A worker thread PUSHes message-count fresh
// messages of message-size bytes over inproc://thr_test; the main thread
// PULLs them and times from the first message to the last.
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <thread>

int main(int argc, char* argv[]) {
    perf::args a;
    if (!perf::parse(argc, argv, false, "inproc_thr <message-size> <message-count>", a)) return 1;

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::pull);
    s.bind("inproc://thr_test");

    int worker_rc = 0;
    std::thread worker([&] {
        volley::socket push(ctx, volley::socket_type::push);
        push.connect("inproc://thr_test");
        for (long i = 0; i != a.count; ++i) {
            if (auto r = push.send(volley::message(a.message_size)); !r) {
                worker_rc = perf::fail("send", r.error());
                return;
            }
        }
    });

    perf::print_throughput_header(a);
    auto first = s.recv();
    if (!first) return perf::fail("recv", first.error());
    perf::stopwatch watch;
    for (long i = 0; i != a.count - 1; ++i) {
        auto m = s.recv();
        if (!m) return perf::fail("recv", m.error());
        if (m->size() != a.message_size) {
            std::printf("message of incorrect size received\n");
            return 1;
        }
    }
    const double elapsed = watch.elapsed_us();
    worker.join();
    if (worker_rc != 0) return worker_rc;
    perf::print_throughput(a, elapsed);
    return 0;
}
