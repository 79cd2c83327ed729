// SPDX-License-Identifier: MPL-2.0
// sub_trie: subscriptions by prefix, with reference counts (libzmq's mtrie):
// PUB and XPUB keep one to find the subscribers a message matches, SUB and
// XSUB one (with a null pipe) to filter what arrives. A message matches every
// subscription that is a prefix of its first frame, so matching walks one
// path from the root. Subscribing twice takes two cancels (RFC 29); a cancel
// of a prefix that is not subscribed is ignored.
//
// A radix trie: each edge is labelled with a run of bytes, so a prefix costs
// its own length in memory, not a node per byte (a peer's 1 MiB subscription
// holds 1 MiB, not 80). Every walk is a loop, never a recursion, so no shape
// of trie a peer can build overflows the stack.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley::detail {

template <class Pipe>
class sub_trie {
public:
    // One more subscription of `p` to `prefix`. True when it is the first subscription to
    // that prefix from anybody (XPUB hands those to the application). Throws std::bad_alloc.
    bool add(std::string_view prefix, Pipe* p) {
        node* n = &root_;
        while (!prefix.empty()) {
            auto slot = n->child_slot(static_cast<unsigned char>(prefix[0]));
            if (slot == n->children.end()) { // a new branch for the rest
                n = n->add_child(std::string(prefix));
                break;
            }
            node* c = slot->get();
            const std::size_t common = common_length(c->label, prefix);
            if (common < c->label.size()) c = split(n, slot, common); // c is now the shared part
            n = c;
            prefix.remove_prefix(common);
        }
        const bool first = n->subs.empty();
        if (auto it = n->find(p); it != n->subs.end())
            ++it->second;
        else
            n->subs.emplace_back(p, 1);
        ++size_;
        return first;
    }
    // One subscription of `p` to `prefix` fewer. True when that was the last subscription to
    // the prefix from anybody; false also when `p` had none.
    bool remove(std::string_view prefix, Pipe* p) noexcept {
        node* n = exact(prefix);
        if (n == nullptr) return false;
        auto it = n->find(p);
        if (it == n->subs.end()) return false;
        --size_;
        if (--it->second != 0) return false;
        n->subs.erase(it);
        if (!n->subs.empty()) return false;
        prune(n);
        return true;
    }
    // True when `p` holds a subscription to exactly `prefix`.
    bool contains(std::string_view prefix, Pipe* p) const noexcept {
        node* n = const_cast<sub_trie*>(this)->exact(prefix);
        return n != nullptr && n->find(p) != n->subs.end();
    }
    // Drops every subscription of `p`; calls `gone(prefix)` for each prefix nobody is
    // subscribed to any more.
    template <class Gone>
    void remove_all(Pipe* p, Gone&& gone) {
        std::vector<node*> emptied;
        walk([&](node& n) {
            if (auto it = n.find(p); it != n.subs.end()) {
                size_ -= it->second;
                n.subs.erase(it);
                if (n.subs.empty()) emptied.push_back(&n);
            }
        });
        for (node* n : emptied) gone(std::string_view(prefix_of(*n)));
        for (node* n : emptied) prune(n); // after the names: pruning merges nodes
    }
    // Calls `fn(pipe)` once per subscription prefix of `data` and pipe subscribed to it (a
    // pipe subscribed to several matching prefixes is named once per prefix).
    template <class Fn>
    void match(std::string_view data, Fn&& fn) const {
        const node* n = &root_;
        for (;;) {
            for (const auto& s : n->subs) fn(s.first);
            if (data.empty()) return;
            n = n->find_child(static_cast<unsigned char>(data[0]));
            if (n == nullptr || !data.starts_with(n->label)) return;
            data.remove_prefix(n->label.size());
        }
    }
    // True when some subscription is a prefix of `data`.
    bool matches(std::string_view data) const noexcept {
        bool any = false;
        match(data, [&](Pipe*) { any = true; });
        return any;
    }
    // Calls `fn(prefix, count)` once for every prefix anybody is subscribed to, with how many
    // subscriptions it has in all (a SUB resending its subscriptions after a reconnect).
    template <class Fn>
    void for_each(Fn&& fn) const {
        const_cast<sub_trie*>(this)->walk([&](node& n) {
            std::uint64_t count = 0;
            for (const auto& s : n.subs) count += s.second;
            if (count != 0) fn(std::string_view(prefix_of(n)), count);
        });
    }
    // Subscriptions held, counted with their repeats.
    std::size_t size() const noexcept { return size_; }

private:
    struct node {
        std::string label; // the bytes on the edge from the parent
        node* parent = nullptr;
        std::vector<std::pair<Pipe*, std::uint32_t>> subs;
        std::vector<std::unique_ptr<node>> children; // labels start with distinct bytes

