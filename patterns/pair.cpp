// SPDX-License-Identifier: MPL-2.0
// PAIR (RFC 31, EXPAIR): an exclusive connection to exactly one PAIR peer.
// A second peer is refused (its pipe closed at once) while the first is
// connected; once the first is gone, a new one may take its place. With no
// peer, send waits (messages are not dropped); recv waits for one.
#include "patterns.hpp"
#include "policy/fair_queue.hpp"
#include "policy/load_balancer.hpp"

namespace volley::detail {
namespace {

class pair_socket final : public socket_base {
public:
    using socket_base::socket_base;

private:
    void on_attach(pipe& p) override {
        if (peer_ != nullptr) {
            drop(p); // exclusive: one peer at a time
            return;
        }
        peer_ = &p;
        in_.attach(p);
        out_.attach(p);
    }
    void on_terminated(pipe& p) override {
        if (&p != peer_) return;
        in_.terminated(p);
        out_.terminated(p);
        peer_ = nullptr;
    }
    void on_read_activated(pipe& p) override { in_.activated(p); }
    void on_write_activated(pipe& p) override { out_.activated(p); }
    errc on_send(message& m) override { return out_.send(m) ? errc{} : errc::would_block; }
    errc on_recv(message& m) override { return in_.recv(m) ? errc{} : errc::would_block; }
    void on_park(direction dir) override {
        if (dir == direction::in)
            in_.park();
        else
            out_.park();
    }
    bool on_unpark(direction dir) override { return dir == direction::in ? in_.unpark() : out_.unpark(); }

    pipe* peer_ = nullptr;
    // With at most one pipe these are trivial, but they give PAIR the same parking,
    // activation and multipart rules as every other socket.
    fair_queue<pipe> in_;
    load_balancer<pipe> out_;
};

} // namespace

std::unique_ptr<socket_base> make_pair(context_core& ctx, socket_type type) {
    return std::make_unique<pair_socket>(ctx, type);
}

} // namespace volley::detail
