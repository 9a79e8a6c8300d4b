/* hiper/external.h — environments served by another process over JSON lines (docs/external-protocol.md).
 *
 * Contract:
 * - hp_external_open starts the command `cmd` (through /bin/sh, in its own process group, its stdin and
 *   stdout connected to hiper), checks the handshake, and returns an hp_env (hiper/env.h) whose reset and
 *   step are requests to that process. Options (JSON object; unknown keys are errors):
 *     cmd (string, required), timeout_s (number, default 30: the longest wait for one reply),
 *     start_timeout_s (number, default 120: the longest wait for the handshake of a (re)started process),
 *     max_restarts (integer, default 3: failures in a row tolerated before giving up),
 *     max_faults (integer, default 3) and fault_window (integer, default 100): more than max_faults
 *       faults among the last fault_window requests gives up too (a fault-rate cap),
 *     max_message_bytes (integer, default 1 MiB: the longest state text of one result; a reply line
 *       may be this long per result in it),
 *     max_steps (integer, default 50: step limit reported when the server does not report one),
 *     processes (integer, default 1: how many server processes hp_external_open_many starts).
 * - Not thread-safe: use the environments of one host from one thread at a time.
 * - One process (a "host") serves many environments. hp_external_attach and hp_env_clone create more
 *   hp_env handles on the same host; the host is reference-counted and stopped (close message, then
 *   SIGTERM, then SIGKILL, then reaped) when its last handle is freed. hp_env_step_batch sends one
 *   request line per host for all the environments of that host.
 * - Faults: a reply that is not valid JSON or breaks the protocol, a reply later than timeout_s, or a
 *   process that died: the process is stopped and restarted on the next request, every episode that was
 *   in progress on it is ended with done = truncated = true (the call still returns HP_OK), and the
 *   host's counters go up. After more than max_restarts failures in a row, or more than max_faults among
 *   the last fault_window requests, the call returns HP_FAIL with a message naming the limit and the
 *   last fault, and every later call on that host fails the same way.
 * - Limits: a reply line past max_message_bytes per result, a state text past max_message_bytes, and a
 *   reward or score that is not finite or beyond ±1e6 are faults naming the limit or the key. The
 *   server's stderr is inherited (hiper's own), never read or buffered.
 * - An error the server reports for one operation (unknown split, bad index) is returned as HP_FAIL and
 *   is not a fault.
 */
#ifndef HIPER_EXTERNAL_H
#define HIPER_EXTERNAL_H

#include "hiper/env.h"

#include <stdio.h>

/* The protocol version spoken by this client and by hp_external_serve. */
#define HP_EXTERNAL_PROTOCOL_VERSION 1

/* Open an external environment; options is a JSON object (see above). */
hp_env *hp_external_open(const cJSON *options, hp_err *err);

/* A new, not yet reset environment on the same process as `sibling` (an external environment). */
hp_env *hp_external_attach(const hp_env *sibling, hp_err *err);

/* Open n environments on option "processes" server processes (default 1): environment i lives on
 * process i % processes. What a trainer wants instead of n hp_env_open calls, which would start n
 * processes. On failure nothing is left open. */
int hp_external_open_many(const cJSON *options, int n, hp_env **out, hp_err *err);

/* Counters of one host (shared by every handle on it); the trainer reads its metrics' share of them
 * through the generic hp_env_get_stats (hiper/env.h). */
typedef struct hp_external_stats {
    int64_t requests;  /* request lines answered */
    int64_t faults;    /* malformed, late or missing replies, failed starts */
    int64_t restarts;  /* processes started after the first */
    int64_t truncated; /* episodes ended because of a fault */
    int64_t envs;      /* live handles on this host */
} hp_external_stats;

/* The environment name the server reported in its handshake ("alfworld"), so that an agent can use
 * that environment's prompts (hp_env_family_get reads it); NULL when env is not an external environment. */
const char *hp_external_env_name(const hp_env *env);

/* Fill *out for the host of env; false (and *out zeroed) when env is not an external environment. */
bool hp_external_get_stats(const hp_env *env, hp_external_stats *out);

/* ---- the server side: serve environments of this process over the protocol ------------------- */

/* Creates one fresh environment each time the server needs one. */
typedef hp_env *(*hp_external_factory)(void *ctx, hp_err *err);

typedef struct hp_external_serve_cfg {
    const char *env_name;       /* reported in the handshake ("alfworld") */
    hp_external_factory open;   /* makes environments */
    void *ctx;                  /* passed to open */
    const char *const *splits;  /* split names to report; NULL: every common name the env accepts */
    int n_splits;
} hp_external_serve_cfg;

/* Answer requests read from `in` on `out` until a close request or the end of `in`. Returns HP_FAIL
 * only when the environment factory or the output fails; bad requests are answered with errors. */
int hp_external_serve(const hp_external_serve_cfg *cfg, FILE *in, FILE *out, hp_err *err);

#endif /* HIPER_EXTERNAL_H */
