# bench_preload: plain_server's throughput and instruction count under
# `evtrace record` vs untraced (preload area; never a test).
add_executable(bench_preload bench_preload.c)
target_compile_definitions(bench_preload PRIVATE
  EVTRACE_BIN="$<TARGET_FILE:evtrace_cli>"
  PLAIN_SERVER="$<TARGET_FILE:plain_server>"
  PRELOAD_LIB="$<TARGET_FILE:evtrace_preload>")
add_dependencies(bench_preload evtrace_cli evtrace_preload plain_server)
