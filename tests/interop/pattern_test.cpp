// SPDX-License-Identifier: MPL-2.0
// Every pattern between volley and libzmq over tcp:// and ipc://, either side
// binding, volley in each role: REQ/REP, REQ/ROUTER, DEALER/REP,
// DEALER/ROUTER, PUB/SUB and XPUB/XSUB with subscriptions and cancels, REQ's
// request ids against libzmq's REP, and a libzmq proxy between two volley
// sockets. libzmq is the reference for the envelopes: what it sends volley
// must read, and what volley sends libzmq must take.
#include "interop/zmq_peer.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace volley;
using namespace interop;

namespace {

// Publishes `probe` with `publish()` until `receive()` gets a message (the subscription has
// reached the publisher; ZeroMQ's slow joiner), within a bounded number of tries; then
// drains what else arrived. Returns false if nothing ever came.
template <class Publish, class Receive>
bool until_subscribed(Publish&& publish, Receive&& receive) {
    for (int i = 0; i < 500; ++i) {
        publish();
        if (receive(20ms)) {
            while (receive(50ms)) {
            }
            return true;
        }
    }
    return false;
}

} // namespace

TEST_CASE_TEMPLATE_DEFINE("volley REQ and libzmq REP alternate requests and replies", Setup, req_zmq_rep) {
    linked<Setup> p(socket_type::req, ZMQ_REP);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(p.v.send(multipart{"request", std::to_string(i)}).ok());
        const auto got = p.z.recv(); // libzmq's REP strips the delimiter
        REQUIRE(got.has_value());
        CHECK(*got == frames{"request", std::to_string(i)});
        REQUIRE(p.z.send(frames{"reply", std::to_string(i)}));
        const auto reply = p.v.recv_multipart();
        REQUIRE(reply.ok());
        CHECK(to_frames(*reply) == frames{"reply", std::to_string(i)});
    }
}
TEST_CASE_TEMPLATE_INSTANTIATE(req_zmq_rep, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("libzmq REQ and volley REP alternate requests and replies", Setup, zmq_req_rep) {
    linked<Setup> p(socket_type::rep, ZMQ_REQ);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(p.z.send(frames{"request", std::to_string(i)}));
        const auto got = p.v.recv_multipart();
        REQUIRE(got.ok());
        CHECK(to_frames(*got) == frames{"request", std::to_string(i)});
        REQUIRE(p.v.send(multipart{"reply", std::to_string(i)}).ok());
        const auto reply = p.z.recv();
        REQUIRE(reply.has_value());
        CHECK(*reply == frames{"reply", std::to_string(i)});
    }
}
TEST_CASE_TEMPLATE_INSTANTIATE(zmq_req_rep, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("volley REQ with request ids is answered by libzmq REP", Setup, correlate_zmq_rep) {
    linked<Setup> p(socket_type::req, ZMQ_REP, [](volley::socket& v, libzmq_socket&) {
        v.set(opt::req_correlate, true);
    });
    REQUIRE(p.v.send("with an id").ok());
    const auto got = p.z.recv();
    REQUIRE(got.has_value());
    CHECK(*got == frames{"with an id"}); // the id frame is envelope: REP keeps it for the reply
    REQUIRE(p.z.send("answered"));
    CHECK(p.v.recv().value() == "answered");
}
TEST_CASE_TEMPLATE_INSTANTIATE(correlate_zmq_rep, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("volley REQ talks to libzmq ROUTER, envelope and all", Setup, req_zmq_router) {
    linked<Setup> p(socket_type::req, ZMQ_ROUTER, [](volley::socket& v, libzmq_socket&) {
        v.set(opt::routing_id, std::string("client-1"));
    });
    REQUIRE(p.v.send("hi").ok());
    const auto got = p.z.recv();
    REQUIRE(got.has_value());
    CHECK(*got == frames{"client-1", "", "hi"}); // id, delimiter, body
    REQUIRE(p.z.send(frames{"client-1", "", "hello"}));
    CHECK(p.v.recv().value() == "hello");
}
TEST_CASE_TEMPLATE_INSTANTIATE(req_zmq_router, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("libzmq REQ talks to volley ROUTER, envelope and all", Setup, zmq_req_router) {
    linked<Setup> p(socket_type::router, ZMQ_REQ, [](volley::socket&, libzmq_socket& z) {
        z.set(ZMQ_ROUTING_ID, std::string("zreq"));
    });
    REQUIRE(p.z.send("hi"));
    const auto got = p.v.recv_multipart();
    REQUIRE(got.ok());
    CHECK(to_frames(*got) == frames{"zreq", "", "hi"});
    REQUIRE(p.v.send(multipart{"zreq", "", "hello"}).ok());
    const auto reply = p.z.recv();
    REQUIRE(reply.has_value());
    CHECK(*reply == frames{"hello"});
}
TEST_CASE_TEMPLATE_INSTANTIATE(zmq_req_router, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("DEALER and REP work both ways round with libzmq", Setup, dealer_rep) {
    SUBCASE("volley DEALER, libzmq REP") {
        linked<Setup> p(socket_type::dealer, ZMQ_REP);
        REQUIRE(p.v.send(multipart{"", "job"}).ok()); // a DEALER writes REP's delimiter itself
        const auto got = p.z.recv();
        REQUIRE(got.has_value());
        CHECK(*got == frames{"job"});
        REQUIRE(p.z.send("done"));
        const auto reply = p.v.recv_multipart();
        REQUIRE(reply.ok());
        CHECK(to_frames(*reply) == frames{"", "done"});
    }
    SUBCASE("libzmq DEALER, volley REP") {
        linked<Setup> p(socket_type::rep, ZMQ_DEALER);
        REQUIRE(p.z.send(frames{"", "job"}));
        CHECK(p.v.recv().value() == "job");
        REQUIRE(p.v.send("done").ok());
        const auto reply = p.z.recv();
        REQUIRE(reply.has_value());
        CHECK(*reply == frames{"", "done"});
    }
}
TEST_CASE_TEMPLATE_INSTANTIATE(dealer_rep, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("DEALER and ROUTER work both ways round with libzmq", Setup, dealer_router) {
    SUBCASE("volley DEALER, libzmq ROUTER") {
        linked<Setup> p(socket_type::dealer, ZMQ_ROUTER, [](volley::socket& v, libzmq_socket&) {
            v.set(opt::routing_id, std::string("worker"));
        });
        REQUIRE(p.v.send(multipart{"a", "b"}).ok());
        const auto got = p.z.recv();
        REQUIRE(got.has_value());
        CHECK(*got == frames{"worker", "a", "b"});
        REQUIRE(p.z.send(frames{"worker", "c"}));
        CHECK(p.v.recv().value() == "c");
    }
    SUBCASE("libzmq DEALER, volley ROUTER, a generated id") {
        linked<Setup> p(socket_type::router, ZMQ_DEALER);
        REQUIRE(p.z.send(frames{"a", "b"}));
        const auto got = p.v.recv_multipart();
        REQUIRE(got.ok());
        REQUIRE(got->size() == 3);
        const std::string id = (*got)[0].to_string();
        CHECK(id.size() == 5); // libzmq's form: a zero byte and a 32-bit counter
        CHECK(id[0] == '\0');
        REQUIRE(p.v.send(multipart{id, "c"}).ok());
        const auto reply = p.z.recv();
        REQUIRE(reply.has_value());
        CHECK(*reply == frames{"c"});
    }
}
TEST_CASE_TEMPLATE_INSTANTIATE(dealer_router, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("volley PUB filters for libzmq SUB, which subscribes and cancels", Setup, pub_zmq_sub) {
    linked<Setup> p(socket_type::pub, ZMQ_SUB, [](volley::socket&, libzmq_socket& z) {
        z.set(ZMQ_SUBSCRIBE, std::string("weather"));
        z.set(ZMQ_RCVTIMEO, 20);
    });
    // The probes may be dropped (nobody subscribed yet): until_subscribed judges by what arrives.
    REQUIRE(until_subscribed([&] { (void)p.v.send("weather probe"); },
                             [&](std::chrono::milliseconds) { return p.z.recv().has_value(); }));
    REQUIRE(p.v.send("sports: none of its business").ok());
    REQUIRE(p.v.send(multipart{"weather", "sunny"}).ok());
    p.z.set(ZMQ_RCVTIMEO, zmq_timeout_ms);
    const auto got = p.z.recv();
    REQUIRE(got.has_value());
    CHECK(*got == frames{"weather", "sunny"}); // the sports message never came: filtered at the PUB
    p.z.set(ZMQ_UNSUBSCRIBE, std::string("weather"));
    p.z.set(ZMQ_SUBSCRIBE, std::string("news"));
    p.z.set(ZMQ_RCVTIMEO, 20);
    REQUIRE(until_subscribed([&] { (void)p.v.send("news probe"); },
                             [&](std::chrono::milliseconds) { return p.z.recv().has_value(); }));
    REQUIRE(p.v.send("weather again").ok());
    REQUIRE(p.v.send("news flash").ok());
    p.z.set(ZMQ_RCVTIMEO, zmq_timeout_ms);
    CHECK(p.z.recv() == std::optional<frames>(frames{"news flash"}));
}
TEST_CASE_TEMPLATE_INSTANTIATE(pub_zmq_sub, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("volley SUB subscribes and cancels at a libzmq PUB", Setup, zmq_pub_sub) {
    linked<Setup> p(socket_type::sub, ZMQ_PUB, [](volley::socket& v, libzmq_socket&) {
        v.set(opt::subscribe, std::string("A"));
    });
    const auto receive = [&](std::chrono::milliseconds t) {
        p.v.set(opt::rcvtimeo, t);
        return p.v.recv().ok();
    };
    REQUIRE(until_subscribed([&] { p.z.send("A probe"); }, receive));
    REQUIRE(p.z.send("B not for us"));
    REQUIRE(p.z.send("A for us"));
    p.v.set(opt::rcvtimeo, 5000ms);
    CHECK(p.v.recv().value() == "A for us");
    p.v.set(opt::unsubscribe, std::string("A"));
    p.v.set(opt::subscribe, std::string("B"));
    REQUIRE(until_subscribed([&] { p.z.send("B probe"); }, receive));
    REQUIRE(p.z.send("A no more"));
    REQUIRE(p.z.send("B now"));
    p.v.set(opt::rcvtimeo, 5000ms);
    CHECK(p.v.recv().value() == "B now");
}
TEST_CASE_TEMPLATE_INSTANTIATE(zmq_pub_sub, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("XPUB and XSUB exchange subscription messages with libzmq both ways", Setup, xpub_xsub) {
    SUBCASE("volley XPUB, libzmq XSUB") {
        linked<Setup> p(socket_type::xpub, ZMQ_XSUB);
        REQUIRE(p.z.send(std::string("\x01topic", 6)));
        // libzmq sends it to a pipe attached after the send only once it processes commands.
        std::optional<std::string> notice;
        for (int i = 0; i < 250 && !notice; ++i) {
            p.z.process_commands();
            p.v.set(opt::rcvtimeo, 20ms);
            if (auto m = p.v.recv()) notice = m->to_string();
        }
        p.v.set(opt::rcvtimeo, 5000ms);
        CHECK(notice == std::string("\x01topic", 6));
        REQUIRE(p.v.send("topic: data").ok());
        REQUIRE(p.v.send("other").ok());
        const auto got = p.z.recv();
        REQUIRE(got.has_value());
        CHECK(*got == frames{"topic: data"});
        REQUIRE(p.z.send(std::string("\x00topic", 6)));
        CHECK(p.v.recv().value() == std::string("\x00topic", 6));
    }
    SUBCASE("libzmq XPUB, volley XSUB") {
        linked<Setup> p(socket_type::xsub, ZMQ_XPUB);
        REQUIRE(p.v.send(std::string("\x01topic", 6)).ok());
        const auto sub = p.z.recv();
        REQUIRE(sub.has_value());
        CHECK(*sub == frames{std::string("\x01topic", 6)});
        REQUIRE(p.z.send("topic: data"));
        CHECK(p.v.recv().value() == "topic: data");
        REQUIRE(p.v.send(std::string("\x00topic", 6)).ok());
        const auto cancel = p.z.recv();
        REQUIRE(cancel.has_value());
        CHECK(*cancel == frames{std::string("\x00topic", 6)});
    }
}
TEST_CASE_TEMPLATE_INSTANTIATE(xpub_xsub, tcp_volley_binds, tcp_zmq_binds, ipc_volley_binds, ipc_zmq_binds);

TEST_CASE_TEMPLATE_DEFINE("a libzmq proxy joins a volley REQ and a volley REP", Setup, zmq_proxy) {
    libzmq_context zctx;
    void* front = zmq_socket(zctx.get(), ZMQ_ROUTER);
    void* back = zmq_socket(zctx.get(), ZMQ_DEALER);
    const int zero = 0;
    zmq_setsockopt(front, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(back, ZMQ_LINGER, &zero, sizeof zero);
    const std::string front_ep = Setup::endpoint(), back_ep = Setup::endpoint();
    REQUIRE(zmq_bind(front, front_ep.c_str()) == 0);
    REQUIRE(zmq_bind(back, back_ep.c_str()) == 0);
    const auto resolved = [](void* s) {
        char buf[256];
        std::size_t len = sizeof buf;
        zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, buf, &len);
        return std::string(buf);
    };
    const std::string fe = resolved(front), be = resolved(back);
    std::thread proxy([&] { zmq_proxy(front, back, nullptr); }); // ends when the context ends
    {
        context ctx;
        auto client = bounded_socket(ctx, socket_type::req);
        auto server = bounded_socket(ctx, socket_type::rep);
        client.connect(fe);
        server.connect(be);
        for (int i = 0; i < 3; ++i) {
            REQUIRE(client.send("question " + std::to_string(i)).ok());
            CHECK(server.recv().value() == "question " + std::to_string(i));
            REQUIRE(server.send("answer " + std::to_string(i)).ok());
            CHECK(client.recv().value() == "answer " + std::to_string(i));
        }
    }
    zmq_ctx_shutdown(zctx.get());
    proxy.join();
    zmq_close(front);
    zmq_close(back);
    for (const auto& ep : {fe, be})
        if (ep.starts_with("ipc://")) ::unlink(ep.substr(6).c_str());
}
TEST_CASE_TEMPLATE_INSTANTIATE(zmq_proxy, tcp_volley_binds, ipc_volley_binds);
