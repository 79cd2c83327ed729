// SPDX-License-Identifier: MPL-2.0
// inproc://name: sockets of one context connected directly by a pipe pair,
// with no reactor hop and no copy (a message moves into the pipe and out of
// it). Each context has its own name table.
//
// bind and connect may come in either order. A connect to a name nobody has
// bound yet makes its pipe pair at once, attaches its own end (so sends
// queue up to the high-water mark) and parks the other end here until a bind
// of that name takes it. As in libzmq, the HWM of an inproc flow is the
// sender's sndhwm plus the receiver's rcvhwm (0 if either is unlimited).
// Each end is attached with what is known of the other socket (its type and
// routing id); a connect made before the bind attaches its end with the peer
// unknown, except a ROUTER's, which waits for the bind (it routes by the
// peer's id, so nothing could be queued toward an unknown peer anyway).
#include "context_core.hpp"
#include "peer.hpp"
#include "monitor_queue.hpp"
#include "pipe.hpp"
#include "registry.hpp"
#include "transport.hpp"
#include "transports.hpp"

#include <volley/socket.hpp>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace volley::detail {
namespace {

namespace vt = volley::transport;

std::uint64_t combined_hwm(int sender_sndhwm, int receiver_rcvhwm) noexcept {
    if (sender_sndhwm == 0 || receiver_rcvhwm == 0) return 0;
    return static_cast<std::uint64_t>(sender_sndhwm) + static_cast<std::uint64_t>(receiver_rcvhwm);
}

class inproc_transport;

// What the table keeps of a socket; copied at bind/connect time, never read from the socket later.
struct party {
    socket_type type;
    std::string routing_id;
    int sndhwm;
    int rcvhwm;
    std::shared_ptr<detail::mailbox> mailbox;
    std::shared_ptr<monitor_queue> monitor;
    std::uint64_t endpoint_id;
    std::string uri;
    std::string connect_routing_id; // a ROUTER's connect: the id its peer will have

    static party of(const vt::endpoint_owner& o, const endpoint& ep) {
        return {o.type, o.options.routing_id, o.options.sndhwm, o.options.rcvhwm, o.mailbox, o.monitor,
                o.endpoint_id, ep.uri, o.options.connect_routing_id};
    }
    // What the other end is told of this party when it attaches.
    std::shared_ptr<const attachment> as_peer() const {
        return std::make_shared<const attachment>(attachment{{type, routing_id, {}, true}, nullptr});
    }
};

// A ROUTER's connect is attached only once its peer is known (see the top of the file).
bool attaches_early(const party& connector) noexcept {
    return connector.type != socket_type::router || !connector.connect_routing_id.empty();
}

// Both sides of a new inproc connection see what a stream connection reports, so that
// code (and tests) waiting for a connection work the same on every transport.
void report_connection(const party& binder, const party& connector) noexcept {
    emit(connector.monitor, event_type::connected, connector.uri);
    emit(connector.monitor, event_type::handshake_succeeded, connector.uri);
    emit(binder.monitor, event_type::accepted, binder.uri);
    emit(binder.monitor, event_type::handshake_succeeded, binder.uri);
}

// A connect waiting for its bind: the connector's details and the end the binder will own.
struct pending_connect {
    party connector;
    pipe_pair* pair; // end(0) is the connector's; we hold end(1)'s reference (and end(0)'s, for a
                     // connect not attached early) until a bind takes it
};

class inproc_handle final : public vt::endpoint_handle {
public:
    inproc_handle(inproc_transport& t, std::string name, std::string uri, std::uint64_t id, bool bound)
        : transport_(t), name_(std::move(name)), uri_(std::move(uri)), id_(id), bound_(bound) {}
    ~inproc_handle() override;
    std::string resolved_uri() const override { return uri_; }

private:
    inproc_transport& transport_;
    std::string name_;
    std::string uri_;
    std::uint64_t id_;
    bool bound_;
};

class inproc_transport final : public vt::transport {
public:
    inproc_transport() = default;
    inproc_transport(const inproc_transport&) = delete;
    inproc_transport& operator=(const inproc_transport&) = delete;
    ~inproc_transport() override {
        // Context end: connects that never met their bind are dropped with what they hold.
        for (auto& [name, waiting] : pending_)
            for (auto& w : waiting) drop(w);
    }

    std::string_view scheme() const noexcept override { return "inproc"; }
    vt::caps capabilities() const noexcept override {
        return vt::caps::message | vt::caps::zero_copy;
    }

