/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Address spaces a thread can create, populate and switch between.
 *
 * An address space is an ordinary mm that starts empty. vas_create()
 * returns a file descriptor for it; vas_attach() maps memory into it
 * (a range of an existing address space, or a file such as a memfd);
 * vas_switch() moves the calling thread into it and back to its own
 * process's address space with VAS_HOME. Nothing is copied or kept in
 * sync behind the caller's back. See Documentation/userspace-api/vas.rst.
 */
#ifndef _UAPI_LINUX_VAS_H
#define _UAPI_LINUX_VAS_H

#include <linux/types.h>

/* vas_switch(VAS_HOME, 0): back to the calling process's own address space. */
#define VAS_HOME		(-1)

/*
 * vas_attach_args.flags. Exactly one VAS_ATTACH_SRC_* says where the
 * pages come from:
 *   SRC_SELF   @src is an address in the caller's current address space;
 *              @src_fd must be -1.
 *   SRC_FD     @src is a page-aligned offset into the file @src_fd (a
 *              memfd, a shmem or a regular file).
 *   SRC_PIDFD  @src is an address in the address space of the process
 *              @src_fd refers to (a pidfd).
 * VAS_ATTACH_DST_PIDFD: @dst_fd is a pidfd and the mapping goes into that
 * process's address space rather than into a vas_create() space.
 * VAS_ATTACH_PRIVATE: with SRC_FD only, a private (copy-on-write) mapping
 * of the file; without it the mapping is shared.
 */
#define VAS_ATTACH_SRC_SELF	(1ULL << 0)
#define VAS_ATTACH_SRC_FD	(1ULL << 1)
#define VAS_ATTACH_SRC_PIDFD	(1ULL << 2)
#define VAS_ATTACH_DST_PIDFD	(1ULL << 3)
#define VAS_ATTACH_PRIVATE	(1ULL << 4)

/**
 * struct vas_attach_args - what vas_attach() maps, and where
 * @flags:	VAS_ATTACH_*
 * @dst_fd:	the address space to map into: a vas_create() file
 *		descriptor, or a pidfd with VAS_ATTACH_DST_PIDFD
 * @src_fd:	-1 (SRC_SELF), the file (SRC_FD) or a pidfd (SRC_PIDFD)
 * @src:	the source address (SRC_SELF, SRC_PIDFD) or file offset
 *		(SRC_FD); page aligned
 * @dst:	the address in the target space; page aligned. The range
 *		must be free there: vas_attach() never replaces a mapping.
 * @len:	the length in bytes; a non-zero multiple of the page size
 * @prot:	PROT_READ, PROT_WRITE and PROT_EXEC, as for mmap()
 * @__reserved:	must be zero
 *
 * Extensible: vas_attach() takes the size of the structure the caller
 * knows, like clone3() and openat2().
 */
struct vas_attach_args {
	__u64 flags;
	__s32 dst_fd;
	__s32 src_fd;
	__u64 src;
	__u64 dst;
	__u64 len;
	__u32 prot;
	__u32 __reserved;
};

#define VAS_ATTACH_ARGS_SIZE_VER0	48

#endif /* _UAPI_LINUX_VAS_H */
