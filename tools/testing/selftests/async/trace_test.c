// SPDX-License-Identifier: GPL-2.0
/*
 * R24: an atom is no way around ptrace or audit. A tracer stops at each
 * atom's system call entry and exit, sees its number, arguments and
 * result, and can change or skip it there, as for a direct call; audit
 * writes a SYSCALL record for an atom exactly when its rules would for
 * the same call made directly, and still one for async_exec() itself.
 * (Seccomp is tested in async_test.c.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "../kselftest_harness.h"
#include "async_util.h"

#define NO_ASYNC "kernel built without CONFIG_ASYNC_SYSCALLS"

/* One syscall stop as PTRACE_GET_SYSCALL_INFO reported it. */
struct stop {
	int op;
	long nr;		/* at entry */
	long long rval;		/* at exit */
};

#define MAX_STOPS 64

#ifdef __x86_64__
/* At an entry stop: make the call @nr instead, or skip it (-1) returning @ret. */
static int rewrite_call(pid_t pid, long nr, long ret)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs))
		return -1;
	regs.orig_rax = nr;
	if (nr == -1)
		regs.rax = ret;
	return ptrace(PTRACE_SETREGS, pid, 0, &regs);
}

#define HAVE_REWRITE 1
/* At an exit stop: nothing to do, the skip already set the value. */
static int rewrite_exit(pid_t pid)
{
	return 0;
}
#elif defined(__s390__)
/*
 * s390's ptrace ABI: at an entry stop gpr2 holds the number, and writing
 * it changes the call. A call skipped there (-1) returns -ENOSYS unless
 * the tracer writes its value into gpr2 at the exit stop, as strace does.
 */
static long skip_ret;
static bool skip_pending;

static int poke_gpr2(pid_t pid, long v)
{
	return ptrace(PTRACE_POKEUSER, pid,
		      offsetof(struct _user_regs_struct, gprs[2]), v);
}

static int rewrite_call(pid_t pid, long nr, long ret)
{
	skip_pending = nr == -1;
	skip_ret = ret;
	return poke_gpr2(pid, nr);
}

static int rewrite_exit(pid_t pid)
{
	if (!skip_pending)
		return 0;
	skip_pending = false;
	return poke_gpr2(pid, skip_ret);
}

#define HAVE_REWRITE 1
#elif defined(__powerpc__)
/* r0 holds the call, r3 what a call skipped at its entry returns. */
#define PPC_PT_R0	0
#define PPC_PT_R3	3

static int rewrite_call(pid_t pid, long nr, long ret)
{
	if (ptrace(PTRACE_POKEUSER, pid, PPC_PT_R0 * sizeof(long), nr))
		return -1;
	if (nr != -1)
		return 0;
	return ptrace(PTRACE_POKEUSER, pid, PPC_PT_R3 * sizeof(long), ret);
}

/* At an exit stop: nothing to do, the skip already set the value. */
static int rewrite_exit(pid_t pid)
{
	return 0;
}

#define HAVE_REWRITE 1
#else
#define HAVE_REWRITE 0
static int rewrite_call(pid_t pid, long nr, long ret)
{
	return -1;
}

static int rewrite_exit(pid_t pid)
{
	return -1;
}
#endif

/*
 * The tracee: four atoms, each with a result address. The tracer lets
 * the first run, turns the second getpid into getppid, the third into
 * fork (not allowed as an atom: it fails like an unknown number) and
 * skips the fourth with -42.
 */
static int tracee(void)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atoms[4];
	struct async_args args;
	int64_t res[4] = {};
	int i;

	if (ptrace(PTRACE_TRACEME, 0, 0, 0))
		return 20;
	raise(SIGSTOP);
	atom_set(&atoms[0], __NR_getpid, 0, 0, 0, 0);
	atom_set(&atoms[1], __NR_getpid, 0, 0, 0, 0);
	atom_set(&atoms[2], __NR_getuid, 0, 0, 0, 0);
	atom_set(&atoms[3], __NR_gettid, 0, 0, 0, 0);
	for (i = 0; i < 4; i++)
		atoms[i].result = (uintptr_t)&res[i];
	args_set(&args, atoms, 4, ring, 1);
	if (async_exec(&args) != ASYNC_EXEC_DONE)
		return 21;
	if (res[0] != getpid())
		return 22;
	if (res[1] != getppid())
		return 23;
	if (res[2] != -nosys_errno())
		return 24;
	if (res[3] != -42)
		return 25;
	if (args.status != -42 || args.index != 3)
		return 26;
	return 0;
}

