/*
 * syscall.h - the minios system call interface, shared by the kernel and
 * the user programs.
 *
 * Two ways in, same numbers and registers:
 *   INT 0x80   EAX = number, EBX/ESI/EDI = arguments, result in EAX.
 *   SYSENTER   the same, plus ECX = user ESP and EDX = user return EIP,
 *              which SYSEXIT loads back (so ECX/EDX do not survive a call).
 */
#ifndef MINIOS_SYSCALL_H
#define MINIOS_SYSCALL_H

#define SYS_WRITE        1 /* EBX = string, ESI = length: appended to the process log */
#define SYS_GETPID       2 /* returns the pid */
#define SYS_EXIT         3 /* EBX = status; does not return */
#define SYS_SLEEP        4 /* EBX = timer ticks to sleep */
#define SYS_HEAP_RELEASE 5 /* EBX = heap address: unmap its page (INVLPG) */

#define SYS_ERROR 0xFFFFFFFFu /* result of a bad number or a bad argument */

#endif /* MINIOS_SYSCALL_H */
