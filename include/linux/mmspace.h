/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Address spaces a thread can switch into (mm/vas/): what the rest of the
 * kernel needs to know about a thread that is in one.
 */
#ifndef _LINUX_MMSPACE_H
#define _LINUX_MMSPACE_H

#include <linux/sched.h>

#ifdef CONFIG_MMSPACE
/*
 * True while @tsk runs in an address space other than its process's own
 * mm. Only @tsk itself switches, so this is stable for current.
 */
static inline bool mmspace_switched(struct task_struct *tsk)
{
	return tsk->mmspace_home;
}

/*
 * The process's own mm, also while @tsk is in another address space.
 * Stable for current; for another task, read under task_lock().
 */
static inline struct mm_struct *mmspace_home_mm(struct task_struct *tsk)
{
	return tsk->mmspace_home ?: tsk->mm;
}

void mmspace_exit(void);
void mmspace_exec(void);
void mmspace_coredump(void);
bool arch_mmspace_refuse_caller(void);
#else
static inline bool mmspace_switched(struct task_struct *tsk)
{
	return false;
}

static inline struct mm_struct *mmspace_home_mm(struct task_struct *tsk)
{
	return tsk->mm;
}

static inline void mmspace_exit(void) { }
static inline void mmspace_exec(void) { }
static inline void mmspace_coredump(void) { }
#endif

#endif /* _LINUX_MMSPACE_H */