TEST(r24_ptrace_sees_and_changes_each_atom)
{
	struct __ptrace_syscall_info info;
	struct stop stops[MAX_STOPS];
	int n = 0, status, atom = 0;
	bool in_chain = false;
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	if (!HAVE_REWRITE)
		SKIP(return, "no register rewrite helper for this architecture");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(tracee());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, pid, 0,
			    PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	for (;;) {
		ASSERT_EQ(0, ptrace(PTRACE_SYSCALL, pid, 0, 0));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		ASSERT_TRUE(WIFSTOPPED(status));
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		ASSERT_LT(0, ptrace(PTRACE_GET_SYSCALL_INFO, pid,
				    sizeof(info), &info));
		if (info.op == PTRACE_SYSCALL_INFO_EXIT && in_chain) {
			/* Where the tracer sets a skipped call's value. */
			ASSERT_EQ(0, rewrite_exit(pid));
			ASSERT_LT(0, ptrace(PTRACE_GET_SYSCALL_INFO, pid,
					    sizeof(info), &info));
		}
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY &&
		    info.entry.nr == __NR_async_exec && !in_chain) {
			in_chain = true;
		} else if (!in_chain) {
			continue;
		}
		ASSERT_LT(n, MAX_STOPS);
		stops[n].op = info.op;
		stops[n].nr = info.op == PTRACE_SYSCALL_INFO_ENTRY ?
			      (long)info.entry.nr : -1;
		stops[n].rval = info.op == PTRACE_SYSCALL_INFO_EXIT ?
				info.exit.rval : 0;
		n++;
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY &&
		    info.entry.nr != __NR_async_exec) {
			if (atom == 1)
				ASSERT_EQ(0, rewrite_call(pid, __NR_getppid, 0));
			if (atom == 2)
				ASSERT_EQ(0, rewrite_call(pid, __NR_fork, 0));
			if (atom == 3)
				ASSERT_EQ(0, rewrite_call(pid, -1, -42));
			atom++;
		}
		if (info.op == PTRACE_SYSCALL_INFO_EXIT && n > 1 &&
		    stops[n - 2].op == PTRACE_SYSCALL_INFO_EXIT)
			in_chain = false;	/* async_exec's own exit */
	}
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* async_exec entry, (entry, exit) per atom, async_exec exit. */
	ASSERT_EQ(10, n);
	EXPECT_EQ(__NR_async_exec, stops[0].nr);
	EXPECT_EQ(__NR_getpid, stops[1].nr);
	EXPECT_EQ(pid, stops[2].rval);
	EXPECT_EQ(__NR_getpid, stops[3].nr);
	EXPECT_EQ(getpid(), stops[4].rval);
	EXPECT_EQ(__NR_getuid, stops[5].nr);
	EXPECT_EQ(-nosys_errno(), stops[6].rval);
	EXPECT_EQ(__NR_gettid, stops[7].nr);
	EXPECT_EQ(-42, stops[8].rval);
	EXPECT_EQ(PTRACE_SYSCALL_INFO_EXIT, stops[9].op);
	EXPECT_EQ(ASYNC_EXEC_DONE, stops[9].rval);
}

/* --- audit, through the netlink interface auditd uses ---------------- */

#define AUDIT_MARK	31337	/* second argument of the audited calls */

static int audit_request(int fd, int type, const void *data, size_t len)
{
	static unsigned int seq;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr nh;
		char data[2048];
	} msg = {};
	struct nlmsgerr *err;
	ssize_t got;

	if (len > sizeof(msg.data))
		return -EINVAL;
	msg.nh.nlmsg_len = NLMSG_LENGTH(len);
	msg.nh.nlmsg_type = type;
	msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	msg.nh.nlmsg_seq = ++seq;
	memcpy(NLMSG_DATA(&msg.nh), data, len);
	if (sendto(fd, &msg, msg.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		got = recv(fd, &msg, sizeof(msg), 0);
		if (got < 0)
			return -errno;
		if (msg.nh.nlmsg_type != NLMSG_ERROR || msg.nh.nlmsg_seq != seq)
			continue;
		err = NLMSG_DATA(&msg.nh);
		return err->error;
	}
}

static int audit_set(int fd, unsigned int enabled, pid_t pid)
{
	struct audit_status s = {
		.mask = AUDIT_STATUS_ENABLED | AUDIT_STATUS_PID,
		.enabled = enabled,
		.pid = pid,
	};

	return audit_request(fd, AUDIT_SET, &s, sizeof(s));
}

