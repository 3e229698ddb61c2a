# Tests of the LD_PRELOAD shim and `evtrace record` (preload area).
#
# plain_server and trap_probe are ordinary libev programs: they link libev
# and nothing of evtrace, and are built without sanitizers even in an
# EVT_SANITIZE build (an ASan program would refuse the uninstrumented
# preload library, see tracer/preload.cmake).
foreach(prog plain_server trap_probe daemon_probe)
  add_executable(${prog} ${prog}.c)
  target_link_libraries(${prog} PRIVATE evt_libev Threads::Threads)
  if(EVT_SANITIZE)
    target_compile_options(${prog} PRIVATE -fno-sanitize=all)
    target_link_options(${prog} PRIVATE -fno-sanitize=all)
  endif()
endforeach()
# -rdynamic: the shim names watchers after exported callbacks (dladdr);
# the probe's ev_once callback is one, and test_record looks for its name.
set_target_properties(trap_probe PROPERTIES ENABLE_EXPORTS ON)

# A static build of the probe: LD_PRELOAD cannot reach it, and record must
# say so. Needs Debian's libev.a (libev-dev) and libc.a (libc6-dev).
find_library(EVT_LIBEV_STATIC NAMES libev.a)
if(EVT_LIBEV_STATIC)
  add_executable(trap_probe_static trap_probe.c)
  target_include_directories(trap_probe_static PRIVATE $<TARGET_PROPERTY:evt_libev,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(trap_probe_static PRIVATE ${EVT_LIBEV_STATIC} m Threads::Threads)
  target_compile_options(trap_probe_static PRIVATE -fno-sanitize=all)
  target_link_options(trap_probe_static PRIVATE -static -fno-sanitize=all)
  # And one with libev compiled in but libc shared, as Perl's EV has it:
  # the preload loads, libev.so.4 never does, and record must name the
  # object that has libev inside.
  # plain_server the same way: a server that dies by a signal, which runs
  # no destructor; record must find the libev inside while it runs.
  foreach(prog trap_probe plain_server)
    add_executable(${prog}_embedded ${prog}.c)
    target_include_directories(${prog}_embedded PRIVATE $<TARGET_PROPERTY:evt_libev,INTERFACE_INCLUDE_DIRECTORIES>)
    target_link_libraries(${prog}_embedded PRIVATE ${EVT_LIBEV_STATIC} m Threads::Threads)
    target_compile_options(${prog}_embedded PRIVATE -fno-sanitize=all)
    target_link_options(${prog}_embedded PRIVATE -fno-sanitize=all)
  endforeach()
endif()

# A host that links no libev and dlopens (RTLD_LOCAL) a plugin that does:
# libev arrives after start-up and outside the global scope, as it does
# for Python's gevent.
add_library(dl_loop MODULE dl_loop.c)
target_link_libraries(dl_loop PRIVATE evt_libev)
add_executable(dl_host dl_host.c)
target_link_libraries(dl_host PRIVATE ${CMAKE_DL_LIBS})
if(EVT_SANITIZE)
  foreach(t dl_loop dl_host)
    target_compile_options(${t} PRIVATE -fno-sanitize=all)
    target_link_options(${t} PRIVATE -fno-sanitize=all)
  endforeach()
endif()

evt_add_test(test_record test_record.c TIMEOUT 180)
target_compile_definitions(test_record PRIVATE
  EVTRACE_BIN="$<TARGET_FILE:evtrace_cli>"
  PLAIN_SERVER="$<TARGET_FILE:plain_server>"
  TRAP_PROBE="$<TARGET_FILE:trap_probe>"
  DL_HOST="$<TARGET_FILE:dl_host>"
  DL_LOOP="$<TARGET_FILE:dl_loop>"
  DAEMON_PROBE="$<TARGET_FILE:daemon_probe>"
  GEVENT_SERVER="${PROJECT_SOURCE_DIR}/samples/gevent_server.py")
add_dependencies(test_record evtrace_cli evtrace_preload plain_server trap_probe daemon_probe dl_host dl_loop)
if(EVT_LIBEV_STATIC)
  target_compile_definitions(test_record PRIVATE TRAP_PROBE_STATIC="$<TARGET_FILE:trap_probe_static>"
    TRAP_PROBE_EMBEDDED="$<TARGET_FILE:trap_probe_embedded>"
    PLAIN_SERVER_EMBEDDED="$<TARGET_FILE:plain_server_embedded>")
  add_dependencies(test_record trap_probe_static trap_probe_embedded plain_server_embedded)
endif()
