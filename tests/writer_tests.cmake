# Tests of the writing half of libevtrace (writer area). trace_check.c is an
# independent decoder built from evt_format.h alone.
add_library(evt_trace_check STATIC trace_check.c)
target_include_directories(evt_trace_check PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tracer)
target_link_libraries(evt_trace_check PUBLIC ZLIB::ZLIB)

evt_add_test(test_encode test_encode.c LIBS evt_trace_check)
evt_add_test(test_ring test_ring.c LIBS evt_trace_check)
evt_add_test(test_clock test_clock.c)
evt_add_test(test_tracer test_tracer.c LIBS evt_trace_check)
evt_add_test(test_loop test_loop.c LIBS evt_trace_check)
evt_add_test(test_threads test_threads.c LIBS evt_trace_check)
evt_add_test(test_kill test_kill.c LIBS evt_trace_check)
evt_add_test(test_consumer test_consumer.c LIBS evt_trace_check)
evt_add_test(test_flush test_flush.c LIBS evt_trace_check)
