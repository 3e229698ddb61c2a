# The evtrace CLI: stats, export, record (record lives in the preload area).
add_executable(evtrace_cli evtrace_main.c evt_record.c)
set_target_properties(evtrace_cli PROPERTIES OUTPUT_NAME evtrace)
target_link_libraries(evtrace_cli PRIVATE evtrace PkgConfig::JANSSON)

# bench_load: reader+model load speed on a synthetic trace (never a test).
# Built here because bench/CMakeLists.txt has no reader_bench.cmake hook.
add_executable(bench_load ${CMAKE_SOURCE_DIR}/bench/bench_load.c ${CMAKE_SOURCE_DIR}/tests/trace_gen.c)
target_include_directories(bench_load PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(bench_load PRIVATE evtrace ZLIB::ZLIB)
set_target_properties(bench_load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
