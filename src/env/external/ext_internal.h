/* ext_internal.h — pieces shared by the files of the external environment (not a public API).
 *
 * proc.c   one child process: spawn through /bin/sh in its own process group, a socket pair as its
 *          stdin and stdout, line I/O with deadlines (poll), and stop (SIGTERM, SIGKILL, reap).
 * proto.c  the JSON shapes of the protocol shared by the client and the server (views, seeds).
 * host.c   the client-side shared process: handshake, requests, faults, restarts, counters.
 * external.c  the hp_env handles on a host.
 * serve.c  the server loop (hp_external_serve).
 */
#ifndef HP_EXT_INTERNAL_H
#define HP_EXT_INTERNAL_H

#include "hiper/external.h"

#include <sys/types.h>

/* ---- proc.c ---------------------------------------------------------------------------------- */

typedef struct hp_ext_proc {
    pid_t pid;   /* 0 when no child */
    int fd;      /* our end of the socket pair, -1 when closed */
    hp_buf in;   /* bytes received and not yet returned as lines */
    size_t used; /* bytes of `in` already returned (dropped at the next receive) */
} hp_ext_proc;

/* Limits on what a server may send (docs/external-protocol.md, "Limits"): the text of one state
 * (observation, task, admissible commands) and so one reply line per result, and the size of a reward
 * or score. Going past one is a fault. */
#define HP_EXT_DEFAULT_MAX_MESSAGE ((size_t)1 << 20)
#define HP_EXT_MAX_ABS_REWARD 1e6

void hp_ext_proc_init(hp_ext_proc *p);
int hp_ext_proc_start(hp_ext_proc *p, const char *cmd, hp_err *err);
/* Send data + '\n' before the deadline (hp_now() seconds), reading replies meanwhile if any (more than
 * max_len bytes of them is an error). */
int hp_ext_proc_send(hp_ext_proc *p, const char *data, size_t n, double deadline, size_t max_len, hp_err *err);
/* Receive one line (without '\n', NUL-terminated, valid until the next call) before the deadline; a
 * line longer than max_len bytes is an error (no more than about max_len is ever buffered). */
int hp_ext_proc_recv(hp_ext_proc *p, double deadline, size_t max_len, char **line, size_t *len, hp_err *err);
/* Wait up to grace_s for the child to exit by itself (after a close message), then SIGTERM its process
 * group, wait up to grace_s again, then SIGKILL; always reaps the child and closes the socket. */
void hp_ext_proc_stop(hp_ext_proc *p, double grace_s);
void hp_ext_proc_free(hp_ext_proc *p);

/* ---- proto.c --------------------------------------------------------------------------------- */

/* A view with owned strings, as decoded from a reply (or produced by an environment). */
typedef struct hp_ext_view {
    hp_env_view v;  /* strings point into the fields below */
    char *observation;
    char *task;
    char *task_type_name;
    char **admissible;
} hp_ext_view;

void hp_ext_view_free(hp_ext_view *ev);
void hp_ext_view_copy(hp_ext_view *dst, const hp_env_view *src); /* dst is freed first */
/* Decode the state fields of a result object; missing fields are errors naming the key, and so are a
 * reward or score that is not finite or beyond ±HP_EXT_MAX_ABS_REWARD, and state text (obs, task and
 * admissible together) longer than max_bytes (0: no limit). */
int hp_ext_view_decode(hp_ext_view *dst, const cJSON *result, int default_max_steps, size_t max_bytes, hp_err *err);
/* Parse a reply line to the request want_id with n_ops operations and check its envelope (id, results,
 * one object with a boolean "ok" per operation). On failure *reply may hold the parsed JSON (the
 * caller deletes it either way). An "error" the server gives for the whole request is an error. */
int hp_ext_reply_parse(const char *line, size_t len, int64_t want_id, int n_ops, cJSON **reply, hp_err *err);
/* Add the state fields of a view to a result object. */
void hp_ext_view_encode(cJSON *result, const hp_env_view *v);

