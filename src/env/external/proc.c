/* One child process behind a socket pair: spawn, line I/O with deadlines, stop and reap.
 *
 * A socket pair rather than two pipes: send(MSG_NOSIGNAL) never raises SIGPIPE when the child has
 * died, so the library needs no process-wide signal setting. Both ends are close-on-exec, so children
 * started for other hosts do not inherit them (a leaked write end would keep a child from seeing EOF).
 * The child runs `/bin/sh -c cmd` in a process group of its own, which stop() signals as a whole, so a
 * shell wrapper and the program it started both go. */
#include "ext_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void hp_ext_proc_init(hp_ext_proc *p) {
    memset(p, 0, sizeof *p);
    p->fd = -1;
}

static int spawn_child(hp_ext_proc *p, const char *cmd, int child_fd, hp_err *err) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, child_fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, child_fd, STDOUT_FILENO);
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGINT);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dflt);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    int rc = posix_spawn(&p->pid, "/bin/sh", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        p->pid = 0;
        return hp_fail(err, "cannot start '/bin/sh -c %s': %s", cmd, strerror(rc));
    }
    return HP_OK;
}

int hp_ext_proc_start(hp_ext_proc *p, const char *cmd, hp_err *err) {
    p->pid = 0; /* the input buffer is kept (and emptied) across restarts */
    p->fd = -1;
    p->used = 0;
    hp_buf_clear(&p->in);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return hp_fail(err, "cannot create a socket pair for '%s': %s", cmd, strerror(errno));
    int rc = spawn_child(p, cmd, sv[1], err);
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        return HP_FAIL;
    }
    p->fd = sv[0];
    int fl = fcntl(p->fd, F_GETFL);
    if (fl >= 0) fcntl(p->fd, F_SETFL, fl | O_NONBLOCK);
    return HP_OK;
}

/* Milliseconds left until the deadline, for poll() (0 when it has passed). */
static int ms_left(double deadline) {
    double left = deadline - hp_now();
    if (left <= 0) return 0;
    if (left > 3600) return 3600 * 1000;
    return (int)(left * 1000.0) + 1;
}

/* Describe why the child's output ended: its exit status if it exits within a moment. The child is
 * not reaped here (stop() does that, after signalling its process group). */
static int eof_error(hp_ext_proc *p, hp_err *err) {
    double end = hp_now() + 0.25;
    while (p->pid > 0) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        int r = waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG | WNOWAIT);
        if (r == 0 && info.si_pid == p->pid) {
            if (info.si_code == CLD_EXITED) return hp_fail(err, "the process exited with status %d", info.si_status);
            return hp_fail(err, "the process was killed by signal %d", info.si_status);
        }
        if (r < 0 || hp_now() >= end) break;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return hp_fail(err, "the process closed its output");
}

/* Read what is available into p->in. 1: got bytes, 0: EOF, -1: error. */
static int read_some(hp_ext_proc *p, hp_err *err) {
    hp_buf_reserve(&p->in, 65536);
    ssize_t n = read(p->fd, p->in.data + p->in.len, p->in.cap - p->in.len - 1);
    if (n > 0) {
        p->in.len += (size_t)n;
        p->in.data[p->in.len] = '\0';
        return 1;
    }
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 1;
    hp_fail(err, "reading from the process failed: %s", strerror(errno));
    return -1;
}

int hp_ext_proc_send(hp_ext_proc *p, const char *data, size_t n, double deadline, size_t max_len, hp_err *err) {
    if (p->fd < 0) return hp_fail(err, "the process is not running");
    hp_buf line = {0};
    hp_buf_append(&line, data, n);
    hp_buf_putc(&line, '\n');
    size_t off = 0;
    int rc = HP_OK;
    while (off < line.len) {
        struct pollfd pf = {.fd = p->fd, .events = POLLOUT | POLLIN};
        int pr = poll(&pf, 1, ms_left(deadline));
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) {
            rc = hp_fail(err, "poll failed: %s", strerror(errno));
            break;
        }
        if (pr == 0) {
            rc = hp_fail(err, "timed out writing a request (the process does not read its input)");
            break;
        }
        if (pf.revents & POLLIN) { /* keep the child from blocking on a full output */
            int r = read_some(p, err);
            if (r <= 0) {
                rc = r < 0 ? HP_FAIL : eof_error(p, err);
                break;
            }
            if (p->in.len > max_len) {
                rc = hp_fail(err, "the process wrote more than %zu bytes without reading its request", max_len);
                break;
            }
        }
        if (pf.revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t w = send(p->fd, line.data + off, line.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                off += (size_t)w;
            } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                rc = errno == EPIPE || errno == ECONNRESET ? eof_error(p, err)
                                                            : hp_fail(err, "writing to the process failed: %s", strerror(errno));
                break;
            }
        }
    }
    hp_buf_free(&line);
    return rc;
}

int hp_ext_proc_recv(hp_ext_proc *p, double deadline, size_t max_len, char **line, size_t *len, hp_err *err) {
    if (p->fd < 0) return hp_fail(err, "the process is not running");
    if (p->used > 0) { /* drop the line returned last time */
        memmove(p->in.data, p->in.data + p->used, p->in.len - p->used);
        p->in.len -= p->used;
        p->in.data[p->in.len] = '\0';
        p->used = 0;
    }
    size_t scanned = 0; /* bytes known to hold no newline */
    for (;;) {
        char *nl = p->in.len > scanned ? memchr(p->in.data + scanned, '\n', p->in.len - scanned) : NULL;
        size_t line_len = nl ? (size_t)(nl - p->in.data) : p->in.len;
        if (line_len > max_len)
            return hp_fail(err, "a reply line is longer than the limit of %zu bytes (env.options max_message_bytes "
                                "per result)", max_len);
        if (nl) {
            *nl = '\0';
            *line = p->in.data;
            *len = line_len;
            p->used = line_len + 1;
            return HP_OK;
        }
        scanned = p->in.len;
        struct pollfd pf = {.fd = p->fd, .events = POLLIN};
        int pr = poll(&pf, 1, ms_left(deadline));
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) return hp_fail(err, "poll failed: %s", strerror(errno));
        if (pr == 0) return hp_fail(err, "no reply within the time limit");
        int r = read_some(p, err);
        if (r < 0) return HP_FAIL;
        if (r == 0) return eof_error(p, err);
    }
}

/* Wait until the child has exited or the time is up, without reaping it: while it is an unreaped
 * zombie its pid (and so its process group id) cannot be reused, so signalling the group stays safe. */
static bool wait_exit(const hp_ext_proc *p, double seconds) {
    double end = hp_now() + seconds;
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        int r = waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG | WNOWAIT);
        if ((r == 0 && info.si_pid == p->pid) || (r < 0 && errno == ECHILD)) return true;
        if (hp_now() >= end) return false;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void hp_ext_proc_stop(hp_ext_proc *p, double grace_s) {
    if (p->fd >= 0) shutdown(p->fd, SHUT_WR); /* EOF on its input: a well-behaved server exits */
    if (p->pid > 0) {
        bool exited = grace_s > 0 && wait_exit(p, grace_s);
        kill(-p->pid, SIGTERM); /* the group: also whatever the shell started */
        if (!exited) wait_exit(p, grace_s > 0 ? grace_s : 0.5);
        kill(-p->pid, SIGKILL); /* anything left, the leader being unreaped still */
        int st;
        while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
        }
        p->pid = 0;
    }
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
    hp_buf_clear(&p->in);
    p->used = 0;
}

void hp_ext_proc_free(hp_ext_proc *p) {
    hp_ext_proc_stop(p, 0);
    hp_buf_free(&p->in);
}
