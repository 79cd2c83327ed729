// SPDX-License-Identifier: MPL-2.0
// router_map: ROUTER's table from routing ids to pipes. A peer is known by
// the id it announced (ZMTP READY's Identity, an inproc peer's routing_id),
// by one the application chose for a connect (connect_routing_id), or by an
// id generated here in libzmq's 5-byte form: a zero byte, then a 32-bit
// counter starting at a random value (ids starting with 0 are reserved for
// this, RFC 37). Lookup is by string_view, without a copy.
//
// Pipe needs: a std::string routing_id member (set here).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

namespace volley::detail {

template <class Pipe>
class router_map {
public:
    router_map() : next_(static_cast<std::uint32_t>(std::random_device{}())) {}

    // Adds `p` under `id` (empty: a generated one), stored in p.routing_id. When `id` is
    // taken: with `handover` the newcomer takes it and the former pipe is returned in
    // `displaced` (the caller closes it); without, nothing changes and false is returned.
    bool add(Pipe& p, std::string_view id, bool handover, Pipe*& displaced) {
        displaced = nullptr;
        std::string key = id.empty() ? generate() : std::string(id);
        auto it = by_id_.find(key);
        if (it != by_id_.end()) {
            if (!handover) return false;
            displaced = it->second;
            displaced->routing_id.clear();
            it->second = &p;
        } else {
            by_id_.emplace(key, &p);
        }
        p.routing_id = std::move(key);
        return true;
    }
    // Forgets `p` (when it goes).
    void remove(Pipe& p) noexcept {
        if (p.routing_id.empty()) return;
        auto it = by_id_.find(p.routing_id);
        if (it != by_id_.end() && it->second == &p) by_id_.erase(it);
    }
    // The pipe known as `id`, or nullptr.
    Pipe* find(std::string_view id) const noexcept {
        auto it = by_id_.find(id);
        return it == by_id_.end() ? nullptr : it->second;
    }
    std::size_t size() const noexcept { return by_id_.size(); }

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };

    std::string generate() {
        for (;;) {
            const std::uint32_t n = next_++;
            std::string id(5, '\0');
            for (int i = 0; i < 4; ++i) id[1 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xFF);
            if (by_id_.find(id) == by_id_.end()) return id; // a wrapped counter may meet a live id
        }
    }

    std::unordered_map<std::string, Pipe*, hash, std::equal_to<>> by_id_;
    std::uint32_t next_;
};

} // namespace volley::detail
