// SPDX-License-Identifier: MPL-2.0
// What SUB and XSUB share (RFC 29, PUBSUB): the subscriptions the socket
// holds (a sub_trie with counts), sent to every publisher as frames marked
// subscribe / cancel (the transports turn them into ZMTP SUBSCRIBE / CANCEL),
// to a new peer when it attaches and again to one that reconnected (hiccup);
// and the filter on what arrives: only messages whose first frame starts
// with a subscribed prefix are delivered (a ZMTP 3.0 publisher, or an XPUB
// sending its own way, may send more than was asked for).
#pragma once

#include "patterns.hpp"
#include "policy/distributor.hpp"
#include "policy/fair_queue.hpp"
#include "policy/sub_trie.hpp"

#include <string_view>

namespace volley::detail {

class subscriber : public socket_base {
public:
    subscriber(context_core& ctx, socket_type type) : socket_base(ctx, type) { watch(direction::in, in_); }

protected:
    // opt::subscribe / opt::unsubscribe, on SUB and XSUB alike.
    std::error_code on_action(option_id id) override {
        try {
            if (id == option_id::subscribe)
                subscribe(options().subscribe);
            else
                unsubscribe(options().unsubscribe);
        } catch (const std::bad_alloc&) {
            return std::make_error_code(std::errc::not_enough_memory);
        }
        return {};
    }
    void on_attach(link& l) override {
        in_.attach(l);
        out_.attach(l);
        tell(l);
    }
    void on_terminated(link& l) override {
        in_.terminated(l);
        out_.terminated(l);
    }
    // A new connection knows nothing of us yet: the reset marker voids the subscriptions still
    // queued for the one that was lost (the connection driver drops them), then everything goes again.
    void on_hiccup(link& l) override {
        message reset;
        reset.set_control(message::control::reset);
        (void)l.write(reset, true); // past the HWM: lost, it would void every later subscription
        tell(l);
    }

    // One subscription more / fewer, told to every peer.
    void subscribe(std::string_view topic) {
        subs_.add(topic, nullptr);
        broadcast(message::control::subscribe, topic);
    }
    void unsubscribe(std::string_view topic) {
        if (!subs_.contains(topic, nullptr)) return; // never subscribed: nothing to take back
        subs_.remove(topic, nullptr);
        broadcast(message::control::cancel, topic);
    }
    // XSUB: an application message to every peer.
    void send_to_all(message& m) {
        if (!sending_) out_.match_all();
        sending_ = m.more();
        out_.send(m, [](link& l) { ++l.dropped; });
    }

    errc on_recv(message& m) override {
        for (;;) {
            if (!in_.recv(m)) return errc::would_block;
            if (receiving_) { // the rest of a message that matched
                receiving_ = m.more();
                return {};
            }
            if (m.control_kind() == message::control::none && subs_.matches(m.view())) {
                receiving_ = m.more();
                return {};
            }
            while (m.more() && in_.recv(m)) { // not subscribed to: dropped whole
            }
        }
    }

private:
    // Sends `l` every subscription we hold, as many times as it is held.
    void tell(link& l) {
        subs_.for_each([&](std::string_view topic, std::uint64_t count) {
            for (std::uint64_t i = 0; i < count; ++i) {
                message m(topic.data(), topic.size());
                m.set_control(message::control::subscribe);
                if (!l.write(m)) ++l.dropped; // its queue is full of subscriptions already
            }
        });
    }
    void broadcast(message::control kind, std::string_view topic) {
        message m(topic.data(), topic.size());
        m.set_control(kind);
        out_.match_all();
        out_.send(m, [](link& l) { ++l.dropped; });
    }

    fair_queue<link> in_;
    distributor<link> out_;
    sub_trie<void> subs_;
    bool receiving_ = false; // delivering the frames of a message that matched
    bool sending_ = false;   // XSUB: frames of an application message are being sent
};

} // namespace volley::detail
