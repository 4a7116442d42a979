// SPDX-License-Identifier: GPL-2.0
/*
 * vas_attach(): map memory into an address space at a fixed address.
 *
 * The pages come from a file (a memfd, a shmem or a regular file), or
 * from a range of an existing address space. A range is mapped as the
 * object behind it: a shared mapping shares its pages, and a private
 * file mapping that has no private copies yet becomes a private mapping
 * of the same file. Private anonymous memory belongs to its mm alone and
 * is refused, as is anything that is not backed by a file.
 *
 * do_mmap() works on current->mm, so the thread borrows the target mm
 * for the duration of the call; nothing it maps replaces a mapping.
 */
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmspace.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>
#include <uapi/linux/vas.h>

#include "internal.h"

#define VAS_ATTACH_SRC_MASK	(VAS_ATTACH_SRC_SELF | VAS_ATTACH_SRC_FD | \
				 VAS_ATTACH_SRC_PIDFD)
#define VAS_ATTACH_VALID	(VAS_ATTACH_SRC_MASK | VAS_ATTACH_DST_PIDFD | \
				 VAS_ATTACH_PRIVATE)

/* One piece of the range: a file, where in it, how long, how mapped. */
struct mmspace_piece {
	struct file	*file;
	unsigned long	pgoff;
	unsigned long	len;
	bool		shared;
};

static int mmspace_attach_check(const struct vas_attach_args *a)
{
	u64 src = a->flags & VAS_ATTACH_SRC_MASK;
	u64 end;

	if ((a->flags & ~VAS_ATTACH_VALID) || a->__reserved)
		return -EINVAL;
	if (hweight64(src) != 1)
		return -EINVAL;
	if ((a->flags & VAS_ATTACH_PRIVATE) && src != VAS_ATTACH_SRC_FD)
		return -EINVAL;
	if (src == VAS_ATTACH_SRC_SELF && a->src_fd != -1)
		return -EINVAL;
	if (a->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	if (!a->len || !IS_ALIGNED(a->len, PAGE_SIZE) ||
	    !IS_ALIGNED(a->src, PAGE_SIZE) || !IS_ALIGNED(a->dst, PAGE_SIZE))
		return -EINVAL;
	if (check_add_overflow(a->src, a->len, &end) ||
	    check_add_overflow(a->dst, a->len, &end) || end > ULONG_MAX)
		return -EINVAL;
	/*
	 * A compat caller's ranges lie below 4 GiB: garbage in the upper
	 * bits, or a range that wraps in 32 bits, is refused, not truncated.
	 */
	if (in_compat_syscall() &&
	    (a->dst + a->len > SZ_4G ||
	     (src != VAS_ATTACH_SRC_FD && a->src + a->len > SZ_4G)))
		return -EINVAL;
	return 0;
}

/*
 * The mm the process behind @pidfd is in, if the caller may reach into
 * it the way process_vm_writev() may (V06).
 */
static struct mm_struct *mmspace_pidfd_mm(int pidfd)
{
	struct task_struct *task;
	struct mm_struct *mm;
	unsigned int f_flags;

	task = pidfd_get_task(pidfd, &f_flags);
	if (IS_ERR(task))
		return ERR_CAST(task);
	mm = mm_access(task, PTRACE_MODE_ATTACH_REALCREDS);
	put_task_struct(task);
	/* As process_vm_readv(): not being allowed is EPERM. */
	if (mm == ERR_PTR(-EACCES))
		mm = ERR_PTR(-EPERM);
	return mm;
}

static struct mm_struct *mmspace_dst_mm(const struct vas_attach_args *a)
{
	struct mmspace *space;

	if (a->flags & VAS_ATTACH_DST_PIDFD)
		return mmspace_pidfd_mm(a->dst_fd);

	CLASS(fd, f)(a->dst_fd);
	if (fd_empty(f))
		return ERR_PTR(-EBADF);
	space = mmspace_from_file(fd_file(f));
	if (!space)
		return ERR_PTR(-EINVAL);
	mmget(space->mm);
	return space->mm;
}

/* May @vma's memory be mapped again, in another mm, with @prot? */
static int mmspace_piece_check(struct vm_area_struct *vma, unsigned long prot)
{
	vm_flags_t flags = vma->vm_flags;

	if (!vma->vm_file || (flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)))
		return -EINVAL;
	/* Private copies of file pages stay with their mm, like anon memory. */
	if (!(flags & VM_MAYSHARE) && vma->anon_vma)
		return -EINVAL;
	if (((prot & PROT_READ) && !(flags & VM_MAYREAD)) ||
	    ((prot & PROT_WRITE) && !(flags & VM_MAYWRITE)) ||
	    ((prot & PROT_EXEC) && !(flags & VM_MAYEXEC)))
		return -EACCES;
	return 0;
}

static void mmspace_pieces_put(struct mmspace_piece *pieces, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		fput(pieces[i].file);
	kvfree(pieces);
}

/*
 * The pieces that make up [@addr, @addr + @len) of @mm, with a reference
 * on each file. The whole range must be mapped.
 */
