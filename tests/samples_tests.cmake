# Integration tests of the sample programs (samples area): they run the real
# binaries from ${CMAKE_BINARY_DIR}/samples as child processes.
set(EVT_SAMPLE_BINARIES async_server sync_server crud_api loadgen hello_loop)
foreach(t async sync crud fuzz hello)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/test_samples_${t}.c)
    evt_add_test(test_samples_${t} test_samples_${t}.c test_samples_util.c
                 LIBS evt_http_parser PkgConfig::JANSSON TIMEOUT 240)
    target_compile_definitions(test_samples_${t} PRIVATE _GNU_SOURCE)
    add_dependencies(test_samples_${t} ${EVT_SAMPLE_BINARIES})
  endif()
endforeach()

# Every program's command line, mutated (evtrace, evview --png, the
# samples): documented statuses only, one line with status 2.
evt_add_test(test_args_fuzz test_args_fuzz.c test_samples_util.c
             LIBS evt_http_parser PkgConfig::JANSSON TIMEOUT 600)
target_compile_definitions(test_args_fuzz PRIVATE _GNU_SOURCE)
add_dependencies(test_args_fuzz ${EVT_SAMPLE_BINARIES} evtrace_cli)
if(TARGET evview)
  add_dependencies(test_args_fuzz evview)
endif()
