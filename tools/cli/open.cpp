// SPDX-License-Identifier: MPL-2.0
// Opening the socket a command describes, and waiting for its first peer.
#include "tool.hpp"

#include <cstdio>

namespace volley::cli {

std::string seconds_text(std::chrono::milliseconds d) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", static_cast<double>(d.count()) / 1000.0);
    return text;
}

socket open_socket(context& ctx, const command& c, monitor& events) {
    const bool as_xpub = c.what == command::kind::run && c.type == socket_type::pub;
    socket s(ctx, as_xpub ? socket_type::xpub : c.type);
    if (!c.identity.empty()) s.set(opt::routing_id, c.identity);
    if (c.type == socket_type::sub) {
        if (c.subscriptions.empty()) s.set(opt::subscribe, std::string());
        for (const auto& prefix : c.subscriptions) s.set(opt::subscribe, prefix);
    }
    // Sends and receives wait up to --timeout; so does delivery of what is queued at exit
    // (without one, until the peer took it: a tool that exits 0 has delivered).
    s.set(opt::linger, c.timeout.value_or(infinite));
    if (c.timeout) {
        s.set(opt::sndtimeo, *c.timeout);
        s.set(opt::rcvtimeo, *c.timeout);
    }
    events = s.monitor();
    for (const auto& e : c.endpoints) {
        try {
            if (e.bind)
                s.bind(e.uri);
            else
                s.connect(e.uri);
        } catch (const std::system_error& err) {
            throw failure(exit_usage, err.what());
        }
        if (c.verbose && e.bind) std::fprintf(stderr, "volley: bound %s\n", s.last_endpoint().c_str());
    }
    return s;
}

void wait_for_peer(const command& c, const monitor& events) {
    if (!events.wait_for(event_type::handshake_succeeded, c.timeout.value_or(infinite)))
        throw failure(exit_timed_out, "no peer connected within " + seconds_text(*c.timeout));
}

} // namespace volley::cli
