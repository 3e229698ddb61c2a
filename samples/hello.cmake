# hello_loop: the smallest traced libev program (writer area).
add_executable(hello_loop hello_loop.c)
target_link_libraries(hello_loop PRIVATE evtrace)
