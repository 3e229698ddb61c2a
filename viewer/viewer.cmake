# evview: the SDL2 timeline viewer.
# evview_core is everything but main(), so tests and the benchmark link the
# same code the program runs.
add_library(evview_core STATIC
  evv_viewport.c evv_activity.c evv_axis.c evv_layout.c evv_lod.c evv_style.c evv_scene.c
  evv_geom.c evv_text.c evv_render.c evv_lanes.c evv_counters.c evv_panel.c evv_input.c
  evv_export.c evv_app.c evv_cli.c evv_synth.c)
target_include_directories(evview_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(evview_core PUBLIC evtrace PkgConfig::SDL2 PkgConfig::SDL2_TTF
                      PkgConfig::SDL2_IMAGE PkgConfig::FONTCONFIG m)

add_executable(evview evview.c)
target_link_libraries(evview PRIVATE evview_core)

# Developer tool: renders the canned synthetic scenes to PNG.
add_executable(evv_demo evv_demo.c)
target_link_libraries(evv_demo PRIVATE evview_core)
