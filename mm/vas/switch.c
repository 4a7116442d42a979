// SPDX-License-Identifier: GPL-2.0
/*
 * vas_switch(): move the calling thread into an address space and back,
 * and what exit, exec and core dumps do with a thread that is in one.
 *
 * A switched thread keeps its process's own mm in ->mmspace_home (with
 * the reference it always had) and the space's file in ->mmspace_file
 * (one file reference). Only the thread itself changes either.
 */
#include <linux/async_syscalls.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/mmspace.h>
#include <linux/mmu_context.h>
#include <linux/overflow.h>
#include <linux/ptrace.h>
#include <linux/rseq.h>
#include <linux/sched/mm.h>
#include <linux/syscalls.h>
#include <uapi/linux/vas.h>

#include "internal.h"

/*
 * Make @mm the calling thread's mm, as exec_mmap() and kthread_use_mm()
 * do, and @home (NULL when @mm is the process's own) what it returns to.
 * Both change under task_lock(), where ptrace_may_access() reads them.
 * References are the caller's business: it holds one on @mm for as long
 * as the thread stays there. @cid moves the thread's concurrency id to
 * @mm; exec has dropped it already.
 */
void mmspace_load_mm(struct mm_struct *mm, struct mm_struct *home, bool cid)
{
	struct task_struct *tsk = current;
	struct mm_struct *prev = tsk->mm;

	if (mm == prev)
		return;
	if (cid)
		sched_mm_cid_before_execve(tsk);

	task_lock(tsk);
	/* Hold off TLB flush IPIs while the mm changes under this CPU. */
	local_irq_disable();
	tsk->active_mm = mm;
	tsk->mm = mm;
	tsk->mmspace_home = home;
	membarrier_update_current_mm(mm);
	switch_mm_irqs_off(prev, mm, tsk);
	local_irq_enable();
	task_unlock(tsk);
#ifdef finish_arch_post_lock_switch
	finish_arch_post_lock_switch();
#endif
	/*
	 * membarrier_{private,global}_expedited() may not have seen the new
	 * tsk->mm: order the store before any access to user memory.
	 */
	smp_mb();
	lru_gen_use_mm(mm);

	if (cid)
		sched_mm_cid_after_execve(tsk);
}

/* Is all of [@addr, @addr + @len) mapped in @mm with every flag in @flags? */
static bool mmspace_mapped(struct mm_struct *mm, unsigned long addr,
			   unsigned long len, vm_flags_t flags)
{
	struct vm_area_struct *vma;
	unsigned long end;

	if (check_add_overflow(addr, len, &end))
		return false;
	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma || (vma->vm_flags & flags) != flags)
			return false;
		addr = vma->vm_end;
	}
	return true;
}

/*
 * Could the calling thread go on in @mm? Its next instruction must be
 * executable there, the stack below its stack pointer writable, and so
 * must its rseq area, which the kernel updates on the way back to user
 * space. Checking here turns what would be a later SIGSEGV into an error.
 */
static int mmspace_can_run(struct mm_struct *mm)
{
	struct pt_regs *regs = current_pt_regs();
	unsigned long sp = user_stack_pointer(regs);
	bool ok;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	ok = mmspace_mapped(mm, instruction_pointer(regs), 1, VM_EXEC) &&
	     sp && mmspace_mapped(mm, sp - 1, 1, VM_WRITE);
#ifdef CONFIG_RSEQ
	if (ok && current->rseq)
		ok = mmspace_mapped(mm, (unsigned long)current->rseq,
				    current->rseq_len, VM_WRITE);
#endif
	mmap_read_unlock(mm);
	return ok ? 0 : -EFAULT;
}

/*
 * An architecture whose threads keep more user-memory state than the
 * checks above cover refuses them: x86 user shadow stacks.
 */
bool __weak arch_mmspace_refuse_caller(void)
{
	return false;
}

static void mmspace_put(struct file *file)
{
	struct mmspace *space = mmspace_from_file(file);

	atomic_dec(&space->nr_threads);
	fput(file);
}

static int mmspace_enter(struct file *file)
{
	struct mmspace *space = mmspace_from_file(file);
	struct task_struct *tsk = current;
	struct file *prev = tsk->mmspace_file;
	int ret;

	if (!space)
		return -EINVAL;
	if (space->mm == tsk->mm)
		return 0;
	if (arch_mmspace_refuse_caller())
		return -EOPNOTSUPP;
	ret = mmspace_can_run(space->mm);
	if (ret)
		return ret;

	get_file(file);
	atomic_inc(&space->nr_threads);
	tsk->mmspace_file = file;
	mmspace_load_mm(space->mm, mmspace_home_mm(tsk), true);
	if (prev)
		mmspace_put(prev);
	return 0;
}

/* Back to the process's own mm; the space may go with its last reference. */
static void mmspace_go_home(bool cid)
{
	struct task_struct *tsk = current;
	struct file *file = tsk->mmspace_file;

	mmspace_load_mm(tsk->mmspace_home, NULL, cid);
	tsk->mmspace_file = NULL;
	mmspace_put(file);
}

SYSCALL_DEFINE2(vas_switch, int, fd, unsigned int, flags)
{
	struct mm_struct *home = current->mmspace_home;
	int ret;

	if (flags)
		return -EINVAL;
	/* A threadlet's user context may move to a pool thread of @home. */
	if (async_task_in_chain(current))
		return -EBUSY;

	if (fd == VAS_HOME) {
		if (!home)
			return 0;
		ret = mmspace_can_run(home);
		if (!ret)
			mmspace_go_home(true);
		return ret;
	}

	CLASS(fd, f)(fd);
	if (fd_empty(f))
		return -EBADF;
	return mmspace_enter(fd_file(f));
}

/*
 * do_exit() works on the process's own mm: its peak RSS and accounting,
 * clear_child_tid and the robust futex list, which name addresses there,
 * and mm->owner, which must not move to a task that merely visited.
 */
void mmspace_exit(void)
{
	if (mmspace_switched(current))
		mmspace_go_home(true);
}

/* exec replaces the process's own mm; a space the thread was in stays behind. */
void mmspace_exec(void)
{
	if (mmspace_switched(current))
		mmspace_go_home(false);
}

/* A core dump is of the process's own mm, which has the binfmt and the maps. */
void mmspace_coredump(void)
{
	if (mmspace_switched(current))
		mmspace_go_home(true);
}
