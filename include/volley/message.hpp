// SPDX-License-Identifier: MPL-2.0
// volley::message, one frame of a message, and volley::multipart, a whole
// multipart message. A message is 128 bytes (two cache lines): bodies of up to
// inline_capacity bytes live inside it, larger ones in one refcounted
// allocation, and user buffers are wrapped without a copy (like
// zmq_msg_init_data). Moving a message never touches its body, so a body
// crosses threads and queues without being copied.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley {

namespace detail {
struct body;
struct body_access;
}

/// One frame: a byte body plus the `more` flag that links it to the next frame.
///
/// Three kinds of body, chosen by the constructor:
/// - inline: up to inline_capacity bytes, stored in the message itself, no allocation;
/// - shared: one allocation holding a reference count and the bytes; copying the
///   message shares it (both copies see the same bytes);
/// - zero-copy: a user buffer plus a free callback, run exactly once, from whichever
///   thread drops the last reference (it must be thread-safe), like zmq_msg_init_data.
class message {
public:
    /// Bodies up to this many bytes are stored inline (64-byte bodies, the commonest small
    /// message size, included: each pooled body is an allocation, a free on another thread and
    /// a cache line more per message).
    static constexpr std::size_t inline_capacity = 120;
    /// A message whose body is pooled or zero-copy, or inline and at most this long, lies in
    /// its first 64 bytes: moving it copies one cache line, not two.
    static constexpr std::size_t short_inline = 56;
    /// Releases a zero-copy buffer; `hint` is the value given to the constructor.
    using free_fn = void (*)(void* data, void* hint);

    /// An empty (0-byte) frame.
    message() noexcept { reset_inline(0); }
    /// A frame of `size` uninitialised bytes. Throws std::bad_alloc.
    explicit message(std::size_t size);
    /// A frame holding a copy of `size` bytes at `data`. Throws std::bad_alloc.
    message(const void* data, std::size_t size);
    /// A frame holding a copy of `text`. Throws std::bad_alloc.
    explicit message(std::string_view text) : message(text.data(), text.size()) {}
    /// A frame holding a copy of the NUL-terminated `text` (the NUL not included).
    /// Throws std::bad_alloc.
    explicit message(const char* text) : message(std::string_view(text)) {}
    /// A zero-copy frame over the caller's buffer, which volley only reads (a read-only
    /// buffer, a string literal, needs no cast; the receiver of such a frame must not write
    /// through data() either). `ffn(data, hint)` runs exactly once when the last copy of
    /// this message is destroyed; with ffn == nullptr the buffer is never released and must
    /// outlive every copy. Throws std::bad_alloc (then ffn is not called).
    message(const void* data, std::size_t size, free_fn ffn, void* hint = nullptr);

    /// Shares the body (shared and zero-copy kinds) or copies it (inline kind).
    message(const message& other) noexcept;
    /// Releases this frame's body, then shares or copies `other`'s as the copy constructor
    /// does (the flags are copied too).
    message& operator=(const message& other) noexcept;
    /// Takes the body; `other` becomes an empty frame.
    message(message&& other) noexcept {
        relocate(this, &other);
        other.reset_inline(0);
    }
    /// Releases this frame's body and takes `other`'s; `other` becomes an empty frame.
    message& operator=(message&& other) noexcept {
        if (this != &other) {
            release();
            relocate(this, &other);
            other.reset_inline(0);
        }
        return *this;
    }
    /// Copies the bytes that hold `from`'s value into `to` (no constructor, no destructor):
    /// the first 64 bytes, and the rest only for an inline body over short_inline bytes.
    /// `to` then owns the body; `from` must be abandoned or reset. For queues that move
    /// messages by their bytes.
    static void relocate(message* to, const message* from) noexcept {
        auto* d = reinterpret_cast<std::byte*>(to);
        const auto* s = reinterpret_cast<const std::byte*>(from);
        copy_line(d, s);
        if (from->kind_ == kind::inline_body && from->inline_size_ > short_inline) copy_line(d + 64, s + 64);
    }
    ~message() { release(); }
    /// Makes this an empty frame, releasing its body. (Cheaper than `m = message()`, whose
    /// temporary is read back at once through wider loads than the stores that made it.)
    void reset() noexcept {
        release();
        reset_inline(0);
    }

