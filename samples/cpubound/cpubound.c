// A CPU-bound integer workload with paging on, for measuring interpreter
// speed: a sieve, a checksum over a buffer and a pointer-chasing tree walk.
// The command line picks the size: "rounds=N" (default 1).  Output is the
// same for a given N on any correct x86, so it also checks correctness.
#include "guest.h"

#define SIEVE_N 200000
#define BUF_WORDS (256 * 1024)
#define TREE_NODES 4096

static uint8_t composite[SIEVE_N];
static uint32_t buffer[BUF_WORDS];
struct node {
  struct node *left, *right;
  uint32_t key;
};
static struct node nodes[TREE_NODES];
static uint32_t page_dir[1024] __attribute__((aligned(4096)));

static uint32_t parse_rounds(uint32_t mbi_addr) {
  const uint32_t *mbi = (const uint32_t *)mbi_addr;
  if (!(mbi[0] & (1u << 2))) return 1;
  const char *s = (const char *)mbi[4];
  for (; *s; ++s) {
    if (s[0] == 'r' && s[1] == 'o' && s[2] == 'u' && s[3] == 'n' && s[4] == 'd' && s[5] == 's' && s[6] == '=') {
      uint32_t n = 0;
      for (s += 7; *s >= '0' && *s <= '9'; ++s) n = n * 10 + (uint32_t)(*s - '0');
      return n ? n : 1;
    }
  }
  return 1;
}

// Identity-map the first 64 MiB with 4 MiB pages and turn paging on, so
// every access goes through translation as in a real kernel.
static void enable_paging(void) {
  for (uint32_t i = 0; i < 16; ++i) page_dir[i] = (i << 22) | 0x83;  // P, RW, PS
  __asm__ volatile(
      "mov %0, %%cr3\n\t"
      "mov %%cr4, %%eax\n\t"
      "or $0x10, %%eax\n\t"  // PSE
      "mov %%eax, %%cr4\n\t"
      "mov %%cr0, %%eax\n\t"
      "or $0x80000000, %%eax\n\t"
      "mov %%eax, %%cr0\n\t"
      :
      : "r"(page_dir)
      : "eax", "memory");
}

static uint32_t sieve(void) {
  for (uint32_t i = 0; i < SIEVE_N; ++i) composite[i] = 0;
  uint32_t count = 0;
  for (uint32_t i = 2; i < SIEVE_N; ++i) {
    if (composite[i]) continue;
    ++count;
    for (uint32_t j = i * 2; j < SIEVE_N; j += i) composite[j] = 1;
  }
  return count;
}

static uint32_t checksum(uint32_t seed) {
  uint32_t x = seed;
  for (uint32_t i = 0; i < BUF_WORDS; ++i) {
    x = x * 1103515245u + 12345u;
    buffer[i] = x;
  }
  uint32_t a = 1, b = 0;
  for (uint32_t i = 0; i < BUF_WORDS; ++i) {
    a = (a + (buffer[i] & 0xFFFF)) % 65521u;
    b = (b + a) % 65521u;
  }
  return (b << 16) | a;
}

static uint32_t tree_walk(uint32_t seed) {
  // Insert pseudo-random keys into a binary search tree, then sum the keys
  // along search paths: pointer chasing with unpredictable branches.
  uint32_t x = seed, used = 1;
  nodes[0].left = nodes[0].right = 0;
  nodes[0].key = 0x80000000u;
  for (uint32_t i = 1; i < TREE_NODES; ++i) {
    x = x * 1664525u + 1013904223u;
    struct node *n = &nodes[used++];
    n->left = n->right = 0;
    n->key = x;
    struct node *p = &nodes[0];
    for (;;) {
      struct node **next = x < p->key ? &p->left : &p->right;
      if (!*next) {
        *next = n;
        break;
      }
      p = *next;
    }
  }
  uint32_t sum = 0;
  for (uint32_t i = 0; i < TREE_NODES; ++i) {
    x = x * 1664525u + 1013904223u;
    for (struct node *p = &nodes[0]; p; p = x < p->key ? p->left : p->right) sum += p->key >> 16;
  }
  return sum;
}

uint32_t kmain(uint32_t magic, uint32_t mbi_addr) {
  serial_init();
  if (magic != 0x2BADB002u) return 1;
  const uint32_t rounds = parse_rounds(mbi_addr);
  enable_paging();
  uint32_t primes = 0, sum = 0, tree = 0;
  for (uint32_t r = 0; r < rounds; ++r) {
    primes = sieve();
    sum ^= checksum(r + 1);
    tree ^= tree_walk(r + 7);
  }
  kprintf("cpubound: rounds=%u primes=%u checksum=%08x tree=%08x\n", rounds, primes, sum, tree);
  return 0;
}
