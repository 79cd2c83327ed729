// SPDX-License-Identifier: MPL-2.0
// Parsing and checking the volley tool's command line. See args.hpp.
#include "args.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace volley::cli {
namespace {

constexpr std::string_view usage_text =
    R"(usage: volley TYPE (--bind URI | --connect URI)... [options]
       volley monitor TYPE (--bind URI | --connect URI)... [--count N] [--timeout SECONDS]
                      [--subscribe PREFIX] [--identity ID]
       volley --help | --version

TYPE is pair, push, pull, req, rep, pub, sub, dealer or router. URIs are
tcp://host:port, ipc:///path or inproc://name ('*' binds every interface, ':*'
a free port; -v prints the port chosen).

What each type does:
  push, pub      send the messages, then exit once they are delivered
                 (pub waits for a first subscriber before its first message)
  pull, sub      print each message that arrives (sub: --subscribe, default all)
  req            send each message and print its reply
  rep            print each request and answer it: --data, or the request echoed
  router         print each message (its first frame is the sender's routing id);
                 with --data, answer the sender with it
  pair, dealer   send the messages and print what arrives
Senders (push, pub, req, pair, dealer) wait for a peer before the first message.

Messages sent: --data TEXT, or --file PATH (its whole contents, one message),
each sent once (or --count times); without either, one message per line of
standard input (pair, dealer: print what arrives meanwhile).

Options:
  --bind URI, --connect URI   where to listen or connect (repeatable)
  --data TEXT                 the message to send (rep, router: the reply)
  --file PATH                 the message to send, read from a file
  --count N                   stop after N messages: sent (push, pub, and pair
                              or dealer with --data/--file), received (pull, sub,
                              pair, dealer), requests made (req) or answered (rep,
                              router)
  --subscribe PREFIX          sub: receive messages starting with PREFIX (repeatable)
  --timeout SECONDS           give up when a peer, a message or a reply takes longer
                              (exit status 1); also bounds delivery at exit
  --interval SECONDS          wait this long between messages sent (with --data or
                              --file and no --count: send forever)
  --format FORMAT             how messages are printed, one per line:
                                raw        the bytes as they are (frames joined)
                                quoted     a double-quoted string, C escapes
                                hex        hexadecimal, two digits per byte
                                multipart  each frame quoted, separated by spaces
  --identity ID               the routing id this socket announces to peers
  -v, --verbose               print each endpoint bound (wildcards resolved) on stderr
  -h, --help                  this text
  --version                   volley's version

monitor prints the socket's connection events as they happen, one per line:
"EVENT ENDPOINT[: REASON]"; --count stops after N events.

Exit status: 0 done, 1 timed out, 2 bad arguments (or an endpoint that cannot
be used), 3 a failure while running; each failure says why in one line on
stderr. SIGINT and SIGTERM stop it at once (status 130 and 143).
)";

struct type_name {
    std::string_view name;
    socket_type type;
};
constexpr type_name types[] = {
    {"pair", socket_type::pair}, {"push", socket_type::push},     {"pull", socket_type::pull},
    {"req", socket_type::req},   {"rep", socket_type::rep},       {"pub", socket_type::pub},
    {"sub", socket_type::sub},   {"dealer", socket_type::dealer}, {"router", socket_type::router},
};

[[noreturn]] void bad(const std::string& why) {
    throw usage_error(why);
}

std::string name_of(socket_type t) {
    for (const auto& n : types)
        if (n.type == t) return std::string(n.name);
    return "?";
}

socket_type type_of(std::string_view word) {
    for (const auto& n : types)
        if (n.name == word) return n.type;
    bad("unknown socket type '" + std::string(word) +
        "' (there are pair, push, pull, req, rep, pub, sub, dealer and router)");
}

std::uint64_t count_of(const std::string& text) {
    errno = 0;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE || n == 0)
        bad("--count takes a whole number of messages, at least 1, not '" + text + "'");
    return n;
}

std::chrono::milliseconds seconds_of(std::string_view option, const std::string& text) {
    char* end = nullptr;
    const double s = std::strtod(text.c_str(), &end);
    // The sockets' timeouts are milliseconds up to 2^31-1, as libzmq's.
    if (text.empty() || *end != '\0' || !std::isfinite(s) || s < 0 || s * 1000 > 2147483647.0)
        bad(std::string(option) + " takes seconds (0 to 2147483, a fraction allowed), not '" + text + "'");
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(s * 1000)));
}

