// SPDX-License-Identifier: MPL-2.0
// What every perf tool shares, whichever library it measures: libzmq's
// command lines and output lines, and the stopwatch. Keeping the output
// here guarantees the volley and libzmq builds print the same figures the
// same way (scripts/bench.py parses them).
#pragma once

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>

namespace perf {

struct args {
    std::string endpoint;     // empty for the inproc tools
    std::size_t message_size; // bytes
    long count;               // roundtrips or messages
};

// A whole decimal number in [min, max], or false. (atol would take "-1" and "abc".)
inline bool parse_number(const char* text, long long min, long long max, long long& out) {
    if (text == nullptr || *text < '0' || *text > '9') return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > static_cast<unsigned long long>(max)) return false;
    out = static_cast<long long>(v);
    return out >= min;
}

// Parses "[<endpoint>] <message-size> <count>"; prints what is wrong and `usage`, and returns
// false, when it is wrong. Both numbers are ints, as in libzmq's tools; count is at least 1.
inline bool parse(int argc, char* argv[], bool with_endpoint, const char* usage, args& out) {
    const int expected = with_endpoint ? 4 : 3;
    if (argc != expected) {
        std::printf("usage: %s\n", usage);
        return false;
    }
    int i = 1;
    if (with_endpoint) out.endpoint = argv[i++];
    long long size = 0, count = 0;
    if (!parse_number(argv[i], 0, INT_MAX, size)) {
        std::printf("invalid message size '%s': a whole number of bytes from 0 to %d\nusage: %s\n", argv[i], INT_MAX,
                    usage);
        return false;
    }
    ++i;
    if (!parse_number(argv[i], 1, INT_MAX, count)) {
        std::printf("invalid count '%s': a whole number from 1 to %d\nusage: %s\n", argv[i], INT_MAX, usage);
        return false;
    }
    out.message_size = static_cast<std::size_t>(size);
    out.count = static_cast<long>(count);
    return true;
}

// Joins a worker thread on every way out of main (a thread still joinable at exit would
// terminate the process); `stop` first makes the worker's blocking calls return.
template <class Stop>
class worker_guard {
public:
    worker_guard(std::thread& worker, Stop stop) : worker_(worker), stop_(std::move(stop)) {}
    ~worker_guard() {
        if (!worker_.joinable()) return;
        stop_();
        worker_.join();
    }
    worker_guard(const worker_guard&) = delete;
    worker_guard& operator=(const worker_guard&) = delete;

private:
    std::thread& worker_;
    Stop stop_;
};

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
    // As libzmq's local_thr: msg/s kept as a double for the Mb/s figure, printed as an int.
    const double throughput = static_cast<double>(a.count) / elapsed_us * 1000000;
    const double megabits = throughput * static_cast<double>(a.message_size) * 8 / 1000000;
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
