# Reader area tests: reader, model, stats, export, the evtrace CLI.
set(EVT_TG ${CMAKE_CURRENT_SOURCE_DIR}/trace_gen.c)
evt_add_test(test_reader test_reader.c ${EVT_TG} LIBS ZLIB::ZLIB TIMEOUT 300)
evt_add_test(test_model test_model.c ${EVT_TG} LIBS ZLIB::ZLIB)
evt_add_test(test_stats test_stats.c ${EVT_TG} LIBS ZLIB::ZLIB PkgConfig::JANSSON)
evt_add_test(test_export test_export.c ${EVT_TG} LIBS ZLIB::ZLIB PkgConfig::JANSSON)
evt_add_test(test_cli test_cli.c ${EVT_TG} LIBS ZLIB::ZLIB PkgConfig::JANSSON)
add_dependencies(test_cli evtrace_cli)
# The real writer into memory, read back (needs the writer area's sources).
evt_add_test(test_roundtrip test_roundtrip.c LIBS PkgConfig::JANSSON)
# Fuzzing: every saved input and a fixed sweep of mutations, in every
# build; with -DEVT_FUZZ=ON (clang) also the libFuzzer target fuzz_trace
# (docs/READER.md, "Fuzzing").
evt_add_test(test_fuzz_replay test_fuzz_replay.c fuzz_trace.c ${EVT_TG}
             LIBS ZLIB::ZLIB PkgConfig::JANSSON TIMEOUT 600)
if(EVT_FUZZ)
  add_executable(fuzz_trace fuzz_trace.c ${EVT_TG})
  target_compile_definitions(fuzz_trace PRIVATE EVT_FUZZ_MAIN=evt_fuzz_trace)
  target_link_libraries(fuzz_trace PRIVATE evtrace ZLIB::ZLIB PkgConfig::JANSSON)
  target_link_options(fuzz_trace PRIVATE -fsanitize=fuzzer)
endif()
