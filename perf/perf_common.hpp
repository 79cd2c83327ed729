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
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

// Parses "<endpoint> <peers> <message-size> <count>" (pub_thr, router_thr): the peers are
// subscribers or clients, 1 to 1024.
inline bool parse_fan(int argc, char* argv[], const char* usage, args& out, int& peers) {
    long long n = 0;
    if (argc != 5 || !parse_number(argv[2], 1, 1024, n)) {
        std::printf("usage: %s\n  (peers: a whole number from 1 to 1024)\n", usage);
        return false;
    }
    peers = static_cast<int>(n);
    char* rest[] = {argv[0], argv[1], argv[3], argv[4]};
    return parse(4, rest, true, usage, out);
}

inline void print_fan_header(const args& a, const char* peers_name, int peers) {
    std::printf("message size: %d [B]\n", static_cast<int>(a.message_size));
    std::printf("%s: %d\n", peers_name, peers);
    std::printf("message count: %d\n", static_cast<int>(a.count));
}

// Messages (or requests) per second, all peers together.
inline void print_rate(double messages, double elapsed_us) {
    if (elapsed_us <= 0) elapsed_us = 1;
    std::printf("mean throughput: %d [msg/s]\n", static_cast<int>(messages / elapsed_us * 1000000));
}

// worker_guard for several threads: on every way out of main, `stop` and join them all.
template <class Stop>
class workers_guard {
public:
    workers_guard(std::vector<std::thread>& workers, Stop stop) : workers_(workers), stop_(std::move(stop)) {}
    ~workers_guard() {
        bool any = false;
        for (auto& t : workers_) any = any || t.joinable();
        if (!any) return;
        stop_();
        for (auto& t : workers_) {
            if (t.joinable()) t.join();
        }
    }
    workers_guard(const workers_guard&) = delete;
    workers_guard& operator=(const workers_guard&) = delete;

private:
    std::vector<std::thread>& workers_;
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

// Writes every byte of a body before it is sent, as an application does: measured here, a
// sender of untouched bodies runs 30-45% slower at 1 MiB over ipc in both libraries (fresh
// pages fault in inside the kernel's copy instead), which made the ratio noise. `i` varies
// the byte, so no two consecutive messages are alike.
inline void fill(void* data, std::size_t size, long i) {
    std::memset(data, static_cast<int>('a' + i % 26), size);
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
