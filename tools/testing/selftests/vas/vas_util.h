/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vas selftests.
 *
 * A thread switched into an address space can only use memory that is
 * mapped there. Code that switches runs on a pthread whose stack lies in
 * a MAP_SHARED region (glibc puts the thread's struct pthread, its static
 * TLS and its rseq area at the top of a stack given with
 * pthread_attr_setstack()). The start of the same region holds a
 * struct vas_ctl for handshakes and results. vas_space_new() attaches
 * that region and the program's text into a new space at the same
 * addresses. While switched, the code makes raw system calls (vas_sys(),
 * no errno), calls no library function and touches no global variable;
 * the test body checks the results after the thread is joined.
 */
#ifndef VAS_UTIL_H
#define VAS_UTIL_H

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/time_types.h>
#include <linux/vas.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* One layout everywhere, compat and both byte orders included (R08). */
#define VAS_FIELD(field, offset)					\
	static_assert(offsetof(struct vas_attach_args, field) == (offset), \
		      "vas_attach_args." #field " moved")
VAS_FIELD(flags, 0);
VAS_FIELD(dst_fd, 8);
VAS_FIELD(src_fd, 12);
VAS_FIELD(src, 16);
VAS_FIELD(dst, 24);
VAS_FIELD(len, 32);
VAS_FIELD(prot, 40);
VAS_FIELD(__reserved, 44);
static_assert(sizeof(struct vas_attach_args) == 48, "vas_attach_args size");

#ifndef __NR_vas_create
#define __NR_vas_create		468
#endif
#ifndef __NR_vas_attach
#define __NR_vas_attach		469
#endif
#ifndef __NR_vas_switch
#define __NR_vas_switch		470
#endif

#define NO_VAS "no vas_create system call: kernel built without CONFIG_MMSPACE"

/*
 * Single accesses the compiler may not merge, split, drop or turn into
 * calls. 32-bit powerpc has no 8-byte atomic access: gcc calls libatomic
 * for one, which a static program may lack and code in a space cannot
 * call. There such a word is accessed as two atomic 4-byte halves: where
 * another thread may write it meanwhile, the tests look only at a half
 * that the writer never changes.
 */
#if __GCC_ATOMIC_LLONG_LOCK_FREE == 2
#define VAS_ONCE_ATOMIC(p)	(sizeof(*(p)) <= 8)
#else
#define VAS_ONCE_ATOMIC(p)	(sizeof(*(p)) <= 4)
#endif

#define VAS_HALVES(p)							\
	union { __typeof__(*(p)) v; __u32 w[2]; }

#ifndef READ_ONCE
#define READ_ONCE(x)							\
({									\
	__typeof__(x) *__ro = &(x);					\
									\
	__builtin_choose_expr(VAS_ONCE_ATOMIC(__ro),			\
		__atomic_load_n(__ro, __ATOMIC_RELAXED),		\
		({							\
			VAS_HALVES(__ro) __h;				\
									\
			__h.w[0] = __atomic_load_n((__u32 *)__ro,	\
						   __ATOMIC_RELAXED);	\
			__h.w[1] = __atomic_load_n((__u32 *)__ro + 1,	\
						   __ATOMIC_RELAXED);	\
			__h.v;						\
		}));							\
})
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val)						\
({									\
	__typeof__(x) *__wo = &(x), __wv = (val);			\
									\
	__builtin_choose_expr(VAS_ONCE_ATOMIC(__wo),			\
		__atomic_store_n(__wo, __wv, __ATOMIC_RELAXED),		\
		({							\
			VAS_HALVES(__wo) __h = { .v = __wv };		\
									\
			__atomic_store_n((__u32 *)__wo, __h.w[0],	\
					 __ATOMIC_RELAXED);		\
			__atomic_store_n((__u32 *)__wo + 1, __h.w[1],	\
					 __ATOMIC_RELAXED);		\
		}));							\
})
#endif

/*
 * Page sizes. Memory is laid out in pages of the running kernel, whose
 * size VAS_PAGE asks sysconf() for. Code that runs in a space can neither
 * call libc nor read a global variable: it uses the copy in its struct
 * vas_ctl. VAS_PAGE_MAX bounds every page size an architecture has, for
 * what needs a constant: 64-bit powerpc kernels use 4 or 64 KiB pages.
 */
