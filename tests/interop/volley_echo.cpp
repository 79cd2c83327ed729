// SPDX-License-Identifier: MPL-2.0
// volley_echo <bind|connect> <endpoint> <count>: a volley PAIR that echoes
// `count` multipart messages back to its peer, then exits 0. The helper
// pyzmq_peer.py drives it from python3-zmq. After a bind it prints the
// resolved endpoint on one line of stdout (a tcp wildcard port filled in),
// so the driver knows where to connect. Every wait is bounded: a message
// that does not come within 10 s, or cannot go, ends it with exit code 2.
#include <volley/volley.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    if (argc != 4 || (std::string_view(argv[1]) != "bind" && std::string_view(argv[1]) != "connect")) {
        std::fprintf(stderr, "usage: %s <bind|connect> <endpoint> <count>\n", argv[0]);
        return 64;
    }
    try {
        const long count = std::strtol(argv[3], nullptr, 10);
        volley::context ctx;
        volley::socket s(ctx, volley::socket_type::pair);
        s.set(volley::opt::rcvtimeo, 10000ms);
        s.set(volley::opt::sndtimeo, 10000ms);
        s.set(volley::opt::linger, 5000ms); // the last echo still goes out after we are done
        if (std::string_view(argv[1]) == "bind") {
            s.bind(argv[2]);
            std::printf("%s\n", s.last_endpoint().c_str());
            std::fflush(stdout);
        } else {
            s.connect(argv[2]);
        }
        for (long i = 0; i < count; ++i) {
            auto m = s.recv_multipart();
            if (!m.ok()) {
                std::fprintf(stderr, "volley_echo: message %ld: recv: %s\n", i, m.error_code().message().c_str());
                return 2;
            }
            if (const auto r = s.send(std::move(*m)); !r.ok()) {
                std::fprintf(stderr, "volley_echo: message %ld: send: %s\n", i, r.error_code().message().c_str());
                return 2;
            }
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "volley_echo: %s\n", e.what());
        return 2;
    }
}
