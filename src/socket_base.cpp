// SPDX-License-Identifier: MPL-2.0
// socket_base: endpoints, link lifetimes, mailbox events, the pattern's timer
// and the blocking discipline shared by every pattern. See socket_base.hpp.
#include "socket_base.hpp"

#include "context_core.hpp"
#include "fence.hpp"
#include "monitor_queue.hpp"

#include <algorithm>
#include <thread>

namespace volley::detail {

namespace {
// events(): re-checks in a row that found a change before it gives up arming (see there).
constexpr int max_arm_rounds = 64;
} // namespace

socket_base::socket_base(context_core& ctx, socket_type type)
    : ctx_(ctx.shared_from_this()), type_(type), mailbox_(std::make_shared<mailbox>()),
      monitor_(std::make_shared<detail::monitor_queue>()), shared_(std::make_shared<socket_shared>(type, options_.linger)) {
    ctx_->add_socket(this);
}

socket_base::~socket_base() {
    // close() ran already (the public socket calls it while the pattern still exists).
    ctx_->remove_socket(this);
}

// ---------------------------------------------------------------- endpoints

std::error_code socket_base::bind(std::string_view uri, std::string& why) {
    return add_endpoint(uri, true, why);
}

std::error_code socket_base::connect(std::string_view uri, std::string& why) {
    return add_endpoint(uri, false, why);
}

std::error_code socket_base::unbind(std::string_view uri, std::string& why) {
    return remove_endpoint(uri, true, why);
}

std::error_code socket_base::disconnect(std::string_view uri, std::string& why) {
    return remove_endpoint(uri, false, why);
}

std::error_code socket_base::add_endpoint(std::string_view uri, bool bind, std::string& why) {
    if (terminated_.load(std::memory_order_seq_cst))
        return endpoint_error(why, errc::terminated, "the context was shut down");
    endpoint ep;
    if (auto ec = parse_endpoint(uri, ep, why)) return ec;
    transport::transport* t = ctx_->find_transport(ep.scheme);
    if (t == nullptr)
        return endpoint_error(why, errc::unknown_scheme,
                              "no transport '" + ep.scheme + "' (there are " + ctx_->transport_schemes() + ")");
    static std::atomic<std::uint64_t> next_id{1}; // unique across sockets: transports key on it
    const std::uint64_t id = next_id.fetch_add(1, std::memory_order_relaxed);
    const transport::endpoint_owner owner{type_, options_, mailbox_, monitor_, shared_, id};
    std::error_code ec;
    auto handle = bind ? t->listen(ep, owner, ec, why) : t->dial(ep, owner, ec, why);
    if (!handle) {
        if (!ec) ec = errc::invalid_endpoint;
        if (why.empty()) why = ec.message();
        if (bind) emit(monitor_, event_type::bind_failed, std::string(uri), ec, why);
        return ec;
    }
    last_endpoint_ = handle->resolved_uri();
    if (bind) emit(monitor_, event_type::listening, last_endpoint_);
    endpoints_.push_back(
        {std::string(uri), id, bind, std::move(handle), {}, transport::has(t->capabilities(), transport::caps::polled)});
    update_spin_ceiling();
    if (!bind) endpoints_.back().connect_routing_id = std::exchange(options_.connect_routing_id, {});
    // A connect may have attached its pipe already: make it usable before returning.
    process_mailbox();
    return {};
}

std::error_code socket_base::remove_endpoint(std::string_view uri, bool bound, std::string& why) {
    if (terminated_.load(std::memory_order_seq_cst))
        return endpoint_error(why, errc::terminated, "the context was shut down");
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(), [&](const endpoint_entry& e) {
        return e.bound == bound && (e.uri == uri || e.handle->resolved_uri() == uri);
    });
    if (it == endpoints_.end())
        return endpoint_error(why, errc::endpoint_not_found,
                              std::string("this socket has not ") + (bound ? "bound" : "connected") + " it");
    const std::uint64_t id = it->id;
    endpoints_.erase(it); // stops the endpoint: no new pipes from it
    update_spin_ceiling();
    process_mailbox();    // pipes it made before stopping are attached now
    for (std::size_t i = links_.size(); i-- > 0;) {
        if (i < links_.size() && links_[i]->endpoint_id == id) close_link(*links_[i]);
    }
    return {};
}

