/*
 * berth-pause: holds a sandbox's shared PID namespace (CreateSandbox with sandbox_pidns).
 *
 * It unshares a new PID namespace and forks the namespace's init, prints that init's pid (as seen from the
 * caller's namespace) on stdout and exits; the init lets go of stdio at once, so the caller sees EOF. The init reaps every process that ends up under it, so the
 * shared namespace never fills with zombies (kata-containers/agent#803), and exits on SIGTERM, SIGINT or
 * SIGHUP, which ends the namespace and kills whatever still runs in it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_init(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig != SIGCHLD) return 0;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
  }
}

int main(void) {
  if (unshare(CLONE_NEWPID) < 0) {
    perror("berth-pause: unshare(CLONE_NEWPID)");
    return 1;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("berth-pause: fork");
    return 1;
  }
  if (child == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    prctl(PR_SET_NAME, "berth-pause", 0, 0, 0);
    return run_init();
  }
  printf("%d\n", (int)child);
  return fflush(stdout) == 0 ? 0 : 1;
}
