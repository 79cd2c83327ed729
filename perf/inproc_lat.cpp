// SPDX-License-Identifier: MPL-2.0
// inproc_lat <message-size> <roundtrip-count>: libzmq's perf tool of the
// same name and output, on volley. Two threads bounce one message over
// inproc://lat_test and the mean one-way latency is printed (elapsed time /
// (2 x roundtrips)). Both this tool and perf/zmq/inproc_lat use PAIR
// sockets, so the comparison is pattern for pattern.
#include <volley/volley.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

int fail(const char* what, volley::errc e) {
    std::printf("error in %s: %s\n", what, volley::make_error_code(e).message().c_str());
    return 1;
}

} // namespace

int main(int argc, char* argv[]) {
    if (argc != 3) {
        std::printf("usage: inproc_lat <message-size> <roundtrip-count>\n");
        return 1;
    }
    const auto message_size = static_cast<std::size_t>(std::atol(argv[1]));
    const long roundtrip_count = std::atol(argv[2]);

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::pair);
    s.bind("inproc://lat_test");

    int worker_rc = 0;
    std::thread worker([&] {
        volley::socket peer(ctx, volley::socket_type::pair);
        peer.connect("inproc://lat_test");
        for (long i = 0; i != roundtrip_count; ++i) {
            auto m = peer.recv();
            if (!m) {
                worker_rc = fail("recv", m.error());
                return;
            }
            if (auto r = peer.send(std::move(*m)); !r) {
                worker_rc = fail("send", r.error());
                return;
            }
        }
    });

    volley::message msg(message_size);
    std::memset(msg.data(), 0, message_size);
    std::printf("message size: %d [B]\n", static_cast<int>(message_size));
    std::printf("roundtrip count: %d\n", static_cast<int>(roundtrip_count));

    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i != roundtrip_count; ++i) {
        if (auto r = s.send(std::move(msg)); !r) return fail("send", r.error());
        auto m = s.recv();
        if (!m) return fail("recv", m.error());
        if (m->size() != message_size) {
            std::printf("message of incorrect size received\n");
            return 1;
        }
        msg = std::move(*m);
    }
    const auto elapsed = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    worker.join();
    if (worker_rc != 0) return worker_rc;

    std::printf("average latency: %.3f [us]\n", elapsed / (static_cast<double>(roundtrip_count) * 2));
    return 0;
}
