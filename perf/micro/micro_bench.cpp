// SPDX-License-Identifier: MPL-2.0
// Google Benchmark micro-benchmarks of the pieces on the hot path, one
// thread each, so their cost can be watched without thread hand-offs:
// making and dropping messages of each body kind, a pipe write + read, and
// an inproc PUSH send + PULL recv.
#include "pipe.hpp"

#include <volley/volley.hpp>

#include <benchmark/benchmark.h>

namespace {

using volley::message;

void message_make_drop(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        message m(size);
        benchmark::DoNotOptimize(m.data());
    }
}
BENCHMARK(message_make_drop)->Arg(32)->Arg(64)->Arg(1024)->Arg(16384)->Arg(65536)->Arg(1 << 20);

void message_copy_shared(benchmark::State& state) {
    message original(std::size_t{1024});
    for (auto _ : state) {
        message copy = original;
        benchmark::DoNotOptimize(copy.data());
    }
}
BENCHMARK(message_copy_shared);

void message_zero_copy(benchmark::State& state) {
    static char buffer[4096];
    for (auto _ : state) {
        message m(buffer, sizeof buffer, nullptr);
        benchmark::DoNotOptimize(m.data());
    }
}
BENCHMARK(message_zero_copy);

void pipe_write_read(benchmark::State& state) {
    volley::detail::init_fences();
    auto* pair = volley::detail::pipe_pair::create(0, 0);
    auto& a = pair->end(0);
    auto& b = pair->end(1);
    message in(std::size_t{64}), out;
    for (auto _ : state) {
        a.write(in);
        b.read(out);
        in = std::move(out);
    }
    a.close(volley::detail::clock::now());
    b.close(volley::detail::clock::now());
}
BENCHMARK(pipe_write_read);

void inproc_send_recv(benchmark::State& state) {
    volley::context ctx;
    volley::socket push(ctx, volley::socket_type::push), pull(ctx, volley::socket_type::pull);
    pull.bind("inproc://micro");
    push.connect("inproc://micro");
    const auto size = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        if (!push.send(message(size))) {
            state.SkipWithError("send failed");
            break;
        }
        auto m = pull.recv();
        benchmark::DoNotOptimize(m->data());
    }
}
BENCHMARK(inproc_send_recv)->Arg(1)->Arg(64)->Arg(1024);

} // namespace

BENCHMARK_MAIN();
