// SPDX-License-Identifier: MPL-2.0
// What PUB and XPUB share (RFC 29, PUBSUB): a sub_trie of their peers'
// subscriptions and a distributor that sends each message to the peers whose
// subscriptions match its first frame, so what nobody subscribed to never
// crosses the wire or an inproc pipe. Sending never blocks: a peer at its
// high-water mark loses the message, counted per peer (socket::peers()).
//
// Subscriptions arrive on the peers' pipes as frames marked subscribe /
// cancel (ZMTP SUBSCRIBE / CANCEL, or inproc) or as ZMTP 3.0's messages of
// 0x01 / 0x00 plus the topic; both are taken. They are read when the pipe
// says it has some (read_activated) and the pipe is parked again after each
// read, so an idle subscriber costs a publisher nothing per message.
#pragma once

#include "fence.hpp"
#include "patterns.hpp"
#include "policy/distributor.hpp"
#include "policy/sub_trie.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace volley::detail {

class publisher : public socket_base {
public:
    using socket_base::socket_base;

protected:
    // XPUB's hooks. A subscription to `topic`: `first` when nobody had one before. A cancel:
    // `last` when nobody has one any more (also for the subscriptions of a peer that went).
    virtual void subscribed(std::string_view, bool) {}
    virtual void unsubscribed(std::string_view, bool) {}
    // A frame of an ordinary message from a subscriber (PUB drops them).
    virtual void peer_frame(message&&) {}
    // False while the pattern cannot take more from its peers (XPUB's queue is full):
    // their input waits in their pipes.
    virtual bool room() const noexcept { return true; }

    void on_attach(link& l) override {
        out_.attach(l);
        drain(l);
    }
    void on_terminated(link& l) override {
        subs_.remove_all(&l, [&](std::string_view topic) { unsubscribed(topic, true); });
        out_.terminated(l);
        std::erase(stalled_, &l);
    }
    void on_read_activated(link& l) override { drain(l); }
    // A connect's link whose connection ended: its subscriber is gone, and the next connection
    // tells its own subscriptions (libzmq's XPUB generates the unsubscriptions too).
    void on_connection_lost(link& l) override {
        subs_.remove_all(&l, [&](std::string_view topic) { unsubscribed(topic, true); });
    }
    void on_write_activated(link&) override {}

    errc on_send(message& m) override {
        if (!sending_) subs_.match(m.view(), [this](link* l) { out_.match(*l); });
        sending_ = m.more();
        out_.send(m, [](link& l) { ++l.dropped; });
        return {};
    }

    bool can_send() noexcept override { return true; } // PUB never blocks

    // Takes what peers sent while the pattern has room again.
    void resume() {
        while (!stalled_.empty() && room()) {
            link* l = stalled_.front(); // in the order they stalled: each gets its turn
            stalled_.erase(stalled_.begin());
            drain(*l);
        }
    }

private:
    // Reads what `l` sent (subscriptions, other messages) until its pipe is empty, then parks
    // its reader: the next thing it sends wakes us (read_activated).
    void drain(link& l) {
        pipe& p = l.pipe_end();
        for (;;) {
            message m;
            while ((in_message_ || room()) && p.read(m)) take(l, m); // room is judged per message
            if (!in_message_ && !room()) {
                if (std::find(stalled_.begin(), stalled_.end(), &l) == stalled_.end()) stalled_.push_back(&l);
                return;
            }
            if (in_message_) continue; // a message is published whole: its frames are there
            p.park_reader();
            heavy_fence();
            if (!p.readable() || !p.unpark_reader()) return;
        }
    }

    void take(link& l, message& m) {
        const auto c = m.control_kind();
        if (!in_message_ && c == message::control::none && !m.more() && !m.empty() &&
            (m.data()[0] == std::byte{1} || m.data()[0] == std::byte{0})) { // ZMTP 3.0's form
            apply(l, m.data()[0] == std::byte{1}, m.view().substr(1));
            return;
        }
        if (c == message::control::subscribe || c == message::control::cancel) {
            apply(l, c == message::control::subscribe, m.view());
            return;
        }
        if (c != message::control::none) return; // not for a publisher
        in_message_ = m.more();
        peer_frame(std::move(m));
    }

    void apply(link& l, bool subscribe, std::string_view topic) {
        if (subscribe)
            subscribed(topic, subs_.add(topic, &l));
        else if (subs_.remove(topic, &l))
            unsubscribed(topic, true);
    }

    sub_trie<link> subs_;
    distributor<link> out_;
    std::vector<link*> stalled_; // links with unread input while room() was false
    bool sending_ = false;       // frames of a message are being sent
    bool in_message_ = false;    // reading a subscriber's multipart message
};

} // namespace volley::detail
