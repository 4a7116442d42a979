/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Asynchronous system call chains: what the rest of the kernel and the
 * architectures see of kernel/async/.
 */
#ifndef _LINUX_ASYNC_SYSCALLS_H
#define _LINUX_ASYNC_SYSCALLS_H

#include <linux/types.h>

struct async_thread_args;
struct async_user_state;
struct pt_regs;
struct seq_file;
struct signal_struct;
struct task_struct;

#ifdef CONFIG_ASYNC_SYSCALLS
/* Provided by the architecture. */
long arch_async_syscall(struct pt_regs *scratch, unsigned int nr,
			const u64 *args);
void arch_async_atom_regs(struct pt_regs *regs, unsigned int nr, const u64 *args);
void arch_async_atom_nosys(struct pt_regs *regs);
unsigned int arch_async_nr_syscalls(bool compat);
bool arch_async_compat_nr_denied(unsigned int nr);
bool arch_async_refuse_caller(void);
void arch_async_atom_reset(void);
bool arch_async_can_hand_off(struct task_struct *tsk);
void arch_async_handoff_prepare(void);
void arch_async_take_user_context(struct task_struct *from,
				  struct async_user_state *saved);
struct async_user_state *arch_async_save_user(void);
void arch_async_restore_user(struct async_user_state *state, long ret);
void arch_async_free_user(struct async_user_state *state);
int arch_async_enter_user(struct pt_regs *regs,
			  const struct async_thread_args *args);
int arch_async_func_entry(u64 fn, u64 *entry);

bool async_nr_denied(unsigned int nr);
bool async_syscall_allowed(unsigned int nr, bool compat);
void async_ctx_free(struct signal_struct *sig);
void async_sched_sleeping(struct task_struct *tsk);
void async_proc_status(struct seq_file *m, struct task_struct *task);
void async_thread_resume(void);
void async_thread_exit(void);
bool async_task_in_chain(struct task_struct *tsk);
#else
static inline bool async_task_in_chain(struct task_struct *tsk)
{
	return false;
}
static inline void async_ctx_free(struct signal_struct *sig) { }
static inline void async_sched_sleeping(struct task_struct *tsk) { }
static inline void async_proc_status(struct seq_file *m,
				     struct task_struct *task) { }
static inline void async_thread_exit(void) { }
#endif

#endif /* _LINUX_ASYNC_SYSCALLS_H */
