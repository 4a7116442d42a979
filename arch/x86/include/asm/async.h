/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_X86_ASYNC_H
#define _ASM_X86_ASYNC_H

#include <linux/types.h>

struct task_struct;

/* Helpers for arch/x86/kernel/async.c, see there. */
bool fpu_async_can_carry(struct task_struct *tsk);
void fpu_async_freeze(void);
void fpu_async_take(struct task_struct *from);
void *fpu_async_snapshot(unsigned int *size);
void fpu_async_load(const void *buf, unsigned int size);
void x86_async_take_segments(struct task_struct *from);

#endif /* _ASM_X86_ASYNC_H */
