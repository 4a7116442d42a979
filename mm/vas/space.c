// SPDX-License-Identifier: GPL-2.0
/*
 * vas_create(): a new, empty address space, referenced by a file.
 *
 * Nothing is copied into it: no text, no stack, no vDSO. The caller maps
 * what it needs with vas_attach() before it switches in.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/syscalls.h>

#include "internal.h"

static void mmspace_free_rcu(struct rcu_head *rcu)
{
	struct mmspace *space = container_of(rcu, struct mmspace, rcu);

	put_task_struct(space->creator);
	kfree(space);
}

static int mmspace_release(struct inode *inode, struct file *file)
{
	struct mmspace *space = file->private_data;
	struct mm_struct *mm = space->mm;

	/*
	 * Whoever still holds @mm (a /proc reader, ptrace) no longer
	 * charges @creator's memory cgroup, whose task reference goes
	 * after the readers of mm->owner.
	 */
#ifdef CONFIG_MEMCG
	RCU_INIT_POINTER(mm->owner, NULL);
#endif
	mmput(mm);
	call_rcu(&space->rcu, mmspace_free_rcu);
	return 0;
}

static void mmspace_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct mmspace *space = file->private_data;

	seq_printf(m, "vas-threads:\t%d\n", atomic_read(&space->nr_threads));
	seq_printf(m, "vas-total-vm:\t%lu\n", READ_ONCE(space->mm->total_vm));
}

static const struct file_operations mmspace_fops = {
	.release	= mmspace_release,
	.show_fdinfo	= mmspace_show_fdinfo,
	.llseek		= noop_llseek,
};

/* The space behind @file, or NULL if @file is something else. */
struct mmspace *mmspace_from_file(struct file *file)
{
	return file->f_op == &mmspace_fops ? file->private_data : NULL;
}

SYSCALL_DEFINE1(vas_create, unsigned int, flags)
{
	struct rlimit rlim_stack;
	struct mmspace *space;
	struct mm_struct *mm;
	int fd;

	if (flags)
		return -EINVAL;

	space = kzalloc(sizeof(*space), GFP_KERNEL_ACCOUNT);
	if (!space)
		return -ENOMEM;
	/* Owned by current: its memory cgroup pays for the space's pages. */
	mm = mm_alloc();
	if (!mm) {
		kfree(space);
		return -ENOMEM;
	}
	/* The layout exec would give the caller: mmap base, top-down or not. */
	task_lock(current->group_leader);
	rlim_stack = current->signal->rlim[RLIMIT_STACK];
	task_unlock(current->group_leader);
	arch_pick_mmap_layout(mm, &rlim_stack);
	mm->task_size = TASK_SIZE;

	space->mm = mm;
	space->creator = get_task_struct(current);
	fd = anon_inode_getfd("[vas]", &mmspace_fops, space, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		mmput(mm);
		put_task_struct(space->creator);
		kfree(space);
	}
	return fd;
}