/* Seeds travel as JSON numbers up to 2^53 and as decimal strings above. */
void hp_ext_add_seed(cJSON *obj, const char *key, uint64_t seed);
int hp_ext_get_seed(const cJSON *obj, const char *key, uint64_t *seed, hp_err *err);
/* An integer field (a JSON number with no fraction within ±2^53). */
int hp_ext_get_int(const cJSON *obj, const char *key, int64_t *out, hp_err *err);

/* ---- host.c ---------------------------------------------------------------------------------- */

typedef struct hp_ext_env hp_ext_env;
typedef struct hp_ext_host hp_ext_host;

/* The per-environment state the host needs to end episodes after a fault. */
struct hp_ext_env {
    hp_env base;
    hp_ext_host *host;
    int64_t id;         /* environment id on the server */
    uint64_t gen;       /* host generation holding this env's server-side state; 0 = none */
    bool started;       /* reset at least once */
    char *split;        /* the episode, kept for replay (clone on servers without clone) */
    int64_t index;
    uint64_t seed;
    char **actions;
    int n_actions, cap_actions;
    hp_ext_view view;
};

typedef struct hp_ext_host_cfg {
    const char *cmd;
    double timeout_s, start_timeout_s;
    int max_restarts;          /* faults in a row tolerated */
    int max_faults;            /* faults tolerated among the last fault_window requests */
    int fault_window;
    int max_steps;
    size_t max_message_bytes;  /* per result; a reply line may hold this times its results */
} hp_ext_host_cfg;

/* Start the process and check the handshake (restarting up to max_restarts times). The host lives
 * as long as handles are attached to it; one with no handle must be closed with hp_ext_host_close. */
hp_ext_host *hp_ext_host_open(const hp_ext_host_cfg *cfg, hp_err *err);
void hp_ext_host_close(hp_ext_host *h);
/* Register / unregister a handle (the host ends its episodes on faults and frees their server state).
 * Detaching the last handle closes the host. */
void hp_ext_host_attach(hp_ext_host *h, hp_ext_env *e);
void hp_ext_host_detach(hp_ext_host *h, hp_ext_env *e);

/* Status of one exchange: done, or a fault that ended the host's episodes (retry or accept). */
enum { HP_EXT_FAULT = 1 };

/* Send one request with these ops (a JSON array, consumed) and wait for the reply. On HP_OK *results
 * holds one result per op (the caller deletes it). HP_EXT_FAULT: the episodes were truncated and the
 * process will be restarted. HP_FAIL: the host gave up (or could not start). */
int hp_ext_host_begin(hp_ext_host *h, cJSON *ops, hp_err *err);
int hp_ext_host_finish(hp_ext_host *h, cJSON **results, hp_err *err);
int hp_ext_host_exchange(hp_ext_host *h, cJSON *ops, cJSON **results, hp_err *err);

/* Declare a fault found by the caller in a reply (err holds the detail): stop the process, end the
 * episodes in progress; returns HP_EXT_FAULT, or HP_FAIL when the host gives up. */
int hp_ext_host_fault(hp_ext_host *h, hp_err *err);
/* HP_FAIL with the reason when the host has given up. */
int hp_ext_host_check(const hp_ext_host *h, hp_err *err);

uint64_t hp_ext_host_gen(const hp_ext_host *h);
int64_t hp_ext_host_new_env_id(hp_ext_host *h);
bool hp_ext_host_can_clone(const hp_ext_host *h);
int hp_ext_host_max_steps(const hp_ext_host *h);
size_t hp_ext_host_max_message(const hp_ext_host *h);
int64_t hp_ext_host_split_size(const hp_ext_host *h, const char *split, hp_err *err);
const char *hp_ext_host_name(const hp_ext_host *h);
void hp_ext_host_stats(const hp_ext_host *h, hp_external_stats *out);

/* ---- external.c ------------------------------------------------------------------------------ */

/* End an episode from outside (a fault): done, truncated, counted as one more step if `stepped`. */
void hp_ext_env_truncate(hp_ext_env *e, bool stepped);

#endif /* HP_EXT_INTERNAL_H */