        auto find(Pipe* p) noexcept {
            return std::find_if(subs.begin(), subs.end(), [p](const auto& s) { return s.first == p; });
        }
        auto child_slot(unsigned char c) noexcept {
            return std::find_if(children.begin(), children.end(),
                                [c](const auto& ch) { return static_cast<unsigned char>(ch->label[0]) == c; });
        }
        const node* find_child(unsigned char c) const noexcept {
            for (const auto& ch : children) {
                if (static_cast<unsigned char>(ch->label[0]) == c) return ch.get();
            }
            return nullptr;
        }
        node* add_child(std::string label) {
            auto c = std::make_unique<node>();
            c->label = std::move(label);
            c->parent = this;
            children.push_back(std::move(c));
            return children.back().get();
        }
    };
    using slot_iterator = typename std::vector<std::unique_ptr<node>>::iterator;

    static std::size_t common_length(std::string_view a, std::string_view b) noexcept {
        const std::size_t n = std::min(a.size(), b.size());
        std::size_t i = 0;
        while (i < n && a[i] == b[i]) ++i;
        return i;
    }
    // Splits the child at `slot` of `n` after `at` bytes of its label: returns the new node
    // holding the first `at` bytes, the old child now below it.
    static node* split(node* n, slot_iterator slot, std::size_t at) {
        auto mid = std::make_unique<node>();
        mid->label = (*slot)->label.substr(0, at);
        mid->parent = n;
        mid->children.reserve(1);
        std::unique_ptr<node> old = std::move(*slot);
        old->label.erase(0, at);
        old->parent = mid.get();
        mid->children.push_back(std::move(old));
        *slot = std::move(mid);
        return slot->get();
    }
    // The node for exactly `prefix`, or nullptr.
    node* exact(std::string_view prefix) noexcept {
        node* n = &root_;
        while (!prefix.empty()) {
            auto slot = n->child_slot(static_cast<unsigned char>(prefix[0]));
            if (slot == n->children.end() || !prefix.starts_with((*slot)->label)) return nullptr;
            prefix.remove_prefix((*slot)->label.size());
            n = slot->get();
        }
        return n;
    }
    // `n` lost its last subscription: removes the nodes nothing needs any more, and merges a
    // node left with a single child into it.
    void prune(node* n) noexcept {
        while (n != &root_ && n->subs.empty()) {
            node* parent = n->parent;
            auto self = std::find_if(parent->children.begin(), parent->children.end(),
                                     [n](const auto& ch) { return ch.get() == n; });
            if (n->children.empty()) {
                parent->children.erase(self);
                n = parent;
                continue;
            }
            if (n->children.size() == 1) { // n is only a waypoint: its child takes its place
                std::unique_ptr<node> child = std::move(n->children.front());
                try {
                    child->label.insert(0, n->label);
                } catch (const std::bad_alloc&) {
                    n->children.front() = std::move(child); // keep the waypoint: still correct
                    return;
                }
                child->parent = parent;
                *self = std::move(child); // destroys n
            }
            return;
        }
    }
    // The whole prefix `n` stands for.
    static std::string prefix_of(const node& n) {
        std::vector<const node*> up;
        for (const node* at = &n; at->parent != nullptr; at = at->parent) up.push_back(at);
        std::string out;
        for (auto i = up.size(); i-- > 0;) out += up[i]->label;
        return out;
    }
    // Visits every node, without recursion.
    template <class Visit>
    void walk(Visit&& visit) {
        std::vector<node*> stack{&root_};
        while (!stack.empty()) {
            node* n = stack.back();
            stack.pop_back();
            visit(*n);
            for (auto& c : n->children) stack.push_back(c.get());
        }
    }

    node root_;
    std::size_t size_ = 0;
};

} // namespace volley::detail
