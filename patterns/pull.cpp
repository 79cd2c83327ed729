// SPDX-License-Identifier: MPL-2.0
// PULL (RFC 30, PIPELINE): the receiving end of a pipeline. Whole messages
// are fair-queued from every connected PUSH peer. PULL never sends.
#include "patterns.hpp"
#include "policy/fair_queue.hpp"

namespace volley::detail {
namespace {

class pull final : public socket_base {
public:
    using socket_base::socket_base;

private:
    void on_attach(pipe& p) override { in_.attach(p); }
    void on_terminated(pipe& p) override { in_.terminated(p); }
    void on_read_activated(pipe& p) override { in_.activated(p); }
    void on_write_activated(pipe&) override {}
    errc on_send(message&) override { return errc::not_supported; }
    errc on_recv(message& m) override { return in_.recv(m) ? errc{} : errc::would_block; }
    void on_park(direction dir) override {
        if (dir == direction::in) in_.park();
    }
    bool on_unpark(direction dir) override { return dir == direction::in && in_.unpark(); }

    fair_queue<pipe> in_;
};

} // namespace

std::unique_ptr<socket_base> make_pull(context_core& ctx, socket_type type) {
    return std::make_unique<pull>(ctx, type);
}

} // namespace volley::detail
