// SPDX-License-Identifier: MPL-2.0
// What the parts of the volley tool share: exit statuses, the failure that
// ends a run with one of them, and opening the socket a command describes.
#pragma once

#include "args.hpp"

#include <volley/volley.hpp>

#include <string>

namespace volley::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_timed_out = 1;
inline constexpr int exit_usage = 2;   // bad arguments, or an endpoint that cannot be used
inline constexpr int exit_failure = 3; // something failed while running

// Ends a run: main prints "volley: <what()>" on stderr and exits with `status`.
struct failure : std::runtime_error {
    failure(int s, const std::string& why) : std::runtime_error(why), status(s) {}
    int status;
};

// "2.5 s", for messages about a timeout.
std::string seconds_text(std::chrono::milliseconds d);

// The socket `c` describes, its options set, monitored (into `events`), bound and
// connected. A pub is an XPUB underneath, so that it can wait for a subscriber.
// Throws failure (exit_usage) naming an endpoint that cannot be bound or connected.
socket open_socket(context& ctx, const command& c, monitor& events);

// Waits until a peer's handshake succeeded (up to --timeout); throws failure
// (exit_timed_out) when none did.
void wait_for_peer(const command& c, const monitor& events);

// Runs a socket command (run.cpp) or a monitor command (watch.cpp); returns the exit status.
int run(context& ctx, const command& c);
int watch(context& ctx, const command& c);

} // namespace volley::cli