    /// The body's first byte, for writing. Copies of a shared body see the writes; a
    /// zero-copy body must not be written (see the zero-copy constructor).
    std::byte* data() noexcept { return kind_ == kind::inline_body ? u_.bytes : u_.ext.data; }
    /// The body's first byte.
    const std::byte* data() const noexcept { return kind_ == kind::inline_body ? u_.bytes : u_.ext.data; }
    /// The body's length in bytes.
    std::size_t size() const noexcept { return kind_ == kind::inline_body ? inline_size_ : u_.ext.size; }
    /// True for a 0-byte body.
    bool empty() const noexcept { return size() == 0; }
    /// The body as text (no copy; valid while this message lives and is not changed).
    std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data()), size()}; }
    /// A copy of the body as a std::string. Throws std::bad_alloc.
    std::string to_string() const { return std::string(view()); }

    /// True when another frame of the same message follows this one.
    bool more() const noexcept { return (flags_ & flag_more) != 0; }
    /// Sets or clears the `more` flag. socket::send() sets it from its flags, whatever it was.
    void set_more(bool more) noexcept { flags_ = more ? (flags_ | flag_more) : (flags_ & ~flag_more); }

    /// What a frame carries besides data. Subscriptions travel from SUB to PUB as frames
    /// marked subscribe / cancel whose body is the topic prefix: volley's transports turn them
    /// into ZMTP SUBSCRIBE / CANCEL commands (or the ZMTP 3.0 0x01 / 0x00 messages) and
    /// back; inproc passes them as they are. Applications meet them only through XPUB and
    /// XSUB, as the 0x01 / 0x00-prefixed messages libzmq uses.
    /// (reset: volley's own marker on a reconnect, never on the wire: subscriptions queued before
    /// it were meant for the connection that was lost; the socket's full resend follows it.)
    enum class control : std::uint8_t { none = 0, subscribe = 1, cancel = 2, reset = 3 };
    /// What this frame carries: control::none for data, as every frame an application sends
    /// or receives.
    control control_kind() const noexcept { return static_cast<control>((flags_ >> 1) & 3); }
    /// Marks this frame as carrying `c`. For volley's own use (patterns, transports).
    void set_control(control c) noexcept {
        flags_ = static_cast<std::uint8_t>((flags_ & ~std::uint8_t{6}) | (static_cast<std::uint8_t>(c) << 1));
    }

    /// True when the body is stored inside the message (no allocation).
    bool is_inline() const noexcept { return kind_ == kind::inline_body; }
    /// True when the body is shared with other messages (copies share their body).
    bool is_shared() const noexcept;
    /// True when the body is the caller's buffer (zero-copy constructor).
    bool is_zero_copy() const noexcept { return kind_ == kind::user_body; }

    /// Byte-wise comparison of the bodies (flags are ignored).
    friend bool operator==(const message& a, const message& b) noexcept { return a.view() == b.view(); }
    /// Byte-wise comparison of the body with `b` (flags are ignored).
    friend bool operator==(const message& a, std::string_view b) noexcept { return a.view() == b; }

private:
    friend struct detail::body_access;
    enum class kind : std::uint8_t { inline_body, pooled_body, user_body };
    // 64 bytes in four 16-byte moves (a plain 64-byte memcpy became `rep movs` here, whose
    // start-up cost is that of the whole copy several times over). The line may hold body
    // bytes never written (an empty message's): copying them is harmless, so GCC's warning
    // about it is silenced here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
    static void copy_line(std::byte* d, const std::byte* s) noexcept {
        for (int i = 0; i < 64; i += 16) std::memcpy(d + i, s + i, 16);
    }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    static constexpr std::uint8_t flag_more = 1;

    void reset_inline(std::size_t size) noexcept {
        kind_ = kind::inline_body;
        inline_size_ = static_cast<std::uint8_t>(size);
        flags_ = 0;
        copied_ = 0;
    }
    // copied_ says "another message may share this body". It is set on both sides of
    // every copy, through atomic_ref because copying a const message may happen on
    // several threads at once. A pooled body never copied is freed without touching
    // its reference count (which would pull its cache line from the writer's core).
    bool maybe_copied() const noexcept {
        return std::atomic_ref<std::uint8_t>(copied_).load(std::memory_order_relaxed) != 0;
    }
    void mark_copied() const noexcept {
        std::atomic_ref<std::uint8_t>(copied_).store(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        if (kind_ == kind::inline_body) return;
        if (kind_ == kind::pooled_body && !maybe_copied())
            free_unshared();
        else
            release_body();
    }
    void release_body() noexcept;
    void free_unshared() noexcept;

    // The header first, then the body: a short message lies in the first cache line.
    std::uint8_t inline_size_;
    kind kind_;
    std::uint8_t flags_;
    mutable std::uint8_t copied_;
    std::uint8_t size_class_; // of a pooled body's block
    union {
        std::byte bytes[inline_capacity];
        struct {
            detail::body* body;
            std::byte* data;
            std::size_t size;
        } ext;
    } u_;
};

static_assert(sizeof(message) == 128, "a message is two cache lines");

/// A whole multipart message: an ordered list of frames sent and received atomically
/// (all frames, or none). The `more` flags are set by send, not by the caller.
class multipart {
public:
    multipart() = default;
    /// A message of one frame per string, each a copy. Throws std::bad_alloc.
    multipart(std::initializer_list<std::string_view> frames) {
        parts_.reserve(frames.size());
        for (auto f : frames) parts_.emplace_back(f);
    }

    /// Appends frame `m` as the last one. Throws std::bad_alloc.
    void push_back(message m) { parts_.push_back(std::move(m)); }
    /// Appends a frame made from `args` (a message constructor's arguments) and returns it.
    /// Throws std::bad_alloc.
    template <class... Args>
    message& emplace_back(Args&&... args) { return parts_.emplace_back(std::forward<Args>(args)...); }

    /// The number of frames.
    std::size_t size() const noexcept { return parts_.size(); }
    /// True when there is no frame (socket::send() refuses such a message: invalid_argument).
    bool empty() const noexcept { return parts_.empty(); }
    /// Drops every frame.
    void clear() noexcept { parts_.clear(); }
    /// Frame `i`, unchecked: `i` must be less than size().
    message& operator[](std::size_t i) noexcept { return parts_[i]; }
    /// Frame `i`, unchecked: `i` must be less than size().
    const message& operator[](std::size_t i) const noexcept { return parts_[i]; }
    /// The first frame; the message must not be empty.
    message& front() noexcept { return parts_.front(); }
    /// The last frame; the message must not be empty.
    message& back() noexcept { return parts_.back(); }
    /// Iterator to the first frame.
    auto begin() noexcept { return parts_.begin(); }
    /// Iterator past the last frame.
    auto end() noexcept { return parts_.end(); }
    /// Iterator to the first frame.
    auto begin() const noexcept { return parts_.begin(); }
    /// Iterator past the last frame.
    auto end() const noexcept { return parts_.end(); }

private:
    std::vector<message> parts_;
};

} // namespace volley
