# bench_record: hot-path cost and bytes per event (writer area; never a test).
add_executable(bench_record bench_record.c ${CMAKE_SOURCE_DIR}/tests/trace_check.c)
target_include_directories(bench_record PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/tracer)
target_link_libraries(bench_record PRIVATE evtrace ZLIB::ZLIB)
