// SPDX-License-Identifier: MPL-2.0
// PULL (RFC 30, PIPELINE): the receiving end of a pipeline. Whole messages
// are fair-queued from every connected PUSH peer. PULL never sends.
#include "patterns.hpp"
#include "policy/fair_queue.hpp"

namespace volley::detail {
namespace {

class pull final : public socket_base {
public:
    pull(context_core& ctx, socket_type type) : socket_base(ctx, type) { watch(direction::in, in_); }

private:
    void on_attach(link& l) override { in_.attach(l); }
    void on_terminated(link& l) override { in_.terminated(l); }
    errc on_send(message&) override { return errc::not_supported; }
    errc on_recv(message& m) override { return in_.recv(m) ? errc{} : errc::would_block; }

    fair_queue<link> in_;
};

} // namespace

std::unique_ptr<socket_base> make_pull(context_core& ctx, socket_type type) {
    return std::make_unique<pull>(ctx, type);
}

} // namespace volley::detail