// ---------------------------------------------------------------- data path

errc socket_base::send(message& m, bool dontwait) noexcept {
    if (closed_) return errc::closed;
    const bool more = m.more();
    // The rest of a message already let in never waits and never fails. The send clock
    // judges whole messages (only sockets with connections pay for it).
    errc r;
    if (sending_message_) {
        r = on_send(m);
    } else {
        if (send_clock_.used) send_clock_.begin();
        r = wait(direction::out, dontwait ? std::chrono::milliseconds(0) : options_.sndtimeo,
                 [&] { return on_send(m); });
    }
    if (r != errc{}) return r;
    sending_message_ = more;
    if (!more && send_clock_.used) send_clock_.end();
    return r;
}

errc socket_base::attempt_recv(message& m) noexcept {
    if (prefetched_) {
        m = std::move(*prefetched_);
        prefetched_.reset();
        return {};
    }
    if (!draining_.empty()) reap_draining();
    return on_recv(m);
}

errc socket_base::recv(message& m, bool dontwait) noexcept {
    if (closed_) return errc::closed;
    const errc r = receiving_message_
                       ? on_recv(m)
                       : wait(direction::in, dontwait ? std::chrono::milliseconds(0) : options_.rcvtimeo,
                              [&] { return attempt_recv(m); });
    if (r == errc{}) {
        receiving_message_ = m.more();
        ++frames_in_;
    }
    if (!receiving_message_ && !draining_.empty()) reap_draining(); // release drained links promptly
    return r;
}

template <class Attempt>
errc socket_base::wait(direction dir, std::chrono::milliseconds timeout, Attempt&& attempt) noexcept {
    const auto try_once = [&]() -> errc {
        if (mailbox_->pending()) process_mailbox();
        if (terminated_.load(std::memory_order_seq_cst)) return errc::terminated;
        run_timer();
        return attempt();
    };
    errc r = try_once();
    if (r != errc::would_block || timeout.count() == 0) return r;
    // Whatever is sent after this wait is timed afresh; what connections batched goes out
    // now, not at their batch deadline (a DEALER that sent requests and waits for replies).
    if (send_clock_.interrupted()) {
        for (const auto& l : links_) l->write_batch();
    }
    // This socket waits (crowding.hpp). Only sockets with connections a channel drives
    // count: an inproc-only socket's waits would cost the shared counter's cache line for
    // nothing it could change.
    std::optional<crowd_guard> counted;
    if (send_clock_.used) counted.emplace(ctx_->crowd());

    const auto deadline = deadline_after(timeout);
    const auto started = clock::now();
    // The spin reads the cheap clock (the TSC): a VM's steady clock may be a syscall each.
    const std::uint64_t spin_start = fast_clock::now();
    // Compared in milliseconds: a timeout of years does not fit in nanoseconds.
    const std::chrono::nanoseconds spin_for =
        timeout.count() < 0 || timeout >= std::chrono::ceil<std::chrono::milliseconds>(spin_.current())
            ? spin_.current()
            : std::chrono::nanoseconds(timeout);
    const std::uint64_t spin_until = spin_start + fast_clock::ticks(spin_for);
    const std::uint64_t relax_until = spin_start + fast_clock::ticks(spin_.relax());
    bool yielding = false;
    for (unsigned i = 1; spin_for.count() > 0; ++i) { // busy_poll 0: no spin
        // Poll with `pause` first (a peer on another CPU answers within that), then yield
        // between polls so that a peer sharing our CPU gets to run.
        if (yielding)
            std::this_thread::yield();
        else
            cpu_relax();
        r = try_once();
        if (r != errc::would_block) {
            yielding ? spin_.hit_yielding() : spin_.hit_relaxing();
            return r;
        }
        if (yielding || (i & 7) == 0) {
            const std::uint64_t now = fast_clock::now();
            if (now >= spin_until) break;
            yielding = now >= relax_until;
        }
    }

    const watched_policy& watched = watched_[static_cast<int>(dir)];
    for (;;) {
        if (clock::now() >= deadline) {
            spin_.slept(clock::now() - started);
            return errc::timed_out;
        }
        const auto ticket = mailbox_->prepare_sleep();
        const bool symmetric = dir == direction::in && fence_mode_.symmetric(frames_in_);
        const bool heavy = watched.policy == nullptr || watched.park(watched.policy, symmetric);
        fence_mode::fence(heavy); // our parking stores before the re-checks; see fence.hpp
        const bool ready = (watched.policy != nullptr && watched.unpark(watched.policy)) || mailbox_->pending() ||
                           terminated_.load(std::memory_order_seq_cst);
        if (ready)
            mailbox_->cancel_sleep();
        else
            mailbox_->sleep(ticket, std::min(deadline, next_deadline())); // the timer wakes us too
        r = try_once();
        if (r != errc::would_block) {
            spin_.slept(clock::now() - started);
            return r;
        }
    }
}