/* An exit-filter rule for @nr; with @mark, only when a1 == @mark. */
static int audit_rule(int fd, int type, int nr, bool mark)
{
	struct audit_rule_data r = {
		.flags = AUDIT_FILTER_EXIT,
		.action = AUDIT_ALWAYS,
	};

	r.mask[nr / 32] |= 1U << (nr % 32);
	if (mark) {
		r.field_count = 1;
		r.fields[0] = AUDIT_ARG1;
		r.values[0] = AUDIT_MARK;
		r.fieldflags[0] = AUDIT_EQUAL;
	}
	return audit_request(fd, type, &r, sizeof(r));
}

/* SYSCALL records of one process, as received. */
struct audit_seen {
	char text[4][1024];
	int n;
};

/* Collect @pid's SYSCALL records until none comes for two seconds. */
static void audit_collect(int fd, pid_t pid, struct audit_seen *seen)
{
	struct timeval tv = { .tv_sec = 2 };
	struct {
		struct nlmsghdr nh;
		char data[8192];
	} msg;
	char tag[32];
	ssize_t got;
	size_t len;

	snprintf(tag, sizeof(tag), " pid=%d ", pid);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (seen->n < 4) {
		got = recv(fd, &msg, sizeof(msg) - 1, 0);
		if (got <= 0)
			break;
		if (msg.nh.nlmsg_type != AUDIT_SYSCALL)
			continue;
		((char *)&msg)[got] = '\0';
		if (!strstr(msg.data, tag))
			continue;
		len = strnlen(msg.data, sizeof(seen->text[0]) - 1);
		memcpy(seen->text[seen->n], msg.data, len);
		seen->text[seen->n++][len] = '\0';
	}
}

static bool audit_has(const struct audit_seen *seen, const char *a,
		      const char *b, const char *c)
{
	int i;

	for (i = 0; i < seen->n; i++)
		if (strstr(seen->text[i], a) && strstr(seen->text[i], b) &&
		    strstr(seen->text[i], c))
			return true;
	return false;
}

/*
 * The child makes getpriority(PRIO_PGRP, MARK) directly, then as an atom
 * getpriority(PRIO_PROCESS, MARK): both fail with ESRCH and both must be
 * logged by the rule on getpriority; async_exec() itself by its own rule.
 */
static int audited_child(void)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atom;
	struct async_args args;

	syscall(__NR_getpriority, PRIO_PGRP, AUDIT_MARK);
	atom_set(&atom, __NR_getpriority, 0, PRIO_PROCESS, AUDIT_MARK, 0);
	args_set(&args, &atom, 1, ring, 1);
	if (async_exec(&args) != ASYNC_EXEC_DONE)
		return 1;
	return args.status == -ESRCH ? 0 : 2;
}

TEST(r24_audit_logs_each_atom)
{
	struct audit_seen seen = {};
	char want[64];
	int fd, ret, status;
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	if (fd < 0)
		SKIP(return, "no audit netlink socket: %s", strerror(errno));
	ret = audit_set(fd, 1, getpid());
	if (ret == -EPERM || ret == -EEXIST)
		SKIP(return, "cannot act as the audit daemon: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, audit_rule(fd, AUDIT_ADD_RULE, __NR_getpriority, true));
	ASSERT_EQ(0, audit_rule(fd, AUDIT_ADD_RULE, __NR_async_exec, false));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(audited_child());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	audit_collect(fd, pid, &seen);

	EXPECT_EQ(0, audit_rule(fd, AUDIT_DEL_RULE, __NR_getpriority, true));
	EXPECT_EQ(0, audit_rule(fd, AUDIT_DEL_RULE, __NR_async_exec, false));
	EXPECT_EQ(0, audit_set(fd, 0, 0));
	close(fd);

	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	for (int i = 0; i < seen.n; i++)
		TH_LOG("record: %s", seen.text[i]);
	snprintf(want, sizeof(want), "syscall=%d ", __NR_getpriority);
	/* The direct call: the rule works at all. */
	ASSERT_TRUE(audit_has(&seen, want, " a0=1 ", " a1=7a69 "));
	/* The atom, with its own arguments and result. */
	EXPECT_TRUE(audit_has(&seen, want, " a0=0 ", " exit=-3 "));
	/* async_exec() itself, at its own exit, with what it returned. */
	snprintf(want, sizeof(want), "syscall=%d ", __NR_async_exec);
	EXPECT_TRUE(audit_has(&seen, want, " success=yes ", " exit=1 "));
	EXPECT_EQ(3, seen.n);
}

TEST_HARNESS_MAIN
