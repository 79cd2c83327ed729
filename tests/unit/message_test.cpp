// SPDX-License-Identifier: MPL-2.0
// volley::message: inline, pooled-shared and zero-copy bodies; the free
// callback runs exactly once; moves never copy a body.
#include <volley/message.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <new>

#include <atomic>
#include <cstdlib>
#include <thread>

// Counts heap allocations made by this test binary, to check "no allocation".
namespace {
std::atomic<long> allocations{0};
}
void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using volley::message;

TEST_CASE("a size whose allocation would wrap around is refused, not under-allocated") {
    // header + size overflows size_t: a small block with a huge size would let writes run off it.
    CHECK_THROWS_AS(message(SIZE_MAX - 8), std::bad_alloc);
    CHECK_THROWS_AS(message(SIZE_MAX), std::bad_alloc);
}

TEST_CASE("bodies up to inline_capacity bytes are stored inline, without allocating") {
    static_assert(message::inline_capacity >= 32);
    const long before = allocations.load();
    message empty;
    message small(std::size_t{32});
    message edge(message::inline_capacity);
    message text("hello");
    CHECK(allocations.load() == before);
    CHECK(empty.size() == 0);
    CHECK(small.is_inline());
    CHECK(edge.is_inline());
    CHECK(edge.size() == message::inline_capacity);
    CHECK(text == "hello");
    message big(message::inline_capacity + 1);
    CHECK_FALSE(big.is_inline());
    CHECK(big.size() == message::inline_capacity + 1);
}

TEST_CASE("a 64-byte body is inline: the commonest small message allocates nothing") {
    static_assert(message::inline_capacity >= 64);
    const long before = allocations.load();
    message m(std::size_t{64});
    CHECK(m.is_inline());
    CHECK(allocations.load() == before);
}

TEST_CASE("moving keeps every byte of an inline body, short (one cache line) or long (two)") {
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, message::short_inline, message::short_inline + 1,
                                   std::size_t{64}, message::inline_capacity}) {
        CAPTURE(size);
        message a(size);
        for (std::size_t i = 0; i < size; ++i) a.data()[i] = static_cast<std::byte>(i * 7 + 1);
        a.set_more(true);
        const std::string expected(a.view());
        message b(std::move(a));
        CHECK(a.empty());
        CHECK(b.size() == size);
        CHECK(b.more());
        CHECK(b.view() == expected);
        message c("something else, long enough to need more than the first cache line of it......");
        c = std::move(b);
        CHECK(c.view() == expected);
        CHECK(c.more());
        message d; // relocate(), as the pipes move messages: bytes only, the source abandoned
        d.~message();
        message::relocate(&d, &c);
        new (&c) message(); // c gave its body away
        CHECK(d.view() == expected);
    }
}

TEST_CASE("copying a large message shares its body, and the copy sees writes through the original") {
    message a(std::size_t{1000});
    std::memset(a.data(), 'x', a.size());
    CHECK_FALSE(a.is_shared());
    {
        message b = a;
        CHECK(b.data() == a.data());
        CHECK(a.is_shared());
        CHECK(b.is_shared());
        a.data()[0] = std::byte{'y'};
        CHECK(b.view()[0] == 'y');
    }
    CHECK_FALSE(a.is_shared());
    CHECK(a.view()[0] == 'y');
}

TEST_CASE("copying an inline message copies its bytes") {
    message a("abc");
    message b = a;
    CHECK(b.data() != a.data());
    b.data()[0] = std::byte{'z'};
    CHECK(a == "abc");
    CHECK(b == "zbc");
}

TEST_CASE("moving a message moves its body and leaves the source empty") {
    message a(std::size_t{4096});
    const std::byte* body = a.data();
    message b = std::move(a);
    CHECK(b.data() == body);
    CHECK(a.size() == 0); // NOLINT(bugprone-use-after-move): documented state
    message c;
    c = std::move(b);
    CHECK(c.data() == body);
    CHECK(b.empty()); // NOLINT(bugprone-use-after-move)
}

