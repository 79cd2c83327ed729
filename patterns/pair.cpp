// SPDX-License-Identifier: MPL-2.0
// PAIR (RFC 31, EXPAIR): an exclusive connection to exactly one PAIR peer.
// A second peer is refused (its link closed at once) while the first is
// connected; once the first is gone, a new one may take its place. With no
// peer, send waits (messages are not dropped); recv waits for one.
#include "patterns.hpp"
#include "policy/fair_queue.hpp"
#include "policy/load_balancer.hpp"

namespace volley::detail {
namespace {

class pair_socket final : public socket_base {
public:
    pair_socket(context_core& ctx, socket_type type) : socket_base(ctx, type) {
        watch(direction::in, in_);
        watch(direction::out, out_);
    }

private:
    void on_attach(link& l) override {
        if (peer_ != nullptr) {
            drop(l); // exclusive: one peer at a time
            return;
        }
        peer_ = &l;
        in_.attach(l);
        out_.attach(l);
    }
    void on_terminated(link& l) override {
        if (&l != peer_) return;
        in_.terminated(l);
        out_.terminated(l);
        peer_ = nullptr;
    }
    errc on_send(message& m) override { return out_.send(m) ? errc{} : errc::would_block; }
    errc on_recv(message& m) override { return in_.recv(m) ? errc{} : errc::would_block; }

    link* peer_ = nullptr;
    // With at most one link these are trivial, but they give PAIR the same parking,
    // activation and multipart rules as every other socket.
    fair_queue<link> in_;
    load_balancer<link> out_;
};

} // namespace

std::unique_ptr<socket_base> make_pair(context_core& ctx, socket_type type) {
    return std::make_unique<pair_socket>(ctx, type);
}

} // namespace volley::detail
