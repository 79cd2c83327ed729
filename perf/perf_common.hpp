// SPDX-License-Identifier: MPL-2.0
// What every perf tool shares, whichever library it measures: libzmq's
// command lines and output lines, and the stopwatch. Keeping the output
// here guarantees the volley and libzmq builds print the same figures the
// same way (scripts/bench.py parses them).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace perf {

struct args {
    std::string endpoint;     // empty for the inproc tools
    std::size_t message_size; // bytes
    long count;               // roundtrips or messages
};

// Parses "[<endpoint>] <message-size> <count>"; prints `usage` and returns false when wrong.
inline bool parse(int argc, char* argv[], bool with_endpoint, const char* usage, args& out) {
    const int expected = with_endpoint ? 4 : 3;
    if (argc != expected) {
        std::printf("usage: %s\n", usage);
        return false;
    }
    int i = 1;
    if (with_endpoint) out.endpoint = argv[i++];
    out.message_size = static_cast<std::size_t>(std::atol(argv[i++]));
    out.count = std::atol(argv[i]);
    if (out.count <= 0) {
        std::printf("usage: %s\n", usage);
        return false;
    }
    return true;
}

inline void print_latency_header(const args& a) {
    std::printf("message size: %d [B]\n", static_cast<int>(a.message_size));
    std::printf("roundtrip count: %d\n", static_cast<int>(a.count));
}

// Mean one-way latency: half the round trip, as libzmq reports it.
inline void print_latency(const args& a, double elapsed_us) {
    std::printf("average latency: %.3f [us]\n", elapsed_us / (static_cast<double>(a.count) * 2));
}

inline void print_throughput_header(const args& a) {
    std::printf("message size: %d [B]\n", static_cast<int>(a.message_size));
    std::printf("message count: %d\n", static_cast<int>(a.count));
}

inline void print_throughput(const args& a, double elapsed_us) {
    if (elapsed_us <= 0) elapsed_us = 1;
    const auto throughput = static_cast<unsigned long>(static_cast<double>(a.count) / elapsed_us * 1000000);
    const double megabits = static_cast<double>(throughput * a.message_size * 8) / 1000000;
    std::printf("mean throughput: %d [msg/s]\n", static_cast<int>(throughput));
    std::printf("mean throughput: %.3f [Mb/s]\n", megabits);
}

class stopwatch {
public:
    double elapsed_us() const {
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace perf
