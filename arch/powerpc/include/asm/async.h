/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_POWERPC_ASYNC_H
#define _ASM_POWERPC_ASYNC_H

#include <linux/processor.h>

struct task_struct;

/*
 * The part of a user context that lives in thread_struct rather than in
 * pt_regs: FP, VMX and VSX registers, the FP exception mode and the user
 * SPRs that are switched with the task.
 */
struct ppc_async_math {
	struct thread_fp_state	fp_state;
#ifdef CONFIG_ALTIVEC
	struct thread_vr_state	vr_state;
	unsigned long		vrsave;
#endif
	int			fpexc_mode;
#ifdef CONFIG_PPC_BOOK3S_64
	int			dscr_inherit;
	unsigned long		dscr;
	unsigned long		fscr;
	unsigned long		tar;
#endif
};

/* Helpers for arch/powerpc/kernel/async.c, see there. */
void ppc_async_freeze(void);
void ppc_async_snapshot(struct ppc_async_math *math);
void ppc_async_load(const struct ppc_async_math *math);
void ppc_async_take(struct task_struct *from);

#endif /* _ASM_POWERPC_ASYNC_H */
