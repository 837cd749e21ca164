/* PUSH POP (incl. ESP corner cases) PUSHA POPA PUSHAW POPAW ENTER LEAVE. */
#include "isatest.h"

/* isatest_asm.S helpers; they leave their observations in stk_out[] */
extern uint32_t stk_out[32];
void t_pusha(void);
void t_pushaw(void);
void t_enter0(void);
void t_enter2(void);
extern uint32_t fake_frame_top[];

static void test_push_pop(void)
{
    uint32_t r, e0, e1;

    __asm__ volatile("pushl $-2\n\tpopl %0" : "=r"(r));
    check("push_imm8_sext", r, 0xFFFFFFFE);

    r = 0xAAAA5555;
    __asm__ volatile("movl %%esp, %[e0]\n\t"
                     "pushw $0x1234\n\t"
                     "movl %%esp, %[e1]\n\t"
                     "popw %w[r]"
                     : [e0] "=&r"(e0), [e1] "=&r"(e1), [r] "+r"(r));
    CHECKV("pushw_popw", { "delta", e0 - e1, 2, 0 }, { "value", r, 0xAAAA1234, 0 });

    __asm__ volatile("pushl %%esp\n\tpopl %[r]\n\tmovl %%esp, %[e0]" : [r] "=r"(r), [e0] "=r"(e0));
    check("push_esp_old_value", r, e0);

    __asm__ volatile("pushl $0xAAAA\n\t"
                     "pushl $0xBBBB\n\t"
                     "popl (%%esp)\n\t" /* address computed after ESP += 4 */
                     "popl %0"
                     : "=r"(r));
    check("pop_mem_esp_based", r, 0xBBBB);

    {
        volatile uint32_t m[2] = { 0x13579BDF, 0 };
        __asm__ volatile("pushl (%0)\n\tpopl 4(%0)" : : "r"(m) : "memory");
        check("push_pop_mem", m[1], 0x13579BDF);
    }

    __asm__ volatile("pushl $0x8D5\n\tpopfl\n\tpushfl\n\tpopl %0\n\tpushl $0x2\n\tpopfl"
                     : "=r"(r) : : "cc");
    check("pushf_popf", r & (F_ALL | 0x2), F_ALL | 0x2);
}

static void test_pusha_popa(void)
{
    t_pusha();
    /* image in memory order: EDI ESI EBP ESP EBX EDX ECX EAX */
    CHECKV("pusha_image", { "eax", stk_out[7], 0x11111111, 0 }, { "ecx", stk_out[6], 0x22222222, 0 },
           { "ebx", stk_out[4], 0x44444444, 0 }, { "esp", stk_out[3], stk_out[8], 0 },
           { "ebp", stk_out[2], 0x55555555, 0 }, { "edi", stk_out[0], 0x77777777, 0 });
    /* the test rewrote the EAX and ESP slots before POPA: ESP must be ignored */
    CHECKV("popa_regs", { "eax", stk_out[10], 0xAAAAAAAA, 0 }, { "esp", stk_out[9], stk_out[8], 0 },
           { "ecx", stk_out[11], 0x22222222, 0 }, { "edx", stk_out[12], 0x33333333, 0 },
           { "ebx", stk_out[13], 0x44444444, 0 }, { "ebp", stk_out[14], 0x55555555, 0 },
           { "esi", stk_out[15], 0x66666666, 0 }, { "edi", stk_out[16], 0x77777777, 0 });

    t_pushaw();
    CHECKV("pushaw_popaw", { "delta", stk_out[0] - stk_out[1], 16, 0 },
           { "ax_slot", stk_out[2], 0x5678, 0 }, { "sp_slot", stk_out[5], stk_out[0] & 0xFFFF, 0 },
           { "eax", stk_out[3], 0xAAAA5678, 0 }, { "esp", stk_out[4], stk_out[0], 0 });
}

static void test_enter_leave(void)
{
    t_enter0();
    /* enter $16, $0: push EBP; EBP = ESP; ESP -= 16 */
    CHECKV("enter_level0", { "ebp", stk_out[2], stk_out[0] - 4, 0 },
           { "esp", stk_out[3], stk_out[0] - 20, 0 }, { "saved_ebp", stk_out[4], stk_out[1], 0 });
    CHECKV("leave", { "esp", stk_out[5], stk_out[0], 0 }, { "ebp", stk_out[6], stk_out[1], 0 });

    t_enter2();
    /* enter $8, $2: push EBP; push [EBP-4] (the outer frame pointer);
     * push the new frame pointer; ESP -= 8 */
    uint32_t ft = stk_out[8] - 4;
    CHECKV("enter_level2", { "ebp", stk_out[9], ft, 0 }, { "esp", stk_out[10], ft - 16, 0 },
           { "saved_ebp", stk_out[11], (uint32_t)(uintptr_t)fake_frame_top, 0 },
           { "display1", stk_out[12], 0xCAFEBABE, 0 }, { "display2", stk_out[13], ft, 0 });
    CHECKV("leave_level2", { "esp", stk_out[15], stk_out[8], 0 },
           { "ebp", stk_out[14], (uint32_t)(uintptr_t)fake_frame_top, 0 });
}

void test_stack(void)
{
    test_push_pop();
    test_pusha_popa();
    test_enter_leave();
}
