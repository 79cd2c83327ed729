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
constexpr std::uint8_t flag_more = 1, flag_command = 2, flag_first = 4, flag_piece = 8;
constexpr std::uint32_t imm_end = 1u << 31;
constexpr std::uint32_t imm_credits = 0xffff;
constexpr std::uint64_t send_wr_bit = 1ull << 32;
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
    : link_(std::move(l)), peer_credits_(peer.credits), peer_start_credits_(link_->buffers().recv_count) {
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
      peer_start_credits_(o.peer_start_credits_) {}

rdma_wire::~rdma_wire() {
    close();
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
    if (end_wanted_ && !end_sent_) send_end();
}

bool rdma_wire::post_send(std::uint32_t slot, std::uint32_t length, bool ends) noexcept {
    ibv_sge sge{reinterpret_cast<std::uintptr_t>(link_->send_slot(slot)), length, link_->lkey()};
    ibv_send_wr wr{};
    wr.wr_id = send_wr_bit | slot;
    wr.sg_list = length != 0 ? &sge : nullptr;
    wr.num_sge = length != 0 ? 1 : 0;
    wr.opcode = IBV_WR_SEND_WITH_IMM;
    wr.send_flags = IBV_SEND_SIGNALED | (length != 0 && length <= link_->max_inline() ? IBV_SEND_INLINE : 0);
    wr.imm_data = htonl(std::min(owed_, imm_credits) | (ends ? imm_end : 0));
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
    if (owed_ == 0) return;
    // What the peer may still send, at most: if under two it may wait for us (its last
    // credit is kept for messages like this one).
    const std::uint64_t peer_may = peer_start_credits_ + granted_ - std::min(received_, peer_start_credits_ + granted_);
    if (owed_ * 2 < peer_start_credits_ && peer_may >= 2) return;
    if (peer_credits_ == 0 || sends_busy_ >= link_->buffers().send_count + control_sends) return;
    (void)post_send(0, 0, false);
}

void rdma_wire::send_end() noexcept {
    if (!out_.empty() || peer_credits_ == 0 || sends_busy_ >= link_->buffers().send_count + control_sends) return;
    if (post_send(0, 0, true)) end_sent_ = true;
}

// ---------------------------------------------------------------- input

rdma_wire::status rdma_wire::fail(errc code, std::string reason) noexcept {
    failed_ = true;
    error_code_ = code;
    error_reason_ = std::move(reason);
    return status::error;
}

rdma_wire::status rdma_wire::next(message& body, bool& command) noexcept {
    if (failed_) [[unlikely]]
        return status::error;
    if (!greeted_) [[unlikely]] {
        greeted_ = true; // the hello came with the connection
        return status::greeted;
    }
    try {
        while (!ready_.empty()) {
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
            const std::size_t head = header_bytes + ((flags & flag_first) != 0 ? size_bytes : 0);
            if (rest < head || rest - head < length)
                return fail(errc::protocol_error, "malformed RDMA record: " + std::to_string(length) +
                                                      " bytes announced, " + std::to_string(rest) + " in the buffer");
            const std::byte* data = p + head;
            a.offset += static_cast<std::uint32_t>(head + length);
            if ((flags & flag_piece) != 0) {
                if (!large_open_ || large_filled_ + length > large_.size())
                    return fail(errc::protocol_error, "malformed RDMA record: a piece of no frame");
                std::memcpy(large_.data() + large_filled_, data, length);
                large_filled_ += length;
                if (large_filled_ < large_.size()) continue;
                large_open_ = false;
                body = std::move(large_);
                large_ = message();
                body.set_more(large_more_);
                command = large_command_;
                if (!command) {
                    in_message_ = large_more_;
                    if (!large_more_) message_bytes_ = 0;
                }
                return status::frame;
            }
            if (large_open_) return fail(errc::protocol_error, "malformed RDMA record: a frame inside another");
            command = (flags & flag_command) != 0;
            const bool more = (flags & flag_more) != 0 && !command;
            const std::uint64_t size = (flags & flag_first) != 0 ? get64(p + header_bytes) : length;
            if (handshake_ && size > handshake_frame_max)
                return fail(errc::protocol_error, "frame of " + std::to_string(size) + " bytes during the handshake");
            if (!command) {
                message_bytes_ += size;
                if (max_message_ >= 0 && message_bytes_ > static_cast<std::uint64_t>(max_message_))
                    return fail(errc::message_too_large, (more || in_message_ ? "multipart message of " : "message of ") +
                                                             std::to_string(message_bytes_) + " bytes" +
                                                             (more || in_message_ ? " so far" : "") +
                                                             " exceeds maxmsgsize " + std::to_string(max_message_));
            }
            if (budget_ >= 0 && size > static_cast<std::uint64_t>(budget_))
                return fail(errc::message_too_large, "frame of " + std::to_string(size) + " bytes exceeds input_budget " +
                                                         std::to_string(budget_));
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
                large_command_ = command;
                large_more_ = more;
                continue;
            }
            body = message(data, length);
            body.set_more(more);
            if (!command) {
                in_message_ = more;
                if (!more) message_bytes_ = 0;
            }
            return status::frame;
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
    poll();
    if (failed_ || ready_.size() > before) return received::bytes;
    if (peer_ended_ || disconnected_.load()) return received::ended;
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
    out_.push_back({std::move(body), command, 0});
    pending_bytes_ += size;
    ++frames_added_;
}

bool rdma_wire::post_data(int& err) noexcept {
    const rdma_buffers& b = link_->buffers();
    while (!out_.empty()) {
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
