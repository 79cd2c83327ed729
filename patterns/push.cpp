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
    push(context_core& ctx, socket_type type) : socket_base(ctx, type) { watch(direction::out, out_); }

private:
    void on_attach(link& l) override { out_.attach(l); }
    void on_terminated(link& l) override { out_.terminated(l); }
    errc on_send(message& m) override { return out_.send(m) ? errc{} : errc::would_block; }
    errc on_recv(message&) override { return errc::not_supported; }

    load_balancer<link> out_;
};

} // namespace

std::unique_ptr<socket_base> make_push(context_core& ctx, socket_type type) {
    return std::make_unique<push>(ctx, type);
}

} // namespace volley::detail
