// SPDX-License-Identifier: MPL-2.0
// inproc_thr <message-size> <message-count>: libzmq's perf tool of the same
// name and output, on volley. A worker thread PUSHes message-count fresh
// messages of message-size bytes over inproc://thr_test; the main thread
// PULLs them and times from the first message to the last.
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <atomic>
#include <exception>
#include <thread>

int main(int argc, char* argv[]) try {
    perf::args a;
    if (!perf::parse(argc, argv, false, "inproc_thr <message-size> <message-count>", a)) return 1;

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::pull);
    s.bind("inproc://thr_test");

    std::atomic<int> worker_rc{0};
    std::thread worker([&] {
        try {
            volley::socket push(ctx, volley::socket_type::push);
            push.connect("inproc://thr_test");
            for (long i = 0; i != a.count; ++i) {
                volley::message m(a.message_size);
                perf::fill(m.data(), m.size(), i);
                if (auto r = push.send(std::move(m)); !r) {
                    if (r.error() != volley::errc::terminated) worker_rc = perf::fail("send", r.error());
                    break;
                }
            }
        } catch (const std::exception& e) {
            std::printf("error: %s\n", e.what());
            worker_rc = 1;
        }
        if (worker_rc != 0) ctx.shutdown(); // main must not wait for messages that never come
    });
    perf::worker_guard guard(worker, [&] { ctx.shutdown(); });
    const auto failed = [&](const char* what, volley::errc e) {
        return worker_rc != 0 ? worker_rc.load() : perf::fail(what, e);
    };

    perf::print_throughput_header(a);
    auto first = s.recv();
    if (!first) return failed("recv", first.error());
    perf::stopwatch watch;
    for (long i = 0; i != a.count - 1; ++i) {
        auto m = s.recv();
        if (!m) return failed("recv", m.error());
        if (m->size() != a.message_size) return perf::wrong_size();
    }
    const double elapsed = watch.elapsed_us();
    worker.join();
    if (worker_rc != 0) return worker_rc;
    perf::print_throughput(a, elapsed);
    return 0;
} catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
}
