// SPDX-License-Identifier: MPL-2.0
// pub_thr <bind-to> <subscribers> <message-size> <message-count>: PUB
// fan-out on volley. One PUB binds; `subscribers` SUB sockets, each on a
// thread of its own, connect and subscribe to everything. Once every one of
// them gets the publisher's probes (messages one byte longer, ignored), the
// clock starts and the publisher sends message-count messages, each written
// before it is sent; the clock stops when the last subscriber has them all.
// Prints the messages delivered per second, all subscribers together. High-
// water marks are unlimited on both sides, so nothing is dropped and both
// libraries deliver everything (perf/zmq/pub_thr.cpp is the same on libzmq).
#include "perf_common.hpp"
#include "volley_tool.hpp"

#include <volley/volley.hpp>

#include <atomic>
#include <exception>
#include <thread>
#include <vector>

int main(int argc, char* argv[]) try {
    perf::args a;
    int subscribers = 0;
    if (!perf::parse_fan(argc, argv, "pub_thr <bind-to> <subscribers> <message-size> <message-count>", a, subscribers))
        return 1;

    volley::context ctx;
    volley::socket pub(ctx, volley::socket_type::pub);
    pub.set(volley::opt::sndhwm, 0);
    pub.set(volley::opt::linger, std::chrono::milliseconds(0));
    if (!perf::attach(pub, true, a.endpoint)) return 1;
    const std::string endpoint = pub.last_endpoint();

    std::atomic<int> ready{0}, failed{0};
    std::atomic<long long> last_done_us{0};
    const auto start_time = std::chrono::steady_clock::now();
    std::vector<std::thread> subs;
    for (int s = 0; s < subscribers; ++s) {
        subs.emplace_back([&] {
            volley::socket sub(ctx, volley::socket_type::sub);
            sub.set(volley::opt::rcvhwm, 0);
            sub.set(volley::opt::subscribe, std::string());
            std::error_code cec;
            sub.connect(endpoint, cec);
            if (cec) {
                failed = 1;
                return;
            }
            bool counted = false;
            for (long got = 0; got < a.count;) {
                auto m = sub.recv();
                if (!m) {
                    if (m.error() != volley::errc::terminated) failed = 1;
                    return;
                }
                if (m->size() != a.message_size) { // a probe
                    if (!counted) ++ready;
                    counted = true;
                    continue;
                }
                ++got;
            }
            const long long t = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - start_time)
                                    .count();
            for (long long seen = last_done_us.load(); t > seen && !last_done_us.compare_exchange_weak(seen, t);) {
            }
        });
    }
    perf::workers_guard guard(subs, [&] { ctx.shutdown(); });
    volley::message probe(a.message_size + 1);
    perf::fill(probe.data(), probe.size(), 0);
    while (ready.load() < subscribers && failed.load() == 0) { // until every subscription arrived
        (void)pub.send(volley::message(probe));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    perf::print_fan_header(a, "subscribers", subscribers);
    const long long started_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_time).count();
    for (long i = 0; i != a.count; ++i) {
        volley::message m(a.message_size);
        perf::fill(m.data(), m.size(), i);
        if (auto r = pub.send(std::move(m)); !r) return perf::fail("send", r.error());
    }
    for (auto& t : subs) t.join();
    if (failed.load() != 0) return perf::fail("recv", volley::errc::protocol_error);
    perf::print_rate(static_cast<double>(a.count) * subscribers, static_cast<double>(last_done_us - started_us));
    return 0;
} catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
}
