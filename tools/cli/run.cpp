// SPDX-License-Identifier: MPL-2.0
// Running a socket command: the loop of each role (args.hpp, role_of): send,
// receive, request, reply and duplex. Every wait is bounded by --timeout
// when one is given; --count ends the loop.
#include "format.hpp"
#include "input.hpp"
#include "tool.hpp"

#include <cstdio>
#include <thread>
#include <unistd.h>

namespace volley::cli {
namespace {

using clock = std::chrono::steady_clock;

void print(const command& c, const multipart& m) {
    const std::string line = format_message(m, c.format);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

bool done(const command& c, std::uint64_t n) {
    return c.count && n >= *c.count;
}

// A failed send or recv ends the run: a timeout with status 1, saying what did not come.
[[noreturn]] void fail_call(const command& c, const char* call, errc e, const char* missing) {
    // --timeout 0 makes every wait fail at once (would_block): a timeout all the same.
    if (e == errc::timed_out || (e == errc::would_block && c.timeout)) throw failure(exit_timed_out, std::string(missing) + " within " + seconds_text(*c.timeout));
    throw failure(exit_failure, std::string(call) + ": " + make_error_code(e).message());
}

void send_or_fail(const command& c, socket& s, multipart&& m) {
    if (const auto r = s.send(std::move(m)); r.failed()) fail_call(c, "send", r.error(), "no peer took the message");
}

multipart recv_or_fail(const command& c, socket& s, const char* missing = "no message came") {
    auto m = s.recv_multipart();
    if (m.failed()) fail_call(c, "recv", m.error(), missing);
    return std::move(*m);
}

void pause(const command& c, std::uint64_t sent) {
    if (sent > 0 && c.interval) std::this_thread::sleep_for(*c.interval);
}

// A pub (an XPUB underneath) sends nothing before its first subscriber, and reads the
// subscriptions that come later so that they do not pile up.
void wait_for_subscriber(const command& c, socket& s) {
    (void)recv_or_fail(c, s, "no subscriber came");
}

void drain_subscriptions(socket& s) {
    while (s.recv_multipart(recv_flags::dontwait).ok()) {
    }
}

bool repeats(const command& c) {
    return c.count.has_value() || c.interval.has_value();
}

// push, pub: send each message. req: send each and print its reply.
int send_all(const command& c, socket& s, const monitor& events) {
    const bool pub = c.type == socket_type::pub;
    const bool req = c.type == socket_type::req;
    if (pub)
        wait_for_subscriber(c, s);
    else
        wait_for_peer(c, events);
    input in(c, repeats(c));
    for (std::uint64_t sent = 0; !done(c, sent); ++sent) {
        auto text = in.next();
        if (!text) break;
        pause(c, sent);
        if (pub) drain_subscriptions(s);
        send_or_fail(c, s, multipart{*text});
        if (req) print(c, recv_or_fail(c, s, "no reply came"));
    }
    return exit_ok;
}

int receive_all(const command& c, socket& s) {
    for (std::uint64_t got = 0; !done(c, got); ++got) print(c, recv_or_fail(c, s));
    return exit_ok;
}

// rep: the request echoed, or --data. router: with --data, the request's envelope (its
// frames up to the first empty one, or the routing id alone) followed by --data.
int reply_all(const command& c, socket& s) {
    const bool router = c.type == socket_type::router;
    for (std::uint64_t answered = 0; !done(c, answered); ++answered) {
        multipart request = recv_or_fail(c, s);
        print(c, request);
        if (router && !c.data) continue;
        multipart reply;
        if (router) {
            std::size_t envelope = 1;
            for (std::size_t i = 0; i < request.size(); ++i) {
                if (request[i].empty()) {
                    envelope = i + 1;
                    break;
                }
            }
            for (std::size_t i = 0; i < envelope && i < request.size(); ++i) reply.push_back(std::move(request[i]));
            reply.emplace_back(*c.data);
        } else {
            reply = c.data ? multipart{*c.data} : std::move(request);
        }
        send_or_fail(c, s, std::move(reply));
    }
    return exit_ok;
}

// pair, dealer: send from --data (count: messages sent; ends when they are) or from
// standard input (count: messages received; ends when they are), printing what arrives.
int duplex(const command& c, socket& s, const monitor& events) {
    wait_for_peer(c, events);
    input in(c, repeats(c));
    const bool counts_sent = !in.from_stdin();
    std::uint64_t sent = 0, got = 0;
    auto next_send = clock::now();
    auto last_heard = clock::now();
    poller p;
    p.add(s, poll_events::in);
    bool polling_stdin = in.from_stdin();
    if (polling_stdin) p.add(STDIN_FILENO, poll_events::in);
    while (!done(c, counts_sent ? sent : got)) {
        if (counts_sent && in.ended()) break;
        auto wait = infinite;
        if (counts_sent) {
            wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(next_send - clock::now(), clock::duration{}));
        } else if (c.timeout) {
            const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - last_heard);
            if (silent >= *c.timeout) fail_call(c, "recv", errc::timed_out, "no message came");
            wait = *c.timeout - silent;
        }
        for (const auto& item : p.wait(wait)) {
            if (item.sock != nullptr) {
                while (counts_sent || !done(c, got)) {
                    auto m = s.recv_multipart(recv_flags::dontwait);
                    if (m.failed()) break;
                    print(c, *m);
                    ++got;
                    last_heard = clock::now();
                }
            } else {
                in.fill();
            }
        }
        if (polling_stdin && in.ended()) {
            p.remove(STDIN_FILENO);
            polling_stdin = false;
        }
        if (counts_sent && clock::now() < next_send) continue;
        for (auto text = in.ready(); text; text = in.ready()) {
            send_or_fail(c, s, multipart{*text});
            ++sent;
            if (counts_sent) {
                next_send = clock::now() + c.interval.value_or(std::chrono::milliseconds(0));
                break; // one at a time: --count and --interval decide the next
            }
        }
    }
    return exit_ok;
}

} // namespace

int run(context& ctx, const command& c) {
    monitor events;
    socket s = open_socket(ctx, c, events);
    switch (role_of(c.type)) {
    case role::send:
    case role::request: return send_all(c, s, events);
    case role::receive: return receive_all(c, s);
    case role::reply: return reply_all(c, s);
    case role::duplex: return duplex(c, s, events);
    }
    return exit_failure;
}

} // namespace volley::cli
