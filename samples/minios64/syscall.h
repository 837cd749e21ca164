/*
 * minios64 system calls: SYSCALL with RAX = number, RDI/RSI = arguments,
 * the result in RAX (RCX and R11 are the CPU's: return RIP and RFLAGS).
 */
#ifndef MINIOS64_SYSCALL_H
#define MINIOS64_SYSCALL_H

#define SYS_WRITE 0  /* (buf, len): append to the caller's log; -1 if not user memory */
#define SYS_GETPID 1
#define SYS_YIELD 2  /* let the next runnable process run */
#define SYS_EXIT 3   /* (status) */
#define SYS_COUNT 4

#endif
