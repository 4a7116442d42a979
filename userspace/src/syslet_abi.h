/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Private copy of the syslet ABI the kernel backend needs, so the library
 * builds without kernel headers. MUST match include/uapi/linux/async.h of
 * the kernel series (not yet published when this was written: only the
 * syscall numbers are fixed so far).
 *
 * NOTE: on x86_64 these numbers are taken upstream since Linux 6.13
 * (463 setxattrat, 464 getxattrat, 465 listxattrat). The series is on
 * 6.12, where they are free. The probe therefore never trusts "not ENOSYS"
 * alone on a kernel >= 6.13.
 */
#ifndef ASYNCAIO_SYSLET_ABI_H
#define ASYNCAIO_SYSLET_ABI_H

#if defined(__x86_64__)
#define ASYNCAIO_NR_async_exec 463
#define ASYNCAIO_NR_async_wait 464
#define ASYNCAIO_NR_async_cancel 465
#endif

#endif
