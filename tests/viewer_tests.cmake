# Viewer tests (evview): viewport and axis math, lane packing, PNG export
# checked pixel by pixel, and the real window under Xvfb.
if(TARGET evview_core)
  evt_add_test(test_viewport test_viewport.c LIBS evview_core)
  evt_add_test(test_axis test_axis.c LIBS evview_core)
  evt_add_test(test_layout test_layout.c LIBS evview_core)
  evt_add_test(test_lod test_lod.c LIBS evview_core)
  evt_add_test(test_render_png test_render_png.c png_diff.c trace_gen.c LIBS evview_core ZLIB::ZLIB TIMEOUT 180)
  add_dependencies(test_render_png evview)
  evt_add_test(test_viewport_activity test_viewport_activity.c png_diff.c trace_gen.c LIBS evview_core ZLIB::ZLIB)
  add_dependencies(test_viewport_activity evview)

  # The window test needs a display: it always runs under its own Xvfb
  # (xvfb-run -a picks a free display number), never on the user's screen.
  add_executable(test_window test_window.c)
  target_link_libraries(test_window PRIVATE evview_core PkgConfig::CMOCKA)
  add_test(NAME test_window
           COMMAND xvfb-run -a -s "-screen 0 1600x1000x24" $<TARGET_FILE:test_window>)
  # SDL's video init loads D-Bus and X11 libraries that keep allocations
  # until exit; the suppressions name only those libraries.
  set_tests_properties(test_window PROPERTIES TIMEOUT 180
    ENVIRONMENT "EVT_BUILD_DIR=${CMAKE_BINARY_DIR};EVT_SOURCE_DIR=${CMAKE_SOURCE_DIR};LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/viewer_lsan.supp")
endif()

# The viewer's fuzz target: saved inputs and a sweep of mutations drawn
# (tests/fuzz_view.c); with -DEVT_FUZZ=ON also the libFuzzer target.
if(TARGET evview_core)
  evt_add_test(test_fuzz_view test_fuzz_replay.c fuzz_view.c fuzz_trace.c trace_gen.c
               LIBS evview_core ZLIB::ZLIB PkgConfig::JANSSON TIMEOUT 600)
  target_compile_definitions(test_fuzz_view PRIVATE FUZZ_ONE=evt_fuzz_view SWEEP_POSITIONS=100)
  if(EVT_FUZZ)
    add_executable(fuzz_view fuzz_view.c fuzz_trace.c trace_gen.c)
    target_compile_definitions(fuzz_view PRIVATE EVT_FUZZ_MAIN=evt_fuzz_view)
    target_link_libraries(fuzz_view PRIVATE evview_core ZLIB::ZLIB PkgConfig::JANSSON)
    target_link_options(fuzz_view PRIVATE -fsanitize=fuzzer)
  endif()
endif()
