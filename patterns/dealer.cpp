// SPDX-License-Identifier: MPL-2.0
// DEALER (RFC 28, REQREP): an asynchronous requester or replier. Whole
// messages go round-robin to the peers below their high-water mark (send
// waits when none is) and are fair-queued from all of them; no envelope is
// added or removed, so a DEALER talks to REP (adding the empty delimiter
// itself), to ROUTER and to other DEALERs.
#include "patterns.hpp"
#include "policy/fair_queue.hpp"
#include "policy/load_balancer.hpp"

namespace volley::detail {
namespace {

class dealer final : public socket_base {
public:
    dealer(context_core& ctx, socket_type type) : socket_base(ctx, type) {
        watch(direction::in, in_);
        watch(direction::out, out_);
    }

private:
    void on_attach(link& l) override {
        in_.attach(l);
        out_.attach(l);
    }
    void on_terminated(link& l) override {
        in_.terminated(l);
        out_.terminated(l);
    }
    errc on_send(message& m) override { return out_.send(m) ? errc{} : errc::would_block; }
    errc on_recv(message& m) override { return in_.recv(m) ? errc{} : errc::would_block; }

    fair_queue<link> in_;
    load_balancer<link> out_;
};

} // namespace

std::unique_ptr<socket_base> make_dealer(context_core& ctx, socket_type type) {
    return std::make_unique<dealer>(ctx, type);
}

} // namespace volley::detail