static int mmspace_collect(struct mm_struct *mm, unsigned long addr,
			   unsigned long len, unsigned long prot,
			   struct mmspace_piece **out, unsigned int *nr_out)
{
	unsigned long start, end = addr + len, at = addr;
	struct mmspace_piece *pieces = NULL;
	struct vm_area_struct *vma;
	unsigned int nr = 0, i = 0;
	struct vma_iterator vmi;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma_iter_init(&vmi, mm, addr);
	for_each_vma_range(vmi, vma, end) {
		if (vma->vm_start > at)
			break;
		ret = mmspace_piece_check(vma, prot);
		if (ret)
			goto out;
		at = vma->vm_end;
		nr++;
	}
	if (at < end) {
		ret = -EFAULT;
		goto out;
	}

	pieces = kvcalloc(nr, sizeof(*pieces), GFP_KERNEL_ACCOUNT);
	if (!pieces) {
		ret = -ENOMEM;
		goto out;
	}
	vma_iter_set(&vmi, addr);
	for_each_vma_range(vmi, vma, end) {
		start = max(addr, vma->vm_start);
		pieces[i].file = get_file(vma->vm_file);
		pieces[i].pgoff = vma->vm_pgoff +
				  ((start - vma->vm_start) >> PAGE_SHIFT);
		pieces[i].len = min(end, vma->vm_end) - start;
		pieces[i].shared = vma->vm_flags & VM_MAYSHARE;
		i++;
	}
	*out = pieces;
	*nr_out = i;
out:
	mmap_read_unlock(mm);
	return ret;
}

static int mmspace_src_pieces(const struct vas_attach_args *a,
			      struct mmspace_piece **pieces, unsigned int *nr)
{
	struct mm_struct *mm;
	struct file *file;
	int ret;

	if (a->flags & VAS_ATTACH_SRC_FD) {
		file = fget(a->src_fd);
		if (!file)
			return -EBADF;
		*pieces = kvcalloc(1, sizeof(**pieces), GFP_KERNEL_ACCOUNT);
		if (!*pieces) {
			fput(file);
			return -ENOMEM;
		}
		(*pieces)[0] = (struct mmspace_piece) {
			.file = file,
			.pgoff = a->src >> PAGE_SHIFT,
			.len = a->len,
			.shared = !(a->flags & VAS_ATTACH_PRIVATE),
		};
		*nr = 1;
		return 0;
	}

	if (a->flags & VAS_ATTACH_SRC_SELF) {
		mm = current->mm;
		mmget(mm);
	} else {
		mm = mmspace_pidfd_mm(a->src_fd);
		if (IS_ERR(mm))
			return PTR_ERR(mm);
	}
	ret = mmspace_collect(mm, a->src, a->len, a->prot, pieces, nr);
	mmput(mm);
	return ret;
}

/*
 * Map @pieces one after the other at @addr in @dst, all or nothing. The
 * write lock is held throughout so that no other thread of @dst sees (or
 * fills) a partial range.
 */
static int mmspace_map(struct mm_struct *dst, unsigned long addr,
		       const struct mmspace_piece *pieces, unsigned int nr,
		       unsigned long prot)
{
	unsigned long ret, populate, at = addr, locked = 0;
	struct mm_struct *prev_home = current->mmspace_home;
	struct mm_struct *prev = current->mm;
	unsigned int i;
	LIST_HEAD(uf);
	int err = 0;

	for (i = 0; i < nr; i++) {
		err = security_mmap_file(pieces[i].file, prot,
					 pieces[i].shared ? MAP_SHARED : MAP_PRIVATE);
		if (err)
			return err;
	}

	/* Seen from outside, the thread's own mm stays what it was. */
	mmspace_load_mm(dst, mmspace_home_mm(current), true);
	if (mmap_write_lock_killable(dst)) {
		err = -EINTR;
		goto out;
	}
	for (i = 0; i < nr; i++) {
		ret = do_mmap(pieces[i].file, at, pieces[i].len, prot,
			      MAP_FIXED_NOREPLACE |
			      (pieces[i].shared ? MAP_SHARED : MAP_PRIVATE),
			      0, pieces[i].pgoff, &populate, &uf);
		if (IS_ERR_VALUE(ret)) {
			err = ret;
			break;
		}
		at += pieces[i].len;
		locked |= populate;
	}
	if (err && at > addr)
		do_munmap(dst, addr, at - addr, &uf);
	mmap_write_unlock(dst);
	userfaultfd_unmap_complete(dst, &uf);
	/* The target was mlockall(MCL_FUTURE)ed: fault it in, as mmap() does. */
	if (!err && locked)
		mm_populate(addr, at - addr);
out:
	mmspace_load_mm(prev, prev_home, true);
	return err;
}

SYSCALL_DEFINE2(vas_attach, const struct vas_attach_args __user *, uargs,
		size_t, size)
{
	struct mmspace_piece *pieces;
	struct vas_attach_args a;
	struct mm_struct *dst;
	unsigned int nr;
	int ret;

	if (size < VAS_ATTACH_ARGS_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&a, sizeof(a), uargs, size);
	if (ret)
		return ret;
	ret = mmspace_attach_check(&a);
	if (ret)
		return ret;

	dst = mmspace_dst_mm(&a);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	ret = mmspace_src_pieces(&a, &pieces, &nr);
	if (!ret) {
		ret = mmspace_map(dst, a.dst, pieces, nr, a.prot);
		mmspace_pieces_put(pieces, nr);
	}
	mmput(dst);
	return ret;
}
