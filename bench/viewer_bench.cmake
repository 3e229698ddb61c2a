# bench_viewer: load speed (model + LOD), frame times over a scripted
# zoom-and-pan, PNG export time (viewer area; never a test).
if(TARGET evview_core)
  add_executable(bench_viewer bench_viewer.c ${CMAKE_SOURCE_DIR}/tests/trace_gen.c)
  target_include_directories(bench_viewer PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(bench_viewer PRIVATE evview_core ZLIB::ZLIB)
endif()