    std::unique_ptr<vt::endpoint_handle> listen(const endpoint& at, const vt::endpoint_owner& owner,
                                                       std::error_code& ec, std::string& why) override {
        const party binder = party::of(owner, at);
        auto handle = std::make_unique<inproc_handle>(*this, at.address, at.uri, binder.endpoint_id, true);
        std::vector<pending_connect> waiting;
        {
            std::lock_guard lock(mutex_);
            if (!bound_.try_emplace(at.address, binder).second) {
                // The handle's unbind will not match the owner's id.
                ec = endpoint_error(why, errc::address_in_use, "another socket is bound to it");
                return nullptr;
            }
            if (auto it = pending_.find(at.address); it != pending_.end()) {
                waiting = std::move(it->second);
                pending_.erase(it);
            }
            // Hand the waiting connects over inside the lock, so a concurrent
            // unbind or disconnect sees each pipe in exactly one place.
            for (auto& w : waiting) {
                pipe& binder_end = w.pair->end(1);
                if (!compatible(binder.type, w.connector.type)) {
                    if (!attaches_early(w.connector)) w.pair->end(0).close(clock::now());
                    binder_end.close(clock::now()); // refused: the connector's pipe closes
                    continue;
                }
                // Now the binder is known, the HWMs can be the sums they should be.
                binder_end.set_out_hwm(combined_hwm(binder.sndhwm, w.connector.rcvhwm));
                w.pair->end(0).set_out_hwm(combined_hwm(w.connector.sndhwm, binder.rcvhwm));
                if (!attaches_early(w.connector))
                    vt::attach_pipe(w.connector.mailbox, w.pair->end(0), w.connector.endpoint_id, binder.as_peer());
                vt::attach_pipe(binder.mailbox, binder_end, binder.endpoint_id, w.connector.as_peer());
                report_connection(binder, w.connector);
            }
        }
        return handle;
    }

    std::unique_ptr<vt::endpoint_handle> dial(const endpoint& to, const vt::endpoint_owner& owner,
                                                     std::error_code& ec, std::string& why) override {
        const party connector = party::of(owner, to);
        std::lock_guard lock(mutex_);
        auto it = bound_.find(to.address);
        if (it != bound_.end() && !compatible(connector.type, it->second.type)) {
            ec = endpoint_error(why, errc::incompatible_socket_type,
                                "the socket bound there is a " + std::string(to_string(it->second.type)) +
                                    ", which a " + std::string(to_string(connector.type)) + " cannot talk to");
            return nullptr;
        }
        // Before the bind, the connector's own marks alone bound the flows (as in libzmq);
        // the bind raises them to the sums.
        const bool bound = it != bound_.end();
        pipe_pair* pp = pipe_pair::create(
            bound ? combined_hwm(connector.sndhwm, it->second.rcvhwm) : static_cast<std::uint64_t>(connector.sndhwm),
            bound ? combined_hwm(it->second.sndhwm, connector.rcvhwm) : static_cast<std::uint64_t>(connector.rcvhwm));
        prune_expired();
        if (bound) {
            vt::attach_pipe(connector.mailbox, pp->end(0), connector.endpoint_id, it->second.as_peer());
            vt::attach_pipe(it->second.mailbox, pp->end(1), it->second.endpoint_id, connector.as_peer());
            report_connection(it->second, connector);
        } else {
            if (attaches_early(connector))
                vt::attach_pipe(connector.mailbox, pp->end(0), connector.endpoint_id,
                                std::make_shared<const attachment>()); // the peer is not known yet
            pending_[to.address].push_back({connector, pp});
        }
        return std::make_unique<inproc_handle>(*this, to.address, to.uri, connector.endpoint_id, false);
    }

    void unbind(const std::string& name, std::uint64_t id) noexcept {
        std::lock_guard lock(mutex_);
        if (auto it = bound_.find(name); it != bound_.end() && it->second.endpoint_id == id) {
            emit(it->second.monitor, event_type::closed, it->second.uri);
            bound_.erase(it);
        }
    }

    // A connector went away (disconnect or close). Its connects still waiting for a bind
    // are dropped, unless messages wait in them: a later bind still takes those, and the
    // binder drops them if the connector's linger period is over by then (as on a stream
    // transport, where the connector keeps trying to deliver within its linger).
    void cancel(const std::string& name, std::uint64_t id) noexcept {
        std::lock_guard lock(mutex_);
        prune_expired();
        auto it = pending_.find(name);
        if (it == pending_.end()) return;
        std::erase_if(it->second, [&](pending_connect& w) {
            if (w.connector.endpoint_id != id) return false;
            pipe& binder_end = w.pair->end(1);
            if (binder_end.readable()) return false; // nobody reads this end before the bind
            drop(w);
            return true;
        });
        if (it->second.empty()) pending_.erase(it);
    }

private:
    // Closes what we hold of a waiting connect.
    static void drop(pending_connect& w) noexcept {
        if (!attaches_early(w.connector)) w.pair->end(0).close(clock::now());
        w.pair->end(1).close(clock::now());
    }

    // Under mutex_: drops the waiting connects whose socket closed and whose linger period
    // is over (nothing they hold may be delivered any more), so connect-and-close churn to
    // names never bound does not grow the table.
    void prune_expired() noexcept {
        const auto now = clock::now();
        for (auto it = pending_.begin(); it != pending_.end();) {
            std::erase_if(it->second, [now](pending_connect& w) {
                if (!w.pair->end(1).peer_linger_expired(now)) return false;
                drop(w);
                return true;
            });
            it = it->second.empty() ? pending_.erase(it) : std::next(it);
        }
    }

    std::mutex mutex_;
    std::unordered_map<std::string, party> bound_;
    std::unordered_map<std::string, std::vector<pending_connect>> pending_;
};

inproc_handle::~inproc_handle() {
    if (bound_)
        transport_.unbind(name_, id_);
    else
        transport_.cancel(name_, id_);
}

} // namespace

std::unique_ptr<volley::transport::transport> make_inproc_transport(context_core&) {
    return std::make_unique<inproc_transport>();
}

} // namespace volley::detail
