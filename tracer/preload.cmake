# The LD_PRELOAD shim and `evtrace record` (preload area).
#
# libevtrace_preload.so contains the whole writer, not a dependency on
# libevtrace.so: a preloaded library's own dependencies come after the
# program's libev in symbol lookup order, so the writer's interposed libev
# functions (evt_loop.c) must live in the preloaded object itself. It does
# not link libev either: a program that never loads libev must stay without
# it (record reports that), and the ev_* functions the writer calls resolve
# to the program's libev at run time. A version script exports only the
# hooks (ev_*, accept, accept4, close), so the shim's copy of the evt_*
# functions never collides with anything in the program.
#
# It is built next to the evtrace binary (both in this directory's binary
# dir): `evtrace record` looks for it there, then at the install path.
include(GNUInstallDirs)
set(EVT_PRELOAD_INSTALL_DIR ${CMAKE_INSTALL_FULL_LIBDIR}/evtrace)

add_library(evtrace_preload SHARED
  ${EVT_WRITER_SOURCES} evt_error.c
  evt_preload.c evt_preload_hooks.c evt_preload_conn.c)
target_include_directories(evtrace_preload PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
  $<TARGET_PROPERTY:evt_libev,INTERFACE_INCLUDE_DIRECTORIES>)
target_link_libraries(evtrace_preload PRIVATE Threads::Threads PkgConfig::LIBDEFLATE ${CMAKE_DL_LIBS})
target_link_options(evtrace_preload PRIVATE
  -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/evt_preload.map)
set_target_properties(evtrace_preload PROPERTIES
  LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/evt_preload.map)
if(EVT_SANITIZE)
  # An ASan runtime must come first in a process; a preloaded library cannot
  # bring one into a program built without it. The shim stays uninstrumented.
  target_compile_options(evtrace_preload PRIVATE -fno-sanitize=all)
  target_link_options(evtrace_preload PRIVATE -fno-sanitize=all)
endif()
install(TARGETS evtrace_preload LIBRARY DESTINATION ${EVT_PRELOAD_INSTALL_DIR})

# evt_record.c is compiled into the evtrace CLI (reader_targets.cmake).
set_source_files_properties(evt_record.c PROPERTIES COMPILE_DEFINITIONS
  "EVT_PRELOAD_INSTALL_PATH=\"${EVT_PRELOAD_INSTALL_DIR}/libevtrace_preload.so\"")
if(TARGET evtrace_cli)
  add_dependencies(evtrace_cli evtrace_preload)
endif()
