// SPDX-License-Identifier: MPL-2.0
// The verbs resources of one rdma:// connection. See rdma_link.hpp.
#include "rdma_link.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>

namespace volley::detail {
namespace {

// Completion channel events acked in batches (ibv_ack_cq_events takes a mutex).
constexpr unsigned cq_ack_batch = 16;
// Inline data asked of the device (rxe offers 512); fewer if it refuses.
constexpr std::uint32_t inline_wanted = 256;
// RDMA READs of rendezvous bodies in flight at once, at most (fewer if the device says so).
constexpr int reads_wanted = 4;

bool set_nonblocking(int fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

std::string errno_text(const char* call, int err) {
    return std::string(call) + " failed: " + std::strerror(err);
}

} // namespace

std::string cm_event_name(rdma_cm_event_type t) {
    return rdma_event_str(t);
}

std::unique_ptr<rdma_link> rdma_link::create(reactor& r, std::error_code& ec, std::string& why) {
    int devices = 0;
    if (ibv_device** list = ibv_get_device_list(&devices); list != nullptr) ibv_free_device_list(list);
    std::unique_ptr<rdma_link> l(new rdma_link(r));
    l->channel_ = devices > 0 ? rdma_create_event_channel() : nullptr;
    if (l->channel_ == nullptr) {
        const int err = devices > 0 ? errno : ENODEV;
        ec = {err, std::system_category()};
        why = devices == 0 ? "no RDMA device on this machine (libibverbs lists none)"
                           : "no RDMA connection manager here (" + errno_text("rdma_create_event_channel", err) + ")";
        return nullptr;
    }
    if (!set_nonblocking(l->channel_->fd) || rdma_create_id(l->channel_, &l->id_, l.get(), RDMA_PS_TCP) != 0) {
        ec = {errno, std::system_category()};
        why = errno_text("rdma_create_id", errno);
        return nullptr;
    }
    l->cm_watch_.link = l.get();
    l->cq_watch_.link = l.get();
    return l;
}

std::unique_ptr<rdma_link> rdma_link::adopt(reactor& r, rdma_cm_id* id, std::string& why) {
    std::unique_ptr<rdma_link> l(new rdma_link(r));
    l->id_ = id; // destroyed with the link from here
    l->channel_ = rdma_create_event_channel();
    if (l->channel_ == nullptr || !set_nonblocking(l->channel_->fd) || rdma_migrate_id(id, l->channel_) != 0) {
        why = errno_text("moving the connection to its own event channel", errno);
        return nullptr;
    }
    id->context = l.get();
    l->cm_watch_.link = l.get();
    l->cq_watch_.link = l.get();
    return l;
}

rdma_link::~rdma_link() {
    (void)watch(nullptr);
    if (id_ != nullptr && id_->qp != nullptr) rdma_destroy_qp(id_);
    registrations_.clear();
    if (mr_ != nullptr) ibv_dereg_mr(mr_);
    if (cq_ != nullptr) {
        if (unacked_cq_events_ != 0) ibv_ack_cq_events(cq_, unacked_cq_events_);
        ibv_destroy_cq(cq_);
    }
    if (comp_ != nullptr) ibv_destroy_comp_channel(comp_);
    if (pd_ != nullptr) ibv_dealloc_pd(pd_);
    if (id_ != nullptr) rdma_destroy_id(id_);
    if (channel_ != nullptr) rdma_destroy_event_channel(channel_);
}

bool rdma_link::make_queue_pair(const rdma_buffers& b, std::string& why) {
    ibv_context* dev = id_->verbs;
    if (dev == nullptr) {
        why = "the address is not on an RDMA device";
        return false;
    }
    buffers_ = b;
    if ((pd_ = ibv_alloc_pd(dev)) == nullptr) {
        why = errno_text("ibv_alloc_pd", errno);
        return false;
    }
    registrations_.use(pd_);
    // Rendezvous needs RDMA READ: as many at once as both roles of the device allow, each no
    // larger than the port's largest message. A device that does not say reads none.
    ibv_device_attr dattr{};
    ibv_port_attr pattr{};
    if (ibv_query_device(dev, &dattr) == 0 && ibv_query_port(dev, id_->port_num, &pattr) == 0) {
        reads_ = static_cast<std::uint8_t>(std::clamp(std::min(dattr.max_qp_rd_atom, dattr.max_qp_init_rd_atom), 0, reads_wanted));
        max_read_ = pattr.max_msg_sz;
    }
    if ((comp_ = ibv_create_comp_channel(dev)) == nullptr || !set_nonblocking(comp_->fd)) {
        why = errno_text("ibv_create_comp_channel", errno);
        return false;
    }
    const int depth = static_cast<int>(b.send_count + b.recv_count + reads_) + 8; // + control sends
    if ((cq_ = ibv_create_cq(dev, depth, this, comp_, 0)) == nullptr) {
        why = errno_text("ibv_create_cq", errno);
        return false;
    }
    if (ibv_req_notify_cq(cq_, 0) != 0) {
        why = errno_text("ibv_req_notify_cq", errno);
        return false;
    }
    armed_.store(true);
    ibv_qp_init_attr attr{};
    attr.send_cq = cq_;
    attr.recv_cq = cq_;
    attr.qp_type = IBV_QPT_RC;
    attr.cap.max_send_wr = b.send_count + 8 + reads_; // data slots + credit and end messages + reads
    attr.cap.max_recv_wr = b.recv_count;
    attr.cap.max_send_sge = 1;
    attr.cap.max_recv_sge = 1;
    attr.cap.max_inline_data = inline_wanted;
    if (rdma_create_qp(id_, pd_, &attr) != 0) {
        attr.cap.max_inline_data = 0; // a device without inline sends
        if (rdma_create_qp(id_, pd_, &attr) != 0) {
            why = errno_text("rdma_create_qp", errno);
            return false;
        }
    }
    max_inline_ = attr.cap.max_inline_data;
    const std::size_t size = std::size_t{b.bytes} * (b.send_count + b.recv_count);
    try {
        memory_ = std::make_unique<std::byte[]>(size);
    } catch (const std::bad_alloc&) {
        why = "out of memory for " + std::to_string(size) + " bytes of buffers";
        return false;
    }
    if ((mr_ = ibv_reg_mr(pd_, memory_.get(), size, IBV_ACCESS_LOCAL_WRITE)) == nullptr) {
        why = errno_text("ibv_reg_mr", errno) + " (is the locked-memory limit, ulimit -l, too low?)";
        return false;
    }
    for (std::uint32_t i = 0; i < b.recv_count; ++i) {
        if (!post_recv(i)) {
            why = errno_text("ibv_post_recv", errno);
            return false;
        }
    }
    return true;
}

std::uint32_t rdma_link::lkey() const noexcept {
    return mr_->lkey;
}

bool rdma_link::post_recv(std::uint32_t i) noexcept {
    ibv_sge sge{reinterpret_cast<std::uintptr_t>(recv_slot(i)), buffers_.bytes, mr_->lkey};
    ibv_recv_wr wr{};
    wr.wr_id = i;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    ibv_recv_wr* bad = nullptr;
    return ibv_post_recv(id_->qp, &wr, &bad) == 0;
}

std::error_code rdma_link::watch(rdma_link_target* t) noexcept {
    target_ = t;
    if (t == nullptr) {
        if (cm_watched_) reactor_.remove(channel_->fd);
        if (cq_watched_) reactor_.remove(comp_->fd);
        cm_watched_ = cq_watched_ = false;
        return {};
    }
    if (!cm_watched_) {
        if (auto ec = reactor_.add(channel_->fd, EPOLLIN, &cm_watch_)) return ec;
        cm_watched_ = true;
    }
    if (comp_ != nullptr && !cq_watched_) {
        if (auto ec = reactor_.add(comp_->fd, EPOLLIN, &cq_watch_)) return ec;
        cq_watched_ = true;
    }
    return {};
}

void rdma_link::read_cm_events() noexcept {
    rdma_cm_event* ev = nullptr;
    if (rdma_get_cm_event(channel_, &ev) != 0) return; // EAGAIN: none (level-triggered: one per call)
    rdma_cm_note n;
    n.type = ev->event;
    n.status = ev->status;
    n.id = ev->id;
    if (n.type == RDMA_CM_EVENT_CONNECT_REQUEST) {
        n.initiator_depth = ev->param.conn.initiator_depth;
        n.responder_resources = ev->param.conn.responder_resources;
    }
    const bool conn = n.type == RDMA_CM_EVENT_CONNECT_REQUEST || n.type == RDMA_CM_EVENT_ESTABLISHED ||
                      n.type == RDMA_CM_EVENT_REJECTED;
    try {
        if (conn && ev->param.conn.private_data != nullptr) {
            const auto* p = static_cast<const std::byte*>(ev->param.conn.private_data);
            n.private_data.assign(p, p + ev->param.conn.private_data_len);
        }
    } catch (const std::bad_alloc&) { // read as "no hello": refused
    }
    rdma_ack_cm_event(ev);
    if (target_ != nullptr) {
        target_->on_cm_event(*this, n); // may destroy this link: nothing after it
    } else if (n.type == RDMA_CM_EVENT_CONNECT_REQUEST) {
        rdma_reject(n.id, nullptr, 0);
        rdma_destroy_id(n.id);
    }
}

void rdma_link::take_cq_event() noexcept {
    ibv_cq* cq = nullptr;
    void* ctx = nullptr;
    if (ibv_get_cq_event(comp_, &cq, &ctx) != 0) return; // EAGAIN
    if (++unacked_cq_events_ >= cq_ack_batch) {
        ibv_ack_cq_events(cq_, unacked_cq_events_);
        unacked_cq_events_ = 0;
    }
    armed_.store(false);
    // Before the target polls: a later completion raises a new event.
    if (target_ != nullptr && target_->wants_completions()) arm();
    if (target_ != nullptr) target_->on_completions(*this);
}

} // namespace volley::detail