#ifdef __powerpc__
#define VAS_PAGE_MAX		(64 * 1024UL)
#else
#define VAS_PAGE_MAX		4096UL
#endif

static unsigned long vas_page_size;

static inline unsigned long vas_page(void)
{
	if (!vas_page_size)
		vas_page_size = sysconf(_SC_PAGESIZE);
	return vas_page_size;
}

#define VAS_PAGE		vas_page()

/*
 * A raw system call: returns -errno on failure and touches nothing but
 * registers, so it can run in a space that maps only text and stack.
 */
#ifdef __x86_64__
static __always_inline
long vas_sys(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "0" (nr), "D" (a), "S" (b), "d" (c), "r" (r10),
			    "r" (r8), "r" (r9)
			  : "rcx", "r11", "memory");
	return ret;
}

/* The thread pointer: glibc's struct pthread, in the thread's stack region. */
static __always_inline void *vas_tp(void)
{
	void *tp;

	__asm__ ("mov %%fs:0, %0" : "=r" (tp));
	return tp;
}
#elif defined(__i386__)
/*
 * int $0x80, not glibc's syscall(): that enters through the vDSO, which a
 * space lacks. %ebp, the sixth argument, may be the frame pointer, so it
 * is saved around the call and loaded from memory like the fifth.
 */
static __always_inline
long vas_sys(long nr, long a, long b, long c, long d, long e, long f)
{
	long ef[2] = { e, f };
	long *p = ef;
	long ret;

	__asm__ volatile ("push %%ebp\n\t"
			  "mov 4(%%edi), %%ebp\n\t"
			  "mov (%%edi), %%edi\n\t"
			  "int $0x80\n\t"
			  "pop %%ebp"
			  : "=a" (ret), "+D" (p)
			  : "0" (nr), "b" (a), "c" (b), "d" (c), "S" (d)
			  : "memory");
	return ret;
}

/* The thread pointer: glibc's struct pthread, as %gs:0 says. */
static __always_inline void *vas_tp(void)
{
	void *tp;

	__asm__ ("mov %%gs:0, %0" : "=r" (tp));
	return tp;
}

/* rt_sigreturn for the handlers vas_sigaction() installs. */
__attribute__((naked)) static void vas_sigreturn(void)
{
	__asm__ volatile ("mov $173, %eax\n\t"
			  "int $0x80\n\t"
			  "hlt");
}

/*
 * An SA_SIGINFO handler that can return inside a space. glibc's i386
 * sigaction() leaves the return to the vDSO's trampoline, and a space
 * has no vDSO: give the kernel a restorer in the program's text.
 */
static inline int vas_sigaction(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long long mask;
	} ksa = { (void *)fn, SA_SIGINFO | 0x04000000 /* SA_RESTORER */,
		  (void *)vas_sigreturn, 0 };

	return syscall(__NR_rt_sigaction, sig, &ksa, NULL, 8);
}

#define VAS_HAVE_SIGACTION
#elif defined(__s390__)
static __always_inline
long vas_sys(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r1 __asm__("1") = nr;
	register long r2 __asm__("2") = a;
	register long r3 __asm__("3") = b;
	register long r4 __asm__("4") = c;
	register long r5 __asm__("5") = d;
	register long r6 __asm__("6") = e;
	register long r7 __asm__("7") = f;

	__asm__ volatile ("svc 0"
			  : "+d" (r2)
			  : "d" (r1), "d" (r3), "d" (r4), "d" (r5), "d" (r6),
			    "d" (r7)
			  : "memory");
	return r2;
}

/* The thread pointer, from access registers 0 and 1. */
static __always_inline void *vas_tp(void)
{
	return __builtin_thread_pointer();
}
#elif defined(__powerpc__)
static __always_inline
long vas_sys(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r0 __asm__("r0") = nr;
	register long r3 __asm__("r3") = a;
	register long r4 __asm__("r4") = b;
	register long r5 __asm__("r5") = c;
	register long r6 __asm__("r6") = d;
	register long r7 __asm__("r7") = e;
	register long r8 __asm__("r8") = f;

	/* An error sets CR0[SO] and leaves the positive errno in r3. */
	__asm__ volatile ("sc\n\t"
			  "bns+ 1f\n\t"
			  "neg %1,%1\n"
			  "1:"
			  : "+r" (r0), "+r" (r3), "+r" (r4), "+r" (r5),
			    "+r" (r6), "+r" (r7), "+r" (r8)
			  :
			  : "r9", "r10", "r11", "r12", "cr0", "ctr", "xer",
			    "memory");
	return r3;
}

