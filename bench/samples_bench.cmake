# Samples area benchmark: bench/bench_server.sh (run by bench/run with the
# build dir as its argument) compares async_server's throughput traced and
# untraced. It needs only the sample binaries, built by samples/servers.cmake.
