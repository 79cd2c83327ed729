// SPDX-License-Identifier: MPL-2.0
// Listening and connecting on rdma://. See rdma_endpoints.hpp.
#include "rdma_endpoints.hpp"

#include "monitor_queue.hpp"
#include "peer_text.hpp"
#include "rdma_connection.hpp"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>

namespace volley::detail {
namespace {

constexpr int resolve_timeout_ms = 2000;
constexpr std::size_t reject_text_max = 140; // an IB CM REJ carries 148 bytes of private data

void accept_params(rdma_conn_param& p, std::byte* hello, std::uint8_t reads) noexcept {
    p = {};
    p.initiator_depth = reads;     // RDMA READs of rendezvous bodies we issue at once
    p.responder_resources = reads; // and serve
    p.private_data = hello;
    p.private_data_len = rdma_hello_size;
    p.retry_count = 7;     // transport retries before a silent peer is an error
    p.rnr_retry_count = 7; // credits keep receivers ready; should one not be, wait
}

// A peer's refusal, from a REJECTED event: our listener's words, or the CM's status.
std::string rejection(const rdma_cm_note& n) {
    std::size_t len = 0;
    while (len < n.private_data.size() && len < reject_text_max && n.private_data[len] != std::byte{0}) ++len;
    const std::string text(reinterpret_cast<const char*>(n.private_data.data()), len);
    if (n.status == 28 && text.rfind("volley: ", 0) == 0) // IB_CM_REJ_CONSUMER_DEFINED, from a volley listener
        return "the peer refused the connection: " + quote_peer(text.substr(8), 120);
    if (n.status == 8) return "nothing listens there (the CM's reject: invalid service id)";
    return "the connection was rejected (CM status " + std::to_string(n.status) + ")";
}

} // namespace

rdma_buffers rdma_default_buffers() noexcept {
    return {8192, 16, 16};
}

rdma_hello make_hello(const endpoint_info& info, const rdma_buffers& b, std::uint8_t reads) noexcept {
    rdma_hello h;
    h.type = info.type;
    h.buffer_bytes = b.bytes;
    h.credits = b.recv_count;
    h.reads = reads;
    return h;
}

void retire_link(reactor& r, std::unique_ptr<rdma_link> l) noexcept {
    if (!l) return;
    (void)l->watch(nullptr);
    try {
        std::shared_ptr<rdma_link> held(std::move(l));
        if (r.post([held] {})) return;
    } catch (const std::bad_alloc&) {
    }
}

// ---------------------------------------------------------------- listener

rdma_listener::rdma_listener(reactor& r, std::unique_ptr<rdma_link> listening,
                             std::shared_ptr<const endpoint_info> info)
    : reactor_(r), listening_(std::move(listening)), info_(std::move(info)) {}

rdma_listener::~rdma_listener() = default;

std::error_code rdma_listener::start() noexcept {
    return listening_->watch(this);
}

void rdma_listener::refuse(const std::string& why, errc code) noexcept {
    emit(info_->monitor, event_type::handshake_failed, info_->endpoint, make_error_code(code), "refused a peer: " + why);
}

void rdma_listener::on_cm_event(rdma_link& l, rdma_cm_note& n) noexcept {
    if (&l == listening_.get()) {
        if (n.type == RDMA_CM_EVENT_CONNECT_REQUEST) on_request(n);
        return;
    }
    auto it = pending_.find(&l);
    if (it == pending_.end()) return;
    if (n.type == RDMA_CM_EVENT_ESTABLISHED) {
        on_established(l);
        return;
    }
    emit(info_->monitor, event_type::accept_failed, info_->endpoint, make_error_code(errc::protocol_error),
         "the connection did not come up: " + cm_event_name(n.type));
    auto link = std::move(it->second.link);
    pending_.erase(it);
    retire_link(reactor_, std::move(link));
    retire_if_done();
}

void rdma_listener::on_request(rdma_cm_note& n) noexcept {
    std::string why;
    try {
        const auto peer = read_hello(n.private_data, why);
        if (!peer || stopped_) {
            if (stopped_) why = "the endpoint is closing";
            const std::string text = ("volley: " + why).substr(0, reject_text_max);
            rdma_reject(n.id, text.c_str(), static_cast<std::uint8_t>(text.size() + 1));
            rdma_destroy_id(n.id);
            refuse(why, errc::protocol_error);
            return;
        }
        emit(info_->monitor, event_type::accepted, info_->endpoint);
        auto link = rdma_link::adopt(reactor_, n.id, why); // owns the id from here
        if (!link || !link->make_queue_pair(rdma_default_buffers(), why)) {
            if (link) rdma_reject(link->id(), nullptr, 0);
            emit(info_->monitor, event_type::accept_failed, info_->endpoint, make_error_code(errc::protocol_error),
                 "cannot serve the connection: " + why);
            retire_link(reactor_, std::move(link));
            return;
        }
        // No more READs than the peer serves, nor than it issues for us to serve.
        link->limit_reads(std::min(n.initiator_depth, n.responder_resources));
        std::byte hello[rdma_hello_size];
        write_hello(make_hello(*info_, link->buffers(), link->reads()), hello);
        rdma_conn_param p;
        accept_params(p, hello, link->reads());
        if (const auto ec = link->watch(this); ec || rdma_accept(link->id(), &p) != 0) {
            emit(info_->monitor, event_type::accept_failed, info_->endpoint, make_error_code(errc::protocol_error),
                 std::string("rdma_accept failed: ") + (ec ? ec.message() : std::strerror(errno)));
            retire_link(reactor_, std::move(link));
            return;
        }
        rdma_link* key = link.get();
        pending_.emplace(key, pending{std::move(link), *peer});
    } catch (const std::bad_alloc&) {
        emit(info_->monitor, event_type::accept_failed, info_->endpoint, make_error_code(std::errc::not_enough_memory),
             "out of memory accepting a connection");
    }
}

void rdma_listener::on_established(rdma_link& l) noexcept {
    auto node = pending_.extract(&l);
    pending p = std::move(node.mapped());
    (void)p.link->watch(nullptr); // the wire watches it from here
    std::shared_ptr<session> sess;
    std::shared_ptr<rdma_connection> c;
    bool adopted = false;
    try {
        sess = make_session(reactor_, info_, *this, false);
        c = std::make_shared<rdma_connection>(reactor_, sess, rdma_wire(std::move(p.link), p.peer));
        reactor_.adopt(sess);
        adopted = true;
        sessions_.insert(sess.get());
        reactor_.adopt(c);
    } catch (const std::exception& ex) {
        if (adopted) sess->end();
        emit(info_->monitor, event_type::accept_failed, info_->endpoint, make_error_code(errc::protocol_error),
             std::string("cannot serve the connection: ") + ex.what());
        return;
    }
    c->start();
    c->on_io(EPOLLIN); // the hello stands for the greeting: take it now
}

void rdma_listener::stop(stop_reason why) noexcept {
    if (!stopped_) {
        stopped_ = true;
        retire_link(reactor_, std::move(listening_));
        for (auto& [key, p] : pending_) retire_link(reactor_, std::move(p.link));
        pending_.clear();
        emit(info_->monitor, event_type::closed, info_->endpoint);
    }
    const std::vector<session*> live(sessions_.begin(), sessions_.end());
    for (session* s : live) s->stop(why);
    retire_if_done();
}

void rdma_listener::session_ended(session& s) noexcept {
    sessions_.erase(&s);
    retire_if_done();
}

void rdma_listener::retire_if_done() noexcept {
    if (stopped_ && sessions_.empty()) reactor_.retire(this);
}

// ---------------------------------------------------------------- connector

rdma_connector::rdma_connector(reactor& r, const stream_family& addressing, std::string address,
                               std::shared_ptr<const endpoint_info> info)
    : dialer(r, std::move(info)), addressing_(addressing), address_(std::move(address)) {}

rdma_connector::~rdma_connector() = default;

void rdma_connector::attempt() noexcept {
    resolved_address peer;
    std::string why;
    if (const auto ec = addressing_.resolve(address_, false, info_->options, peer, why)) {
        attempt_failed(ec, why);
        return;
    }
    std::error_code ec;
    link_ = rdma_link::create(reactor_, ec, why);
    if (!link_) {
        attempt_failed(ec, why);
        return;
    }
    if (const auto watched = link_->watch(this)) {
        failed(watched, "epoll_ctl add failed: " + watched.message());
        return;
    }
    if (rdma_resolve_addr(link_->id(), nullptr, const_cast<sockaddr*>(peer.get()), resolve_timeout_ms) != 0) {
        const int err = errno;
        failed({err, std::system_category()}, std::string("rdma_resolve_addr failed: ") + std::strerror(err));
    }
}

void rdma_connector::failed(std::error_code why, std::string detail) noexcept {
    retire_link(reactor_, std::move(link_));
    attempt_failed(why, std::move(detail));
}

void rdma_connector::on_cm_event(rdma_link& l, rdma_cm_note& n) noexcept {
    if (&l != link_.get()) return;
    std::string why;
    switch (n.type) {
    case RDMA_CM_EVENT_ADDR_RESOLVED:
        if (rdma_resolve_route(link_->id(), resolve_timeout_ms) != 0)
            failed({errno, std::system_category()}, std::string("rdma_resolve_route failed: ") + std::strerror(errno));
        return;
    case RDMA_CM_EVENT_ROUTE_RESOLVED: {
        if (!link_->make_queue_pair(rdma_default_buffers(), why)) {
            failed(make_error_code(errc::protocol_error), why);
            return;
        }
        std::byte hello[rdma_hello_size];
        write_hello(make_hello(*info_, link_->buffers(), link_->reads()), hello);
        rdma_conn_param p;
        accept_params(p, hello, link_->reads());
        if (rdma_connect(link_->id(), &p) != 0)
            failed({errno, std::system_category()}, std::string("rdma_connect failed: ") + std::strerror(errno));
        return;
    }
    case RDMA_CM_EVENT_ESTABLISHED: established(n); return;
    case RDMA_CM_EVENT_REJECTED:
        try {
            why = rejection(n);
        } catch (const std::bad_alloc&) {
        }
        failed(make_error_code(std::errc::connection_refused), why);
        return;
    case RDMA_CM_EVENT_ADDR_ERROR:
    case RDMA_CM_EVENT_ROUTE_ERROR:
    case RDMA_CM_EVENT_CONNECT_ERROR:
    case RDMA_CM_EVENT_UNREACHABLE:
    case RDMA_CM_EVENT_DISCONNECTED:
    case RDMA_CM_EVENT_DEVICE_REMOVAL: {
        const int err = n.status < 0 ? -n.status : EHOSTUNREACH;
        failed({err, std::system_category()}, "connect failed: " + cm_event_name(n.type) + " (" + std::strerror(err) + ")");
        return;
    }
    default: return;
    }
}

void rdma_connector::established(rdma_cm_note& n) noexcept {
    std::string why;
    std::optional<rdma_hello> peer;
    try {
        peer = read_hello(n.private_data, why);
    } catch (const std::bad_alloc&) {
        why = "out of memory";
    }
    if (!peer) {
        emit(info_->monitor, event_type::handshake_failed, info_->endpoint, make_error_code(errc::protocol_error),
             "refused the peer: " + why);
        rdma_disconnect(link_->id());
        failed(make_error_code(errc::protocol_error), why);
        return;
    }
    emit(info_->monitor, event_type::connected, info_->endpoint);
    (void)link_->watch(nullptr); // the wire watches it from here
    std::shared_ptr<rdma_connection> c;
    try {
        c = std::make_shared<rdma_connection>(reactor_, session_, rdma_wire(std::move(link_), *peer));
        reactor_.adopt(c);
    } catch (const std::exception& ex) {
        attempt_failed(make_error_code(errc::protocol_error), std::string("cannot serve the connection: ") + ex.what());
        return;
    }
    c->start();
    c->on_io(EPOLLIN); // the hello stands for the greeting: take it now
}

void rdma_connector::abandon() noexcept {
    retire_link(reactor_, std::move(link_));
}

} // namespace volley::detail