/*
 * The thread pointer, from which glibc's __rseq_offset counts: r13 on
 * 64-bit, r2 on 32-bit powerpc.
 */
static __always_inline void *vas_tp(void)
{
	void *tp;

#ifdef __PPC64__
	__asm__ ("mr %0,13" : "=r" (tp));
#else
	__asm__ ("mr %0,2" : "=r" (tp));
#endif
	return tp;
}
#else
static inline long vas_sys(long nr, long a, long b, long c, long d, long e,
			   long f)
{
	long ret = syscall(nr, a, b, c, d, e, f);

	return ret == -1 ? -errno : ret;
}

static inline void *vas_tp(void)
{
	return __builtin_thread_pointer();
}
#endif

/* mmap() with a byte offset, which is old_mmap() on 32-bit machines. */
#ifdef __NR_mmap2
#define VAS_NR_MMAP		__NR_mmap2
#else
#define VAS_NR_MMAP		__NR_mmap
#endif

#ifndef VAS_HAVE_SIGACTION
static inline int vas_sigaction(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO };

	return sigaction(sig, &sa, NULL);
}
#endif

#define RAW0(nr)		vas_sys(nr, 0, 0, 0, 0, 0, 0)
#define RAW1(nr, a)		vas_sys(nr, (long)(a), 0, 0, 0, 0, 0)
#define RAW2(nr, a, b)		vas_sys(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define RAW3(nr, a, b, c)	vas_sys(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define RAW4(nr, a, b, c, d) \
	vas_sys(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define RAW6(nr, a, b, c, d, e, f) \
	vas_sys(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/*
 * mmap() from code that may run in a space. s390's mmap() is the old one,
 * which takes its six arguments in memory (here: on the stack).
 */
static __always_inline long vas_mmap_raw(long addr, long len, long prot,
					 long flags, long fd, long off)
{
#ifdef __s390__
	long a[6];

	a[0] = addr;
	a[1] = len;
	a[2] = prot;
	a[3] = flags;
	a[4] = fd;
	a[5] = off;
	return RAW1(__NR_mmap, a);
#else
	return RAW6(VAS_NR_MMAP, addr, len, prot, flags, fd, off);
#endif
}

/* Switch from code that may run in a space: 0 or -errno. */
static __always_inline long vas_switch_raw(int fd)
{
	return RAW2(__NR_vas_switch, fd, 0);
}

/*
 * 0 if the page at @page is mapped in the caller's current space, else
 * -ENOMEM. One byte covers the page whatever its size.
 */
static __always_inline long vas_probe(const void *page)
{
	unsigned char vec;

	return RAW3(__NR_mincore, page, 1, &vec);
}

/*
 * The 64-bit time calls: a 32-bit program built with a 64-bit time_t
 * must not make the old ones, which take a 32-bit struct.
 */
#ifdef __NR_clock_gettime64
#define VAS_NR_CLOCK_GETTIME	__NR_clock_gettime64
#define VAS_NR_CLOCK_NANOSLEEP	__NR_clock_nanosleep_time64
#define VAS_NR_SIGTIMEDWAIT	__NR_rt_sigtimedwait_time64
#define VAS_NR_FUTEX		__NR_futex_time64
#else
#define VAS_NR_CLOCK_GETTIME	__NR_clock_gettime
#define VAS_NR_CLOCK_NANOSLEEP	__NR_clock_nanosleep
#define VAS_NR_SIGTIMEDWAIT	__NR_rt_sigtimedwait
#define VAS_NR_FUTEX		__NR_futex
#endif

/* A futex call with a timeout, at home (errno, -1 on failure). */
static inline long vas_futex(void *uaddr, int op, int val,
			     const struct __kernel_timespec *ts)
{
	return syscall(VAS_NR_FUTEX, uaddr, op, val, ts, NULL, 0);
}

static __always_inline long vas_now_ms(void)
{
	struct __kernel_timespec ts;

	if (RAW2(VAS_NR_CLOCK_GETTIME, CLOCK_MONOTONIC, &ts))
		return -1;
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __always_inline int vas_load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static __always_inline void vas_store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * Wait until *@p == @v, for at most @ms milliseconds: 0 or -ETIMEDOUT.
 * Safe in a space (raw system calls only).
 */
static __always_inline
long vas_wait_for(const int *p, int v, long ms)
{
	long end = vas_now_ms() + ms;

	while (vas_load(p) != v) {
		if (vas_now_ms() > end)
			return -ETIMEDOUT;
		RAW0(__NR_sched_yield);
	}
	return 0;
}

/* Sleep @ms milliseconds with a raw nanosleep. */
static __always_inline void vas_sleep_ms(long ms)
{
	/* Field by field: no initializer copied from .rodata, which a space lacks. */
	struct __kernel_timespec ts;

	WRITE_ONCE(ts.tv_sec, ms / 1000);
	WRITE_ONCE(ts.tv_nsec, (ms % 1000) * 1000000);
	RAW4(VAS_NR_CLOCK_NANOSLEEP, CLOCK_MONOTONIC, 0, &ts, NULL);
}

/* The errno of a system call that does not exist. */
static inline int vas_nosys_errno(void)
{
	syscall(-1L);
	return errno;
}

/* The system calls, for code that runs at home (errno, -1 on failure). */
static inline int vas_create(unsigned int flags)
{
	return syscall(__NR_vas_create, flags);
}

static inline int vas_attach(const void *args, size_t size)
{
	return syscall(__NR_vas_attach, args, size);
}

static inline int vas_switch(int fd, unsigned int flags)
{
	return syscall(__NR_vas_switch, fd, flags);
}

static inline void vas_args(struct vas_attach_args *a, __u64 flags,
			    int dst_fd, int src_fd, __u64 src, __u64 dst,
			    __u64 len, __u32 prot)
{
	memset(a, 0, sizeof(*a));
	a->flags = flags;
	a->dst_fd = dst_fd;
	a->src_fd = src_fd;
	a->src = src;
	a->dst = dst;
	a->len = len;
	a->prot = prot;
}

/* vas_attach() of @args: 0 or -errno. */
static inline int vas_attach_ret(const struct vas_attach_args *a)
{
	return vas_attach(a, sizeof(*a)) ? -errno : 0;
}

/* Attach [@addr, @addr + @len) of the current space at the same address. */
static inline int vas_attach_self(int vfd, const void *addr, size_t len, int prot)
{
	struct vas_attach_args a;

	vas_args(&a, VAS_ATTACH_SRC_SELF, vfd, -1, (uintptr_t)addr,
		 (uintptr_t)addr, len, prot);
	return vas_attach_ret(&a);
}

/* Attach @len bytes of the file @fd at offset @off, at @dst. */
static inline int vas_attach_file(int vfd, int fd, off_t off, const void *dst,
				  size_t len, int prot, bool private)
{
	struct vas_attach_args a;

	vas_args(&a, VAS_ATTACH_SRC_FD | (private ? VAS_ATTACH_PRIVATE : 0),
		 vfd, fd, off, (uintptr_t)dst, len, prot);
	return vas_attach_ret(&a);
}

/* An address range that is free at home, kept reserved (PROT_NONE) there. */
static inline void *vas_reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A memfd of @len bytes, every 64-bit word set to @fill. */
static inline int vas_memfd(size_t len, __u64 fill)
{
	int fd = syscall(__NR_memfd_create, "vas", 0);
	__u64 *p;
	size_t i;

	if (fd < 0 || ftruncate(fd, len))
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < len / sizeof(*p); i++)
		p[i] = fill;
	munmap(p, len);
	return fd;
}

/* Map @fd shared at @addr, which vas_reserve() returned. */
static inline void *vas_map_at(void *addr, size_t len, int prot, int fd)
{
	void *p = mmap(addr, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The executable file mappings of the current space, which hold the
 * program's text (a static program has one; a dynamic one also has its
 * libraries'). Fills @start/@end, returns how many (at most @max).
 */
static inline int vas_file_ranges(const char *want, unsigned long *start,
				  unsigned long *end, int max)
{
	char line[512], perms[8], path[256];
	unsigned long s, e;
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &s, &e, perms, path) < 3)
			continue;
		if (strcmp(perms, want) || path[0] != '/')
			continue;
		start[n] = s;
		end[n] = e;
		n++;
	}
	fclose(f);
	return n;
}

static inline int vas_text_ranges(unsigned long *start, unsigned long *end, int max)
{
	return vas_file_ranges("r-xp", start, end, max);
}

/*
 * What vas_space_new() attaches of the program: its text and, on s390,
 * its read-only data (see vas_attach_relro()).
 */
static inline int vas_code_ranges(unsigned long *start, unsigned long *end, int max)
{
	int n = vas_text_ranges(start, end, max), r = 0;

#ifdef __s390__
	if (n >= 0)
		r = vas_file_ranges("r--p", start + n, end + n, max - n);
#endif
	return n < 0 || r < 0 ? -1 : n + r;
}

#ifdef __s390__
/*
 * s390 code loads TLS offsets (errno, __thread variables) and addresses
 * from the GOT, which lies in the program's read-only data after
 * relocation (RELRO). Attach a copy of that, from a memfd, at the same
 * address. 0 or -errno.
 */
static inline int vas_attach_relro(int vfd)
{
	unsigned long start[8], end[8];
	int i, n, fd, ret = 0;

	n = vas_file_ranges("r--p", start, end, 8);
	if (n < 0)
		return -ENOENT;
	for (i = 0; !ret && i < n; i++) {
		size_t len = end[i] - start[i];

		fd = syscall(__NR_memfd_create, "vas-relro", 0);
		if (fd < 0)
			return -errno;
		if (pwrite(fd, (void *)start[i], len, 0) != (ssize_t)len)
			ret = -EIO;
		else
			ret = vas_attach_file(vfd, fd, 0, (void *)start[i], len,
					      PROT_READ, false);
		close(fd);
	}
	return ret;
}
#else
/* Code elsewhere finds what it needs in the text. */
static inline int vas_attach_relro(int vfd)
{
	return 0;
}
#endif

/*
 * Where the code of function pointer @fn is: an ELFv1 function pointer
 * is the address of a descriptor, whose first word is the entry address.
 */
static inline uintptr_t vas_code_addr(const void *fn)
{
#if defined(__PPC64__) && (!defined(_CALL_ELF) || _CALL_ELF == 1)
	return *(const uintptr_t *)fn;
#else
	return (uintptr_t)fn;
#endif
}

/*
 * Attach the program's text (read and execute) into @vfd: the mappings
 * that hold this function, syscall() and pthread_create(). 0 or -errno.
 */
static inline int vas_attach_text(int vfd)
{
	unsigned long start[8], end[8];
	const void *need[] = { (void *)vas_attach_text, (void *)syscall,
			       (void *)pthread_create };
	int i, j, n, ret;

	n = vas_text_ranges(start, end, 8);
	if (n <= 0)
		return -ENOENT;
	for (j = 0; j < 3; j++) {
		for (i = 0; i < n; i++)
			if (vas_code_addr(need[j]) >= start[i] &&
			    vas_code_addr(need[j]) < end[i])
				break;
		if (i == n)
			return -ENOENT;
	}
	for (i = 0; i < n; i++) {
		ret = vas_attach_self(vfd, (void *)start[i], end[i] - start[i],
				      PROT_READ | PROT_EXEC);
		if (ret)
			return ret;
	}
	return vas_attach_relro(vfd);
}

/*
 * Every thread's shared region: its struct vas_ctl, then its stack, TLS
 * and TCB. The stack has room for eight pages of padding (v07).
 */
#if VAS_PAGE_MAX > 4096
#define VAS_REGION_SIZE		(32 * VAS_PAGE_MAX)
#else
#define VAS_REGION_SIZE		(512 * 1024UL)
#endif
#define VAS_CTL_SIZE		(64 * 1024UL)
#define VAS_BUF_SIZE		(VAS_CTL_SIZE - 2048)

struct vas_ctl {
	int (*fn)(struct vas_ctl *c);	/* what the thread runs */
	int fd[4];			/* spaces and files it uses */
	long arg[16];			/* inputs */
	long res[32];			/* results, checked by the test body */
	int state;			/* handshakes with the test body */
	int go;
	int tid;
	int ret;			/* fn()'s return value */
	void *home_page;		/* a page mapped at home only */
	__u64 page;			/* VAS_PAGE, for code in a space */
	char buf[VAS_BUF_SIZE];
};

static_assert(sizeof(struct vas_ctl) <= VAS_CTL_SIZE, "vas_ctl too large");
/* buf holds async rings and results, which must be 8-byte aligned. */
static_assert(offsetof(struct vas_ctl, buf) % 8 == 0, "vas_ctl.buf misaligned");

struct vas_thread {
	struct vas_ctl *ctl;		/* == region */
	char *region;			/* MAP_SHARED: ctl, then stack, TLS, TCB */
	size_t len;
	pthread_t th;
	bool started;
};

/* The thread's own struct vas_ctl, for signal handlers. In static TLS. */
static __thread struct vas_ctl *vas_self;

/* A private anonymous page that is never attached anywhere. */
static void *vas_home_only;

static inline int vas_thread_init(struct vas_thread *t)
{
	void *p;

	memset(t, 0, sizeof(*t));
	if (VAS_PAGE > VAS_PAGE_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (!vas_home_only) {
		vas_home_only = mmap(NULL, VAS_PAGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (vas_home_only == MAP_FAILED)
			return -1;
		memset(vas_home_only, 0x5a, VAS_PAGE);
	}
	p = mmap(NULL, VAS_REGION_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	t->region = p;
	t->len = VAS_REGION_SIZE;
	t->ctl = p;
	t->ctl->home_page = vas_home_only;
	t->ctl->page = VAS_PAGE;
	return 0;
}

static void *vas_thread_main(void *arg)
{
	struct vas_ctl *c = arg;

	vas_self = c;
	c->tid = syscall(SYS_gettid);
	c->ret = c->fn(c);
	return NULL;
}

/* Start @fn(t->ctl) on a thread whose stack is t's shared region. */
static inline int vas_thread_start(struct vas_thread *t, int (*fn)(struct vas_ctl *c))
{
	pthread_attr_t attr;
	int ret;

	t->ctl->fn = fn;
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, t->region + VAS_CTL_SIZE, t->len - VAS_CTL_SIZE);
	ret = pthread_create(&t->th, &attr, vas_thread_main, t->ctl);
	pthread_attr_destroy(&attr);
	t->started = !ret;
	return ret;
}

/* Join within @secs seconds: 0, else -1 (the thread is left behind). */
static inline int vas_thread_join(struct vas_thread *t, int secs)
{
	struct timespec ts;

	if (!t->started)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	if (pthread_timedjoin_np(t->th, NULL, &ts))
		return -1;
	t->started = false;
	return 0;
}

/* Run @fn on t's thread and wait for it. */
static inline int vas_thread_run(struct vas_thread *t, int (*fn)(struct vas_ctl *c),
				 int secs)
{
	int ret = vas_thread_start(t, fn);

	return ret ? ret : vas_thread_join(t, secs);
}

/*
 * A new space with the program's text and t's region, which is mapped
 * there with @region_prot: the fd or -errno.
 */
static inline int vas_space_new_prot(struct vas_thread *t, int region_prot)
{
	int fd = vas_create(0);
	int ret;

	if (fd < 0)
		return -errno;
	ret = vas_attach_text(fd);
	if (!ret)
		ret = vas_attach_self(fd, t->region, t->len, region_prot);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* A new space with the program's text and t's region: the fd or -errno. */
static inline int vas_space_new(struct vas_thread *t)
{
	return vas_space_new_prot(t, PROT_READ | PROT_WRITE);
}

/*
 * The number after "@key:" in a "key: value" file of /proc, such as
 * /proc/meminfo or /proc/self/fdinfo/N, or -1.
 */
static inline long vas_proc_long(const char *path, const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* A "key:\tvalue" line of /proc/self/fdinfo/@fd, or -1. */
static inline long vas_fdinfo(int fd, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return vas_proc_long(path, key);
}

/* A line of /proc/meminfo in KiB, or -1. */
static inline long vas_meminfo_kb(const char *key)
{
	return vas_proc_long("/proc/meminfo", key);
}

/*
 * Wait until Shmem is at most @kb KiB, for at most @ms milliseconds.
 * Returns the last value read.
 */
static inline long vas_shmem_wait_below(long kb, long ms)
{
	long end = vas_now_ms() + ms, v;

	for (;;) {
		v = vas_meminfo_kb("Shmem");
		if (v <= kb || vas_now_ms() > end)
			return v;
		usleep(10000);
	}
}

#endif /* VAS_UTIL_H */
