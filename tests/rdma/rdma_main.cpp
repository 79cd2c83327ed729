// SPDX-License-Identifier: MPL-2.0
// The doctest main of the rdma binaries: where no RDMA device can carry
// rdma_cm connections, they skip (exit 77, ctest's SKIP_RETURN_CODE) and say
// why, rather than fail or pass without running. run-in-vm.sh runs them on
// Soft-RoCE.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <volley/volley.hpp>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

// `<binary> --volley-rdma-sender <endpoint>`: a PUSH that sends until it is killed, for the
// fault tests (a process of its own: verbs resources do not survive fork()).
int run_sender(const char* endpoint) {
    volley::context ctx;
    volley::socket push(ctx, volley::socket_type::push);
    push.connect(endpoint);
    for (long i = 0;; ++i) (void)push.send(std::string(100 + static_cast<std::size_t>(i % 20000), 'k'));
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--volley-rdma-sender") == 0) return run_sender(argv[2]);
    int devices = 0;
    if (ibv_device** list = ibv_get_device_list(&devices); list != nullptr) ibv_free_device_list(list);
    rdma_event_channel* cm = devices > 0 ? rdma_create_event_channel() : nullptr;
    if (cm == nullptr) {
        std::printf("SKIPPED: %s; the rdma tests run inside the Soft-RoCE VM (ctest -L rdma, tests/rdma/run-in-vm.sh)\n",
                    devices == 0 ? "no RDMA device here" : "no rdma_cm here");
        return 77;
    }
    rdma_destroy_event_channel(cm);
    doctest::Context ctx(argc, argv);
    return ctx.run();
}
