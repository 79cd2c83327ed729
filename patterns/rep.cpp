// SPDX-License-Identifier: MPL-2.0
// REP (RFC 28, REQREP): the server of request-reply. Requests are fair-queued
// from every peer; each request's envelope (its frames up to and including
// the empty delimiter: a REQ's request id, a chain of ROUTER hops' ids) is
// stripped and kept, and the reply goes back along it, to the peer the
// request came from. Strict alternation: recv, send, recv... (errc::
// wrong_state otherwise). A reply to a peer that has gone, or that is at
// its high-water mark, is dropped, never queued (REP never blocks on send).
// A message without a delimiter is malformed and dropped.
#include "patterns.hpp"
#include "policy/fair_queue.hpp"

#include <vector>

namespace volley::detail {
namespace {

class rep final : public socket_base {
public:
    rep(context_core& ctx, socket_type type) : socket_base(ctx, type) { watch(direction::in, in_); }

private:
    void on_attach(link& l) override { in_.attach(l); }
    void on_terminated(link& l) override {
        in_.terminated(l);
        if (&l == route_to_) route_to_ = nullptr; // the reply to it will be dropped
        if (&l == sending_to_) sending_to_ = nullptr;
    }

    void on_connection_lost(link& l) override {
        if (&l == route_to_) route_to_ = nullptr; // the requester went with its connection
    }

    errc on_recv(message& m) override {
        if (receiving_) { // the rest of the request: same peer, already whole
            if (!in_.recv(m)) return errc::would_block;
            if (!m.more()) request_done();
            return {};
        }
        if (replying_) return errc::wrong_state;
        for (;;) {
            link* from = nullptr;
            if (!in_.recv(m, &from)) return errc::would_block;
            if (!take_envelope(m)) continue; // malformed: dropped whole
            route_to_ = from;
            if (m.more())
                receiving_ = true;
            else
                request_done();
            return {};
        }
    }

    // `m` is the first frame of a request: keeps the frames up to and including the empty
    // delimiter in route_ and leaves the first body frame in `m`. False (the whole message
    // dropped) when no delimiter with a body after it comes.
    bool take_envelope(message& m) noexcept {
        route_.clear();
        try {
            for (;;) {
                const bool delimiter = m.empty();
                if (!m.more()) break; // the message ends without a body after a delimiter
                route_.push_back(std::move(m));
                in_.recv(m); // cannot fail: the message is whole
                if (delimiter) return true;
            }
        } catch (const std::bad_alloc&) {
            while (m.more() && in_.recv(m)) {
            }
        }
        route_.clear();
        return false;
    }

    void request_done() noexcept {
        receiving_ = false;
        replying_ = true;
    }

    errc on_send(message& m) override {
        if (!replying_) return errc::wrong_state;
        if (!in_reply_) { // the first frame: the envelope goes first, to the requester
            in_reply_ = true;
            sending_to_ = route_to_;
            route_to_ = nullptr;
            for (auto& frame : route_) {
                if (sending_to_ == nullptr) break;
                if (!sending_to_->write(frame)) { // at its high-water mark, or gone: drop the reply
                    ++sending_to_->dropped;
                    sending_to_->rollback();
                    sending_to_ = nullptr;
                }
            }
            route_.clear();
        }
        const bool more = m.more();
        if (sending_to_ != nullptr && !sending_to_->write(m)) sending_to_ = nullptr;
        m.reset();
        if (!more) {
            in_reply_ = false;
            replying_ = false;
            sending_to_ = nullptr;
        }
        return {};
    }

    bool can_send() noexcept override { return replying_; } // a reply to a peer gone is dropped: never blocks

    fair_queue<link> in_;
    std::vector<message> route_;   // the envelope of the request being answered
    link* route_to_ = nullptr;     // the peer that sent it (nullptr: gone)
    link* sending_to_ = nullptr;   // the reply's peer while its frames are sent
    bool receiving_ = false;       // the request's frames are being delivered
    bool replying_ = false;        // a request was delivered; its reply is due
    bool in_reply_ = false;        // frames of the reply are being sent
};

} // namespace

std::unique_ptr<socket_base> make_rep(context_core& ctx, socket_type type) {
    return std::make_unique<rep>(ctx, type);
}

} // namespace volley::detail