// ---------------------------------------------------------------- events and pipes

void socket_base::run_timer() noexcept {
    const auto due = next_deadline();
    if (due == clock::time_point::max()) return; // no clock read for patterns without a timer
    const auto now = clock::now();
    if (now >= due) on_timer(now);
}

void socket_base::on_read_activated(link& l) {
    const watched_policy& w = watched_[static_cast<int>(direction::in)];
    if (w.policy != nullptr && l.in_slot != link::npos) w.activated(w.policy, l);
}

void socket_base::on_write_activated(link& l) {
    const watched_policy& w = watched_[static_cast<int>(direction::out)];
    if (w.policy != nullptr && l.out_slot != link::npos) w.activated(w.policy, l);
}

template <class Hook>
void socket_base::guarded(pipe& p, Hook&& hook) noexcept {
    try {
        hook();
    } catch (const std::exception&) {
        // A pattern hook that ran out of memory (a subscription, a routing id, a notice)
        // left the link's state in the pattern incomplete: the link goes, and its peer sees
        // the connection close (a connect's peer then finds the endpoint gone, as after
        // disconnect). `p` outlives the link: the caller holds a reference.
        if (link* l = owner_of(p)) drop(*l);
    }
}

void socket_base::process_mailbox() noexcept {
    mailbox_->take(events_);
    for (event& e : events_) {
        pipe& p = *e.target;
        if (e.kind == event_kind::attach) {
            attach(p, e.endpoint_id, std::move(e.attached)); // the event's reference becomes ours
            continue;
        }
        if (link* l = owner_of(p)) {
            guarded(p, [&] {
                switch (e.kind) {
                case event_kind::read_activated: on_read_activated(*l); break;
                case event_kind::write_activated: on_write_activated(*l); break;
                case event_kind::peer_closed: peer_closed(*l); break;
                case event_kind::hiccup: on_hiccup(*l); break;
                case event_kind::connection_lost: on_connection_lost(*l); break;
                case event_kind::attach: break;
                }
            });
        }
        p.release(); // the event's reference
    }
    events_.clear();
}

void socket_base::attach(pipe& p, std::uint64_t endpoint_id, std::shared_ptr<const attachment> a) noexcept {
    if (closed_) { // cannot happen through the mailbox (closed first), kept for safety
        p.close(clock::now());
        return;
    }
    const bool endpoint_live = std::any_of(endpoints_.begin(), endpoints_.end(),
                                           [&](const endpoint_entry& e) { return e.id == endpoint_id; });
    if (!endpoint_live || !a) { // made by an endpoint removed since: not ours any more
        p.close(clock::now());
        return;
    }
    std::unique_ptr<link> owned;
    try {
        owned = std::make_unique<link>(p, std::move(a), endpoint_id, send_clock_, ctx_->crowd());
        links_.reserve(links_.size() + 1);
    } catch (const std::bad_alloc&) {
        p.close(clock::now()); // refused: the peer learns of it
        return;
    }
    link& l = *owned;
    p.owner_slot = static_cast<std::uint32_t>(links_.size());
    links_.push_back(std::move(owned));
    p.add_ref(); // on_attach may drop the link, which releases the pipe
    guarded(p, [&] { on_attach(l); });
    if (owner_of(p) == &l && p.peer_closed()) peer_closed(l);
    p.release();
}

link* socket_base::owner_of(const pipe& p) const noexcept {
    return p.owner_slot < links_.size() && &links_[p.owner_slot]->pipe_end() == &p ? links_[p.owner_slot].get() : nullptr;
}

