// SPDX-License-Identifier: MPL-2.0
// PUSH (RFC 30, PIPELINE): the sending end of a pipeline. Whole messages go
// round-robin to the connected PULL peers that are below their high-water
// mark; when none is, send waits (or fails with would_block / timed_out).
// PUSH never receives.
#include "patterns.hpp"
#include "policy/load_balancer.hpp"

namespace volley::detail {
namespace {

class push final : public socket_base {
public:
    using socket_base::socket_base;

private:
    void on_attach(pipe& p) override { out_.attach(p); }
    void on_terminated(pipe& p) override { out_.terminated(p); }
    void on_read_activated(pipe&) override {}
    void on_write_activated(pipe& p) override { out_.activated(p); }
    errc on_send(message& m) override { return out_.send(m) ? errc{} : errc::would_block; }
    errc on_recv(message&) override { return errc::not_supported; }
    void on_park(direction dir) override {
        if (dir == direction::out) out_.park();
    }
    bool on_unpark(direction dir) override { return dir == direction::out && out_.unpark(); }

    load_balancer<pipe> out_;
};

} // namespace

std::unique_ptr<socket_base> make_push(context_core& ctx, socket_type type) {
    return std::make_unique<push>(ctx, type);
}

} // namespace volley::detail
