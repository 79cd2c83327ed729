// SPDX-License-Identifier: MPL-2.0
// REQ (RFC 28, REQREP): the client of request-reply. Each request goes to
// one peer (round-robin over those below their high-water mark) behind an
// empty delimiter frame; only a reply from that peer is delivered, its
// envelope removed. Strict alternation by default (send, recv, send...;
// errc::wrong_state otherwise), and beyond libzmq a REQ can never get stuck:
// - req_relaxed: a new request may be sent while the last is unanswered; its
//   reply, if it ever comes, is dropped.
// - req_correlate: a 4-byte request id goes before the delimiter (REP and
//   ROUTER peers echo it); a reply that does not carry the current id is a
//   stale one and is never delivered.
// - req_resend_ivl: an unanswered request is sent again after this long (to
//   whichever peer the load balancer picks), and at once when the connection
//   it went out on is lost (nng's REQ retry). It implies request ids; the id
//   stays the same across resends, so whichever copy is answered first, the
//   reply is the reply.
#include "patterns.hpp"
#include "policy/fair_queue.hpp"
#include "policy/load_balancer.hpp"

#include <random>
#include <vector>

namespace volley::detail {
namespace {

class req final : public socket_base {
public:
    req(context_core& ctx, socket_type type)
        : socket_base(ctx, type), next_id_(static_cast<std::uint32_t>(std::random_device{}())) {
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
        if (&l != sent_to_) return;
        sent_to_ = nullptr;
        // The connection the request went out on is gone: its reply cannot come. Resend now.
        if (awaiting_ && resending()) resend_at_ = clock::now();
    }

    void on_connection_lost(link& l) override {
        // The request went out on a connection that is gone: its reply cannot come. Resend now.
        if (&l == sent_to_ && awaiting_ && resending()) resend_at_ = clock::now();
    }

    // Request ids with req_relaxed too: without them a late reply to an abandoned request,
    // from the same peer, would pass for the reply to the new one.
    bool ids() const noexcept { return options().req_correlate || options().req_relaxed || resending(); }
    bool resending() const noexcept { return options().req_resend_ivl.count() > 0; }

    errc on_send(message& m) override {
        if (!sending_) {
            if (awaiting_ && !options().req_relaxed) return errc::wrong_state;
            if (errc e = send_envelope(); e != errc{}) return e;
            awaiting_ = false; // a new request replaces the unanswered one (relaxed)
            request_.clear();
            keep_ = resending();
        }
        if (keep_) {
            try {
                request_.push_back(m); // shares the body: a copy costs no copy of the bytes
            } catch (const std::bad_alloc&) {
                keep_ = false; // this request cannot be resent
                request_.clear();
            }
        }
        sending_ = m.more();
        out_.send(m); // pinned to the peer the envelope went to: always takes it
        if (!sending_) {
            awaiting_ = true;
            receiving_ = false;
            if (keep_) resend_at_ = clock::now() + options().req_resend_ivl;
        }
        return {};
    }

    // Starts a request: the id (when ids are on) and the empty delimiter, to the next peer.
    errc send_envelope() noexcept {
        if (ids()) {
            id_ = next_id_++;
            message idf(4);
            for (int i = 0; i < 4; ++i) idf.data()[i] = std::byte(static_cast<std::uint8_t>(id_ >> (24 - 8 * i)));
            idf.set_more(true);
            if (!out_.send(idf, &sent_to_)) return errc::would_block;
            message delimiter;
            delimiter.set_more(true);
            out_.send(delimiter);
            return {};
        }
        message delimiter;
        delimiter.set_more(true);
        return out_.send(delimiter, &sent_to_) ? errc{} : errc::would_block;
    }

    // The timer: an unanswered request goes out again.
    clock::time_point next_deadline() const noexcept override {
        return awaiting_ && keep_ && !receiving_ ? resend_at_ : clock::time_point::max();
    }
    void on_timer(clock::time_point now) noexcept override {
        resend_at_ = now + options().req_resend_ivl;
        message idf(4);
        for (int i = 0; i < 4; ++i) idf.data()[i] = std::byte(static_cast<std::uint8_t>(id_ >> (24 - 8 * i)));
        idf.set_more(true);
        link* to = nullptr;
        if (!out_.send(idf, &to)) return; // nobody can take it now: try again after the interval
        sent_to_ = to;
        message delimiter;
        delimiter.set_more(true);
        out_.send(delimiter);
        for (const message& frame : request_) {
            message copy = frame;
            out_.send(copy);
        }
    }

    bool can_send() noexcept override {
        return sending_ || ((!awaiting_ || options().req_relaxed) && out_.can_send());
    }

    errc on_recv(message& m) override {
        if (receiving_) { // the rest of the reply being delivered: same peer, already whole
            if (!in_.recv(m)) return errc::would_block;
            if (!m.more()) finish_reply();
            return {};
        }
        if (!awaiting_) return errc::wrong_state;
        for (;;) {
            link* from = nullptr;
            if (!in_.recv(m, &from)) return errc::would_block;
            if (!accept_envelope(m, from)) continue; // stale or malformed: dropped whole
            if (!in_.recv(m)) return errc::would_block; // cannot happen: the message is whole
            if (m.more())
                receiving_ = true;
            else
                finish_reply();
            return {};
        }
    }

    // `m` is the first frame of a message from `from`. Reads its envelope (id, delimiter)
    // and returns true when it is the reply we wait for, with the body's first frame next;
    // otherwise drops the whole message and returns false.
    bool accept_envelope(message& m, link* from) noexcept {
        bool ok = ids() || from == sent_to_; // with ids, the id decides (a resend may be answered)
        if (ok && ids()) {
            ok = m.size() == 4 && m.more();
            std::uint32_t got = 0;
            for (std::size_t i = 0; ok && i < 4; ++i) got = (got << 8) | std::to_integer<std::uint32_t>(m.data()[i]);
            ok = ok && got == id_;
            if (ok) {
                in_.recv(m);
            }
        }
        ok = ok && m.size() == 0 && m.more(); // the delimiter, and a body after it
        if (ok) return true;
        while (m.more() && in_.recv(m)) {
        }
        return false;
    }

    void finish_reply() noexcept {
        receiving_ = false;
        awaiting_ = false;
        request_.clear();
        sent_to_ = nullptr;
    }

    fair_queue<link> in_;
    load_balancer<link> out_;
    link* sent_to_ = nullptr;        // the peer the current request went to last
    bool sending_ = false;           // frames of a request are being sent
    bool awaiting_ = false;          // a request is out, its reply not delivered
    bool receiving_ = false;         // the reply's frames are being delivered
    bool keep_ = false;              // request_ holds the request, for resending
    std::vector<message> request_;   // the request's frames (bodies shared)
    std::uint32_t id_ = 0;           // the current request's id
    std::uint32_t next_id_;
    clock::time_point resend_at_ = clock::time_point::max();
};

} // namespace

std::unique_ptr<socket_base> make_req(context_core& ctx, socket_type type) {
    return std::make_unique<req>(ctx, type);
}

} // namespace volley::detail
