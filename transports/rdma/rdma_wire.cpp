// SPDX-License-Identifier: MPL-2.0
// The frame channel of rdma://: records in eager buffers, credits. See rdma_wire.hpp.
#include "rdma_wire.hpp"

#include "zmtp/commands.hpp"
#include "zmtp/protocol.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>

namespace volley::detail {
namespace {

constexpr std::size_t header_bytes = 8;
constexpr std::size_t size_bytes = 8; // after a `first` header: the whole frame's size
constexpr std::size_t descriptor_bytes = 16; // after a `remote` one's size: u64 address, u32 rkey, u32 zero
constexpr std::uint8_t flag_more = 1, flag_command = 2, flag_first = 4, flag_piece = 8, flag_remote = 16;
constexpr std::uint32_t imm_end = 1u << 31;
constexpr std::uint32_t imm_credits = 0xffff;
constexpr std::uint32_t imm_acks_shift = 16, imm_acks = 0xff;
constexpr std::uint64_t send_wr_bit = 1ull << 32;
constexpr std::uint64_t read_wr_bit = 1ull << 33;
// Frames from this size go by rendezvous: two buffers' worth, past which pieces cost a copy on
// each side and several sends, and a read costs one round trip more.
constexpr std::size_t rendezvous_min = 16 * 1024;
constexpr std::size_t exposed_max = 16; // bodies offered to the peer at once
constexpr std::size_t landing_max = 64; // frames decoded behind a body being read
constexpr std::uint32_t control_sends = 8; // credit and end messages beyond the data slots
// During the handshake no frame is larger than this (as the stream decoder's limit).
constexpr std::uint64_t handshake_frame_max = 64 * 1024;

void put32(std::byte* p, std::uint32_t v) noexcept {
    v = htonl(v);
    std::memcpy(p, &v, 4);
}
std::uint32_t get32(const std::byte* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return ntohl(v);
}
void put64(std::byte* p, std::uint64_t v) noexcept {
    put32(p, static_cast<std::uint32_t>(v >> 32));
    put32(p + 4, static_cast<std::uint32_t>(v));
}
std::uint64_t get64(const std::byte* p) noexcept {
    return (std::uint64_t{get32(p)} << 32) | get32(p + 4);
}
void put_header(std::byte* p, std::uint32_t length, std::uint8_t flags) noexcept {
    put32(p, length);
    p[4] = std::byte{flags};
    p[5] = p[6] = p[7] = std::byte{0};
}

} // namespace

rdma_wire::rdma_wire(std::unique_ptr<rdma_link> l, const rdma_hello& peer) noexcept
    : link_(std::move(l)), peer_credits_(peer.credits), peer_start_credits_(link_->buffers().recv_count),
      reads_(std::min(link_->reads(), peer.reads)), max_read_(link_->max_read()) {
    greeting_.major = peer.zmtp_major;
    greeting_.minor = peer.zmtp_minor;
    greeting_.as_server = peer.as_server;
    try {
        greeting_.mechanism = peer.mechanism;
    } catch (const std::bad_alloc&) { // (short: fits the string's own storage)
    }
}

rdma_wire::rdma_wire(rdma_wire&& o) noexcept
    : link_(std::move(o.link_)), greeting_(std::move(o.greeting_)), max_message_(o.max_message_),
      budget_(o.budget_), handshake_(o.handshake_), peer_credits_(o.peer_credits_),
      peer_start_credits_(o.peer_start_credits_), reads_(o.reads_), max_read_(o.max_read_) {}

rdma_wire::~rdma_wire() {
    close();
    // The queue pair goes before the bodies it may still read into, or the peer from.
    link_.reset();
}

std::error_code rdma_wire::watch(io_handler& h, bool in, bool out) noexcept {
    handler_.store(&h);
    want_in_.store(in);
    want_out_.store(out);
    if (!link_) return {};
    if (in || out) {
        // Completions may have come unannounced while nobody wanted events: the driver reads
        // them (idle() is false), and later ones raise an event.
        cq_news_.store(true);
        link_->arm();
    }
    if (watching_ || (!in && !out)) return {};
    // The descriptors stay watched from here to close(): the link takes each event itself,
    // so nothing spins while the driver wants neither.
    const std::error_code ec = link_->watch(this);
    watching_ = !ec;
    return ec;
}

void rdma_wire::on_completions(rdma_link&) noexcept {
    cq_news_.store(true);
    // An event armed for a wish that has passed (the socket's thread reads the queue itself
    // now, a write no longer waits) wakes nobody: the driver's lock is the socket's then.
    const bool in = want_in_.load(), out = blocked_.load() || want_out_.load();
    if (!in && !out) return;
    io_handler* h = handler_.load();
    if (h != nullptr) h->on_io((in ? EPOLLIN : 0u) | (out ? EPOLLOUT : 0u));
}

void rdma_wire::on_cm_event(rdma_link&, rdma_cm_note& n) noexcept {
    if (n.type == RDMA_CM_EVENT_TIMEWAIT_EXIT || n.type == RDMA_CM_EVENT_ESTABLISHED) return;
    disconnected_.store(true); // DISCONNECTED, DEVICE_REMOVAL: the connection is over
    io_handler* h = handler_.load();
    // The read path reports the end ("the peer closed the connection"); a waiting write too.
    if (h != nullptr) h->on_io(EPOLLIN | (blocked_.load() ? EPOLLOUT : 0u));
}

// ---------------------------------------------------------------- completions

void rdma_wire::poll() noexcept {
    if (!link_) return;
    cq_news_.store(false); // before polling: news after this raises it again
    ibv_wc wc[16];
    for (;;) {
        const int n = ibv_poll_cq(link_->cq(), 16, wc);
        if (n <= 0) break;
        for (int i = 0; i < n; ++i) {
            const ibv_wc& c = wc[i];
            if ((c.wr_id & read_wr_bit) != 0) {
                read_done(c);
                continue;
            }
            const bool send = (c.wr_id & send_wr_bit) != 0;
            if (send) {
                --sends_busy_;
                if (!send_kinds_.empty()) {
                    if (send_kinds_.front()) --slots_busy_;
                    send_kinds_.pop_front();
                }
            }
            if (c.status != IBV_WC_SUCCESS) {
                // After a disconnect, what was posted is flushed: expected, not news.
                if (!failed_ && !disconnected_.load() && !peer_ended_) {
                    failed_ = true;
                    error_code_ = errc::protocol_error;
                    try {
                        error_reason_ = std::string("RDMA ") + (send ? "send" : "receive") + " failed: " +
                                        ibv_wc_status_str(c.status) + " (vendor error " +
                                        std::to_string(c.vendor_err) + ")";
                    } catch (const std::bad_alloc&) {
                    }
                }
                continue;
            }
            if (send) continue;
            ++received_;
            const std::uint32_t imm = (c.wc_flags & IBV_WC_WITH_IMM) != 0 ? ntohl(c.imm_data) : 0;
            peer_credits_ += imm & imm_credits;
            if (const std::uint32_t acks = (imm >> imm_acks_shift) & imm_acks; acks != 0) acknowledged(acks);
            const auto slot = static_cast<std::uint32_t>(c.wr_id);
            const bool ends = (imm & imm_end) != 0;
            if (c.byte_len == 0 && !ends) {
                recycle(slot); // credits only
                continue;
            }
            try {
                ready_.push_back({slot, c.byte_len, 0, ends});
            } catch (const std::bad_alloc&) { // (the deque holds at most recv_count entries)
                failed_ = true;
                error_code_ = errc::protocol_error;
            }
        }
    }
    if (acks_owed_ != 0) return_credits(); // the sender waits to free its bodies
    if (end_wanted_ && !end_sent_) send_end();
}

void rdma_wire::read_done(const ibv_wc& c) noexcept {
    --reads_busy_;
    // Reads complete in the order posted: this is the first landing not done.
    auto it = std::find_if(landing_.begin(), landing_.end(), [](const landing& l) { return !l.done; });
    if (it == landing_.end()) return;
    link_->registrations().release(it->registration);
    if (c.status != IBV_WC_SUCCESS) {
        if (!failed_ && !disconnected_.load()) {
            failed_ = true;
            error_code_ = errc::protocol_error;
            try {
                error_reason_ = std::string("RDMA read of a ") + std::to_string(it->body.size()) +
                                "-byte frame failed: " + ibv_wc_status_str(c.status) + " (vendor error " +
                                std::to_string(c.vendor_err) + ")";
            } catch (const std::bad_alloc&) {
            }
        }
        return;
    }
    it->done = true;
    ++acks_owed_;
}

void rdma_wire::acknowledged(std::uint32_t n) noexcept {
    if (n > exposed_.size()) {
        if (!failed_) {
            failed_ = true;
            error_code_ = errc::protocol_error;
            try {
                error_reason_ = "malformed RDMA record: more reads acknowledged than bodies offered";
            } catch (const std::bad_alloc&) {
            }
        }
        n = static_cast<std::uint32_t>(exposed_.size());
    }
    for (; n != 0; --n) {
        link_->registrations().release(exposed_.front().registration);
        exposed_.pop_front();
    }
}

bool rdma_wire::post_send(std::uint32_t slot, std::uint32_t length, bool ends) noexcept {
    ibv_sge sge{reinterpret_cast<std::uintptr_t>(link_->send_slot(slot)), length, link_->lkey()};
    ibv_send_wr wr{};
    wr.wr_id = send_wr_bit | slot;
    wr.sg_list = length != 0 ? &sge : nullptr;
    wr.num_sge = length != 0 ? 1 : 0;
    wr.opcode = IBV_WR_SEND_WITH_IMM;
    wr.send_flags = IBV_SEND_SIGNALED | (length != 0 && length <= link_->max_inline() ? IBV_SEND_INLINE : 0);
    const std::uint32_t acks = std::min(acks_owed_, imm_acks);
    wr.imm_data = htonl(std::min(owed_, imm_credits) | (acks << imm_acks_shift) | (ends ? imm_end : 0));
    ibv_send_wr* bad = nullptr;
    try {
        send_kinds_.push_back(length != 0);
    } catch (const std::bad_alloc&) {
        return false;
    }
    if (ibv_post_send(link_->qp(), &wr, &bad) != 0) {
        send_kinds_.pop_back();
        return false;
    }
    const std::uint32_t told = std::min(owed_, imm_credits);
    owed_ -= told;
    granted_ += told;
    acks_owed_ -= acks;
    --peer_credits_;
    ++sends_busy_;
    return true;
}

void rdma_wire::recycle(std::uint32_t slot) noexcept {
    // A side that only discards what comes (it is closing) frees no buffer: the peer, out of
    // credits, keeps its messages for its next connection instead of sending them to be
    // dropped here.
    if (discarding_) return;
    if (!link_->post_recv(slot)) {
        if (!failed_ && !disconnected_.load()) {
            failed_ = true;
            error_code_ = errc::protocol_error;
            try {
                error_reason_ = std::string("reposting an RDMA receive failed: ") + std::strerror(errno);
            } catch (const std::bad_alloc&) {
            }
        }
        return;
    }
    ++owed_;
    return_credits();
}

void rdma_wire::return_credits() noexcept {
    if (owed_ == 0 && acks_owed_ == 0) return;
    // What the peer may still send, at most: if under two it may wait for us (its last
    // credit is kept for messages like this one). Acknowledged reads go at once.
    const std::uint64_t peer_may = peer_start_credits_ + granted_ - std::min(received_, peer_start_credits_ + granted_);
    if (acks_owed_ == 0 && owed_ * 2 < peer_start_credits_ && peer_may >= 2) return;
    if (peer_credits_ == 0 || sends_busy_ >= link_->buffers().send_count + control_sends) return;
    (void)post_send(0, 0, false);
}

void rdma_wire::send_end() noexcept {
    // Not while the peer may still read a body of ours.
    if (!out_.empty() || !exposed_.empty() || peer_credits_ == 0 ||
        sends_busy_ >= link_->buffers().send_count + control_sends)
        return;
    if (post_send(0, 0, true)) end_sent_ = true;
}

// ---------------------------------------------------------------- input

rdma_wire::status rdma_wire::fail(errc code, std::string reason) noexcept {
    failed_ = true;
    error_code_ = code;
    error_reason_ = std::move(reason);
    return status::error;
}

bool rdma_wire::hand(message& out, bool& command, message&& body, bool cmd, bool more) {
    if (!landing_.empty()) { // behind a body still being read
        landing_.push_back({std::move(body), 0, cmd, more, true});
        return false;
    }
    out = std::move(body);
    out.set_more(more);
    command = cmd;
    if (!cmd) in_message_ = more;
    return true;
}

rdma_wire::status rdma_wire::start_read(std::uint64_t size, const std::byte* descriptor, bool cmd, bool more) noexcept {
    message body;
    try {
        body = message(static_cast<std::size_t>(size));
        landing_.emplace_back();
    } catch (const std::bad_alloc&) {
        return fail(errc::message_too_large, "cannot allocate a frame of " + std::to_string(size) + " bytes");
    }
    const rdma_mr_cache::lease l = link_->registrations().acquire(body, true);
    if (l.mr == nullptr) {
        landing_.pop_back();
        return fail(errc::protocol_error, "registering a " + std::to_string(size) +
                                              "-byte frame to read it failed: " + std::strerror(errno) +
                                              " (is the locked-memory limit, ulimit -l, too low?)");
    }
    ibv_sge sge{reinterpret_cast<std::uintptr_t>(body.data()), static_cast<std::uint32_t>(size), l.mr->lkey};
    ibv_send_wr wr{};
    wr.wr_id = read_wr_bit;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.opcode = IBV_WR_RDMA_READ;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.rdma.remote_addr = get64(descriptor);
    wr.wr.rdma.rkey = get32(descriptor + 8);
    ibv_send_wr* bad = nullptr;
    if (const int err = ibv_post_send(link_->qp(), &wr, &bad); err != 0) {
        link_->registrations().release(l.entry);
        landing_.pop_back();
        return fail(errc::protocol_error, std::string("posting an RDMA read failed: ") + std::strerror(err));
    }
    ++reads_busy_;
    landing_.back() = {std::move(body), l.entry, cmd, more, false};
    return status::need_more;
}

rdma_wire::status rdma_wire::next(message& body, bool& command) noexcept {
    if (failed_) [[unlikely]]
        return status::error;
    if (!greeted_) [[unlikely]] {
        greeted_ = true; // the hello came with the connection
        return status::greeted;
    }
    try {
        for (;;) {
            if (landed()) {
                landing l = std::move(landing_.front());
                landing_.pop_front();
                body = std::move(l.body);
                body.set_more(l.more);
                command = l.command;
                if (!command) in_message_ = l.more;
                return status::frame;
            }
            if (ready_.empty() || landing_.size() >= landing_max) break;
            arrived& a = ready_.front();
            if (a.offset >= a.length) {
                const arrived done = a;
                ready_.pop_front();
                if (done.ends) peer_ended_ = true;
                recycle(done.slot);
                if (failed_) return status::error;
                continue;
            }
            const std::byte* p = link_->recv_slot(a.slot) + a.offset;
            const std::size_t rest = a.length - a.offset;
            if (rest < header_bytes) return fail(errc::protocol_error, "malformed RDMA record: a truncated header");
            const std::uint32_t length = get32(p);
            const auto flags = std::to_integer<std::uint8_t>(p[4]);
            const bool remote = (flags & flag_remote) != 0;
            const std::size_t head = header_bytes + ((flags & flag_first) != 0 ? size_bytes : 0);
            if (rest < head || rest - head < length)
                return fail(errc::protocol_error, "malformed RDMA record: " + std::to_string(length) +
                                                      " bytes announced, " + std::to_string(rest) + " in the buffer");
            if (remote) {
                if ((flags & flag_first) == 0 || (flags & flag_piece) != 0 || length != descriptor_bytes)
                    return fail(errc::protocol_error, "malformed RDMA record: a remote body without its descriptor");
                if (reads_ == 0)
                    return fail(errc::protocol_error, "malformed RDMA record: a remote body, though this side reads none");
                if (reads_busy_ >= reads_) break; // after a read in flight finishes
            }
            const std::byte* data = p + head;
            a.offset += static_cast<std::uint32_t>(head + length);
            if ((flags & flag_piece) != 0) {
                if (!large_open_ || large_filled_ + length > large_.size())
                    return fail(errc::protocol_error, "malformed RDMA record: a piece of no frame");
                std::memcpy(large_.data() + large_filled_, data, length);
                large_filled_ += length;
                if (large_filled_ < large_.size()) continue;
                large_open_ = false;
                message whole = std::move(large_);
                large_ = message();
                if (hand(body, command, std::move(whole), large_command_, large_more_)) return status::frame;
                continue;
            }
            if (large_open_) return fail(errc::protocol_error, "malformed RDMA record: a frame inside another");
            const bool cmd = (flags & flag_command) != 0;
            const bool more = (flags & flag_more) != 0 && !cmd;
            const std::uint64_t size = (flags & flag_first) != 0 ? get64(p + header_bytes) : length;
            if (handshake_ && size > handshake_frame_max)
                return fail(errc::protocol_error, "frame of " + std::to_string(size) + " bytes during the handshake");
            if (!cmd) {
                message_bytes_ += size;
                if (max_message_ >= 0 && message_bytes_ > static_cast<std::uint64_t>(max_message_))
                    return fail(errc::message_too_large, (more || in_message_ ? "multipart message of " : "message of ") +
                                                             std::to_string(message_bytes_) + " bytes" +
                                                             (more || in_message_ ? " so far" : "") +
                                                             " exceeds maxmsgsize " + std::to_string(max_message_));
                if (!more) message_bytes_ = 0;
            }
            if (budget_ >= 0 && size > static_cast<std::uint64_t>(budget_))
                return fail(errc::message_too_large, "frame of " + std::to_string(size) + " bytes exceeds input_budget " +
                                                         std::to_string(budget_));
            if (remote) {
                if (size > max_read_)
                    return fail(errc::protocol_error, "malformed RDMA record: a remote body of " + std::to_string(size) +
                                                          " bytes, above the device's largest read");
                if (start_read(size, data, cmd, more) == status::error) return status::error;
                continue;
            }
            if ((flags & flag_first) != 0) {
                if (size <= length) return fail(errc::protocol_error, "malformed RDMA record: a first piece that is all");
                try {
                    large_ = message(static_cast<std::size_t>(size));
                } catch (const std::bad_alloc&) {
                    return fail(errc::message_too_large, "cannot allocate a frame of " + std::to_string(size) + " bytes");
                }
                std::memcpy(large_.data(), data, length);
                large_filled_ = length;
                large_open_ = true;
                large_command_ = cmd;
                large_more_ = more;
                continue;
            }
            if (hand(body, command, message(data, length), cmd, more)) return status::frame;
        }
    } catch (const std::bad_alloc&) {
        failed_ = true;
        error_code_ = errc::message_too_large;
        return status::error;
    }
    return status::need_more;
}

rdma_wire::received rdma_wire::receive(int&) noexcept {
    if (failed_) return received::bytes; // next() says why
    const std::size_t before = ready_.size();
    const bool was_landed = landed();
    poll();
    if (failed_ || ready_.size() > before || landed() != was_landed) return received::bytes;
    // The peer ends only once its bodies are read; what a disconnect cut off is lost.
    if ((peer_ended_ && landing_.empty()) || disconnected_.load()) return received::ended;
    return received::none;
}

std::string rdma_wire::refusal_waiting() noexcept {
    poll();
    if (ready_.empty()) return {};
    const arrived& a = ready_.front();
    const std::byte* p = link_->recv_slot(a.slot) + a.offset;
    if (a.length - a.offset < header_bytes) return {};
    const std::uint32_t length = get32(p);
    if ((std::to_integer<unsigned>(p[4]) & flag_command) == 0 || a.length - a.offset - header_bytes < length) return {};
    try {
        const message body(p + header_bytes, length);
        const auto cmd = zmtp::parse_command(body);
        if (!cmd || cmd->name != "ERROR") return {};
        return zmtp::error_reason(cmd->data);
    } catch (const std::bad_alloc&) {
        return {};
    }
}

// ---------------------------------------------------------------- output

void rdma_wire::add(message&& body, bool command) {
    const std::size_t size = body.size();
    out_.push_back({std::move(body), command, false, 0});
    pending_bytes_ += size;
    ++frames_added_;
}

bool rdma_wire::expose(out_frame& f, std::byte* at, std::uint8_t kind) noexcept {
    const rdma_mr_cache::lease l = link_->registrations().acquire(f.body, false);
    if (l.mr == nullptr) { // (no memory to pin, say): it goes in pieces
        f.pieces = true;
        return false;
    }
    try {
        exposed_.push_back({message(), l.entry});
    } catch (const std::bad_alloc&) {
        link_->registrations().release(l.entry);
        f.pieces = true;
        return false;
    }
    put_header(at, descriptor_bytes, static_cast<std::uint8_t>(kind | flag_first | flag_remote));
    put64(at + header_bytes, f.body.size());
    put64(at + header_bytes + size_bytes, reinterpret_cast<std::uintptr_t>(f.body.data()));
    put32(at + header_bytes + size_bytes + 8, l.mr->rkey);
    put32(at + header_bytes + size_bytes + 12, 0);
    exposed_.back().body = std::move(f.body);
    return true;
}

bool rdma_wire::post_data(int& err) noexcept {
    const rdma_buffers& b = link_->buffers();
    constexpr std::size_t remote_record = header_bytes + size_bytes + descriptor_bytes;
    bool offered_all = false; // the next frame waits for the peer to read those offered
    while (!out_.empty() && !offered_all) {
        // A data send keeps the peer's last credit for a credit or end message.
        if (slots_busy_ >= b.send_count || sends_busy_ >= b.send_count + control_sends || peer_credits_ < 2)
            return true;
        std::byte* buf = link_->send_slot(next_slot_);
        std::size_t pos = 0;
        while (!out_.empty()) {
            out_frame& f = out_.front();
            const std::size_t size = f.body.size();
            const std::uint8_t kind =
                static_cast<std::uint8_t>((f.command ? flag_command : 0) | (f.body.more() && !f.command ? flag_more : 0));
            const std::size_t room = b.bytes - pos;
            std::size_t took;
            if (f.sent == 0 && reads_ != 0 && size >= rendezvous_min && !f.command && !f.pieces && size <= max_read_) {
                if (exposed_.size() >= exposed_max) {
                    offered_all = true;
                    break;
                }
                if (room < remote_record) break; // in the next buffer
                if (expose(f, buf + pos, kind)) {
                    pos += remote_record;
                    pending_bytes_ -= size;
                    ++frames_posted_;
                    out_.pop_front();
                    continue;
                }
            }
            if (f.sent == 0 && header_bytes + size <= room) { // whole, beside the others
                put_header(buf + pos, static_cast<std::uint32_t>(size), kind);
                std::memcpy(buf + pos + header_bytes, f.body.data(), size);
                pos += header_bytes + size;
                took = size;
            } else if (f.sent == 0) {
                if (pos > 0 && header_bytes + size <= b.bytes) break; // whole, in the next buffer
                if (room < header_bytes + size_bytes + 1) break;      // its first piece, in the next
                took = room - header_bytes - size_bytes;
                put_header(buf + pos, static_cast<std::uint32_t>(took), static_cast<std::uint8_t>(kind | flag_first));
                put64(buf + pos + header_bytes, size);
                std::memcpy(buf + pos + header_bytes + size_bytes, f.body.data(), took);
                pos += header_bytes + size_bytes + took;
            } else {
                if (room < header_bytes + 1) break;
                took = std::min(size - f.sent, room - header_bytes);
                put_header(buf + pos, static_cast<std::uint32_t>(took), flag_piece);
                std::memcpy(buf + pos + header_bytes, f.body.data() + f.sent, took);
                pos += header_bytes + took;
            }
            f.sent += took;
            if (f.sent < size) break; // the buffer is full
            pending_bytes_ -= size;
            ++frames_posted_;
            out_.pop_front();
        }
        if (pos == 0) return true; // (offered all it may)
        if (!post_send(next_slot_, static_cast<std::uint32_t>(pos), false)) {
            err = errno != 0 ? errno : EIO;
            return false;
        }
        next_slot_ = (next_slot_ + 1) % b.send_count;
        ++slots_busy_;
    }
    return true;
}

rdma_wire::wrote rdma_wire::write(int& err) noexcept {
    if (!link_ || failed_ || disconnected_.load()) {
        err = ECONNRESET;
        return wrote::failed;
    }
    poll();
    if (!post_data(err)) return wrote::failed;
    if (!out_.empty()) {
        // It waits for a completion (a freed slot, a credit): one that came before the queue
        // was armed raises no event, so look once more after arming.
        blocked_.store(true);
        link_->arm();
        poll();
        if (!post_data(err)) return wrote::failed;
        if (!out_.empty()) return wrote::would_block;
    }
    blocked_.store(end_wanted_ && !end_sent_);
    return wrote::all;
}

// ---------------------------------------------------------------- the end

bool rdma_wire::end_output() noexcept {
    if (!link_ || disconnected_.load() || failed_) return false;
    end_wanted_ = true;
    blocked_.store(true);
    send_end(); // or once a credit comes (poll)
    return true;
}

rdma_wire::drained rdma_wire::discard_input(int& err) noexcept {
    discarding_ = true;
    poll();
    while (!ready_.empty()) {
        const arrived a = ready_.front();
        ready_.pop_front();
        if (a.ends) peer_ended_ = true;
        recycle(a.slot);
    }
    if (peer_ended_ || disconnected_.load()) return drained::ended;
    if (failed_) {
        err = ECONNRESET;
        return drained::failed;
    }
    return drained::more_later;
}

void rdma_wire::close() noexcept {
    // The link itself lives until the wire does (the driver is destroyed after the
    // reactor's batch of events, which may still name the link's descriptors).
    if (!link_ || closed_) return;
    closed_ = true;
    handler_.store(nullptr);
    (void)link_->watch(nullptr);
    rdma_disconnect(link_->id());
}

} // namespace volley::detail