void socket_base::peer_closed(link& l) noexcept {
    l.pipe_end().mark_write_closed(); // nothing sent from now on reaches anybody
    if (std::find(draining_.begin(), draining_.end(), &l) == draining_.end()) draining_.push_back(&l);
    on_read_activated(l); // what the peer left is read before the link goes
    reap_draining();
}

void socket_base::reap_draining() noexcept {
    const auto now = clock::now();
    for (std::size_t i = draining_.size(); i-- > 0;) {
        link& l = *draining_[i];
        if (l.reading_message()) continue; // never cut a multipart message in half
        if (l.closing) {
            terminate_link(l, linger_deadline());
            continue;
        }
        if (l.readable() && !l.pipe_end().peer_linger_expired(now)) continue;
        terminate_link(l, now); // the peer is gone: nothing we send can reach it
    }
}

void socket_base::drop(link& l) noexcept {
    if (owner_of(l.pipe_end()) == &l) close_link(l);
}

void socket_base::close_link(link& l) noexcept {
    if (!l.reading_message()) {
        terminate_link(l, linger_deadline());
        return;
    }
    // Part of a message from l has been received: its other frames are in the pipe
    // already, so the caller can finish it (a message is delivered whole), then l goes.
    l.closing = true;
    l.pipe_end().mark_write_closed();
    if (std::find(draining_.begin(), draining_.end(), &l) == draining_.end()) draining_.push_back(&l);
}

void socket_base::terminate_link(link& l, clock::time_point deadline) noexcept {
    on_terminated(l);
    pipe& p = l.pipe_end();
    const std::uint32_t slot = p.owner_slot;
    std::erase(draining_, &l);
    std::unique_ptr<link> gone = std::move(links_[slot]);
    links_[slot] = std::move(links_.back());
    links_.pop_back();
    if (slot < links_.size()) links_[slot]->pipe_end().owner_slot = slot;
    p.owner_slot = pipe::npos;
    gone.reset();
    p.close(deadline); // drops our reference: last, after the link that used it
}

clock::time_point socket_base::linger_deadline() const noexcept {
    return deadline_after(options_.linger);
}

// ---------------------------------------------------------------- options and life

std::error_code socket_base::set_option(option_id id, const option_value& v, std::string& why) noexcept {
    if (!is_live(id) && !endpoints_.empty()) {
        try {
            const std::size_t n = endpoints_.size();
            why = std::string(option_name(id)) + " is read when bind() or connect() makes an endpoint: set it "
                  "before the first (this socket has " + std::to_string(n) + (n == 1 ? " endpoint)" : " endpoints)");
        } catch (const std::bad_alloc&) {
        }
        return errc::wrong_state;
    }
    if (is_action(id)) { // stored only for the pattern to read: kept only if it takes it
        try {
            const option_value before = options_.get(id);
            if (auto ec = options_.set(id, v, why)) return ec;
            const std::error_code ec = on_action(id);
            if (ec) (void)options_.set(id, before, why);
            return ec;
        } catch (const std::bad_alloc&) {
            return std::make_error_code(std::errc::not_enough_memory);
        }
    }
    if (auto ec = options_.set(id, v, why)) return ec;
    if (id == option_id::linger) shared_->set_linger(options_.linger);
    if (id == option_id::busy_poll) update_spin_ceiling();
    if (id == option_id::router_handover) shared_->set_router_handover(options_.router_handover);
    return {};
}

void socket_base::update_spin_ceiling() noexcept {
    std::chrono::nanoseconds ceiling = spin_budget::max;
    if (options_.busy_poll >= 0)
        ceiling = std::chrono::microseconds(options_.busy_poll);
    else if (std::any_of(endpoints_.begin(), endpoints_.end(), [](const endpoint_entry& e) { return e.polled; }))
        ceiling = spin_budget::polled_max;
    if (ceiling != spin_.ceiling()) spin_.set_ceiling(ceiling);
}

std::error_code socket_base::on_action(option_id) {
    return errc::not_supported;
}

const std::string* socket_base::connect_routing_id(const link& l) const noexcept {
    for (const auto& e : endpoints_) {
        if (e.id == l.endpoint_id) return e.bound || e.connect_routing_id.empty() ? nullptr : &e.connect_routing_id;
    }
    return nullptr;
}

bool socket_base::can_send() noexcept {
    const watched_policy& w = watched_[static_cast<int>(direction::out)];
    return w.policy != nullptr && w.can_send(w.policy);
}