namespace {
struct free_counter {
    std::atomic<int> calls{0};
    void* last = nullptr;
};
void count_free(void* data, void* hint) {
    auto* c = static_cast<free_counter*>(hint);
    c->last = data;
    c->calls.fetch_add(1);
}
} // namespace

TEST_CASE("a zero-copy message wraps the caller's buffer and runs the free callback exactly once") {
    free_counter fc;
    static char buffer[16] = "zero-copy";
    {
        message a(buffer, 9, &count_free, &fc);
        CHECK(a.is_zero_copy());
        CHECK(reinterpret_cast<const char*>(a.data()) == buffer);
        CHECK(a == "zero-copy");
        message b = a;               // shares
        message c = std::move(a);    // moves
        CHECK(fc.calls.load() == 0); // still referenced
        b = message();
        CHECK(fc.calls.load() == 0);
    }
    CHECK(fc.calls.load() == 1);
    CHECK(fc.last == buffer);
}

TEST_CASE("the free callback runs once when the last copy dies on another thread") {
    free_counter fc;
    static char buffer[64];
    message a(buffer, sizeof buffer, &count_free, &fc);
    std::thread t([copy = a]() mutable { copy = message(); });
    t.join();
    CHECK(fc.calls.load() == 0);
    a = message();
    CHECK(fc.calls.load() == 1);
}

TEST_CASE("reset() empties a message of any kind where it lies, releasing its body once") {
    free_counter fc;
    static char buffer[32] = "zero-copy, reset";
    message z(buffer, 16, &count_free, &fc);
    z.set_more(true);
    z.reset();
    CHECK(fc.calls.load() == 1);
    CHECK(z.empty());
    CHECK(z.is_inline());
    CHECK_FALSE(z.more());
    z.reset(); // an empty message: nothing more to release
    CHECK(fc.calls.load() == 1);

    message pooled(std::string(4096, 'p'));
    message shared = pooled;
    pooled.reset();
    CHECK(pooled.empty());
    CHECK(shared == std::string(4096, 'p')); // the copy keeps the body
    message small("inline");
    small.reset();
    CHECK(small.empty());
    small = message("reused"); // a reset message is an ordinary empty one
    CHECK(small == "reused");
}

TEST_CASE("a zero-copy message with no free callback never releases the buffer") {
    static char buffer[8] = "static";
    { message a(buffer, 6, nullptr); CHECK(a == "static"); }
    CHECK(buffer[0] == 's');
}

TEST_CASE("the more flag is per frame and survives copy and move") {
    message a("x");
    CHECK_FALSE(a.more());
    a.set_more(true);
    message b = a;
    CHECK(b.more());
    message c = std::move(b);
    CHECK(c.more());
    c.set_more(false);
    CHECK_FALSE(c.more());
}

TEST_CASE("multipart holds frames in order") {
    volley::multipart mp{"a", "bb", "ccc"};
    REQUIRE(mp.size() == 3);
    CHECK(mp[0] == "a");
    CHECK(mp[2] == "ccc");
    mp.push_back(message(std::size_t{100}));
    CHECK(mp.back().size() == 100);
}

TEST_CASE("pooled bodies are reused rather than reallocated") {
    // Warm the pool for this size, then check a steady make/drop cycle allocates nothing.
    for (int i = 0; i < 256; ++i) message m(std::size_t{200});
    const long before = allocations.load();
    for (int i = 0; i < 10'000; ++i) {
        message m(std::size_t{200});
        m.data()[0] = std::byte{1};
    }
    CHECK(allocations.load() == before);
}

TEST_CASE("a zero-copy message over a read-only buffer needs no cast, and its free function runs once") {
    static const char text[] = "read-only text";
    static int freed = 0;
    freed = 0;
    {
        volley::message m(text, sizeof text - 1, [](void* data, void* hint) {
            CHECK(data == static_cast<const void*>(text));
            CHECK(hint == nullptr);
            ++freed;
        });
        CHECK(m.view() == "read-only text");
        CHECK(static_cast<const void*>(m.data()) == static_cast<const void*>(text)); // not copied
        volley::message copy(m);
        CHECK(freed == 0);
    }
    CHECK(freed == 1);
}
