/* evt_record.h -- `evtrace record`: trace an unmodified libev program.
 *
 *   evtrace record [-o FILE] [--stall-ms N] [--follow-exec] [--follow-fork] -- PROGRAM [ARGS]
 *
 * Runs PROGRAM with LD_PRELOAD set to the preload library (evt_preload.c),
 * which hooks libev's exported functions and writes the trace. Only
 * PROGRAM's own environment gets LD_PRELOAD (set between fork and execvp),
 * and the library takes itself out of LD_PRELOAD again in its constructor,
 * so the program's own exec'd children are not traced (--follow-exec keeps
 * it; each traced process then writes NAME.PID.evtrace). A child forked
 * after the trace opened is traced only with --follow-fork (it then writes
 * NAME.PID.evtrace; evt_preload.c says how, and what it misses).
 *
 * The library is looked up, in order: $EVTRACE_PRELOAD; next to the evtrace
 * binary (the build tree); EVT_PRELOAD_INSTALL_PATH (the install path).
 *
 * The preload reports what happened on a socket (fd in $EVTRACE_STATUS_FD;
 * a socket so that it can send with MSG_NOSIGNAL: a daemon's child that
 * reports after record has gone must not die of SIGPIPE), one line per
 * fact: "loaded", "libev", "trace PID PATH", "consumer CPID PID",
 * "untraced-fork PID", "builtin PATH" (libev compiled into PATH),
 * "error MESSAGE".
 * After the program exits, record says plainly when the library did not
 * load or the program never created a libev loop, instead of leaving an
 * empty trace behind, and otherwise prints the trace's path and a short
 * summary (events, callbacks, connections, stalls >= --stall-ms, default
 * 100) on stderr -- stdout belongs to the program. A program that died of
 * a signal gets a line saying which, first; children it forked after its
 * trace opened that ran libev (untraced unless --follow-fork) and
 * processes it left running (a daemon, which traces itself into
 * NAME.PID.evtrace once it makes a loop) get a line each. A program that
 * made no loop itself but whose forked children did (a pre-fork master
 * such as gunicorn's arbiter) gets their files named and the first summed
 * up. record waits for the consumer processes (evt_consumer.c) of the
 * program and of the traced children that ended before it, so those traces
 * are complete when it reports; traced children still running get up to
 * 2 s to end (a pre-fork server's workers stop just after their master),
 * and anything still running after that is not waited for.
 *
 * Exit status: the program's; 128 + signal when a signal killed it; 127
 * when PROGRAM cannot be found (126 when it cannot be executed), as a shell
 * does; 2 for a bad argument (one line on stderr); 1 when record itself
 * cannot run (no preload library, no pipe).
 */
#ifndef EVT_RECORD_H
#define EVT_RECORD_H

/* Environment variables shared by `record` and the preload library. */
#define EVT_ENV_PRELOAD "EVTRACE_PRELOAD"         /* path of the library (override) */
#define EVT_ENV_OUTPUT "EVTRACE_OUTPUT"           /* trace path for process EVTRACE_PID */
#define EVT_ENV_PID "EVTRACE_PID"                 /* pid the output path belongs to */
#define EVT_ENV_DIR "EVTRACE_DIR"                 /* directory for NAME.PID.evtrace */
#define EVT_ENV_STATUS_FD "EVTRACE_STATUS_FD"     /* pipe for status lines */
#define EVT_ENV_FOLLOW_EXEC "EVTRACE_FOLLOW_EXEC" /* "1": stay in LD_PRELOAD */
#define EVT_ENV_FOLLOW_FORK "EVTRACE_FOLLOW_FORK" /* "1": forked children trace too */

#define EVT_PRELOAD_NAME "libevtrace_preload.so"

/* The prefix every copy of libev puts on its fatal messages: a loaded
 * object or mapped file holding it, other than libev.so.*, has libev
 * compiled in. The preload looks for it at exit, record while the program
 * runs. */
#define EVT_LIBEV_MARK "(libev) "

/* argv[0] is the subcommand's name ("record"); options follow. Returns the
 * process exit status described above. --help (or -h) before the program
 * prints evt__record_usage and returns 0. */
int evt__record_main(int argc, char **argv);

/* What `evtrace record --help` prints. */
extern const char evt__record_usage[];

#endif /* EVT_RECORD_H */
