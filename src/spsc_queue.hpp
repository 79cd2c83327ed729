// SPDX-License-Identifier: MPL-2.0
// An unbounded single-producer / single-consumer queue built from linked
// chunks of N slots (libzmq's yqueue/ypipe idea, with a published counter
// instead of a CAS per flush).
//
//   writer                                   reader
//   push() x k  -> slots, not yet visible    pop() reads up to `published`
//   publish()   -> published = count         (refreshes its cached copy only
//   rollback()  -> drops unpublished slots    when it catches up)
//
// Publishing in batches is what makes a multipart message atomic: the
// writer publishes only after its last frame. The reader hands finished
// chunks back through a one-chunk spare slot, so a steady stream allocates
// nothing. Bounding (the high-water mark) is the caller's business.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <new>
#include <utility>

namespace volley::detail {

// True for types whose value may move by copying its bytes, the source then abandoned
// without its destructor (volley::message: a body pointer, a size, flags, no self-pointers).
// The queue's reader then takes an item without writing its slot, so the slot's cache line
// stays clean and the writer, reusing the slot later, need not pull it back from the
// reader's core: measured, that store was 40% of PUSH's send at 64 B.
// A specialisation provides `static void move(T* to, const T* from) noexcept`, which copies
// the bytes that hold the value (all of them, or fewer when the type knows better).
template <class T>
struct relocatable : std::false_type {};

template <class T, std::size_t N = 64>
class spsc_queue {
    struct chunk {
        alignas(64) std::byte storage[N * sizeof(T)]; // slots never straddle cache lines
        chunk* next = nullptr;
        T* slot(std::size_t i) noexcept { return std::launder(reinterpret_cast<T*>(storage) + i); }
    };

public:
    spsc_queue() : w_chunk_(new chunk), r_chunk_(w_chunk_) { pub_chunk_ = w_chunk_; }
    ~spsc_queue() {
        // Everything pushed, published or not, lies between the reader and the writer.
        for (; r_count_ != w_count_; ++r_count_) {
            step_reader();
            r_chunk_->slot(r_pos_++)->~T();
        }
        for (chunk* c = r_chunk_; c != nullptr;) {
            chunk* next = c->next;
            delete c;
            c = next;
        }
        delete spare_.load(std::memory_order_relaxed);
    }
    spsc_queue(const spsc_queue&) = delete;
    spsc_queue& operator=(const spsc_queue&) = delete;

    // ---- writer side ----

    // Appends `v`, invisible to the reader until publish(). Throws std::bad_alloc (only
    // when a new chunk is needed), leaving the queue unchanged.
    void push(T&& v) {
        if (w_pos_ == N) {
            chunk* next = w_chunk_->next; // left linked by a rollback
            if (next == nullptr) {
                next = spare_.exchange(nullptr, std::memory_order_acquire);
                if (next == nullptr) next = new chunk;
                w_chunk_->next = next;
            }
            w_chunk_ = next;
            w_pos_ = 0;
        }
        new (w_chunk_->slot(w_pos_)) T(std::move(v));
        ++w_pos_;
        ++w_count_;
    }
    // Makes every pushed item visible to the reader.
    void publish() noexcept {
        pub_chunk_ = w_chunk_;
        pub_pos_ = w_pos_;
        pub_count_ = w_count_;
        published_.store(w_count_, std::memory_order_release);
    }
    // Destroys the items pushed since the last publish().
    void rollback() noexcept {
        chunk* c = pub_chunk_;
        std::size_t pos = pub_pos_;
        for (std::uint64_t n = pub_count_; n != w_count_; ++n) {
            if (pos == N) {
                c = c->next;
                pos = 0;
            }
            c->slot(pos++)->~T();
        }
        w_chunk_ = pub_chunk_;
        w_pos_ = pub_pos_;
        w_count_ = pub_count_;
    }

    // ---- reader side ----

    // Moves the oldest published item into `out`; false when there is none.
    bool pop(T& out) noexcept {
        if (r_count_ == r_limit_ && !refresh()) return false;
        step_reader();
        T* s = r_chunk_->slot(r_pos_++);
        if constexpr (relocatable<T>::value) {
            out.~T();
            relocatable<T>::move(&out, s); // s is abandoned
        } else {
            out = std::move(*s);
            s->~T();
        }
        ++r_count_;
        return true;
    }
    // True when a published item is waiting.
    bool readable() noexcept { return r_count_ != r_limit_ || refresh(); }

private:
    bool refresh() noexcept {
        r_limit_ = published_.load(std::memory_order_acquire);
        return r_count_ != r_limit_;
    }
    // Moves to the next chunk when the current one is used up; only called when an item is
    // known to follow, so the writer has linked `next` before publishing it.
    void step_reader() noexcept {
        if (r_pos_ != N) return;
        chunk* done = r_chunk_;
        r_chunk_ = done->next;
        r_pos_ = 0;
        done->next = nullptr;
        delete spare_.exchange(done, std::memory_order_release);
    }

    // Writer-private.
    chunk* w_chunk_;
    std::size_t w_pos_ = 0;
    std::uint64_t w_count_ = 0;
    chunk* pub_chunk_;
    std::size_t pub_pos_ = 0;
    std::uint64_t pub_count_ = 0;
    // Shared: written by the writer, read by the reader.
    alignas(64) std::atomic<std::uint64_t> published_{0};
    // Handed from reader to writer.
    alignas(64) std::atomic<chunk*> spare_{nullptr};
    // Reader-private.
    alignas(64) chunk* r_chunk_;
    std::size_t r_pos_ = 0;
    std::uint64_t r_count_ = 0;
    std::uint64_t r_limit_ = 0;
};

} // namespace volley::detail
