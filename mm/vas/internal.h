/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MM_VAS_INTERNAL_H
#define _MM_VAS_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/rcupdate.h>

struct mm_struct;
struct task_struct;

/**
 * struct mmspace - an address space made by vas_create()
 * @mm:		the address space, an ordinary mm; one mm_users reference
 * @creator:	the task that made it, which @mm->owner names for memory
 *		cgroup charging; referenced so that the pointer stays valid
 * @nr_threads:	threads currently inside (fdinfo)
 * @rcu:	frees the structure once readers of @mm->owner are done
 *
 * The file is the only reference count: the descriptors that refer to it
 * and one reference per thread inside. The last one frees the space.
 */
struct mmspace {
	struct mm_struct	*mm;
	struct task_struct	*creator;
	atomic_t		nr_threads;
	struct rcu_head		rcu;
};

struct mmspace *mmspace_from_file(struct file *file);
void mmspace_load_mm(struct mm_struct *mm, struct mm_struct *home, bool cid);

#endif /* _MM_VAS_INTERNAL_H */
