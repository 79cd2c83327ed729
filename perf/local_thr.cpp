// SPDX-License-Identifier: MPL-2.0
// local_thr <bind-to> <message-size> <message-count>: libzmq's perf tool of
// the same name and output, on volley. A PULL socket binds and receives
// message-count messages from remote_thr; the clock starts at the first
// message, so connection set-up is not counted, and stops at the last.
// Every message's size is checked. This side prints the throughput.
#include "perf_common.hpp"

#include <volley/volley.hpp>

#include <system_error>

namespace {

int fail(const char* what, const std::error_code& ec) {
    std::printf("error in %s: %s\n", what, ec.message().c_str());
    return 1;
}

int fail(const char* what, volley::errc e) {
    return fail(what, volley::make_error_code(e));
}

int wrong_size() {
    std::printf("message of incorrect size received\n");
    return 1;
}

} // namespace

int main(int argc, char* argv[]) {
    perf::args a;
    if (!perf::parse(argc, argv, true, "local_thr <bind-to> <message-size> <message-count>", a)) return 1;

    volley::context ctx;
    volley::socket s(ctx, volley::socket_type::pull);
    std::error_code ec;
    s.bind(a.endpoint, ec);
    if (ec) return fail("bind", ec);

    auto first = s.recv();
    if (!first) return fail("recv", first.error());
    if (first->size() != a.message_size) return wrong_size();

    perf::stopwatch watch;
    for (long i = 0; i != a.count - 1; ++i) {
        auto m = s.recv();
        if (!m) return fail("recv", m.error());
        if (m->size() != a.message_size) return wrong_size();
    }
    const double elapsed = watch.elapsed_us();

    perf::print_throughput_header(a);
    perf::print_throughput(a, elapsed);
    return 0;
}