output_format format_of(const std::string& text) {
    if (text == "raw") return output_format::raw;
    if (text == "quoted") return output_format::quoted;
    if (text == "hex") return output_format::hex;
    if (text == "multipart") return output_format::multipart;
    bad("unknown --format '" + text + "' (there are raw, quoted, hex and multipart)");
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) bad("--file '" + path + "': " + std::strerror(errno));
    std::ostringstream body;
    body << in.rdbuf();
    if (in.bad()) bad("--file '" + path + "': cannot read it");
    return std::move(body).str();
}

// Rejects what the command's socket type (or monitor) does not use, naming it.
void check(const command& c, bool has_data, bool has_file, bool has_format, bool has_interval) {
    const std::string type = name_of(c.type);
    if (c.endpoints.empty()) bad("give at least one --bind URI or --connect URI");
    if (has_data && has_file) bad("--data and --file both give the message: use one");
    if (!c.subscriptions.empty() && c.type != socket_type::sub) bad("--subscribe applies to sub, not " + type);
    if (c.what == command::kind::monitor) {
        if (has_data || has_file || has_interval || has_format)
            bad("monitor takes --bind, --connect, --count, --timeout, --subscribe and --identity only");
        return;
    }
    const role r = role_of(c.type);
    if (r == role::receive && (has_data || has_file)) bad(type + " only receives: --data and --file do not apply");
    if (has_interval && (r == role::receive || r == role::reply))
        bad("--interval paces what is sent; " + type + " only " + (r == role::receive ? "receives" : "replies"));
}

} // namespace

role role_of(socket_type t) noexcept {
    switch (t) {
    case socket_type::push:
    case socket_type::pub:
    case socket_type::xpub: return role::send;
    case socket_type::pull:
    case socket_type::sub:
    case socket_type::xsub: return role::receive;
    case socket_type::req: return role::request;
    case socket_type::rep:
    case socket_type::router: return role::reply;
    case socket_type::pair:
    case socket_type::dealer: return role::duplex;
    }
    return role::duplex;
}

std::string_view usage() noexcept {
    return usage_text;
}

command parse(int argc, const char* const* argv) {
    command c;
    bool have_type = false, has_data = false, has_file = false, has_format = false, has_interval = false;
    std::string file;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        bool inline_value = false;
        if (arg.rfind("--", 0) == 0) {
            if (const auto eq = arg.find('='); eq != std::string::npos) {
                value = arg.substr(eq + 1);
                arg.resize(eq);
                inline_value = true;
            }
        }
        auto take = [&]() -> std::string {
            if (inline_value) return value;
            if (i + 1 >= argc) bad(arg + " needs a value");
            return argv[++i];
        };
        auto flag = [&] {
            if (inline_value) bad(arg + " takes no value");
        };
        if (arg == "-h" || arg == "--help") {
            flag();
            c.what = command::kind::help;
            return c;
        }
        if (arg == "--version") {
            flag();
            c.what = command::kind::version;
            return c;
        }
        if (arg == "--bind" || arg == "--connect") {
            c.endpoints.push_back({arg == "--bind", take()});
        } else if (arg == "--data") {
            c.data = take();
            has_data = true;
        } else if (arg == "--file") {
            file = take();
            has_file = true;
        } else if (arg == "--count") {
            c.count = count_of(take());
        } else if (arg == "--subscribe") {
            c.subscriptions.push_back(take());
        } else if (arg == "--timeout") {
            c.timeout = seconds_of(arg, take());
        } else if (arg == "--interval") {
            c.interval = seconds_of(arg, take());
            has_interval = true;
        } else if (arg == "--format") {
            c.format = format_of(take());
            has_format = true;
        } else if (arg == "--identity") {
            c.identity = take();
            if (c.identity.empty() || c.identity.size() > 255 || c.identity[0] == '\0')
                bad("--identity takes 1 to 255 bytes, not starting with a zero byte");
        } else if (arg == "-v" || arg == "--verbose") {
            flag();
            c.verbose = true;
        } else if (!arg.empty() && arg[0] == '-') {
            bad("unknown option '" + arg + "' (volley --help lists them)");
        } else if (arg == "monitor" && !have_type && c.what == command::kind::run) {
            c.what = command::kind::monitor;
        } else if (!have_type) {
            c.type = type_of(arg);
            have_type = true;
        } else {
            bad("unexpected argument '" + arg + "' (one socket type, then options)");
        }
    }
    if (!have_type) bad(argc <= 1 ? "no socket type given (volley --help shows how)" : "no socket type given");
    check(c, has_data, has_file, has_format, has_interval);
    if (has_file) c.data = read_file(file);
    return c;
}

} // namespace volley::cli