poll_events socket_base::events(poll_events interest) noexcept {
    if (closed_) return poll_events::err;
    // Until something is ready, or the socket is armed and its re-check found no change.
    // Returning unarmed after a change (an attach, a pipe that filled meanwhile) would let
    // the caller sleep through the next one: the change is looked at, then armed again.
    for (int round = 0;; ++round) {
        if (mailbox_->pending()) process_mailbox();
        if (terminated_.load(std::memory_order_seq_cst)) return poll_events::err;
        run_timer();
        poll_events ready = poll_events::none;
        // What a peer can change. Not what the pattern refuses for its state (a REQ asked
        // to receive before it sent, or to send while it awaits a reply): only our own
        // calls change that, and its pipes being readable or writable tells nothing.
        poll_events peers_decide = poll_events::none;
        if (has(interest, poll_events::in)) {
            if (!prefetched_ && !receiving_message_) {
                message m;
                const errc r = attempt_recv(m);
                if (r == errc{})
                    prefetched_ = std::move(m);
                else if (r == errc::would_block)
                    peers_decide = peers_decide | poll_events::in;
            }
            if (prefetched_ || receiving_message_) ready = ready | poll_events::in;
        }
        if (has(interest, poll_events::out)) {
            const watched_policy& w = watched_[static_cast<int>(direction::out)];
            if (sending_message_ || can_send())
                ready = ready | poll_events::out;
            else if (w.policy != nullptr && !w.can_send(w.policy)) // its pipes are full
                peers_decide = peers_decide | poll_events::out;
        }
        if (ready != poll_events::none) return ready;
        if (!arm(peers_decide)) return poll_events::none; // armed: readiness_fd() tells of the next change
        if (round == max_arm_rounds) { // changes keep coming (a flood the pattern drops): let the caller look again
            mailbox_->raise_fd();
            return poll_events::none;
        }
    }
}

bool socket_base::arm(poll_events interest) noexcept {
    mailbox_->arm_fd();
    const auto& in = watched_[static_cast<int>(direction::in)];
    const auto& out = watched_[static_cast<int>(direction::out)];
    const bool want_in = has(interest, poll_events::in) && in.policy != nullptr;
    const bool want_out = has(interest, poll_events::out) && out.policy != nullptr;
    if (want_in) in.park(in.policy, false); // the I/O thread watches the connections again
    if (want_out) out.park(out.policy, false);
    heavy_fence(); // our parking stores before the re-checks; see fence.hpp
    const bool ready = (want_in && in.unpark(in.policy)) | (want_out && out.unpark(out.policy)) ||
                       mailbox_->pending() || terminated_.load(std::memory_order_seq_cst);
    if (ready) mailbox_->cancel_sleep();
    return ready;
}

std::vector<peer_info> socket_base::peers() noexcept {
    process_mailbox();
    std::vector<peer_info> out;
    try {
        for (const auto& l : links_) {
            const auto ep = std::find_if(endpoints_.begin(), endpoints_.end(),
                                         [&](const endpoint_entry& e) { return e.id == l->endpoint_id; });
            out.push_back({ep != endpoints_.end() ? ep->handle->resolved_uri() : std::string(), l->routing_id,
                           l->dropped});
        }
    } catch (const std::bad_alloc&) {
    }
    return out;
}

std::shared_ptr<detail::monitor_queue> socket_base::monitor_queue() {
    monitor_->enable();
    return monitor_;
}

std::size_t socket_base::pipe_count() noexcept {
    process_mailbox();
    return links_.size();
}

void socket_base::terminate() noexcept {
    // seq_cst: pairs with the sleeper's prepare_sleep() (seq_cst) and its re-check below,
    // so it either sees terminated_ or is woken by wake().
    terminated_.store(true, std::memory_order_seq_cst);
    mailbox_->wake();
}

void socket_base::close() noexcept {
    if (closed_) return;
    endpoints_.clear();  // no new pipes from our endpoints
    process_mailbox();   // attach what is in flight, so it is closed below like the rest
    mailbox_->close();   // later attach events close their pipe at once
    closed_ = true;
    const auto deadline = linger_deadline();
    while (!links_.empty()) terminate_link(*links_.back(), deadline);
}

} // namespace volley::detail
