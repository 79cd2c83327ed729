// SPDX-License-Identifier: MPL-2.0
// Pipeline tutorial (PUSH/PULL): a ventilator hands out tasks, workers
// process them in parallel, a sink collects the results. Everything runs in
// one process over inproc://, so it needs no network; swap the endpoints for
// tcp:// ones and the same code spreads over machines.
//
//   ventilator PUSH --> [worker PULL -> PUSH] x 3 --> PULL sink
//
// PUSH round-robins tasks over the workers (skipping one whose queue is
// full); the sink's PULL fair-queues the results. Once the sink has every
// result, shutting the context down wakes the idle workers with
// errc::terminated, which ends them. The program checks the sum and exits 0.
#include <volley/volley.hpp>

#include <cstdio>
#include <latch>
#include <string>
#include <thread>
#include <vector>

int main() {
    constexpr int tasks = 10'000;
    constexpr int workers = 3;
    volley::context ctx;

    // Bind the fixed points first; connects may come in any order anyway.
    volley::socket ventilator(ctx, volley::socket_type::push);
    ventilator.bind("inproc://tasks");
    volley::socket sink(ctx, volley::socket_type::pull);
    sink.bind("inproc://results");

    // Feed only once every worker is connected, so that round-robin spreads the tasks
    // over all of them. An inproc connect is complete when it returns.
    std::latch connected(workers);
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
        pool.emplace_back([&ctx, &connected] {
            volley::socket in(ctx, volley::socket_type::pull);
            volley::socket out(ctx, volley::socket_type::push);
            in.connect("inproc://tasks");
            out.connect("inproc://results");
            connected.count_down();
            for (;;) {
                auto task = in.recv();
                if (!task) return; // errc::terminated: the context was shut down
                const long n = std::stol(task->to_string());
                if (!out.send(std::to_string(n * n))) return; // terminated
            }
        });
    }

    std::thread feeder([&] {
        connected.wait();
        for (int i = 1; i <= tasks; ++i) {
            if (!ventilator.send(std::to_string(i))) return; // the sink then reports what is missing
        }
    });

    long long sum = 0;
    for (int i = 0; i < tasks; ++i) {
        auto result = sink.recv();
        if (!result) {
            std::printf("recv failed: %s\n", result.error_code().message().c_str());
            return 1;
        }
        sum += std::stoll(result->to_string());
    }
    feeder.join();
    ctx.shutdown(); // every result is in: wake the idle workers so they end
    for (auto& t : pool) t.join();

    const long long expected = static_cast<long long>(tasks) * (tasks + 1) * (2 * tasks + 1) / 6;
    std::printf("sum of squares 1..%d = %lld (%s)\n", tasks, sum, sum == expected ? "ok" : "WRONG");
    return sum == expected ? 0 : 1;
}
