# The writing half of libevtrace: hot path, rings, clock, encoder, flusher,
# libev attach. Paths relative to tracer/.
set(EVT_WRITER_SOURCES
  evt_clock.c
  evt_ring.c
  evt_encode.c
  evt_strings.c
  evt_tracer.c
  evt_flush.c
  evt_consumer.c
  evt_shm.c
  evt_loop.c
  evt_wrap.c
)
