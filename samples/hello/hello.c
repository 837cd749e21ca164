/* hello.elf - the vtlab demo guest: one line on COM1, then exit code 0. */
#include "guest.h"

uint32_t kmain(uint32_t magic, uint32_t mbi_addr)
{
    (void)magic;
    (void)mbi_addr;
    serial_init();
    serial_puts("Hello from vtlab guest!\n");
    return 0; /* boot.S passes this to debug_exit: QEMU exits with status 1 */
}
