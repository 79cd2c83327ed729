// SPDX-License-Identifier: MPL-2.0
// volley::proxy: a poller over the two sockets (and the control socket);
// each message is moved frame by frame from the socket that has one to the
// other, a copy of each frame to the capture socket.
#include <volley/poller.hpp>
#include <volley/proxy.hpp>

#include <cstring>

namespace volley {
namespace {

// What one socket of the proxy saw: messages and bytes received from it, sent to it.
struct counts {
    std::uint64_t messages_in = 0, bytes_in = 0, messages_out = 0, bytes_out = 0;
};

// Moves one whole message from `from` to `to` (a copy to `capture`). A send that fails
// drops the rest of the message (the target had no room within its sndtimeo).
errc forward(socket& from, socket& to, socket* capture, counts& from_counts, counts& to_counts) noexcept {
    bool sending = true;
    for (;;) {
        auto m = from.recv(recv_flags::dontwait);
        if (!m) return m.error() == errc::would_block ? errc{} : m.error();
        const bool more = m->more();
        const std::size_t size = m->size();
        from_counts.bytes_in += size;
        if (capture != nullptr) {
            message copy = *m; // shares the body
            (void)capture->send(std::move(copy), more ? send_flags::more | send_flags::dontwait : send_flags::dontwait);
        }
        if (sending) {
            const auto r = to.send(std::move(*m), more ? send_flags::more : send_flags::none);
            if (r.error() == errc::terminated || r.error() == errc::closed) return r.error();
            if (r.ok()) to_counts.bytes_out += size;
            sending = r.ok();
        }
        if (!more) {
            ++from_counts.messages_in;
            if (sending) ++to_counts.messages_out;
            return {};
        }
    }
}

// Answers one command from `control`; true when it says TERMINATE.
bool steer(socket& control, bool& paused, const counts& front, const counts& back) noexcept {
    auto cmd = control.recv(recv_flags::dontwait);
    if (!cmd) return false;
    const std::string text(cmd->view());
    while (cmd && cmd->more()) cmd = control.recv(recv_flags::dontwait); // one frame expected
    if (text == "PAUSE") paused = true;
    if (text == "RESUME") paused = false;
    if (text == "STATISTICS") {
        try {
            multipart reply;
            for (std::uint64_t v : {front.messages_in, front.bytes_in, front.messages_out, front.bytes_out,
                                    back.messages_in, back.bytes_in, back.messages_out, back.bytes_out}) {
                message& f = reply.emplace_back(sizeof v);
                std::memcpy(f.data(), &v, sizeof v);
            }
            (void)control.send(std::move(reply));
        } catch (const std::bad_alloc&) {
        }
    } else if (control.type() == socket_type::rep) {
        (void)control.send(message()); // a REP must answer to take the next command
    }
    return text == "TERMINATE";
}

std::error_code run(socket& frontend, socket& backend, socket* capture, socket* control) noexcept {
    counts front, back;
    poller p;
    try {
        p.add(frontend, poll_events::in);
        if (&backend != &frontend) p.add(backend, poll_events::in);
        if (control != nullptr) p.add(*control, poll_events::in);
    } catch (const std::system_error& e) {
        return e.code();
    }
    bool paused = false;
    for (;;) {
        for (const poll_item& it : p.wait(infinite)) {
            if (has(it.events, poll_events::err))
                return it.sock != nullptr && !it.sock->is_open() ? errc::closed : errc::terminated;
            if (it.sock == control) {
                if (steer(*control, paused, front, back)) return {};
                const poll_events interest = paused ? poll_events::none : poll_events::in;
                p.modify(frontend, interest);
                if (&backend != &frontend) p.modify(backend, interest);
                continue;
            }
            const bool from_front = it.sock == &frontend;
            errc e = from_front ? forward(frontend, backend, capture, front, back)
                                : forward(backend, frontend, capture, back, front);
            if (e != errc{}) return e;
        }
    }
}

} // namespace

std::error_code proxy(socket& frontend, socket& backend, socket* capture) noexcept {
    return run(frontend, backend, capture, nullptr);
}

std::error_code proxy_steerable(socket& frontend, socket& backend, socket* capture, socket& control) noexcept {
    return run(frontend, backend, capture, &control);
}

} // namespace volley
