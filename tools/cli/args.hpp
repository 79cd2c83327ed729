// SPDX-License-Identifier: MPL-2.0
// The volley tool's command line, parsed and checked whole before anything
// starts: a mistake is reported in one line naming it (exit status 2) and
// never half-runs. What each socket type does with the options is in
// usage() and in role_of().
#pragma once

#include <volley/socket.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace volley::cli {

// How a received message is printed, one message per line (format.hpp).
enum class output_format { raw, quoted, hex, multipart };

// What a socket type does in the tool.
enum class role {
    send,    // push, pub: sends its messages, then exits
    receive, // pull, sub: prints what arrives
    request, // req: sends each message and prints the reply
    reply,   // rep, router: prints each request and answers it (rep: echo or --data; router: --data)
    duplex,  // pair, dealer: sends its messages and prints what arrives
};
role role_of(socket_type t) noexcept;

struct endpoint_arg {
    bool bind;
    std::string uri;
};

struct command {
    enum class kind { run, monitor, help, version } what = kind::run;
    socket_type type = socket_type::pair;
    std::vector<endpoint_arg> endpoints;
    std::optional<std::string> data;               // --data TEXT, or the contents of --file PATH
    std::optional<std::uint64_t> count;            // --count N
    std::vector<std::string> subscriptions;        // --subscribe PREFIX (sub; none given: everything)
    std::optional<std::chrono::milliseconds> timeout;  // --timeout SECONDS
    std::optional<std::chrono::milliseconds> interval; // --interval SECONDS
    output_format format = output_format::raw;
    std::string identity;                          // --identity ID (the routing id announced)
    bool verbose = false;                          // -v: bound endpoints on stderr
};

// A command line that cannot run; what() is the one-line reason.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses argv[1..argc). Throws usage_error. Reads --file (a file it cannot read is a usage error).
command parse(int argc, const char* const* argv);

// The --help text.
std::string_view usage() noexcept;

} // namespace volley::cli
