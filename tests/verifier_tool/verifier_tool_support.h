/* What the verifier tool tests share: the core_test program type of tests/core, as program
 * information for the verifier and as an entry of a private eBPF store. */
#ifndef VERIFIER_TOOL_SUPPORT_H
#define VERIFIER_TOOL_SUPPORT_H

#include <stdint.h>

#include "ebpf_elf.h"
#include "ebpf_verifier.h"

/* The "core_test" type: context {u64 data, u64 data_end, u64 value}, helper 0x10000. */
extern const ebpf_program_info_t core_test_program_info;
/* An ebpf_verifier_helper_lookup_t for core_test: its own helper, then the general ones. */
const ebpf_helper_prototype_t *core_test_find_helper(void *context, uint32_t id);
/* Writes core_test (ProgramData and the section "core_test") into the store EBPF_STORE_DIR
 * names. 0 or a negative errno. */
int core_test_write_store(void);

/* The maps of an object as the verifier sees them; free with verifier_maps_free. */
ebpf_verifier_map_t *verifier_maps_of(const ebpf_elf_object_t *object);
void verifier_maps_free(ebpf_verifier_map_t *maps);

#endif /* VERIFIER_TOOL_SUPPORT_H */
