// SPDX-License-Identifier: MPL-2.0
// volley_echo [mode] <bind|connect> <endpoint> <count> [topics...]: one volley
// socket for the python3-zmq drivers (pyzmq_peer.py, pyzmq_patterns.py).
// The mode picks its type and what it does; without one it is `pair`, so
// the original usage keeps working:
//
//   pair  echoes `count` multipart messages back to its peer
//   rep   answers `count` requests, each with its own frames
//   req   sends `count` requests ["request", "<n>"] and checks that each
//         reply is its request, echoed (exit 3 when one is not)
//   pub   publishes "<topic> <n>" for each topic in turn (default: "match",
//         "other", "mat"), n = 0, 1, ..., for `count` rounds or until a line
//         (or the end) comes on stdin
//   sub   subscribes to the first topic (default "match") and prints each of
//         `count` messages on a line of stdout, as received
//
// After a bind it prints the resolved endpoint on the first line of stdout
// (a tcp wildcard port filled in), so the driver knows where to connect.
// Every wait is bounded: a message that does not come within 10 s, or cannot
// go, ends it with exit code 2; a publisher stops after 60 s whatever it is told.
#include <volley/volley.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <poll.h>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;

int fail(const char* what, long i, const std::error_code& ec) {
    std::fprintf(stderr, "volley_echo: message %ld: %s: %s\n", i, what, ec.message().c_str());
    return 2;
}

std::string text_of(const volley::multipart& m) {
    std::string out;
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (i > 0) out += " | ";
        out += m[i].to_string();
    }
    return out;
}

// pair and rep: send back each message as it came (REP adds and strips the envelope).
int echo(volley::socket& s, long count) {
    for (long i = 0; i < count; ++i) {
        auto m = s.recv_multipart();
        if (!m.ok()) return fail("recv", i, m.error_code());
        if (const auto r = s.send(std::move(*m)); !r.ok()) return fail("send", i, r.error_code());
    }
    return 0;
}

int request(volley::socket& s, long count) {
    for (long i = 0; i < count; ++i) {
        const std::string n = std::to_string(i);
        if (const auto r = s.send(volley::multipart{"request", n}); !r.ok()) return fail("send", i, r.error_code());
        auto m = s.recv_multipart();
        if (!m.ok()) return fail("recv", i, m.error_code());
        if (m->size() != 2 || (*m)[0] != "request" || (*m)[1] != n) {
            std::fprintf(stderr, "volley_echo: request %ld: the reply is [%s], not its request\n", i,
                         text_of(*m).c_str());
            return 3;
        }
    }
    return 0;
}

// True once stdin has a line or has ended (the driver says stop), waiting up to `wait`.
// The wait paces the publisher too: one round of topics per `wait`.
bool told_to_stop(std::chrono::milliseconds wait) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
}

int publish(volley::socket& s, long rounds, const std::vector<std::string>& topics) {
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    for (long n = 0; n < rounds && std::chrono::steady_clock::now() < give_up; ++n) {
        for (const auto& t : topics)
            if (const auto r = s.send(t + " " + std::to_string(n)); !r.ok()) return fail("send", n, r.error_code());
        if (told_to_stop(1ms)) return 0;
    }
    return 0;
}

int subscribe(volley::socket& s, long count) {
    for (long i = 0; i < count; ++i) {
        auto m = s.recv_multipart();
        if (!m.ok()) return fail("recv", i, m.error_code());
        std::printf("%s\n", text_of(*m).c_str());
        std::fflush(stdout);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    std::string_view mode = "pair";
    if (!args.empty() && args[0] != "bind" && args[0] != "connect") {
        mode = args[0];
        args.erase(args.begin());
    }
    const bool known = mode == "pair" || mode == "rep" || mode == "req" || mode == "pub" || mode == "sub";
    if (!known || args.size() < 3 || (args[0] != "bind" && args[0] != "connect") ||
        (args.size() > 3 && mode != "pub" && mode != "sub")) {
        std::fprintf(stderr, "usage: %s [pair|rep|req|pub|sub] <bind|connect> <endpoint> <count> [topics...]\n",
                     argv[0]);
        return 64;
    }
    try {
        const long count = std::strtol(std::string(args[2]).c_str(), nullptr, 10);
        std::vector<std::string> topics(args.begin() + 3, args.end());
        if (topics.empty()) topics = mode == "sub" ? std::vector<std::string>{"match"}
                                                   : std::vector<std::string>{"match", "other", "mat"};
        const auto type = mode == "rep"   ? volley::socket_type::rep
                          : mode == "req" ? volley::socket_type::req
                          : mode == "pub" ? volley::socket_type::pub
                          : mode == "sub" ? volley::socket_type::sub
                                          : volley::socket_type::pair;
        volley::context ctx;
        volley::socket s(ctx, type);
        s.set(volley::opt::rcvtimeo, 10000ms);
        s.set(volley::opt::sndtimeo, 10000ms);
        s.set(volley::opt::linger, 5000ms); // the last reply still goes out after we are done
        if (mode == "sub") s.set(volley::opt::subscribe, topics.front());
        const std::string endpoint(args[1]);
        if (args[0] == "bind") {
            s.bind(endpoint);
            std::printf("%s\n", s.last_endpoint().c_str());
            std::fflush(stdout);
        } else {
            s.connect(endpoint);
        }
        if (mode == "req") return request(s, count);
        if (mode == "pub") return publish(s, count, topics);
        if (mode == "sub") return subscribe(s, count);
        return echo(s, count);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "volley_echo: %s\n", e.what());
        return 2;
    }
}
