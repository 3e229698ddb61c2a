# Reader area: reader, model, stats, export (part of libevtrace).
set(EVT_READER_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/evt_reader.c
  ${CMAKE_CURRENT_LIST_DIR}/evt_idmap.c
  ${CMAKE_CURRENT_LIST_DIR}/evt_model.c
  ${CMAKE_CURRENT_LIST_DIR}/evt_runsort.c
  ${CMAKE_CURRENT_LIST_DIR}/evt_mem.c
  ${CMAKE_CURRENT_LIST_DIR}/evt_stats.c
  ${CMAKE_CURRENT_LIST_DIR}/evt_export.c)
