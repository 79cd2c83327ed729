// SPDX-License-Identifier: MPL-2.0
// `volley monitor`: a socket of the given type, bound or connected, whose
// connection events are printed as they happen, one per line:
//     EVENT ENDPOINT[: REASON][ (DETAIL)][, retry in N ms]
#include "tool.hpp"

#include <cstdio>

namespace volley::cli {

namespace {

std::string describe(const monitor_event& e) {
    std::string line = std::string(to_string(e.type)) + ' ' + e.endpoint;
    // The detail often names the error itself ("connect failed: Connection refused").
    const std::string error = e.error ? e.error.message() : std::string();
    if (!e.detail.empty() && (error.empty() || e.detail.find(error) != std::string::npos))
        line += ": " + e.detail;
    else if (!error.empty())
        line += ": " + error + (e.detail.empty() ? "" : " (" + e.detail + ")");
    if (e.type == event_type::connect_retried) line += ", retry in " + std::to_string(e.interval.count()) + " ms";
    return line;
}

} // namespace

int watch(context& ctx, const command& c) {
    monitor events;
    socket s = open_socket(ctx, c, events);
    for (std::uint64_t n = 0; !(c.count && n >= *c.count); ++n) {
        const auto e = events.next(c.timeout.value_or(infinite));
        if (!e) throw failure(exit_timed_out, "no event within " + seconds_text(*c.timeout));
        std::printf("%s\n", describe(*e).c_str());
        std::fflush(stdout);
    }
    s.set(opt::linger, std::chrono::milliseconds(0)); // a monitor sends nothing worth waiting for
    return exit_ok;
}

} // namespace volley::cli
