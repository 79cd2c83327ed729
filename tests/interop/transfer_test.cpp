// SPDX-License-Identifier: MPL-2.0
// Messages between volley and libzmq over tcp:// and ipc://, with either side
// binding: PAIR with PAIR both ways, volley PUSH to libzmq PULL and libzmq
// PUSH to volley PULL. Each carries a 3-frame message with an empty middle
// frame, 1 MiB messages (long frames, many reads and writes) and 1000 small
// messages that must arrive in order. libzmq is the reference: what it sends,
// volley must read; what volley sends, it must accept.
#include "interop/zmq_peer.hpp"

#include <doctest/doctest.h>

using namespace volley;
using namespace interop;

namespace {

const frames three_parts{"first", "", "third, after an empty frame"};
constexpr std::size_t one_mib = std::size_t{1} << 20;
constexpr int many = 1000;

// `size` bytes that differ with `seed` and position, so a shifted or swapped body shows.
std::string payload(std::size_t size, unsigned seed) {
    std::string s(size, '\0');
    for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 12)) & 0xFF);
    return s;
}

void volley_to_zmq(socket& v, libzmq_socket& z, const frames& msg) {
    REQUIRE(v.send(to_multipart(msg)).ok());
    const auto got = z.recv();
    REQUIRE_MESSAGE(got.has_value(), "libzmq received nothing: " << zmq_error());
    REQUIRE(got->size() == msg.size());
    for (std::size_t i = 0; i < msg.size(); ++i) CHECK((*got)[i] == msg[i]); // no dump of 1 MiB on failure
}

void zmq_to_volley(libzmq_socket& z, socket& v, const frames& msg) {
    REQUIRE_MESSAGE(z.send(msg), "libzmq could not send: " << zmq_error());
    const auto got = v.recv_multipart();
    REQUIRE_MESSAGE(got.ok(), "volley received nothing: " << got.error_code().message());
    REQUIRE(got->size() == msg.size());
    for (std::size_t i = 0; i < msg.size(); ++i) CHECK((*got)[i].view() == msg[i]);
}

// The i-th of `many` small messages: two frames, so order and atomicity both show.
frames numbered(int i) { return {"n" + std::to_string(i), payload(static_cast<std::size_t>(i % 97), static_cast<unsigned>(i))}; }

void many_volley_to_zmq(socket& v, libzmq_socket& z) {
    for (int i = 0; i < many; ++i) REQUIRE(v.send(to_multipart(numbered(i))).ok());
    int wrong = 0;
    for (int i = 0; i < many; ++i) {
        const auto got = z.recv();
        REQUIRE_MESSAGE(got.has_value(), "message " << i << " of " << many << " never arrived");
        if (*got != numbered(i)) ++wrong;
    }
    CHECK(wrong == 0);
}

void many_zmq_to_volley(libzmq_socket& z, socket& v) {
    for (int i = 0; i < many; ++i) REQUIRE(z.send(numbered(i)));
    int wrong = 0;
    for (int i = 0; i < many; ++i) {
        const auto got = v.recv_multipart();
        REQUIRE_MESSAGE(got.ok(), "message " << i << " of " << many << " never arrived");
        if (to_frames(*got) != numbered(i)) ++wrong;
    }
    CHECK(wrong == 0);
}


} // namespace

TEST_CASE_TEMPLATE_DEFINE("PAIR exchanges single and multipart messages with libzmq PAIR both ways", Setup,
                          pair_multipart) {
    linked<Setup> p(socket_type::pair, ZMQ_PAIR);
    volley_to_zmq(p.v, p.z, {"hello from volley"});
    zmq_to_volley(p.z, p.v, {"hello from libzmq"});
    volley_to_zmq(p.v, p.z, three_parts);
    zmq_to_volley(p.z, p.v, three_parts);
    volley_to_zmq(p.v, p.z, {""}); // an empty message is still a message
    zmq_to_volley(p.z, p.v, {""});
}
TEST_CASE_TEMPLATE_INSTANTIATE(pair_multipart, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("PAIR exchanges 1 MiB messages with libzmq PAIR both ways", Setup, pair_large) {
    linked<Setup> p(socket_type::pair, ZMQ_PAIR);
    volley_to_zmq(p.v, p.z, {payload(one_mib, 1)});
    zmq_to_volley(p.z, p.v, {payload(one_mib, 2)});
    volley_to_zmq(p.v, p.z, {"header", payload(one_mib, 3), ""}); // long frame between short ones
    zmq_to_volley(p.z, p.v, {"header", payload(one_mib, 4), ""});
}
TEST_CASE_TEMPLATE_INSTANTIATE(pair_large, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("PAIR exchanges 1000 small messages in order with libzmq PAIR both ways", Setup,
                          pair_many) {
    linked<Setup> p(socket_type::pair, ZMQ_PAIR);
    many_volley_to_zmq(p.v, p.z);
    many_zmq_to_volley(p.z, p.v);
}
TEST_CASE_TEMPLATE_INSTANTIATE(pair_many, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("volley PUSH delivers to libzmq PULL whole and in order", Setup, push_to_zmq) {
    linked<Setup> p(socket_type::push, ZMQ_PULL);
    volley_to_zmq(p.v, p.z, three_parts);
    volley_to_zmq(p.v, p.z, {payload(one_mib, 5)});
    many_volley_to_zmq(p.v, p.z);
}
TEST_CASE_TEMPLATE_INSTANTIATE(push_to_zmq, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("volley PULL receives from libzmq PUSH whole and in order", Setup, pull_from_zmq) {
    linked<Setup> p(socket_type::pull, ZMQ_PUSH);
    zmq_to_volley(p.z, p.v, three_parts);
    zmq_to_volley(p.z, p.v, {payload(one_mib, 6)});
    many_zmq_to_volley(p.z, p.v);
}
TEST_CASE_TEMPLATE_INSTANTIATE(pull_from_zmq, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);
