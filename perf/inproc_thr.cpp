// SPDX-License-Identifier: MPL-2.0
// inproc_thr <message-size> <message-count>: libzmq's perf tool of the same
// name and output, on volley. A worker thread PUSHes message-count fresh
// messages of message-size bytes over inproc://thr_test; the main thread
// PULLs them and times from the first message to the last.
#include <volley/volley.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

int fail(const char* what, volley::errc e) {
    std::printf("error in %s: %s\n", what, volley::make_error_code(e).message().c_str());
    return 1;
}

} // namespace

int main(int argc, char* argv[]) {
    if (argc != 3) {
        std::printf("usage: inproc_thr <message-size> <message-count>\n");
        return 1;
    }
    const auto message_size = static_cast<std::size_t>(std::atol(argv[1]));
    const long message_count = std::atol(argv[2]);

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::pull);
    s.bind("inproc://thr_test");

    int worker_rc = 0;
    std::thread worker([&] {
        volley::socket push(ctx, volley::socket_type::push);
        push.connect("inproc://thr_test");
        for (long i = 0; i != message_count; ++i) {
            if (auto r = push.send(volley::message(message_size)); !r) {
                worker_rc = fail("send", r.error());
                return;
            }
        }
    });

    std::printf("message size: %d [B]\n", static_cast<int>(message_size));
    std::printf("message count: %d\n", static_cast<int>(message_count));

    auto first = s.recv();
    if (!first) return fail("recv", first.error());
    if (first->size() != message_size) {
        std::printf("message of incorrect size received\n");
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i != message_count - 1; ++i) {
        auto m = s.recv();
        if (!m) return fail("recv", m.error());
        if (m->size() != message_size) {
            std::printf("message of incorrect size received\n");
            return 1;
        }
    }
    auto elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    worker.join();
    if (worker_rc != 0) return worker_rc;
    if (elapsed <= 0) elapsed = 1;

    const auto throughput = static_cast<unsigned long>(static_cast<double>(message_count) / elapsed * 1000000);
    const double megabits = static_cast<double>(throughput * message_size * 8) / 1000000;
    std::printf("mean throughput: %d [msg/s]\n", static_cast<int>(throughput));
    std::printf("mean throughput: %.3f [Mb/s]\n", megabits);
    return 0;
}
