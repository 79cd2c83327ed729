// SPDX-License-Identifier: MPL-2.0
// rdma_link: the verbs resources of one rdma:// connection, or of a listening
// id: its own rdma_cm event channel and id, and for a connection its
// protection domain, completion channel and queue, RC queue pair, and the
// registered memory of its eager buffers (send and receive). Both channels
// are non-blocking descriptors the reactor watches: a link reads and acks
// its CM events itself and hands each to its current target (the listener
// or connector while it connects, the wire afterwards); a completion
// channel event is taken, acked and re-armed before the target polls the
// queue, so a completion that comes later always raises another event.
//
// Reactor thread, except the data-path calls the wire makes under its
// driver's lock (post, poll).
#pragma once

#include "reactor.hpp"
#include "rdma_hello.hpp"
#include "rdma_mr_cache.hpp"

#include <rdma/rdma_cma.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace volley::detail {

// One CM event, copied out before it is acked.
struct rdma_cm_note {
    rdma_cm_event_type type{};
    int status = 0;
    rdma_cm_id* id = nullptr;          // CONNECT_REQUEST: the new connection's id
    std::vector<std::byte> private_data; // CONNECT_REQUEST, ESTABLISHED, REJECTED
    std::uint8_t initiator_depth = 0;     // CONNECT_REQUEST: RDMA READs the peer issues at once
    std::uint8_t responder_resources = 0; // and serves at once
};

class rdma_link;

class rdma_link_target {
public:
    virtual ~rdma_link_target() = default;
    virtual void on_cm_event(rdma_link& l, rdma_cm_note& n) noexcept = 0;
    // The completion queue has news (a completion channel event, taken).
    virtual void on_completions(rdma_link&) noexcept {}
    // Whether the next completion is to raise an event: false while whoever polls the queue
    // does so on its own (a socket reading its connection), which saves the reactor a
    // wake-up, three system calls and the lock per message. It then arms again (arm()).
    virtual bool wants_completions() const noexcept { return true; }
};

// The eager buffers of a connection.
struct rdma_buffers {
    std::uint32_t bytes = 0;      // each
    std::uint32_t send_count = 0; // send slots
    std::uint32_t recv_count = 0; // receive slots (the credits the peer starts with)
};

class rdma_link {
public:
    ~rdma_link();
    rdma_link(const rdma_link&) = delete;
    rdma_link& operator=(const rdma_link&) = delete;

    // A new id on its own event channel (a connect attempt, or a listener). nullptr with
    // `ec` and `why` set on failure (no RDMA support names itself).
    static std::unique_ptr<rdma_link> create(reactor& r, std::error_code& ec, std::string& why);
    // A connection request's id (from a listener's CONNECT_REQUEST), moved to its own
    // channel. nullptr with `why` on failure (the id is then destroyed).
    static std::unique_ptr<rdma_link> adopt(reactor& r, rdma_cm_id* id, std::string& why);

    // Makes the queue pair and its buffers on the id's device, posts every receive and arms
    // the completion channel. False with `why` on failure.
    bool make_queue_pair(const rdma_buffers& b, std::string& why);

    // Watches the CM channel (and, once made, the completion channel) for `t`; nullptr
    // stops. The epoll error, if one.
    std::error_code watch(rdma_link_target* t) noexcept;

    rdma_cm_id* id() const noexcept { return id_; }
    ibv_qp* qp() const noexcept { return id_ != nullptr ? id_->qp : nullptr; }
    ibv_cq* cq() const noexcept { return cq_; }
    const rdma_buffers& buffers() const noexcept { return buffers_; }
    std::uint32_t max_inline() const noexcept { return max_inline_; }
    // RDMA READs this side issues and serves at once (0: none); the largest one, in bytes.
    std::uint8_t reads() const noexcept { return reads_; }
    void limit_reads(std::uint8_t n) noexcept { reads_ = std::min(reads_, n); }
    std::uint64_t max_read() const noexcept { return max_read_; }
    // The registrations of message bodies on this connection's protection domain.
    rdma_mr_cache& registrations() noexcept { return registrations_; }
    std::uint32_t lkey() const noexcept;
    std::byte* send_slot(std::uint32_t i) const noexcept { return memory_.get() + std::size_t{i} * buffers_.bytes; }
    std::byte* recv_slot(std::uint32_t i) const noexcept {
        return memory_.get() + (std::size_t{buffers_.send_count} + i) * buffers_.bytes;
    }
    // Posts receive slot `i` again. False when the queue pair refused (it is in error).
    bool post_recv(std::uint32_t i) noexcept;
    // Asks for an event at the next completion, unless that is asked already. Any thread.
    void arm() noexcept {
        if (cq_ != nullptr && !armed_.exchange(true)) (void)ibv_req_notify_cq(cq_, 0);
    }

private:
    explicit rdma_link(reactor& r) noexcept : reactor_(r) {}
    struct cm_watch final : io_handler {
        rdma_link* link;
        void on_io(std::uint32_t) noexcept override { link->read_cm_events(); }
    };
    struct cq_watch final : io_handler {
        rdma_link* link;
        void on_io(std::uint32_t) noexcept override { link->take_cq_event(); }
    };
    void read_cm_events() noexcept;
    void take_cq_event() noexcept;

    reactor& reactor_;
    rdma_event_channel* channel_ = nullptr;
    rdma_cm_id* id_ = nullptr;
    ibv_pd* pd_ = nullptr;
    ibv_comp_channel* comp_ = nullptr;
    ibv_cq* cq_ = nullptr;
    ibv_mr* mr_ = nullptr;
    std::unique_ptr<std::byte[]> memory_;
    rdma_buffers buffers_;
    std::uint32_t max_inline_ = 0;
    std::uint8_t reads_ = 0;
    std::uint64_t max_read_ = 0;
    rdma_mr_cache registrations_;
    rdma_link_target* target_ = nullptr;
    bool cm_watched_ = false;
    bool cq_watched_ = false;
    unsigned unacked_cq_events_ = 0;
    std::atomic<bool> armed_{false};
    cm_watch cm_watch_;
    cq_watch cq_watch_;
};

// Text for a CM event type ("ESTABLISHED").
std::string cm_event_name(rdma_cm_event_type t);

} // namespace volley::detail
