/* A program whose section no store entry and no Linux name knows. */
#include "bpf_helpers.h"

SEC("mystery/thing")
int mystery(void *context)
{
    return 42;
}

char LICENSE[] SEC("license") = "MIT";
