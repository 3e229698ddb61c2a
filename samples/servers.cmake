# The sample servers, the load generator and the demo's table (samples area).
# They use the public evtrace.h only, as any user program would.

# Shared plumbing: options, listening socket, HTTP/1.1 on http_parser.
add_library(evs_http STATIC common.c http.c)
target_include_directories(evs_http PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(evs_http PUBLIC _GNU_SOURCE)   # accept4, program_invocation_short_name
target_link_libraries(evs_http PUBLIC evtrace evt_libev evt_http_parser PkgConfig::JANSSON)

# sync_server and async_server differ only in how they wait (page_server.c is the rest).
add_executable(sync_server sync_server.c page_server.c)
target_link_libraries(sync_server PRIVATE evs_http)
add_executable(async_server async_server.c page_server.c)
target_link_libraries(async_server PRIVATE evs_http)

add_executable(crud_api crud_api.c crud_db.c)
target_link_libraries(crud_api PRIVATE evs_http PkgConfig::SQLITE3 Threads::Threads)

add_executable(loadgen loadgen.c loadgen_crud.c)
target_link_libraries(loadgen PRIVATE evs_http m)

# Reads loadgen --json and `evtrace stats --json` outputs; prints the demo's table.
add_executable(demo_table demo_table.c)
target_link_libraries(demo_table PRIVATE PkgConfig::JANSSON)

# The servers look for index.html next to their binary (--index overrides).
configure_file(index.html ${CMAKE_CURRENT_BINARY_DIR}/index.html COPYONLY)
