// SPDX-License-Identifier: MPL-2.0
// Weather updates (PUB/SUB): a publisher sends "zipcode temperature
// humidity" for random zip codes; a subscriber subscribes to one zip code
// (a prefix of the message: "10001 ", the space keeps 100010 out) and
// averages the temperature of the updates it gets. The publisher filters,
// so updates for other zip codes never reach the subscriber. A subscriber
// joining late misses what was published before its subscription arrived
// (PUB/SUB is a broadcast, not a queue): this one waits until the first
// update comes.
//
//   weather                           both, in one process (ipc, a fresh path)
//   weather publisher <endpoint>      just the publisher, e.g. tcp://*:5556
//   weather subscriber <endpoint>     just the subscriber, e.g. tcp://localhost:5556
#include <volley/volley.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>

namespace {

constexpr int updates_wanted = 50;
const std::string zipcode = "10001";

void publish(volley::socket& pub, const std::atomic<bool>& stop) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> zip(10000, 10009), temp(-30, 40), humidity(10, 60);
    while (!stop.load()) {
        const std::string update =
            std::to_string(zip(rng)) + " " + std::to_string(temp(rng)) + " " + std::to_string(humidity(rng));
        // Never blocks: a subscriber that cannot keep up loses updates. It fails only once
        // the socket is closed or the context shut down.
        if (!pub.send(update)) return;
        std::this_thread::sleep_for(std::chrono::microseconds(50)); // weather changes slowly
    }
}

int subscribe(volley::socket& sub) {
    sub.set(volley::opt::subscribe, zipcode + " ");
    sub.set(volley::opt::rcvtimeo, std::chrono::milliseconds(5000));
    long total = 0;
    for (int i = 0; i < updates_wanted; ++i) {
        auto update = sub.recv();
        if (!update) {
            std::printf("subscriber: %s\n", update.error_code().message().c_str());
            return 1;
        }
        const std::string text = update->to_string();
        if (text.compare(0, zipcode.size() + 1, zipcode + " ") != 0) {
            std::printf("subscriber: got an update for another zip code: %s\n", text.c_str());
            return 1;
        }
        total += std::stol(text.substr(zipcode.size() + 1));
    }
    std::printf("average temperature for zip code %s was %ld C over %d updates\n", zipcode.c_str(),
                total / updates_wanted, updates_wanted);
    return 0;
}

} // namespace

int main(int argc, char* argv[]) {
    volley::context ctx;
    std::atomic<bool> stop{false};
    if (argc == 3 && std::strcmp(argv[1], "publisher") == 0) {
        volley::socket pub(ctx, volley::socket_type::pub);
        pub.bind(argv[2]);
        publish(pub, stop);
        return 0;
    }
    if (argc == 3 && std::strcmp(argv[1], "subscriber") == 0) {
        volley::socket sub(ctx, volley::socket_type::sub);
        sub.connect(argv[2]);
        return subscribe(sub);
    }
    if (argc != 1) {
        std::printf("usage: weather [publisher <endpoint> | subscriber <endpoint>]\n");
        return 2;
    }
    volley::socket pub(ctx, volley::socket_type::pub);
    pub.bind("ipc://*"); // a fresh socket file, removed when the socket closes
    volley::socket sub(ctx, volley::socket_type::sub);
    sub.connect(pub.last_endpoint());
    std::thread publisher([&] { publish(pub, stop); });
    const int rc = subscribe(sub);
    stop = true;
    publisher.join();
    return rc;
}
