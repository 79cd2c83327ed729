// SPDX-License-Identifier: MPL-2.0
// ROUTER (RFC 28, REQREP): talks to many peers, each known by a routing id
// (router_map: the id the peer announced, the connect_routing_id chosen for
// it, or a generated one). A received message comes with the sender's id as
// an extra first frame; a sent message goes to the peer its first frame
// names, which is not sent. With the defaults a message to an unknown id, or
// to a peer at its high-water mark, is dropped (counted in peers()); with
// router_mandatory the first fails with host_unreachable and the second
// waits (sndtimeo) instead. A peer that disconnects loses what was queued
// for it (RFC 28: "SHALL discard any messages it contains").
#include "fence.hpp"
#include "patterns.hpp"
#include "policy/fair_queue.hpp"
#include "policy/router_map.hpp"
#include "socket_shared.hpp"

#include <memory>
#include <optional>

namespace volley::detail {
namespace {

class router final : public socket_base {
public:
    router(context_core& ctx, socket_type type) : socket_base(ctx, type) { watch(direction::in, in_); }

private:
    void on_attach(link& l) override {
        const std::string* chosen = connect_routing_id(l);
        link* displaced = nullptr;
        bool added = false;
        try {
            added = ids_.add(l, chosen != nullptr ? *chosen : l.peer().routing_id, options().router_handover,
                             displaced);
            if (added) {
                // The id frame every message from l starts with, made once: copies share it.
                l.pattern_data = new message(std::string_view(l.routing_id));
                in_.attach(l);
            }
        } catch (const std::bad_alloc&) {
            delete static_cast<message*>(l.pattern_data);
            l.pattern_data = nullptr;
            ids_.remove(l);
            added = false;
        }
        if (!added) {
            // Its id is taken (or no memory): refused, as libzmq does without handover. A
            // stream peer is refused in its handshake already, with a reason (session::admit,
            // from the ids kept below); this catches handshakes that overlapped, and inproc.
            drop(l);
            return;
        }
        try {
            shared().add_routing_id(l.routing_id); // for session::admit
        } catch (const std::bad_alloc&) {
            // admission does not see this id: a duplicate is refused here instead, silently
        }
        if (displaced != nullptr) drop(*displaced); // handover: the newcomer has its id now
    }
    void on_terminated(link& l) override {
        delete static_cast<message*>(l.pattern_data);
        l.pattern_data = nullptr;
        if (ids_.find(l.routing_id) == &l) shared().remove_routing_id(l.routing_id); // not a displaced one's
        ids_.remove(l);
        if (l.in_slot != link::npos) in_.terminated(l); // a refused newcomer never joined it
        if (&l == out_) out_ = nullptr;
        if (&l == waiting_) waiting_ = nullptr;
    }
    // The one writer the router waits for: the peer a mandatory send found full.
    void on_write_activated(link& l) override {
        if (&l == waiting_) waiting_ = nullptr;
    }

    errc on_send(message& m) override {
        if (!sending_) { // the first frame names the peer
            link* to = ids_.find(m.view());
            if (to == nullptr && options().router_mandatory) return errc::host_unreachable;
            if (to != nullptr && options().router_mandatory && !to->writable()) {
                to->park_writer(); // wake us when it has room (on_write_activated)
                heavy_fence();     // the parking store before the re-check; see fence.hpp
                if (!to->writable() || !to->unpark_writer()) {
                    waiting_ = to;
                    return errc::would_block;
                }
            }
            // Asked once: the reader may make room between two questions, and a message
            // counted as dropped must not be delivered.
            const bool room = to != nullptr && to->writable();
            if (to != nullptr && !room) ++to->dropped; // full: the message is dropped
            out_ = room ? to : nullptr;
            sending_ = m.more();
            m.reset(); // the id frame is not sent
            return {};
        }
        sending_ = m.more();
        if (out_ != nullptr && !out_->write(m)) out_ = nullptr; // the peer went mid-message: drop the rest
        if (!sending_) out_ = nullptr;
        m.reset();
        return {};
    }

    // Never blocks (drops) without router_mandatory; with it, a send may still wait for one
    // peer, which events() cannot know before it sees the id: ROUTER is always writable, as
    // in libzmq.
    bool can_send() noexcept override { return true; }

    errc on_recv(message& m) override {
        if (pending_) { // the first frame of the message whose id went out last
            m = std::move(*pending_);
            pending_.reset();
            receiving_ = m.more();
            return {};
        }
        link* from = nullptr;
        if (!in_.recv(m, &from)) return errc::would_block;
        if (receiving_) { // later frames come from the same peer (fair_queue pins it)
            receiving_ = m.more();
            return {};
        }
        pending_ = std::move(m);
        m = *static_cast<const message*>(from->pattern_data); // shares the id's body
        m.set_more(true);
        return {};
    }

    router_map<link> ids_;
    fair_queue<link> in_;
    link* out_ = nullptr;       // the peer of the message being sent (nullptr: dropping it)
    link* waiting_ = nullptr;   // router_mandatory: the full peer a send waits for
    bool sending_ = false;      // frames of a message are being sent
    bool receiving_ = false;    // frames of a message are being received
    std::optional<message> pending_;
};

} // namespace

std::unique_ptr<socket_base> make_router(context_core& ctx, socket_type type) {
    return std::make_unique<router>(ctx, type);
}

} // namespace volley::detail
