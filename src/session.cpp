// SPDX-License-Identifier: MPL-2.0
// Sessions: pipes, attach, linger and the channel slot of a connection. See session.hpp.
#include "session.hpp"

#include "peer_text.hpp"
#include "pipe.hpp"
#include "registry.hpp"
#include "transport.hpp"

namespace volley::detail {

std::shared_ptr<session> make_session(reactor& r, std::shared_ptr<const endpoint_info> info, session_owner& owner,
                                      bool connect) {
    return std::make_shared<session>(r, std::move(info), owner, connect);
}

session::session(reactor& r, std::shared_ptr<const endpoint_info> info, session_owner& owner, bool connect)
    : reactor_(r), info_(std::move(info)), owner_(owner), connect_(connect),
      pipe_per_connection_(!connect ||
                           (info_->type == socket_type::router && info_->options.connect_routing_id.empty())) {
    // A connect's pipe exists from now on: what the socket sends queues until a connection is up.
    // A PAIR that has its peer already makes one only if a handshake finds the slot free.
    if (!pipe_per_connection_ && !(slot_ = info_->shared->take_peer_slot())) pipe_per_connection_ = true;
    if (!pipe_per_connection_ && !open_pipe({})) {
        info_->shared->give_back_peer_slot();
        throw std::bad_alloc();
    }
}

session::~session() {
    if (pipe_ != nullptr || slot_) close_pipe(); // only if never finished (reactor gone)
}

errc session::admit(const peer_properties& peer, std::string& reason, std::string& detail) noexcept {
    try {
        if (!compatible(info_->type, peer.type)) {
            reason = "Invalid socket type";
            detail = "a " + std::string(to_string(info_->type)) + " socket cannot talk to a " +
                     std::string(to_string(peer.type)) + " peer";
            return errc::incompatible_socket_type;
        }
        // A kept pipe (a connect's, made before its connection) has its link, and its id,
        // already: the router took or refused it then.
        if (pipe_ == nullptr && admits_by_routing_id()) {
            const std::string& id = peer.routing_id;
            if (!id.empty() && info_->shared->routing_id_taken(id)) {
                reason = "the ROUTER already has a peer with this routing id";
                detail = "refused a peer with routing id " + quote_peer(id) +
                         ": another peer has it (router_handover is off)";
                return errc::connection_refused;
            }
        }
    } catch (const std::bad_alloc&) {
        return errc::protocol_error; // no words for it, but a refusal all the same
    }
    return admit_any(reason, detail);
}

bool session::admits_by_routing_id() const noexcept {
    return info_->type == socket_type::router && !info_->shared->router_handover();
}

errc session::admit_any(std::string& reason, std::string& detail) noexcept {
    try {
        if (!slot_ && !(slot_ = info_->shared->take_peer_slot())) {
            reason = "the " + std::string(to_string(info_->type)) + " socket already has a peer";
            detail = "refused a further peer: this " + std::string(to_string(info_->type)) +
                     " socket already has one";
            return errc::connection_refused;
        }
    } catch (const std::bad_alloc&) {
        return errc::protocol_error; // no words for it, but a refusal all the same
    }
    return {};
}

void session::close_pipe() noexcept {
    if (pipe_ != nullptr) {
        pipe_->handler = nullptr;
        pipe_->close(clock::time_point::max()); // what arrived stays readable for the socket
        pipe_ = nullptr;
    }
    if (slot_) info_->shared->give_back_peer_slot();
    slot_ = false;
}

bool session::open_pipe(peer_properties peer) noexcept {
    const auto& o = info_->options;
    try {
        auto a = std::make_shared<attachment>(attachment{std::move(peer), channel_});
        pipe_pair* pp = pipe_pair::create(static_cast<std::uint64_t>(o.sndhwm), static_cast<std::uint64_t>(o.rcvhwm));
        pipe_ = &pp->end(1);
        pipe_->set_owner(reactor_.mailbox());
        pipe_->handler = this;
        volley::transport::attach_pipe(info_->socket_mailbox, pp->end(0), info_->endpoint_id, std::move(a));
    } catch (const std::bad_alloc&) {
        return false;
    }
    return true;
}

void session::connection_started(connection& c) noexcept {
    connection_ = &c;
    up_ = false;
}

pipe* session::connection_up(connection& c, peer_properties peer, std::shared_ptr<channel> ch,
                             clock::time_point& drain_by, bool& reconnected) noexcept {
    reconnected = false;
    if (ended_ || &c != connection_) return nullptr;
    peer.known = true;
    if (pipe_ == nullptr) {
        if (!open_pipe(std::move(peer))) return nullptr;
    } else if (had_connection_) {
        pipe_->hiccup(); // a reconnect on a kept pipe: the socket tells the new peer its state again
        reconnected = true;
    }
    had_connection_ = true;
    up_ = true;
    channel_->publish(std::move(ch));
    // Stopped, or the socket closed, during the handshake: this connection was kept to
    // deliver what is queued, until the deadline.
    if (pipe_->peer_closed()) {
        lingering_ = true;
        deadline_ = std::min(deadline_, pipe_->peer_linger_deadline());
    }
    drain_by = deadline_;
    return pipe_;
}

void session::connection_down(connection& c, std::error_code why, std::string detail) noexcept {
    if (&c != connection_) return;
    const bool was_up = up_;
    connection_ = nullptr;
    up_ = false;
    channel_->publish(nullptr);
    if (ended_) { // finish() waited for it
        complete();
        return;
    }
    if ((pipe_ != nullptr && pipe_per_connection_ && was_up) || (pipe_ == nullptr && slot_))
        close_pipe(); // a pipe of this connection; or a slot admit() took for a pipe never made
    // A kept pipe: drop the frames of a message the connection did not finish, or the
    // next connection's first message would be glued onto them.
    if (pipe_ != nullptr) pipe_->rollback();
    if (pipe_ != nullptr && was_up) pipe_->connection_lost();
    if (!connect_ || !wants_connection()) {
        finish();
        return;
    }
    owner_.connection_lost(*this, was_up, why, std::move(detail));
}

void session::stop(stop_reason why) noexcept {
    if (ended_) return;
    stopped_ = true;
    if (why != stop_reason::endpoint) {
        // The one rule at context end: only a peer connected now still gets what is queued.
        context_ending_ = true;
        if (connection_ != nullptr && up_) {
            linger(why == stop_reason::context_shutdown ? clock::now() : deadline_after(info_->shared->linger()));
        } else if (connection_ != nullptr) {
            connection_->drain(clock::now()); // in its handshake: dropped, and no other comes
        } else {
            finish();
        }
        return;
    }
    // unbind: an accepted connection not up yet closes (it has no pipe; those that have
    // end with it, which the socket closes). disconnect: the socket closes the pipe next,
    // and that event decides (a connection in its handshake may still deliver).
    if (!connect_) {
        if (connection_ != nullptr && !up_) connection_->drain(clock::now());
        return;
    }
    if (pipe_ == nullptr) finish(); // nothing can be queued here (a ROUTER's connect between connections)
}

void session::end() noexcept {
    finish();
}

bool session::wants_connection() noexcept {
    if (ended_) return false;
    if (!lingering_ && !stopped_) return true;
    return draining();
}

void session::on_pipe_event(event_kind kind, pipe& p) noexcept {
    if (&p != pipe_ || ended_) return;
    switch (kind) {
    case event_kind::read_activated:
        if (connection_ != nullptr && up_) connection_->pipe_readable();
        break;
    case event_kind::write_activated:
        if (connection_ != nullptr && up_) connection_->pipe_writable();
        break;
    case event_kind::peer_closed: linger(p.peer_linger_deadline()); break;
    case event_kind::attach:
    case event_kind::hiccup:
    case event_kind::connection_lost: break;
    }
}

void session::linger(clock::time_point deadline) noexcept {
    if (lingering_ && deadline >= deadline_) return;
    lingering_ = true;
    deadline_ = deadline;
    if (connection_ != nullptr && up_) {
        connection_->drain(deadline); // it reports connection_down() when done
        return;
    }
    if (!draining()) { // nothing to deliver, or no way to: a handshake under way is dropped
        if (connection_ != nullptr)
            connection_->drain(clock::now());
        else
            finish();
        return;
    }
    // A connect with messages queued: a connection up within the deadline still takes them.
    reactor_.cancel_timer(deadline_timer_);
    deadline_timer_ = reactor_.add_timer(deadline, [this] {
        deadline_timer_ = {};
        if (connection_ != nullptr && up_) return; // it has the deadline too
        if (connection_ != nullptr)
            connection_->drain(clock::now()); // still in its handshake: too late
        else
            finish();
    });
    if (!deadline_timer_) { // out of memory: nothing would end the wait, so do not wait
        if (connection_ != nullptr)
            connection_->drain(clock::now());
        else
            finish();
    }
}

bool session::draining() noexcept {
    if (context_ending_) return false; // the connection up now (if any) has the deadline itself
    const bool may_connect = connection_ != nullptr || info_->options.reconnect_ivl.count() >= 0;
    return connect_ && pipe_ != nullptr && pipe_->readable() && clock::now() < deadline_ && may_connect;
}

void session::finish() noexcept {
    if (ended_) return;
    ended_ = true;
    reactor_.cancel_timer(deadline_timer_);
    channel_->publish(nullptr);
    // A live connection closes first (it may still be using the pipe); connection_down()
    // then completes the end.
    if (connection_ != nullptr) connection_->drain(clock::now());
    if (connection_ == nullptr) complete();
}

void session::complete() noexcept {
    if (completed_) return;
    completed_ = true;
    close_pipe();
    owner_.session_ended(*this);
    reactor_.retire(this);
}

} // namespace volley::detail
